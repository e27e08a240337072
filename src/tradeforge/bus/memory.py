"""Deterministic in-process message bus for the embedded shape and exact backtest replay."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from typing import Final

import structlog
from structlog.typing import FilteringBoundLogger

from tradeforge.bus.errors import DuplicateEndpoint, UnknownEndpoint
from tradeforge.bus.protocol import EndpointHandler, Handler, Subscription
from tradeforge.bus.topics import split_pattern, split_topic, tokens_match

__all__ = ["InMemoryBus"]

# Past this many distinct cached topics the route cache starts over, so a stream of one-off
# topics cannot grow memory without bound.
_MAX_CACHED_ROUTES: Final = 65_536


def _handler_name(handler: Callable[..., object]) -> str:
    qualname = getattr(handler, "__qualname__", None)
    if qualname is None:
        return repr(handler)
    return f"{getattr(handler, '__module__', '?')}.{qualname}"


class InMemoryBus:
    """Synchronous, single-threaded :class:`~tradeforge.bus.protocol.MessageBus`.

    Deterministic, so a backtest replays exactly:

    - **Order.** A message reaches matching subscriptions in the order the subscriptions were
      made, across all patterns. One delivery per matching subscription.
    - **Run to completion.** ``publish``/``send`` from inside a handler only queue the message;
      it is delivered (FIFO) once the current message has reached all its receivers. The
      outermost ``publish``/``send``/``request_now`` returns when the queue is empty.
    - **Snapshot per message.** The receivers of a message are fixed when its delivery
      starts: subscribe/unsubscribe/(de)register inside a handler take effect from the next
      message on (including messages already queued), never half-way through one.
    - **Errors.** A handler exception is logged (topic, handler) and counted, and delivery
      goes on. With ``raise_errors=True`` the first such exception is also re-raised from
      the outermost call once the queue is drained, so what is delivered never depends on
      the mode. ``request_now`` always propagates its endpoint's exception to the requester.

    Not thread-safe: call it from one thread (the event loop's, in the embedded shape).
    """

    def __init__(self, *, raise_errors: bool = False) -> None:
        self._raise_errors = raise_errors
        self._log: FilteringBoundLogger = structlog.get_logger("tradeforge.bus")
        self._subs: dict[int, tuple[Subscription, tuple[str, ...]]] = {}
        self._next_sub_id = 0
        self._routes: dict[str, tuple[Handler, ...]] = {}
        self._endpoints: dict[str, EndpointHandler] = {}
        # (topic or endpoint, message, is_send)
        self._queue: deque[tuple[str, object, bool]] = deque()
        self._dispatching = False
        self._pending_error: Exception | None = None
        self._published = 0
        self._sent = 0
        self._delivered = 0
        self._errors = 0

    @property
    def published(self) -> int:
        """Messages accepted by ``publish``."""
        return self._published

    @property
    def sent(self) -> int:
        """Messages accepted by ``send`` (requests not included)."""
        return self._sent

    @property
    def delivered(self) -> int:
        """Handler calls made: one per subscriber per message, plus endpoint calls."""
        return self._delivered

    @property
    def errors(self) -> int:
        """Handler exceptions caught by the bus (not those ``request_now`` re-raised)."""
        return self._errors

    def subscribe(self, pattern: str, handler: Handler) -> Subscription:
        """Subscribe ``handler`` to topics matching ``pattern``; see the class notes."""
        tokens = split_pattern(pattern)
        sub = Subscription(pattern=pattern, handler=handler, sub_id=self._next_sub_id)
        self._next_sub_id += 1
        self._subs[sub.sub_id] = (sub, tokens)
        self._routes.clear()
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Remove ``sub``; a no-op if it is not (or no longer) subscribed to this bus."""
        entry = self._subs.get(sub.sub_id)
        if entry is not None and entry[0] is sub:
            del self._subs[sub.sub_id]
            self._routes.clear()

    def publish(self, topic: str, message: object) -> None:
        """Deliver ``message`` to every matching subscription; see the class notes."""
        handlers = self._routes.get(topic)
        if handlers is None:
            handlers = self._route(topic)  # validates the topic before anything is queued
        self._published += 1
        if not handlers and not self._dispatching:
            return  # nobody listens and nothing is queued: delivering it would do nothing
        self._queue.append((topic, message, False))
        if not self._dispatching:
            self._drain()

    def register_endpoint(self, name: str, handler: EndpointHandler) -> None:
        """Make ``handler`` the one receiver for ``name``."""
        split_topic(name)
        if name in self._endpoints:
            raise DuplicateEndpoint(name)
        self._endpoints[name] = handler

    def deregister_endpoint(self, name: str) -> None:
        """Remove the handler for ``name``."""
        if self._endpoints.pop(name, None) is None:
            raise UnknownEndpoint(name)

    def send(self, endpoint: str, message: object) -> None:
        """Deliver ``message`` to ``endpoint``'s handler, queued like ``publish``."""
        if endpoint not in self._endpoints:
            raise UnknownEndpoint(endpoint)
        self._sent += 1
        self._queue.append((endpoint, message, True))
        if not self._dispatching:
            self._drain()

    def request_now(self, endpoint: str, message: object) -> object:
        """Call ``endpoint``'s handler at once and return its reply (for backtests).

        Called from inside a handler, the reply comes back immediately and whatever the
        endpoint publishes is queued; called from outside, the queue is drained first.
        """
        handler = self._endpoints.get(endpoint)
        if handler is None:
            raise UnknownEndpoint(endpoint)
        self._delivered += 1
        if self._dispatching:
            return handler(message)
        self._dispatching = True
        try:
            reply = handler(message)
        except Exception:
            # Still deliver what the handler queued. Its own exception is the one to raise; a
            # queued handler's error was already logged and counted.
            with contextlib.suppress(Exception):
                self._drain()
            raise
        except BaseException:
            self._abort()
            raise
        self._drain()
        return reply

    async def request(self, endpoint: str, message: object, *, timeout: float = 5.0) -> object:
        """Async form of :meth:`request_now`: the reply is immediate, ``timeout`` unused."""
        return self.request_now(endpoint, message)

    def _route(self, topic: str) -> tuple[Handler, ...]:
        tokens = split_topic(topic)
        handlers = tuple(
            sub.handler for sub, pattern in self._subs.values() if tokens_match(pattern, tokens)
        )
        if len(self._routes) >= _MAX_CACHED_ROUTES:
            self._routes.clear()
        self._routes[topic] = handlers
        return handlers

    def _drain(self) -> None:
        self._dispatching = True
        queue = self._queue
        routes = self._routes
        try:
            while queue:
                key, message, is_send = queue.popleft()
                if is_send:
                    self._deliver_send(key, message)
                    continue
                handlers = routes.get(key)
                if handlers is None:
                    handlers = self._route(key)
                self._delivered += len(handlers)
                for handler in handlers:
                    try:
                        handler(key, message)
                    except Exception as exc:
                        self._handler_failed(exc, key, handler)
        except BaseException:
            self._abort()
            raise
        self._dispatching = False
        error, self._pending_error = self._pending_error, None
        if error is not None:
            raise error

    def _deliver_send(self, endpoint: str, message: object) -> None:
        handler = self._endpoints.get(endpoint)
        if handler is None:  # deregistered after the message was queued
            self._handler_failed(UnknownEndpoint(endpoint), endpoint, None)
            return
        self._delivered += 1
        try:
            handler(message)
        except Exception as exc:
            self._handler_failed(exc, endpoint, handler)

    def _handler_failed(
        self, exc: Exception, key: str, handler: Callable[..., object] | None
    ) -> None:
        self._errors += 1
        name = "<none>" if handler is None else _handler_name(handler)
        self._log.error("bus handler raised", topic=key, handler=name, exc_info=exc)
        if self._raise_errors and self._pending_error is None:
            self._pending_error = exc

    def _abort(self) -> None:
        # KeyboardInterrupt and friends: drop the queue so the bus is usable afterwards.
        self._queue.clear()
        self._dispatching = False
        self._pending_error = None
