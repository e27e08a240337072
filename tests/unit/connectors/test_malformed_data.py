"""CON-13: malformed venue data. Mutated REST and WebSocket payloads through every parser at the
edge; each is parsed into a valid domain value or refused with a typed error, never a traceback.

A seeded mutator takes valid Binance / CCXT payloads (a market, an order, an own trade, a public
trade, a ticker, a candle, a depth update, a depth snapshot) and breaks them: wrong types, missing
and extra keys, NaN / Infinity / negative / huge / off-tick numbers, numbers as text and text as
numbers, extra nesting (to thousands of levels), unicode, truncated and corrupted JSON. Every
mutant goes through its parser:

- ``ccxt_convert``: ``instrument_from_market``, ``report_from_order``, ``fill_from_trade``,
  ``trade_from_ccxt``, ``quote_from_ticker``, ``bar_from_ohlcv``;
- ``parse_depth_diff`` / ``parse_depth_snapshot`` (msgspec, as JSON text and as decoded objects);
- ``BinanceBookStream``'s session: the mutated depth updates arrive on its socket between the
  venue's real ones, and some of the snapshots it fetches are mutated too.

Pass (RELIABILITY.md CON-13): 10,000 mutants, **0 unhandled exceptions**, and 0 bad values let
through (every value that comes out passes the checks below). ``TF_SOAK=1`` runs 200,000
mutants; ``TF_FUZZ_SEED`` picks another seed.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import reprlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
import websockets
from tests.kit.stubs import btcusdt

from tradeforge.connectors.binance_book import BinanceBookStream
from tradeforge.connectors.ccxt_convert import (
    bar_from_ohlcv,
    fill_from_trade,
    instrument_from_market,
    quote_from_ticker,
    report_from_order,
    trade_from_ccxt,
)
from tradeforge.connectors.errors import MalformedResponse
from tradeforge.connectors.order_book_sync import (
    DepthDiff,
    DepthSnapshot,
    OrderBookSync,
    SyncState,
    parse_depth_diff,
    parse_depth_snapshot,
)
from tradeforge.domain import (
    AccountId,
    Bar,
    CurrencyPair,
    FillReport,
    OrderBookDelta,
    OrderBookSnapshot,
    OrderStatusReport,
    Price,
    Quantity,
    QuoteTick,
    Timeframe,
    TradeTick,
    Venue,
)
from tradeforge.domain.errors import TradeForgeError

SOAK = os.environ.get("TF_SOAK") == "1"
MUTANTS = 200_000 if SOAK else 10_000
SEED = int(os.environ.get("TF_FUZZ_SEED", "20240613"))

INST = btcusdt()  # tick 0.01, lot 0.001
ACCOUNT = AccountId("SIM-binance")
NOW_NS = 1_700_000_000_000_000_000
TS_MS = 1_700_000_000_000
M1 = Timeframe(1, "m")


class _Show(reprlib.Repr):
    def __init__(self) -> None:
        super().__init__()
        self.maxlevel, self.maxstring, self.maxother = 4, 120, 120

    def repr_int(self, x: int, level: int) -> str:
        return repr(x) if x.bit_length() <= 128 else f"<int of {x.bit_length()} bits>"


_SHOW = _Show()


# ----------------------------------------------------------------------------- valid payloads
def market() -> dict[str, Any]:
    return {
        "id": "BTCUSDT", "symbol": "BTC/USDT", "base": "BTC", "quote": "USDT",
        "baseId": "BTC", "quoteId": "USDT", "type": "spot", "spot": True, "active": True,
        "precision": {"price": 0.01, "amount": 0.001},
        "limits": {"amount": {"min": 0.001, "max": 9000.0}, "price": {"min": 0.01, "max": 1e6},
                   "cost": {"min": 5.0, "max": None}},
        "maker": 0.001, "taker": 0.001,
        "info": {"symbol": "BTCUSDT", "status": "TRADING", "filters": [
            {"filterType": "PRICE_FILTER", "tickSize": "0.01"}]},
    }  # fmt: skip


def order() -> dict[str, Any]:
    return {
        "id": "1234", "clientOrderId": "l-1", "timestamp": TS_MS, "lastTradeTimestamp": None,
        "lastUpdateTimestamp": TS_MS + 5, "symbol": "BTC/USDT", "type": "limit",
        "timeInForce": "GTC", "postOnly": False, "side": "buy", "price": 43000.12,
        "triggerPrice": None, "amount": 0.5, "cost": 8600.024, "average": 43000.12,
        "filled": 0.2, "remaining": 0.3, "status": "open", "fee": None, "trades": [],
        "info": {"symbol": "BTCUSDT", "orderId": 1234, "clientOrderId": "l-1",
                 "price": "43000.12000000", "origQty": "0.50000000", "status": "PARTIALLY_FILLED"},
    }  # fmt: skip


def own_trade() -> dict[str, Any]:
    return {
        "id": "987", "order": "1234", "timestamp": TS_MS, "symbol": "BTC/USDT", "type": None,
        "side": "buy", "takerOrMaker": "maker", "price": 43000.12, "amount": 0.2,
        "cost": 8600.024, "fee": {"cost": 0.0002, "currency": "BTC"},
        "info": {"symbol": "BTCUSDT", "id": 987, "orderId": 1234, "price": "43000.12000000",
                 "qty": "0.20000000", "commission": "0.00020000", "commissionAsset": "BTC"},
    }  # fmt: skip


def public_trade() -> dict[str, Any]:
    return {
        "id": "555", "timestamp": TS_MS, "symbol": "BTC/USDT", "side": "sell",
        "price": "43000.10", "amount": "0.015", "cost": 645.0015,
        "info": {"e": "trade", "t": 555, "p": "43000.10", "q": "0.015", "m": True},
    }  # fmt: skip


def ticker() -> dict[str, Any]:
    return {
        "symbol": "BTC/USDT", "timestamp": TS_MS, "bid": 43000.1, "bidVolume": 1.234,
        "ask": 43000.11, "askVolume": 0.5, "last": 43000.1, "info": {"u": 400900217},
    }  # fmt: skip


def candle() -> list[Any]:
    return [TS_MS, 43000.0, 43010.5, 42990.25, 43005.75, 12.345]


def depth_update() -> dict[str, Any]:
    return {
        "e": "depthUpdate", "E": TS_MS, "s": "BTCUSDT", "U": 157, "u": 160,
        "b": [["43000.10", "1.500"], ["42999.00", "0.000"]], "a": [["43000.11", "0.250"]],
    }  # fmt: skip


def depth_snapshot() -> dict[str, Any]:
    return {
        "lastUpdateId": 1027024,
        "bids": [["43000.10", "431.000"], ["42999.99", "1.000"]],
        "asks": [["43000.11", "12.000"]],
    }


# ----------------------------------------------------------------------------- the mutator
_BIG = ["9" * 5000, "1e999999", "-1e999999", "1e-999999", str(2**64), "0." + "0" * 400 + "1"]
# Text in number fields: words, non-finite spellings, fullwidth and Arabic-Indic digits, a NUL,
# an emoji, a right-to-left override.
_TEXT = ["", " ", "abc", "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "-1", "0", "-0",
         "0x10", "1_000", "\uff11\uff12\uff13", "\u0661\u0662\u0663", "1,5", "\u0000",
         "\U0001f4a5", "\u202e1", "null", "true", "{}"]  # fmt: skip
_NUMBERS: list[Any] = [float("nan"), float("inf"), -float("inf"), -1, 0, -0.0, 1e308, -1e-308,
                       10**30, 2**64, -(2**63), 10**5000, 0.1 + 0.2, 1e-9, True, False]  # fmt: skip
_SHAPES: list[Any] = [None, [], {}, [[]], {"a": 1}, [None, None], ["1", "2", "3"]]


def deep(depth: int) -> list[Any]:
    """A list nested ``depth`` levels deep, built without recursion."""
    node: list[Any] = []
    for _ in range(depth):
        node = [node]
    return node


class Mutator:
    """Seeded structural and byte-level mutations of JSON-like payloads."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def weird(self) -> Any:
        roll = self.rng.random()
        if roll < 0.35:
            return self.rng.choice(_TEXT + _BIG)
        if roll < 0.7:
            return self.rng.choice(_NUMBERS)
        if roll < 0.97:
            return self.rng.choice(_SHAPES)
        return deep(self.rng.choice((50, 1_500, 5_000)))

    def _nodes(self, root: Any) -> list[tuple[Any, Any]]:
        """Every (container, key) under ``root``, walked without recursion."""
        out: list[tuple[Any, Any]] = []
        stack = [root]
        while stack and len(out) < 500:
            node = stack.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in items:
                out.append((node, key))
                if isinstance(value, dict | list):
                    stack.append(value)
        return out

    def _numeric(self, value: Any) -> Any:
        number = Decimal(str(value))
        kind = self.rng.randrange(6)
        if kind == 0:
            number = -number
        elif kind == 1:
            number = number.scaleb(self.rng.randint(-40, 40))
        elif kind == 2:
            number += Decimal("0.000000001")  # off tick and lot
        elif kind == 3:
            number = Decimal(0)
        elif kind == 4:
            return float(number)
        else:
            return int(number)
        return str(number) if isinstance(value, str) else float(number)

    def mutate(self, payload: Any, times: int) -> Any:
        """``payload`` (changed in place) after ``times`` random mutations; may replace it."""
        for _ in range(times):
            nodes = self._nodes(payload) if isinstance(payload, dict | list) else []
            if not nodes or self.rng.random() < 0.03:
                payload = self.weird() if self.rng.random() < 0.5 else [payload]
                continue
            parent, key = self.rng.choice(nodes)
            value = parent[key]
            op = self.rng.randrange(8)
            if op == 0:
                parent[key] = self.weird()
            elif op == 1 and isinstance(parent, dict):
                del parent[key]
            elif op == 1:
                parent.pop(key)
            elif op == 2 and isinstance(parent, dict):
                parent[self.rng.choice(("x", "extra", "U", "b", "ü", "🔑"))] = self.weird()
            elif op == 3:
                parent[key] = [value] if self.rng.random() < 0.5 else {"value": value}
            elif op == 4 and _is_number(value):
                parent[key] = self._numeric(value)
            elif op == 5 and isinstance(value, str) and _is_number(value):
                parent[key] = float(value) if self.rng.random() < 0.5 else value + "x"
            elif op == 6 and isinstance(value, list) and value:
                del value[self.rng.randrange(len(value)) :]
            elif op == 7 and isinstance(value, list) and value:
                self.rng.shuffle(value)
                value.append(value[0])
            else:
                parent[key] = self.rng.choice(_TEXT)
        return payload

    def to_bytes(self, payload: Any) -> bytes:
        """JSON of ``payload``, sometimes corrupted at the byte level."""
        try:
            raw = json.dumps(payload, allow_nan=True, ensure_ascii=self.rng.random() < 0.5)
        except (ValueError, RecursionError):
            raw = '{"U":1,"u":2,"b":' + "[" * 3000 + "]" * 3000 + "}"
        data = raw.encode("utf-8", "surrogatepass")
        roll = self.rng.random()
        if roll < 0.15 and data:
            data = data[: self.rng.randrange(len(data))]  # truncated
        elif roll < 0.25 and data:
            at = self.rng.randrange(len(data))
            data = data[:at] + bytes([self.rng.randrange(256)]) + data[at + 1 :]
        elif roll < 0.3:
            data = data + b"\xff\xfe garbage"
        elif roll < 0.35:
            data = b'{"e":"depthUpdate","U":1,"u":2,"x":' + b"[" * 4000 + b"]" * 4000 + b"}"
        elif roll < 0.38:
            data = b""
        return data


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) < 10**300
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) < 1e300
    if isinstance(value, str):
        try:
            number = Decimal(value)
            return number.is_finite() and len(value) < 40 and -300 < number.adjusted() < 300
        except ArithmeticError:
            return False
    return False


