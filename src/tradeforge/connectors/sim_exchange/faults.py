"""Faults the simulated exchange injects on request, for tests of clients' resilience.

Switched on with ``--fault`` flags at start (``kind[:count[:seconds]]``) or through the admin
endpoint ``POST /admin/faults`` (JSON ``{"kind": ..., "count": ..., "seconds": ..., "path": ...,
"method": ..., "probability": ...}``); ``DELETE /admin/faults`` clears them. Kinds:

- ``http_5xx``: answer 503 (-1001) before doing anything;
- ``delay``: wait ``seconds`` before handling the request (a client may time out first);
- ``drop_response``: handle the request, then answer 503 (-1007, "execution status unknown"),
  as when a venue accepts an order and the response is lost;
- ``rate_limit``: answer 429 with ``Retry-After: seconds`` (a storm when ``count`` is large);
- ``drop_ws``: close every WebSocket connection once;
- ``skip_depth``: leave ``count`` update ids out of the depth streams (a sequence gap), of
  every symbol or only ``symbol``'s;
- ``stale_snapshot``: answer ``depth`` with a snapshot older than the stream's next update;
- ``hide_orders``: for ``seconds`` after an order is taken, ``GET /api/v3/order`` answers -2013
  ("Order does not exist.") for it and ``openOrders`` and ``allOrders`` leave it out, as
  Binance's order queries lag its matching engine (22-62 s in a community test); the order
  trades, cancels and streams as usual. It stays armed until cleared (``count`` is not spent);
  ``fired`` counts the answers that hid an order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from tradeforge.domain import InvalidValue

__all__ = ["KINDS", "Fault", "Faults", "parse_fault"]

KINDS = (
    "http_5xx", "delay", "drop_response", "rate_limit", "drop_ws", "skip_depth", "stale_snapshot",
    "hide_orders",
)  # fmt: skip
_REQUEST_KINDS = ("http_5xx", "delay", "drop_response", "rate_limit", "stale_snapshot")


@dataclass
class Fault:
    """One armed fault; ``count`` < 0 means until cleared."""

    kind: str
    count: int = 1
    seconds: float = 3.0
    path: str = "/api/"
    method: str | None = None
    probability: float = 1.0
    symbol: str | None = None  # skip_depth: only this symbol's stream (default: any)

    def matches(self, method: str, path: str) -> bool:
        """True when this fault applies to a request."""
        return path.startswith(self.path) and (self.method is None or self.method == method)


def parse_fault(spec: str | dict[str, Any]) -> Fault:
    """A fault from ``kind[:count[:seconds]]`` or from the admin endpoint's JSON object."""
    if isinstance(spec, str):
        parts = spec.split(":")
        fields: dict[str, Any] = {"kind": parts[0]}
        try:
            if len(parts) > 1:
                fields["count"] = int(parts[1])
            if len(parts) > 2:
                fields["seconds"] = float(parts[2])
        except ValueError:
            raise InvalidValue(
                f"--fault {spec!r}: write kind[:count[:seconds]], e.g. http_5xx:10"
            ) from None
    else:
        fields = dict(spec)
    unknown = set(fields) - {"kind", "count", "seconds", "path", "method", "probability", "symbol"}
    if unknown:
        raise InvalidValue(f"fault: unknown field(s) {sorted(unknown)}")
    kind = fields.get("kind")
    if kind not in KINDS:
        raise InvalidValue(f"fault: kind must be one of {', '.join(KINDS)}; got {kind!r}")
    try:
        fault = Fault(
            kind=str(kind),
            count=int(fields.get("count", 1)),
            seconds=float(fields.get("seconds", 3.0)),
            path=str(fields.get("path", "/api/")),
            method=str(fields["method"]).upper() if fields.get("method") else None,
            probability=float(fields.get("probability", 1.0)),
            symbol=str(fields["symbol"]).upper() if fields.get("symbol") else None,
        )
    except (TypeError, ValueError):
        raise InvalidValue(f"fault: bad field value in {spec!r}") from None
    if not 0 < fault.probability <= 1 or fault.seconds < 0:
        raise InvalidValue("fault: probability must be in (0, 1] and seconds >= 0")
    return fault


class Faults:
    """The armed faults of one server."""

    def __init__(self, seed: int = 0) -> None:
        self._armed: list[Fault] = []
        self._rng = random.Random(seed)
        self.fired: dict[str, int] = dict.fromkeys(KINDS, 0)

    def arm(self, fault: Fault) -> None:
        """Add a fault."""
        self._armed.append(fault)

    def clear(self) -> None:
        """Remove every fault."""
        self._armed.clear()

    def armed(self) -> list[dict[str, Any]]:
        """The armed faults, as the admin endpoint shows them."""
        return [vars(f).copy() for f in self._armed]

    def take(self, kind: str, method: str = "", path: str = "/api/") -> Fault | None:
        """The first armed fault of ``kind`` that applies now (spending one of its count).

        ``path`` is the request path, or the symbol for stream faults."""
        for fault in self._armed:
            if fault.kind != kind or (kind in _REQUEST_KINDS and not fault.matches(method, path)):
                continue
            if fault.symbol is not None and kind not in _REQUEST_KINDS and fault.symbol != path:
                continue
            if fault.probability < 1 and self._rng.random() >= fault.probability:
                continue
            if fault.count > 0:
                fault.count -= 1
                if fault.count == 0:
                    self._armed.remove(fault)
            self.fired[kind] += 1
            return fault
        return None

    def hides(self, method: str, path: str, created_ms: int, now_ms: int) -> bool:
        """True when a ``hide_orders`` fault keeps an order created at ``created_ms`` out of
        this request's answer (counted in ``fired``; the fault is not spent)."""
        for fault in self._armed:
            if (
                fault.kind == "hide_orders"
                and fault.matches(method, path)
                and now_ms - created_ms < fault.seconds * 1000
            ):
                self.fired["hide_orders"] += 1
                return True
        return False
