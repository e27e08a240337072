"""One codec for every message: JSON for people and HTTP, MessagePack for the wire (NATS).

Exact values travel as strings (``"50000.01"``, ``"1.5 USDT"``), ids as their string form, and each
message carries its class name in ``"type"`` so one decoder reads any of them. Decoding validates
types and every invariant the domain checks at construction; a bad payload raises
``DecodeError`` naming the field path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final, TypeVar, Union

import msgspec

from tradeforge.bus.clock import TimeEvent
from tradeforge.domain import (
    MESSAGE_TYPES,
    Currency,
    CurrencyPair,
    Equity,
    FuturesContract,
    Identifier,
    InstrumentId,
    Money,
    PerpetualContract,
    Price,
    Quantity,
    Timeframe,
)
from tradeforge.domain.errors import InvalidValue

__all__ = ["Codec", "DecodeError", "DEFAULT_TYPES"]

T = TypeVar("T")

DEFAULT_TYPES: Final[tuple[type[msgspec.Struct], ...]] = (
    *MESSAGE_TYPES,
    TimeEvent,
    CurrencyPair,
    PerpetualContract,
    FuturesContract,
    Equity,
)

_AS_STRING: Final = (Price, Quantity, Money, InstrumentId, Identifier, Timeframe)


class DecodeError(InvalidValue):
    """A payload that is not a valid message; the message names the field path."""


def _enc_hook(obj: object) -> object:
    if isinstance(obj, Currency):
        return obj.to_str()
    if isinstance(obj, _AS_STRING):
        return str(obj)
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


def _parser(kind: type[Any]) -> Callable[[str], object] | None:
    if issubclass(
        kind, Identifier | InstrumentId | Price | Quantity | Money | Currency | Timeframe
    ):
        parse: Callable[[str], object] = kind.from_str
        return parse
    return None


def _dec_hook(kind: type[Any], obj: object) -> object:
    parse = _parser(kind) if isinstance(kind, type) else None
    if parse is None:
        raise NotImplementedError(f"cannot decode {kind!r}")
    if not isinstance(obj, str):
        raise ValueError(f"expected a string for {kind.__name__}, got {type(obj).__name__}")
    return parse(obj)


class Codec:
    """Encodes and decodes messages (any of ``types``) to JSON and MessagePack."""

    def __init__(self, types: Iterable[type[msgspec.Struct]] = DEFAULT_TYPES) -> None:
        self.types: tuple[type[msgspec.Struct], ...] = tuple(types)
        union: Any = Union[self.types]  # noqa: UP007 - a runtime union of a tuple of types
        self._json_encoder = msgspec.json.Encoder(enc_hook=_enc_hook, decimal_format="string")
        self._msgpack_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook, decimal_format="string")
        self._json_decoder = msgspec.json.Decoder(union, dec_hook=_dec_hook)
        self._msgpack_decoder = msgspec.msgpack.Decoder(union, dec_hook=_dec_hook)

    def to_json(self, message: object) -> bytes:
        """JSON bytes of ``message``."""
        return self._json_encoder.encode(message)

    def to_msgpack(self, message: object) -> bytes:
        """MessagePack bytes of ``message``."""
        return self._msgpack_encoder.encode(message)

    def from_json(self, data: bytes | str) -> msgspec.Struct:
        """The message encoded in ``data`` (any known type, chosen by its ``type`` field)."""
        return self._decode(self._json_decoder.decode, data)

    def from_msgpack(self, data: bytes) -> msgspec.Struct:
        """The message encoded in ``data``."""
        return self._decode(self._msgpack_decoder.decode, data)

    @staticmethod
    def _decode(decode: Callable[[Any], Any], data: bytes | str) -> msgspec.Struct:
        try:
            result: msgspec.Struct = decode(data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise DecodeError(f"cannot decode message: {exc}") from None
        return result

    def json_as(self, kind: type[T], data: bytes | str) -> T:
        """Decode JSON into ``kind`` (any domain type, e.g. ``OrderSpec``)."""
        try:
            return msgspec.json.decode(data, type=kind, dec_hook=_dec_hook)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise DecodeError(f"cannot decode {kind.__name__}: {exc}") from None

    def to_builtins(self, message: object) -> Any:
        """``message`` as JSON-ready dicts, lists and strings."""
        return msgspec.to_builtins(message, enc_hook=_enc_hook)