# ----------------------------------------------------------------------------- what is valid
def _positive_price(value: Any) -> bool:
    return isinstance(value, Price) and value.as_decimal() > 0 and INST.is_on_tick(value)


def _quantity(value: Any, *, positive: bool = False) -> bool:
    if not isinstance(value, Quantity) or not INST.is_on_lot(value):
        return False
    return value.as_decimal() > 0 if positive else value.as_decimal() >= 0


def _ts(value: Any) -> bool:
    return isinstance(value, int) and 0 <= value < 2**63


def _check_instrument(value: Any) -> str | None:
    if not isinstance(value, CurrencyPair) or not isinstance(value.raw_symbol, str):
        return "not a CurrencyPair with a text symbol"
    if not all(isinstance(f, Decimal) and -1 < f < 1 for f in (value.maker_fee, value.taker_fee)):
        return "fee rates outside (-1, 1)"
    if value.min_notional is not None and value.min_notional.amount <= 0:
        return "non-positive min notional"
    return None


def _check_report(value: Any) -> str | None:
    if not isinstance(value, OrderStatusReport):
        return "not an OrderStatusReport"
    if not _quantity(value.quantity, positive=True) or not _quantity(value.filled_qty):
        return "bad quantity or filled quantity"
    if value.filled_qty > value.quantity:
        return "filled above quantity"
    for price in (value.price, value.trigger_price):
        if price is not None and not _positive_price(price):
            return "bad price"
    if value.avg_px is not None and not (value.avg_px.is_finite() and value.avg_px >= 0):
        return "bad average price"
    if not (_ts(value.ts_event) and isinstance(value.reason, str)):
        return "bad timestamp or reason"
    return None


