"""A realistic, seeded synthetic OHLCV series for tests, demos and benchmarks.

The model, per bar of length ``dt`` (all parameters scale with ``dt``):

* **Volatility clustering.** Log-volatility ``h`` follows an AR(1) process (a discrete
  stochastic-volatility model): ``h[t] = phi * h[t-1] + eta[t]``, stationary standard deviation
  0.55, persistence ``phi = exp(-dt / 2 days)`` clipped to 0.95 .. 0.999. Like GARCH(1,1),
  calm and turbulent periods follow each other, and ``|returns|`` are autocorrelated. Unlike
  GARCH, the recursion is linear, so it runs vectorised (block-wise prefix sums).
* **Returns.** ``r[t] = sigma * season(t) * exp(h[t]) * eps[t] + jump[t]`` with ``eps``
  Student-t (4 degrees of freedom, unit variance) for fat tails, ``sigma`` a 65 % annual
  volatility, and a jump (normal, about 6 sigma) with probability 0.04 % per minute of ``dt``.
* **Time of day.** ``season`` peaks at 14:30 UTC (+/- 35 % volatility, +/- 50 % volume) and
  uses the bar's open time, so it is mild and only matters below daily bars.
* **OHLC.** close = open * exp(r), next open = previous close; high and low stretch beyond
  max/min(open, close) by half-normal multiples of the bar's volatility. Prices are rounded to
  ``tick`` (high up, low down), so high >= max(open, close) and low <= min(open, close) hold
  exactly; every price is at least one tick.
* **Volume** grows with volatility and the size of the move, times log-normal noise, rounded
  to ``lot`` and at least one lot.

Each random stream has its own generator spawned from ``seed``, so the output depends on the
seed only, never on how it is chunked.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from tradeforge.data.bars import BarArrays
from tradeforge.data.precision import decimals_of_step
from tradeforge.domain.errors import InvalidValue
from tradeforge.domain.market_data import Timeframe

__all__ = ["generate_bar_chunks", "generate_bars"]

_BLOCK: Final = 512  # AR(1) prefix-sum block; chunks are whole blocks so chunking is exact
_DAY_NS: Final = 86_400 * 1_000_000_000
_YEAR_S: Final = 365 * 86_400.0
_ANNUAL_VOL: Final = 0.65
_LOG_VOL_SD: Final = 0.55
_T_DF: Final = 4.0
_RANGE_SCALE: Final = 0.6
_PEAK_HOUR: Final = 14.5
_STREAMS: Final = ("eta", "eps", "jump_at", "jump_size", "high", "low", "volume")
Float64Array = npt.NDArray[np.float64]


def generate_bars(
    *,
    bars: int,
    seed: int,
    timeframe: Timeframe,
    start_ns: int,
    start_price: float = 30_000.0,
    tick: float = 0.01,
    lot: float = 0.001,
) -> BarArrays:
    """``bars`` synthetic bars from ``start_ns`` (see the module docstring for the model).

    Deterministic: the same arguments give identical arrays.
    """
    return BarArrays.concat(
        list(
            generate_bar_chunks(
                bars=bars,
                seed=seed,
                timeframe=timeframe,
                start_ns=start_ns,
                start_price=start_price,
                tick=tick,
                lot=lot,
                chunk_bars=max(bars, 1),
            )
        )
    )


def generate_bar_chunks(
    *,
    bars: int,
    seed: int,
    timeframe: Timeframe,
    start_ns: int,
    start_price: float = 30_000.0,
    tick: float = 0.01,
    lot: float = 0.001,
    chunk_bars: int = 1 << 18,
) -> Iterator[BarArrays]:
    """The series of :func:`generate_bars`, ``chunk_bars`` at a time (rounded up to 512).

    Concatenated, the chunks equal :func:`generate_bars` exactly, whatever ``chunk_bars`` is.
    """
    if isinstance(bars, bool) or not isinstance(bars, int) or bars < 0:
        raise InvalidValue(f"bars must be an int >= 0, got {bars!r}")
    for name, value in (("start_price", start_price), ("tick", tick), ("lot", lot)):
        if not math.isfinite(value) or value <= 0:
            raise InvalidValue(f"{name} must be a positive number, got {value!r}")
    if chunk_bars <= 0:
        raise InvalidValue(f"chunk_bars must be positive, got {chunk_bars}")
    chunk = -(-chunk_bars // _BLOCK) * _BLOCK
    generator = _Generator(
        seed=seed,
        timeframe=timeframe,
        start_ns=start_ns,
        start_price=start_price,
        tick=tick,
        lot=lot,
    )
    return generator.chunks(bars, chunk)


class _Generator:
    def __init__(
        self,
        *,
        seed: int,
        timeframe: Timeframe,
        start_ns: int,
        start_price: float,
        tick: float,
        lot: float,
    ) -> None:
        dt = timeframe.nanos / 1e9
        self.step_ns = timeframe.nanos
        self.next_ts = start_ns
        self.sigma = _ANNUAL_VOL * math.sqrt(dt / _YEAR_S)
        self.phi = min(max(math.exp(-dt / (2 * 86_400.0)), 0.95), 0.999)
        self.eta_sd = _LOG_VOL_SD * math.sqrt(1 - self.phi**2)
        self.jump_p = min(0.0004 * max(dt / 60.0, 1.0), 0.05)
        self.jump_sd = 6 * self.sigma
        self.base_volume = 8.0 * dt / 60.0
        self.tick, self.lot = tick, lot
        self.price_decimals = decimals_of_step(tick)
        self.size_decimals = decimals_of_step(lot)
        streams = np.random.SeedSequence(seed).spawn(len(_STREAMS))
        self.rng = {
            name: np.random.default_rng(s) for name, s in zip(_STREAMS, streams, strict=True)
        }
        self.min_price = round(tick, self.price_decimals)
        self.min_size = round(lot, self.size_decimals)
        self.log_vol = 0.0  # h before the first bar: its mean
        self.log_close = math.log(start_price)
        self.close = float(self._round(np.array([start_price]), "nearest")[0])
        self.powers = self.phi ** np.arange(_BLOCK, dtype=np.float64)
        self.inverse_powers = self.phi ** -np.arange(_BLOCK, dtype=np.float64)

    def chunks(self, total: int, chunk: int) -> Iterator[BarArrays]:
        done = 0
        while done < total:
            size = min(chunk, total - done)
            yield self._next(size)
            done += size

    def _next(self, n: int) -> BarArrays:
        ts = self.next_ts + np.arange(n, dtype=np.int64) * self.step_ns
        self.next_ts += n * self.step_ns
        hours = (ts % _DAY_NS) / 3.6e12
        wave = np.cos(2 * np.pi * (hours - _PEAK_HOUR) / 24.0)
        log_vol = self._log_volatility(self.rng["eta"].standard_normal(n) * self.eta_sd)
        bar_vol = self.sigma * (1 + 0.35 * wave) * np.exp(log_vol - _LOG_VOL_SD**2 / 2)
        eps = self.rng["eps"].standard_t(_T_DF, n) / math.sqrt(_T_DF / (_T_DF - 2))
        jumps = np.where(
            self.rng["jump_at"].random(n) < self.jump_p,
            self.rng["jump_size"].standard_normal(n) * self.jump_sd,
            0.0,
        )
        returns = bar_vol * eps + jumps
        log_close = np.cumsum(np.concatenate([[self.log_close], returns]))[1:]
        self.log_close = float(log_close[-1])
        close = np.maximum(self._round(np.exp(log_close), "nearest"), self.min_price)
        open_ = np.concatenate([[self.close], close[:-1]])
        self.close = float(close[-1])
        stretch = _RANGE_SCALE * bar_vol
        up = np.abs(self.rng["high"].standard_normal(n)) * stretch
        down = np.abs(self.rng["low"].standard_normal(n)) * stretch
        top, bottom = np.maximum(open_, close), np.minimum(open_, close)
        high = np.maximum(self._round(top * np.exp(up), "up"), top)
        low = np.maximum(
            np.minimum(self._round(bottom * np.exp(-down), "down"), bottom), self.min_price
        )
        noise = np.exp(self.rng["volume"].standard_normal(n) * 0.35)
        activity = (1 + 0.5 * wave) * np.exp(0.5 * (log_vol - _LOG_VOL_SD**2 / 2))
        raw_volume = self.base_volume * activity * (0.6 + 0.8 * np.abs(eps)) * noise
        lots = np.round(raw_volume / self.lot)
        volume = np.maximum(np.round(lots * self.lot, self.size_decimals), self.min_size)
        return BarArrays(ts, open_, high, low, close, volume)

    def _round(self, prices: Float64Array, how: Literal["nearest", "up", "down"]) -> Float64Array:
        # Snap to the tick, then to its decimals so float noise (30000.010000000002) goes.
        steps = prices / self.tick
        if how == "nearest":
            whole = np.round(steps)
        else:
            whole = np.ceil(steps) if how == "up" else np.floor(steps)
        rounded: Float64Array = np.round(whole * self.tick, self.price_decimals)
        return rounded

    def _log_volatility(self, eta: Float64Array) -> Float64Array:
        # h[t] = phi * h[t-1] + eta[t], block by block: inside a block the response to its own
        # shocks is phi^j * cumsum(eta[k] * phi^-k); the carry from earlier blocks adds
        # phi^(j+1) * h[block start - 1].
        n = len(eta)
        padded = np.zeros(-(-n // _BLOCK) * _BLOCK)
        padded[:n] = eta
        blocks = padded.reshape(-1, _BLOCK)
        local = np.cumsum(blocks * self.inverse_powers, axis=1) * self.powers
        carry_in = np.empty(len(blocks))
        carry = self.log_vol
        phi_block = self.phi**_BLOCK
        for index, block_end in enumerate(local[:, -1]):
            carry_in[index] = carry
            carry = phi_block * carry + block_end
        values = (local + np.outer(carry_in, self.powers * self.phi)).ravel()[:n]
        self.log_vol = float(values[-1])
        return values
