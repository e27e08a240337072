"""Per-venue connection health and cancel-on-disconnect (RELIABILITY.md R15).

A node cannot see a dead link from its order stream alone: CCXT reconnects its streams
silently, and a quiet account sends nothing anyway. So the node pings each venue (``ping``, a
cheap authenticated round trip; ``balances`` for a client without it) every
``heartbeat_every_s``, a ping unanswered after ``heartbeat_timeout_s`` counting as failed, and
the order-update stream reports when it broke and when it was subscribed again. A venue is
**down** from the moment the first failed ping was sent (or the stream broke), **up** again
once a ping succeeds and the stream is subscribed. The state is checked after each ping, so a
venue is blocked between ``grace_s`` and ``grace_s + heartbeat_timeout_s + heartbeat_every_s``
after the link died.

Once a venue has been down for ``grace_s`` (off by default: ``grace_s = None``):

1. new orders to it are refused (``DenyReason.VENUE_DISCONNECTED``), by the node before risk;
2. a ``VenueConnectionChanged`` event (``disconnected``) is recorded: kept in ``events``,
   published on ``events.venues.<venue>``, logged;
3. the node tries to cancel the venue's open orders (the link may still carry a cancel: a
   broken stream, a slow but live REST path).

When it is up again: the orders that were open at the disconnect and are still open are
cancelled (``cancel_on_reconnect``), the venue is reconciled (what happened while the node was
blind: fills, cancels), and only then are new orders taken again (a ``reconnected`` event).
A venue that comes back within the grace period is never blocked: a blip costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec

from tradeforge.bus import Clock
from tradeforge.domain import ClientOrderId, InvalidValue, TradeForgeError, Venue
from tradeforge.execution import HeartbeatClient, VenueClient
from tradeforge.observability import get_logger

__all__ = ["DisconnectPolicy", "VenueConnectionChanged", "VenueHealth", "VenueMonitor"]

log = get_logger("tradeforge.node.health")
_NS = 1_000_000_000


class DisconnectPolicy(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """R15 settings (``[disconnect]`` of the node's configuration)."""

    grace_s: float | None = None  # down this long: block and cancel (None: off)
    heartbeat_every_s: float = 1.0
    heartbeat_timeout_s: float = 2.0  # a ping unanswered this long has failed
    cancel_on_reconnect: bool = True  # cancel what was open at the disconnect once back

    def __post_init__(self) -> None:
        if self.grace_s is not None and not self.grace_s > 0:
            raise InvalidValue(f"disconnect.grace_s must be > 0 (or unset), got {self.grace_s}")
        for name in ("heartbeat_every_s", "heartbeat_timeout_s"):
            value = getattr(self, name)
            if not value > 0:
                raise InvalidValue(f"disconnect.{name} must be > 0, got {value}")


class VenueConnectionChanged(msgspec.Struct, frozen=True, kw_only=True):
    """A venue was blocked for being unreachable past the grace period, or came back."""

    venue: str
    state: Literal["disconnected", "reconnected"]
    reason: str
    open_orders: int  # open at the disconnect; at the reconnection, those cancelled
    down_since_ns: int
    ts_event: int
    ts_init: int


@dataclass
class VenueHealth:
    """One venue's state: what failed, since when, and whether it is blocked."""

    venue: Venue
    ping_failed_ns: int | None = None
    stream_down_ns: int | None = None
    last_error: str = ""
    blocked: bool = False
    blocked_down_ns: int = 0  # when the venue went down, for the blocking in force
    open_at_disconnect: list[ClientOrderId] = field(default_factory=list)

    @property
    def down_since_ns(self) -> int | None:
        """When the venue went down (None: it is up)."""
        times = [t for t in (self.ping_failed_ns, self.stream_down_ns) if t is not None]
        return min(times) if times else None

    def ping_ok(self) -> None:
        self.ping_failed_ns = None

    def ping_failed(self, now: int, error: str) -> None:
        if self.ping_failed_ns is None:
            self.ping_failed_ns = now
        self.last_error = error

    def stream_down(self, now: int, error: str) -> None:
        if self.stream_down_ns is None:
            self.stream_down_ns = now
        self.last_error = error

    def stream_up(self) -> None:
        self.stream_down_ns = None


class VenueMonitor:
    """The heartbeats and the R15 sequence for every venue of a node (module docstring).

    The node hands it what only the node can do: ``open_orders(venue)`` (client order ids of
    the venue's open orders), ``cancel(ids)`` (cancel those still open, return how many it
    asked for), ``reconcile(venue)`` and ``publish(event)``.
    """

    def __init__(
        self,
        policy: DisconnectPolicy,
        venues: dict[Venue, VenueClient],
        *,
        clock: Clock,
        open_orders: Callable[[Venue], list[ClientOrderId]],
        cancel: Callable[[list[ClientOrderId]], Coroutine[Any, Any, int]],
        reconcile: Callable[[Venue], Awaitable[None]],
        publish: Callable[[VenueConnectionChanged], None],
    ) -> None:
        self.policy = policy
        self._venues = venues
        self._clock = clock
        self._open_orders = open_orders
        self._cancel = cancel
        self._reconcile = reconcile
        self._publish = publish
        self.health = {venue: VenueHealth(venue) for venue in venues}
        self.events: list[VenueConnectionChanged] = []
        self._tasks: list[asyncio.Task[Any]] = []
        self._settling = {venue: asyncio.Lock() for venue in venues}  # beat vs stream

    @property
    def enabled(self) -> bool:
        """Whether heartbeats run (a grace period is set)."""
        return self.policy.grace_s is not None

    def blocked(self, venue: Venue) -> VenueHealth | None:
        """The venue's health when new orders to it are refused, else None."""
        health = self.health.get(venue)
        return health if health is not None and health.blocked else None

    def start(self) -> None:
        """Start one heartbeat per venue (nothing when R15 is off)."""
        if not self.enabled:
            return
        loop = asyncio.get_running_loop()
        for venue, client in self._venues.items():
            self._tasks.append(loop.create_task(self._beat(venue, client)))

    async def stop(self) -> None:
        """Stop the heartbeats."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def stream_down(self, venue: Venue, error: str) -> None:
        """The venue's order-update stream broke (the node subscribes again)."""
        self.health[venue].stream_down(self._clock.timestamp_ns(), error)

    async def stream_up(self, venue: Venue) -> None:
        """The order-update stream is subscribed again."""
        self.health[venue].stream_up()
        await self._settle(venue)

    async def _beat(self, venue: Venue, client: VenueClient) -> None:
        policy = self.policy
        while True:
            sent = self._clock.timestamp_ns()  # the link is known good only until here
            try:
                async with asyncio.timeout(policy.heartbeat_timeout_s):
                    if isinstance(client, HeartbeatClient):
                        await client.ping()
                    else:
                        await client.balances()
            except (TradeForgeError, TimeoutError) as exc:
                error = str(exc) or f"no answer within {policy.heartbeat_timeout_s} s"
                self.health[venue].ping_failed(sent, error)
            else:
                self.health[venue].ping_ok()
            try:
                await self._settle(venue)
            except TradeForgeError as exc:  # a reconcile that failed: tried at the next beat
                log.warning("reconnection not settled", venue=str(venue), error=str(exc))
            await asyncio.sleep(policy.heartbeat_every_s)

    async def _settle(self, venue: Venue) -> None:
        """Block a venue down past the grace period; unblock one that is up again."""
        async with self._settling[venue]:
            await self._settle_now(self.health[venue])

    async def _settle_now(self, health: VenueHealth) -> None:
        down = health.down_since_ns
        now = self._clock.timestamp_ns()
        grace = self.policy.grace_s
        if grace is None:
            return
        if down is not None and not health.blocked and now - down >= int(grace * _NS):
            await self._disconnected(health, down, now)
        elif down is None and health.blocked:
            await self._reconnected(health)

    async def _disconnected(self, health: VenueHealth, down: int, now: int) -> None:
        health.blocked = True
        health.blocked_down_ns = down
        health.open_at_disconnect = self._open_orders(health.venue)
        self._record(health, "disconnected", health.last_error, len(health.open_at_disconnect))
        log.warning("venue unreachable: new orders refused, cancelling its open orders",
                    venue=str(health.venue), down_s=round((now - down) / _NS, 3),
                    open_orders=len(health.open_at_disconnect),
                    error=health.last_error)  # fmt: skip
        # Sent now, not awaited: each may hang until the client's timeout on a dead link.
        task: asyncio.Task[Any] = asyncio.get_running_loop().create_task(
            self._cancel(list(health.open_at_disconnect))
        )
        self._tasks.append(task)

    async def _reconnected(self, health: VenueHealth) -> None:
        cancelled = 0
        if self.policy.cancel_on_reconnect:
            cancelled = await self._cancel(health.open_at_disconnect)
        await self._reconcile(health.venue)
        if health.down_since_ns is not None:  # down again while this ran: stay blocked
            return
        health.blocked = False
        health.open_at_disconnect = []
        self._record(health, "reconnected", "heartbeat and stream up", cancelled)
        log.info("venue reachable again: new orders taken", venue=str(health.venue),
                 cancelled=cancelled)  # fmt: skip

    def _record(self, health: VenueHealth, state: str, reason: str, orders: int) -> None:
        now = self._clock.timestamp_ns()
        event = VenueConnectionChanged(
            venue=str(health.venue), state="disconnected" if state == "disconnected" else
            "reconnected", reason=reason[:500], open_orders=orders,
            down_since_ns=health.blocked_down_ns, ts_event=now, ts_init=now,
        )  # fmt: skip
        self.events.append(event)
        self._publish(event)