def _check_fill(value: Any) -> str | None:
    if not isinstance(value, FillReport):
        return "not a FillReport"
    if not (_quantity(value.last_qty, positive=True) and _positive_price(value.last_px)):
        return "bad fill quantity or price"
    if not (value.commission.amount.is_finite() and _ts(value.ts_event)):
        return "bad commission or timestamp"
    return None


def _check_trade(value: Any) -> str | None:
    if not isinstance(value, TradeTick):
        return "not a TradeTick"
    if not (_positive_price(value.price) and _quantity(value.size, positive=True)):
        return "bad trade price or size"
    return None if _ts(value.ts_event) else "bad timestamp"


def _check_quote(value: Any) -> str | None:
    if value is None:
        return None  # one side missing: documented
    if not isinstance(value, QuoteTick):
        return "not a QuoteTick"
    if not (_positive_price(value.bid_price) and _positive_price(value.ask_price)):
        return "bad bid or ask"
    if not (_quantity(value.bid_size) and _quantity(value.ask_size) and _ts(value.ts_event)):
        return "bad sizes or timestamp"
    return None


def _check_bar(value: Any) -> str | None:
    if not isinstance(value, Bar):
        return "not a Bar"
    prices = (value.open, value.high, value.low, value.close)
    if not all(_positive_price(p) for p in prices) or not _quantity(value.volume):
        return "bad prices or volume"
    return None if _ts(value.ts_event) else "bad timestamp"


