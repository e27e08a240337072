"""The base of every command and event: a frozen, keyword-only msgspec Struct with two times.

``ts_event`` is when the thing happened (at the venue, or when it was decided); ``ts_init`` is when
TradeForge created the object. Both are UTC nanoseconds since the epoch, from a ``Clock``.
Each concrete message is tagged with its class name, so one decoder reads any of them.
Messages are immutable and hold no mutable containers, so they cannot be part of a reference
cycle: they opt out of the cyclic garbage collector (``gc=False``), which keeps collections
cheap when a backtest holds hundreds of thousands of events.
"""

from __future__ import annotations

import msgspec

__all__ = ["Message"]


class Message(msgspec.Struct, frozen=True, kw_only=True, gc=False, tag_field="type"):
    """Base of every command and event."""

    ts_event: int
    ts_init: int
