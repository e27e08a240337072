"""``SimSubscription``: one subscription to the ``sim`` venue client (``SimVenueClient``), a
bounded queue read with ``async for``, so a slow consumer never makes memory grow without bound.

When the queue is full, its ``Overflow`` policy decides:

- ``drop_oldest`` (trades, quotes, bars): the oldest item is dropped and counted in ``dropped``;
- ``resync`` (books): the content is replaced by one fresh snapshot (a resync, which the port
  allows) and the items replaced are counted;
- ``disconnect`` (own order updates, never dropped): the consumer is cut off, as a venue
  disconnects a slow user stream: it reads what was queued, then gets ``TemporaryError``, and
  should reconcile (``open_orders``, ``fills``) and subscribe again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Generic, Literal, Self, TypeVar

from tradeforge.domain import TemporaryError, TradeForgeError

__all__ = ["Overflow", "SimSubscription"]

_T = TypeVar("_T")
Overflow = Literal["drop_oldest", "resync", "disconnect"]


class SimSubscription(AsyncIterator[_T], Generic[_T]):
    """One subscription: a bounded queue read with ``async for`` (module docstring: policy).

    ``aclose()``, or leaving ``async with``, ends it. ``dropped`` counts what it discarded.
    """

    def __init__(
        self,
        *,
        limit: int,
        overflow: Overflow,
        detach: Callable[[SimSubscription[_T]], None],
        resync: Callable[[], _T] | None = None,
    ) -> None:
        self._items: deque[_T] = deque()
        self._limit = limit
        self._overflow = overflow
        self._detach = detach
        self._resync = resync
        self._waiter: asyncio.Future[None] | None = None
        self._ended = False
        self._error: TradeForgeError | None = None
        self.dropped = 0

    @property
    def queued(self) -> int:
        """Items waiting to be read."""
        return len(self._items)

    def push(self, item: _T) -> None:
        """Queue ``item`` (the client calls this), applying the overflow policy when full."""
        if self._ended:
            return
        items = self._items
        if len(items) >= self._limit:
            if self._overflow == "drop_oldest":
                items.popleft()
                self.dropped += 1
            elif self._overflow == "resync" and self._resync is not None:
                # The snapshot already holds ``item``: it replaces everything queued.
                self.dropped += len(items) + 1
                items.clear()
                item = self._resync()
            else:
                self._error = TemporaryError(
                    f"subscription cut off: {len(items)} updates unread; reconcile with "
                    "open_orders and fills, then subscribe again"
                )
                self.end()
                return
        items.append(item)
        self._wake()

    def end(self) -> None:
        """Stop taking items; the reader gets what is queued, then the end."""
        if not self._ended:
            self._ended = True
            self._detach(self)
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> _T:
        while True:
            if self._items:
                return self._items.popleft()
            if self._error is not None:
                error, self._error = self._error, None
                raise error
            if self._ended:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def aclose(self) -> None:
        """End the subscription and discard what is queued."""
        self._items.clear()
        self.end()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