def _levels_ok(levels: Any) -> bool:
    return all(
        isinstance(p, Decimal) and isinstance(q, Decimal) and p.is_finite() and q.is_finite()
        and p > 0 and q >= 0 and p.adjusted() < 30 and q.adjusted() < 30
        for p, q in levels
    )  # fmt: skip


def _check_diff(value: Any) -> str | None:
    if not isinstance(value, DepthDiff):
        return "not a DepthDiff"
    if not 0 <= value.first_update_id <= value.final_update_id:
        return "bad update ids"
    return None if _levels_ok(value.bids) and _levels_ok(value.asks) else "bad levels"


def _check_snapshot(value: Any) -> str | None:
    if not isinstance(value, DepthSnapshot) or value.last_update_id < 0:
        return "not a DepthSnapshot with a non-negative id"
    return None if _levels_ok(value.bids) and _levels_ok(value.asks) else "bad levels"


def _check_book_update(value: Any) -> str | None:
    if isinstance(value, OrderBookDelta):
        ok = _positive_price(value.price) and _quantity(value.size)
        return None if ok and value.instrument_id == INST.id else "bad delta"
    if isinstance(value, OrderBookSnapshot):
        levels = value.bids + value.asks
        ok = all(_positive_price(lv.price) and _quantity(lv.size, positive=True) for lv in levels)
        return None if ok and value.instrument_id == INST.id else "bad snapshot"
    return f"unexpected {type(value).__name__}"


