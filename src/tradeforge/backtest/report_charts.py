"""Inline SVG charts for the HTML report: equity, underwater (drawdown) and price with trades.

Every series is downsampled to at most ``MAX_POINTS`` points, keeping each bucket's minimum and
maximum so spikes and drawdowns survive, which keeps a million-bar backtest's report small.
Text is escaped here; the page embeds the returned markup as is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape
from typing import Final

import msgspec
import numpy as np
import numpy.typing as npt

from tradeforge.bus import ns_to_utc

__all__ = [
    "MAX_POINTS",
    "Marker",
    "downsample",
    "drawdown_svg",
    "equity_svg",
    "price_svg",
]

MAX_POINTS: Final = 2_000
WIDTH: Final = 1_060
_LEFT, _RIGHT, _TOP, _BOTTOM = 72, 16, 12, 26
GREEN: Final = "#16a34a"
RED: Final = "#dc2626"
BLUE: Final = "#2563eb"

_I64 = npt.NDArray[np.int64]
_F64 = npt.NDArray[np.float64]


class Marker(msgspec.Struct, frozen=True, kw_only=True):
    """A fill drawn on a price chart: up triangle for a buy, down for a sell.

    Entries are solid, exits hollow; ``label`` becomes the hover tooltip.
    """

    ts: int
    price: float
    buy: bool
    entry: bool
    label: str


def downsample(x: _I64, y: _F64, max_points: int = MAX_POINTS) -> tuple[_I64, _F64]:
    """At most ``max_points`` points of ``(x, y)``: the ends and each bucket's min and max.

    Points stay in their original order, so the polyline keeps the series' shape.
    """
    n = y.size
    if n <= max_points:
        return x, y
    buckets = max(1, (max_points - 2) // 2)
    size = -(-n // buckets)
    padded = np.pad(y, (0, buckets * size - n), mode="edge").reshape(buckets, size)
    base = np.arange(buckets) * size
    lows = np.minimum(base + np.argmin(padded, axis=1), n - 1)
    highs = np.minimum(base + np.argmax(padded, axis=1), n - 1)
    keep = np.unique(np.concatenate(([0, n - 1], lows, highs)))
    return x[keep], y[keep]


class _Frame:
    """Maps data (ns, value) to SVG pixels inside the plot area."""

    def __init__(self, t0: int, t1: int, v0: float, v1: float, height: int) -> None:
        self.t0, self.t1 = t0, t1 if t1 > t0 else t0 + 1
        self.v0, self.v1 = v0, v1
        self.height = height
        self.right = WIDTH - _RIGHT
        self.bottom = height - _BOTTOM

    def px(self, t: _I64 | int) -> _F64:
        share = (np.asarray(t, dtype=np.float64) - self.t0) / (self.t1 - self.t0)
        return np.asarray(_LEFT + share * (self.right - _LEFT), dtype=np.float64)

    def py(self, v: _F64 | float) -> _F64:
        share = (np.asarray(v, dtype=np.float64) - self.v0) / (self.v1 - self.v0)
        return np.asarray(self.bottom - share * (self.bottom - _TOP), dtype=np.float64)


def equity_svg(ts: _I64, equity: _F64, *, baseline: float) -> str:
    """Equity line with a light area under it and a dashed line at the starting equity."""
    x, y = downsample(ts, equity)
    lo, hi = _padded_range(min(float(y.min()), baseline), max(float(y.max()), baseline))
    frame = _Frame(int(x[0]), int(x[-1]), lo, hi, 300)
    base_y = float(frame.py(baseline))
    extra = (
        f'<line class="base" x1="{_LEFT}" x2="{frame.right}" y1="{base_y:.1f}" y2="{base_y:.1f}"/>'
    )
    return _chart(frame, x, y, color=BLUE, fill_to=lo, unit="", extra=extra, name="Equity")


def drawdown_svg(ts: _I64, drawdown_pct: _F64) -> str:
    """Underwater chart: percent below the running peak, filled red down from zero."""
    x, y = downsample(ts, drawdown_pct)
    lo = min(float(y.min()), -1.0)
    lo, _ = _padded_range(lo, 0.0)
    frame = _Frame(int(x[0]), int(x[-1]), lo, 0.0, 180)
    return _chart(frame, x, y, color=RED, fill_to=0.0, unit="%", extra="", name="Drawdown")


def price_svg(ts: _I64, close: _F64, trades: Sequence[tuple[Marker, Marker, bool]]) -> str:
    """Close prices with each trade's ``(entry, exit, won)`` markers joined by a dotted line."""
    x, y = downsample(ts, close)
    t0, t1 = int(x[0]), int(x[-1])
    shown = [m for pair in trades for m in pair[:2] if t0 <= m.ts <= t1]
    prices = [m.price for m in shown]
    lo, hi = _padded_range(min([float(y.min()), *prices]), max([float(y.max()), *prices]))
    frame = _Frame(t0, t1, lo, hi, 320)
    parts = []
    for entry, exit_, won in trades:
        if t0 <= entry.ts and exit_.ts <= t1:
            ex, ey = frame.px(entry.ts), frame.py(entry.price)
            xx, xy = frame.px(exit_.ts), frame.py(exit_.price)
            parts.append(
                f'<line class="link" stroke="{GREEN if won else RED}" x1="{ex:.1f}" '
                f'y1="{ey:.1f}" x2="{xx:.1f}" y2="{xy:.1f}"/>'
            )
    parts.extend(_marker(frame, m) for m in shown)
    return _chart(
        frame, x, y, color="#334155", fill_to=None, unit="", extra="".join(parts), name="Close"
    )


