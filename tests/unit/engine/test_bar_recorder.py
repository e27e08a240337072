"""Live bars appended to the history catalog (``[data] record_bars``): batched, idempotent by
bar open time, whole bars only, flushed on a clean stop; a backtest reads them.

The node test runs ``build_node`` (what ``tradeforge run`` builds) in paper mode on a generated
market with one-second bars, twice (a stop and a restart), and checks that the catalog holds
exactly the whole bars the node published, each open time once, and that a backtest over the
dataset replays every one of them.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import msgspec
import numpy as np
import pytest

from tradeforge.backtest import run, spot_pair
from tradeforge.data import Catalog
from tradeforge.domain import Bar, InstrumentId, Timeframe
from tradeforge.domain.errors import ConfigurationError
from tradeforge.engine import BarRecorder
from tradeforge.engine.config import NodeConfig, load_node_config
from tradeforge.runtime.node_builder import build_node
from tradeforge.strategy import BarLike, Strategy

IID = InstrumentId.from_str("BTC/USDT.SIM")
INST = spot_pair(IID, price_precision=2, size_precision=5)
MINUTE = Timeframe.from_str("1m")
S = 1_000_000_000
T0 = 1_700_000_040 * S  # a minute edge


def bar(k: int, close: str = "100.5") -> Bar:
    """The k-th one-minute bar from T0."""
    return Bar(
        instrument_id=IID, timeframe=MINUTE, open=INST.make_price("100"),
        high=INST.make_price("101.25"), low=INST.make_price("99"), close=INST.make_price(close),
        volume=INST.make_qty("1.5"), ts_event=T0 + (k + 1) * 60 * S,
        ts_init=T0 + (k + 1) * 60 * S,
    )  # fmt: skip


def stored(catalog: Catalog) -> list[int]:
    return [int(t) for t in catalog.load_bars(IID, MINUTE).ts]


def recorder(catalog: Catalog, **kwargs: int) -> BarRecorder:
    return BarRecorder(catalog, {IID: INST}.get, since_ns=T0, **kwargs)


def test_bars_are_written_in_batches_not_one_file_write_per_bar(tmp_path: Path) -> None:
    async def go() -> None:
        catalog = Catalog(tmp_path)
        rec = recorder(catalog, batch_bars=5)
        for k in range(4):
            rec.add(bar(k))
        await asyncio.sleep(0.05)
        assert not catalog.exists(IID, MINUTE)  # four bars wait for the fifth
        rec.add(bar(4))
        await rec.flush()
        assert stored(catalog) == [T0 + k * 60 * S for k in range(5)]
        for k in range(5, 7):
            rec.add(bar(k))
        assert rec.pending == 2
        await rec.close()  # a clean stop writes what waits
        assert stored(catalog) == [T0 + k * 60 * S for k in range(7)]
        info = catalog.info(IID, MINUTE)
        assert (info.price_precision, info.size_precision) == (2, 5)
        loaded = catalog.load_bars(IID, MINUTE)
        assert float(loaded.high[0]) == 101.25
        assert float(loaded.close[6]) == 100.5

    asyncio.run(go())


def test_a_batch_is_also_written_once_its_oldest_bar_is_old_enough(tmp_path: Path) -> None:
    async def go() -> None:
        catalog = Catalog(tmp_path)
        rec = recorder(catalog, batch_bars=1000, max_delay_ns=3 * 60 * S)
        for k in range(4):
            rec.add(bar(k))
        for _ in range(500):  # no flush: the fourth bar started the write
            if catalog.exists(IID, MINUTE):
                break
            await asyncio.sleep(0.01)
        assert stored(catalog) == [T0 + k * 60 * S for k in range(4)]

    asyncio.run(go())


def test_bars_the_catalog_holds_are_never_written_twice(tmp_path: Path) -> None:
    """A restart after a crash builds bars again from its start; a batch may be written
    twice: the catalog keeps each open time once, the first one written."""

    async def go() -> None:
        catalog = Catalog(tmp_path)
        first = recorder(catalog, batch_bars=3)
        for k in range(6):
            first.add(bar(k))
        await first.close()
        again = recorder(catalog, batch_bars=4)  # the restarted node
        for k in [3, 4, 5, 6, 6, 7]:
            again.add(bar(k, close="100.75"))
        await again.close()
        assert stored(catalog) == [T0 + k * 60 * S for k in range(8)]
        closes = catalog.load_bars(IID, MINUTE).close.tolist()
        assert closes == [100.5] * 6 + [100.75] * 2
        assert (again.written, again.skipped) == (2, 4)

    asyncio.run(go())


def test_a_partial_bar_from_before_the_start_is_not_recorded(tmp_path: Path) -> None:
    async def go() -> None:
        catalog = Catalog(tmp_path)
        rec = BarRecorder(catalog, {IID: INST}.get, since_ns=T0 + 30 * S, batch_bars=1)
        rec.add(bar(0))  # opened at T0, the node started 30 s into it
        rec.add(bar(1))
        await rec.close()
        assert stored(catalog) == [T0 + 60 * S]
        assert rec.skipped == 1

    asyncio.run(go())


def test_a_failed_write_keeps_its_bars_for_the_next_one(tmp_path: Path) -> None:
    async def go() -> None:
        blocker = tmp_path / "catalog"
        blocker.write_text("not a directory")  # the catalog cannot be written
        rec = BarRecorder(Catalog(blocker), {IID: INST}.get, since_ns=T0, batch_bars=2)
        rec.add(bar(0))
        rec.add(bar(1))
        with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the file system says
            await rec.flush()
        assert rec.pending == 2
        blocker.unlink()
        assert await rec.flush() == 2
        assert stored(Catalog(blocker)) == [T0, T0 + 60 * S]

    asyncio.run(go())


class BarCounter(Strategy):
    """Keeps every bar it sees."""

    name = "bar_counter"

    def on_start(self) -> None:
        self.seen: list[BarLike] = []

    def on_bar(self, bar: BarLike) -> None:
        self.seen.append(bar)


def node_config(**data: object) -> NodeConfig:
    return msgspec.convert(
        {
            "mode": "paper",
            "timeframe": "1s",
            "value_every_s": 0,
            "reconcile_every_s": 0,
            "venues": [
                {"name": "SIM", "instruments": ["BTC/USDT.SIM"], "events_per_second": 200}
            ],
            "strategies": [{"strategy": "sma_cross", "instruments": ["BTC/USDT.SIM"],
                            "params": {"fast": 2, "slow": 3, "size": "0.001"}}],
            "data": {"record_bars": True, "record_batch": 2, **data},
        },
        NodeConfig,
    )  # fmt: skip


def test_the_node_records_its_bars_and_a_backtest_reads_them(tmp_path: Path) -> None:
    second = Timeframe.from_str("1s")
    published: list[Bar] = []

    async def session(seconds: float) -> BarCounter:
        counter = BarCounter(instruments=[IID])
        node = build_node(node_config(), data_dir=tmp_path, extra=[counter])
        node.bus.subscribe("data.bars.>", lambda _topic, bar: published.append(bar))
        await node.start()
        try:
            await asyncio.sleep(seconds)
        finally:
            await node.stop()
        return counter

    first = asyncio.run(session(3.5))
    catalog = Catalog(tmp_path)
    after_first = stored_at(catalog, second)
    assert len(after_first) >= 2
    # Every stored bar is one the node built, equal to the last unit (the first, partial bar
    # of the session is left out).
    by_open = {b.ts_open: b for b in published}
    assert set(after_first) <= set(by_open)
    assert len(after_first) >= len(first.seen) - 1
    loaded = catalog.load_bars(IID, second)
    for k, ts in enumerate(after_first):
        node_bar = by_open[ts]
        assert Decimal(repr(float(loaded.close[k]))) == node_bar.close.as_decimal()
        assert Decimal(repr(float(loaded.volume[k]))) == node_bar.volume.as_decimal()

    asyncio.run(session(2.5))  # a restart: the dataset grows, no open time twice
    after_second = stored_at(catalog, second)
    assert after_second[: len(after_first)] == after_first
    assert len(after_second) > len(after_first)
    assert np.all(np.diff(np.array(after_second)) > 0)

    class Seen(BarCounter):
        name = "seen"

    replayed = Seen(instruments=[IID])
    result = run(replayed, catalog=catalog, instrument_ids=[IID], timeframe=second)
    assert result.errors == []
    assert result.bars == len(after_second)
    assert [b.ts_open for b in replayed.seen] == after_second


def stored_at(catalog: Catalog, timeframe: Timeframe) -> list[int]:
    return [int(t) for t in catalog.load_bars(IID, timeframe).ts]


def test_the_data_section_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "node.toml"
    body = (
        '[[venues]]\nname = "SIM"\ninstruments = ["BTC/USDT.SIM"]\n'
        '[[strategies]]\nstrategy = "sma_cross"\ninstruments = ["BTC/USDT.SIM"]\n'
    )
    path.write_text(body + "[data]\nrecord_bars = true\nrecord_batch = 0\n")
    with pytest.raises(ConfigurationError, match="record_batch"):
        load_node_config(path)
    path.write_text(body + "[data]\nrecord_bar = true\n")
    with pytest.raises(ConfigurationError, match="record_bar"):
        load_node_config(path)
    path.write_text(body + "[data]\nrecord_bars = true\n")
    assert load_node_config(path).data.record_bars is True