# ----------------------------------------------------------------------------- the harness
@dataclass
class Tally:
    """What happened to the mutants of one parser."""

    parsed: int = 0
    refused: int = 0
    unhandled: list[str] = field(default_factory=list)
    let_through: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.parsed + self.refused + len(self.unhandled) + len(self.let_through)

    def feed(self, parse: Callable[[Any], Any], check: Callable[[Any], str | None], x: Any) -> None:
        try:
            value = parse(x)
        except TradeForgeError:
            self.refused += 1
            return
        except Exception as exc:  # the figure counts exactly these
            self.unhandled.append(f"{type(exc).__name__}: {exc!s:.200} <- {_SHOW.repr(x)}")
            return
        problem = check(value)
        if problem is None:
            self.parsed += 1
        else:
            self.let_through.append(f"{problem}: {_SHOW.repr(value)} <- {_SHOW.repr(x)}")


_Parse = Callable[[Any], Any]
REST_PARSERS: dict[str, tuple[Callable[[], Any], _Parse, Callable[[Any], str | None]]] = {
    "market": (market, lambda m: instrument_from_market(m, Venue("SIM")), _check_instrument),
    "order": (order, lambda o: report_from_order(o, INST, ACCOUNT, NOW_NS), _check_report),
    "own trade": (own_trade, lambda t: fill_from_trade(t, INST, ACCOUNT, NOW_NS), _check_fill),
    "public trade": (public_trade, lambda t: trade_from_ccxt(t, INST, NOW_NS), _check_trade),
    "ticker": (ticker, lambda t: quote_from_ticker(t, INST, NOW_NS), _check_quote),
    "candle": (candle, lambda r: bar_from_ohlcv(r, INST, M1, NOW_NS), _check_bar),
    "snapshot (decoded)": (depth_snapshot, parse_depth_snapshot, _check_snapshot),
}
JSON_PARSERS: dict[str, tuple[Callable[[], Any], _Parse, Callable[[Any], str | None]]] = {
    "depth update (JSON)": (depth_update, parse_depth_diff, _check_diff),
    "snapshot (JSON)": (depth_snapshot, parse_depth_snapshot, _check_snapshot),
}
# Mutants that go through the book stream's session (the rest split among the parsers above).
SESSION_SHARE = 0.2


def _assert_clean(tallies: dict[str, Tally]) -> None:
    unhandled = [f"{name}: {u}" for name, t in tallies.items() for u in t.unhandled]
    through = [f"{name}: {b}" for name, t in tallies.items() for b in t.let_through]
    assert unhandled == [], f"{len(unhandled)} unhandled, e.g.:\n" + "\n".join(unhandled[:10])
    assert through == [], f"{len(through)} bad values let through:\n" + "\n".join(through[:10])


def test_the_valid_payloads_parse() -> None:
    """The mutator's starting points are valid: each parser turns them into domain values."""
    for name, (make, parse, check) in {**REST_PARSERS, **JSON_PARSERS}.items():
        payload = make()
        value = parse(json.dumps(payload).encode() if name in JSON_PARSERS else payload)
        assert check(value) is None, name
    assert report_from_order(order(), INST, ACCOUNT, NOW_NS).filled_qty == Quantity("0.200")