def _marker(frame: _Frame, m: Marker) -> str:
    x, y = float(frame.px(m.ts)), float(frame.py(m.price))
    color = GREEN if m.buy else RED
    tip = f"M{x:.1f},{y - 6:.1f}l5,9h-10z" if m.buy else f"M{x:.1f},{y + 6:.1f}l5,-9h-10z"
    fill = color if m.entry else "#fff"
    return (
        f'<path class="mk" d="{tip}" fill="{fill}" stroke="{color}">'
        f"<title>{escape(m.label)}</title></path>"
    )


def _chart(
    frame: _Frame,
    x: _I64,
    y: _F64,
    *,
    color: str,
    fill_to: float | None,
    unit: str,
    extra: str,
    name: str,
) -> str:
    px, py = frame.px(x), frame.py(y)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px.tolist(), py.tolist(), strict=True))
    area = ""
    if fill_to is not None:
        base = float(frame.py(fill_to))
        area = (
            f'<path class="area" fill="{color}" d="M{px[0]:.1f},{base:.1f}L{points}'
            f'L{px[-1]:.1f},{base:.1f}Z"/>'
        )
    times = ",".join(str(t // 1_000_000) for t in x.tolist())
    values = ",".join(f"{v:.10g}" for v in y.tolist())
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {frame.height}" role="img" '
        f'aria-label="{escape(name)}" data-name="{escape(name)}" data-unit="{escape(unit)}" '
        f'data-t="{times}" data-v="{values}" xmlns="http://www.w3.org/2000/svg">'
        f"{_grid(frame)}{area}"
        f'<polyline class="line" stroke="{color}" points="{points}"/>{extra}'
        f'<g class="hover"><line class="cross" y1="{_TOP}" y2="{frame.bottom}"/>'
        f'<circle r="3.5" fill="{color}"/></g></svg>'
    )


def _grid(frame: _Frame) -> str:
    parts = [
        f'<rect class="plot" x="{_LEFT}" y="{_TOP}" width="{frame.right - _LEFT}" '
        f'height="{frame.bottom - _TOP}"/>'
    ]
    for value, label in _value_ticks(frame.v0, frame.v1):
        y = float(frame.py(value))
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{frame.right}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="yl" x="{_LEFT - 6}" y="{y + 4:.1f}">{escape(label)}</text>'
        )
    for t, label in _time_ticks(frame.t0, frame.t1):
        x = float(frame.px(t))
        parts.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{_TOP}" y2="{frame.bottom}"/>'
            f'<text class="xl" x="{x:.1f}" y="{frame.bottom + 17}">{escape(label)}</text>'
        )
    return "".join(parts)


def _padded_range(lo: float, hi: float) -> tuple[float, float]:
    if not hi > lo:
        pad = abs(lo) * 0.01 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


def _value_ticks(lo: float, hi: float, target: int = 5) -> list[tuple[float, str]]:
    raw = (hi - lo) / target
    if not raw > 0 or not math.isfinite(raw):
        return []
    mag = 10.0 ** math.floor(math.log10(raw))
    k = next(k for k in (1.0, 2.0, 2.5, 5.0, 10.0) if k * mag >= raw)
    step = k * mag
    # Millions and up get a suffix so the label fits the margin.
    big = max(abs(lo), abs(hi))
    if big >= 1e15:
        return [
            (i * step, f"{i * step:.3g}")
            for i in range(math.ceil(lo / step), math.floor(hi / step) + 1)
        ]
    div, suffix = next(((d, s) for d, s in _SUFFIXES if big >= d), (1.0, ""))
    decimals = max(0, -math.floor(math.log10(step / div) + 1e-9) + (1 if k == 2.5 else 0))
    ticks = []
    for i in range(math.ceil(lo / step), math.floor(hi / step) + 1):
        value = i * step
        ticks.append((value, f"{value / div:,.{decimals}f}{suffix}" if value else "0"))
    return ticks


_SUFFIXES: Final = ((1e12, "T"), (1e9, "B"), (1e6, "M"))


# Steps for time axes in seconds, then in months; labels suit the step.
_SECOND_STEPS: Final = (
    1, 5, 15, 30, 60, 300, 900, 1_800, 3_600, 3 * 3_600, 6 * 3_600, 12 * 3_600,
    86_400, 2 * 86_400, 7 * 86_400, 14 * 86_400,
)  # fmt: skip
_MONTH_STEPS: Final = (1, 2, 3, 6, 12, 24, 60, 120, 240, 600)


def _time_ticks(t0: int, t1: int, most: int = 8) -> list[tuple[int, str]]:
    span = (t1 - t0) / 1e9
    for step in _SECOND_STEPS:
        if span / step <= most:
            ns = step * 1_000_000_000
            if step >= 86_400:
                fmt = "%Y-%m-%d"
            else:
                fmt = "%H:%M:%S" if step < 60 else "%H:%M" if span < 86_400 else "%m-%d %H:%M"
            first = -(-t0 // ns)
            return [(k * ns, _utc(k * ns, fmt)) for k in range(first, t1 // ns + 1)]
    months = span / (30.44 * 86_400)
    step = next((k for k in _MONTH_STEPS if months / k <= most), _MONTH_STEPS[-1])
    m0 = int(np.datetime64(t0, "ns").astype("datetime64[M]").astype(np.int64))
    m1 = int(np.datetime64(t1, "ns").astype("datetime64[M]").astype(np.int64))
    fmt = "%Y" if step >= 12 else "%Y-%m"
    ticks = []
    for m in range(-(-m0 // step) * step, m1 + 1, step):
        t = int(np.datetime64(m, "M").astype("datetime64[ns]").astype(np.int64))
        if t0 <= t <= t1:
            ticks.append((t, _utc(t, fmt)))
    return ticks


def _utc(ts_ns: int, fmt: str) -> str:
    return ns_to_utc(ts_ns).strftime(fmt)
