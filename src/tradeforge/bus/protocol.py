"""The message bus port: publish/subscribe, point-to-point send, and request/reply.

Services depend on :class:`MessageBus` only; the embedded shape passes the in-process bus,
the distributed shape a NATS JetStream bus. Topics and endpoint names follow
:mod:`tradeforge.bus.topics`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeAlias, runtime_checkable

__all__ = ["EndpointHandler", "Handler", "MessageBus", "Subscription"]

Handler: TypeAlias = Callable[[str, object], None]
"""A subscriber: called with the concrete topic and the message."""

EndpointHandler: TypeAlias = Callable[[object], object | None]
"""A point-to-point receiver: called with the message; its return value is the reply."""


@dataclass(frozen=True, slots=True, eq=False)
class Subscription:
    """Handle returned by :meth:`MessageBus.subscribe`; pass it to ``unsubscribe``.

    Compared and hashed by identity: subscribing the same handler twice gives two handles,
    and each receives its own copy of every matching message.
    """

    pattern: str
    handler: Handler
    sub_id: int


@runtime_checkable
class MessageBus(Protocol):
    """Publish/subscribe, point-to-point and request/reply between services.

    ``publish`` and ``send`` are synchronous fire-and-forget: the in-process bus delivers
    before returning, a distributed bus buffers. ``request`` is async so a distributed bus can
    await the reply.
    """

    def subscribe(self, pattern: str, handler: Handler) -> Subscription:
        """Call ``handler(topic, message)`` for every message published to a matching topic.

        Raises:
            InvalidTopic: ``pattern`` is malformed.
        """
        ...

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop delivering to ``sub``; unsubscribing twice is a no-op."""
        ...

    def publish(self, topic: str, message: object) -> None:
        """Deliver ``message`` to every subscription whose pattern matches ``topic``.

        Raises:
            InvalidTopic: ``topic`` is malformed or contains a wildcard.
        """
        ...

    def register_endpoint(self, name: str, handler: EndpointHandler) -> None:
        """Make ``handler`` the one receiver of messages sent to ``name``.

        Raises:
            DuplicateEndpoint: ``name`` already has a handler.
            InvalidTopic: ``name`` is not a valid concrete topic.
        """
        ...

    def deregister_endpoint(self, name: str) -> None:
        """Remove the handler registered for ``name``.

        Raises:
            UnknownEndpoint: nothing is registered under ``name``.
        """
        ...

    def send(self, endpoint: str, message: object) -> None:
        """Deliver ``message`` to the one handler of ``endpoint``; its return value is dropped.

        Raises:
            UnknownEndpoint: nothing is registered under ``endpoint``.
        """
        ...

    async def request(self, endpoint: str, message: object, *, timeout: float = 5.0) -> object:
        """Send ``message`` to ``endpoint`` and return the handler's return value.

        Raises:
            UnknownEndpoint: nothing is registered under ``endpoint``.
            RequestTimeout: no reply within ``timeout`` seconds (distributed bus).
        """
        ...