def test_mutated_rest_and_ws_payloads_are_parsed_or_refused_with_typed_errors() -> None:
    rng = random.Random(SEED)
    mutator = Mutator(rng)
    parsers = list(REST_PARSERS.items()) + list(JSON_PARSERS.items())
    tallies = {name: Tally() for name, _ in parsers}
    for i in range(int(MUTANTS * (1 - SESSION_SHARE))):
        name, (make, parse, check) = parsers[i % len(parsers)]
        payload = mutator.mutate(make(), rng.choice((1, 1, 2, 3)))
        if name in JSON_PARSERS:
            payload = mutator.to_bytes(payload)
        tallies[name].feed(parse, check, payload)

    _assert_clean(tallies)
    assert all(t.refused > 0 and t.parsed > 0 for t in tallies.values()), tallies
    assert sum(t.total for t in tallies.values()) == int(MUTANTS * (1 - SESSION_SHARE))


# ----------------------------------------------------------------------------- found by the fuzz
@pytest.mark.parametrize(
    "raw",
    [
        # Nested 5,000 deep in a field nobody reads: msgspec's RecursionError ended the stream.
        b'{"e":"depthUpdate","U":1,"u":2,"x":' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"U":1,"u":2,"b":[["1\xff","1"]]}',  # invalid UTF-8: UnicodeDecodeError
        b'{"U":1,"u":2,"b":[["1e999999","1"]]}',  # finite, but no exact arithmetic survives it
        b'{"U":1,"u":2,"b":[["1","0.' + b"0" * 400 + b'1"]]}',  # a checksum string 400 long
        b'{"U":-5,"u":2}',
    ],
)
def test_depth_updates_that_escaped_or_slipped_through_are_malformed_responses(raw: bytes) -> None:
    with pytest.raises(MalformedResponse):
        parse_depth_diff(raw)


def _with(make: Callable[[], Any], path: tuple[Any, ...], value: Any) -> Any:
    payload = make()
    node = payload
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return payload


SLIPPED: list[tuple[str, tuple[Any, ...], Any]] = [
    ("own trade", ("amount",), None),  # was a fill of quantity 0
    ("own trade", ("order",), None),  # was venue order id "None"
    ("own trade", ("fee",), [1, 2]),  # was AttributeError
    ("public trade", ("price",), "abc"),  # was a trade at price 0
    ("order", ("side",), "short"),  # was a SELL
    ("order", ("filled",), 7),  # was filled 7 of 0.5
    ("order", ("price",), -43000.12),  # was a negative price
    ("order", ("lastUpdateTimestamp",), "soon"),  # was ValueError
    ("own trade", ("timestamp",), float("inf")),  # was OverflowError
    ("order", ("status",), deep(5000)),  # was RecursionError
    ("ticker", ("bid",), -1),  # was a negative bid
    ("ticker", ("bidVolume",), 10**5000),  # was ValueError (int too long to print)
    ("candle", (3,), None),  # was a low of 0
    ("candle", (0,), "2024-01-01"),  # was ValueError
    ("market", ("id",), ["BTCUSDT"]),  # was raw_symbol ["BTCUSDT"], a list
    ("market", ("precision",), None),  # was AttributeError
    ("market", ("maker",), "NaN"),  # was a fee of 0
    ("snapshot (decoded)", ("bids",), [["1", "2", "3"]]),  # was ValueError
    ("snapshot (decoded)", ("bids", 0, 0), "1e999999"),  # was an absurd level
]


@pytest.mark.parametrize(
    ("name", "path", "value"),
    SLIPPED,
    ids=[f"{name}:{'.'.join(map(str, path))}" for name, path, _ in SLIPPED],
)
def test_payloads_that_escaped_or_slipped_through_are_malformed_responses(
    name: str, path: tuple[Any, ...], value: Any
) -> None:
    make, parse, _ = REST_PARSERS[name]

    with pytest.raises(MalformedResponse):
        parse(_with(make, path, value))


def test_an_order_rejected_with_a_nested_reason_is_malformed_not_a_recursion_error() -> None:
    payload = _with(order, ("status",), "rejected")
    payload["info"]["status"] = deep(5000)

    with pytest.raises(MalformedResponse):
        report_from_order(payload, INST, ACCOUNT, NOW_NS)


def test_one_update_with_a_far_future_u_no_longer_freezes_the_book() -> None:
    """A forged or corrupt event with ``U`` <= id+1 but ``u`` far ahead is applied (the protocol
    cannot tell), after which every real event is "old" and ignored: the book froze, live."""
    sync = OrderBookSync("BTCUSDT", stuck_after=100)
    sync.on_diff(DepthDiff(first_update_id=11, final_update_id=12))
    sync.on_snapshot(DepthSnapshot(last_update_id=12, bids=((Decimal(1), Decimal(1)),)))
    assert sync.on_diff(DepthDiff(first_update_id=13, final_update_id=10**15)).name == "APPLIED"

    results = [
        sync.on_diff(DepthDiff(first_update_id=n, final_update_id=n)) for n in range(14, 114)
    ]

    assert {r.name for r in results[:99]} == {"IGNORED"}
    assert results[99].name == "GAP"
    assert sync.state is SyncState.AWAITING_SNAPSHOT
    assert sync.on_snapshot(DepthSnapshot(last_update_id=113)).name == "SYNCED"


# ----------------------------------------------------------------------------- the book session
class VenueBook:
    """The venue's side of a depth stream: contiguous diffs and snapshots that match them."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.update_id = 5_000
        self.bids = {self._price(-i): self._qty() for i in range(1, 11)}
        self.asks = {self._price(i): self._qty() for i in range(1, 11)}
        self.last: dict[str, Any] = {}

    def _price(self, ticks: int) -> Decimal:
        return Decimal("43000.00") + Decimal("0.01") * ticks

    def _qty(self) -> Decimal:
        return Decimal(self.rng.randint(1, 5_000)) / 1_000

    def diff(self) -> bytes:
        """The next diff event (and remember it as ``last``)."""
        first = self.update_id + 1
        changes: dict[str, dict[Decimal, Decimal]] = {"b": {}, "a": {}}
        for _ in range(self.rng.randint(1, 4)):
            self.update_id += 1
            side = self.rng.choice(("b", "a"))
            book = self.bids if side == "b" else self.asks
            price = self._price(self.rng.randint(1, 15) * (-1 if side == "b" else 1))
            qty = Decimal("0.000") if self.rng.random() < 0.3 else self._qty()
            if qty:
                book[price] = qty
            else:
                book.pop(price, None)
            changes[side][price] = qty
        self.last = {"e": "depthUpdate", "E": TS_MS, "s": "BTCUSDT", "U": first,
                     "u": self.update_id,
                     "b": [[str(p), str(q)] for p, q in changes["b"].items()],
                     "a": [[str(p), str(q)] for p, q in changes["a"].items()]}  # fmt: skip
        return json.dumps(self.last).encode()

    def snapshot(self) -> dict[str, Any]:
        return {
            "lastUpdateId": self.update_id,
            "bids": [[str(p), str(q)] for p, q in sorted(self.bids.items(), reverse=True)],
            "asks": [[str(p), str(q)] for p, q in sorted(self.asks.items())],
        }


class ScriptedSocket:
    """What ``BinanceBookStream`` reads from a connection: messages from a script, then closed."""

    def __init__(self, script: Iterator[bytes]) -> None:
        self._script = script

    async def recv(self) -> bytes:
        for message in self._script:
            return message
        raise websockets.ConnectionClosedOK(None, None)


def test_the_book_session_survives_mutated_updates_and_snapshots() -> None:
    """Mutants of the venue's diffs arrive between the real ones, some real ones are lost (gaps),
    and a fifth of the snapshots the stream fetches are mutants too. Nothing escapes but typed
    errors, every update that comes out is valid, and a clean connection afterwards gives
    exactly the venue's book."""
    rng = random.Random(SEED + 1)
    mutator = Mutator(rng)
    venue = VenueBook(rng)
    budget = int(MUTANTS * SESSION_SHARE)
    sent = {"mutants": 0, "snapshot mutants": 0, "gaps": 0}
    fuzz_snapshots = True

    def fuzzed() -> Iterator[bytes]:
        while sent["mutants"] < budget:
            diff = venue.diff()
            if rng.random() < 0.05:
                sent["gaps"] += 1
                continue  # lost on the way: the stream must find the gap and fetch a snapshot
            yield diff
            for _ in range(rng.randint(0, 3)):
                sent["mutants"] += 1
                payload = json.loads(json.dumps(venue.last))
                yield mutator.to_bytes(mutator.mutate(payload, rng.choice((1, 2))))

    async def fetch() -> DepthSnapshot:
        payload = venue.snapshot()
        if fuzz_snapshots and rng.random() < 0.2:
            sent["snapshot mutants"] += 1
            payload = mutator.mutate(payload, 1)
        return parse_depth_snapshot(payload)

    stream = BinanceBookStream(INST, ws_url="ws://unused", fetch_snapshot=fetch,
                               now_ns=lambda: NOW_NS)  # fmt: skip
    tally = Tally()
    refused: list[str] = []

    async def connection(ws: ScriptedSocket) -> None:
        # What ``updates()`` does around each connection: read until it fails, start over.
        while True:
            try:
                async for update in stream._session(ws):  # type: ignore[arg-type]
                    tally.feed(lambda u: u, _check_book_update, update)
            except websockets.ConnectionClosed:
                return
            except TradeForgeError as exc:
                refused.append(type(exc).__name__)
            except Exception as exc:  # the figure counts exactly these
                tally.unhandled.append(f"{type(exc).__name__}: {exc!s:.200}")
                return
            stream.sync.invalidate("reconnect")

    asyncio.run(connection(ScriptedSocket(fuzzed())))

    _assert_clean({"book session": tally})
    assert sent["mutants"] >= budget
    assert sent["snapshot mutants"] > 0
    assert stream.stats.gaps > 0
    assert stream.stats.malformed > budget // 4
    assert set(refused) == {MalformedResponse.__name__}  # only bad snapshots end a session
    assert tally.parsed > budget  # the real diffs kept coming out as deltas
    # After the fuzz, a clean connection makes the book equal the venue's exactly.
    fuzz_snapshots = False
    stream.sync.invalidate("reconnect")
    asyncio.run(connection(ScriptedSocket(venue.diff() for _ in range(50))))
    assert stream.sync.state is SyncState.LIVE
    assert stream.sync.bids() == sorted(venue.bids.items(), reverse=True)
    assert stream.sync.asks() == sorted(venue.asks.items())


def test_an_off_tick_update_is_skipped_not_the_end_of_the_stream() -> None:
    """It used to pass decoding and then raise out of the stream (InvalidValue from make_price,
    or decimal.InvalidOperation for 1E+999999), ending the book for its consumer."""
    rng = random.Random(SEED)
    venue = VenueBook(rng)

    async def fetch() -> DepthSnapshot:
        return parse_depth_snapshot(venue.snapshot())

    stream = BinanceBookStream(INST, ws_url="ws://unused", fetch_snapshot=fetch,
                               now_ns=lambda: NOW_NS)  # fmt: skip
    off_tick = b'{"U":1,"u":1,"b":[["43000.001","1.000"]],"a":[["1E+999999","1"]]}'
    script = [venue.diff(), off_tick, venue.diff(), off_tick, venue.diff()]

    async def read() -> list[Any]:
        out: list[Any] = []
        try:
            async for update in stream._session(ScriptedSocket(iter(script))):  # type: ignore[arg-type]
                out.append(update)
        except websockets.ConnectionClosed:  # the script ran out: the only way out
            return out
        raise AssertionError("the session ended without its socket closing")

    updates = asyncio.run(read())

    assert stream.stats.malformed == 2
    assert isinstance(updates[0], OrderBookSnapshot)
    assert all(_check_book_update(u) is None for u in updates)
    assert stream.sync.bids() == sorted(venue.bids.items(), reverse=True)
