"""Binance request signing: HMAC-SHA256 over the query string and body, and the time window.

The same function signs (clients, tests) and verifies (the server), so both sides agree on the
bytes: the raw query string followed directly by the raw body, without the ``signature``
parameter (Binance's "totalParams").
"""

from __future__ import annotations

import hashlib
import hmac

from tradeforge.connectors.sim_exchange.binance_errors import BinanceError

__all__ = ["check_timestamp", "sign", "split_signature", "verify"]

MAX_RECV_WINDOW_MS = 60_000
DEFAULT_RECV_WINDOW_MS = 5_000
FUTURE_TOLERANCE_MS = 1_000


def sign(secret: str, payload: str) -> str:
    """The hex HMAC-SHA256 of ``payload`` under ``secret``."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def split_signature(raw: str) -> tuple[str, str | None]:
    """``raw`` (a query string or form body) without its ``signature=`` part, and that part."""
    if not raw:
        return "", None
    kept, signature = [], None
    for part in raw.split("&"):
        if part.startswith("signature="):
            signature = part[len("signature=") :]
        else:
            kept.append(part)
    return "&".join(kept), signature


def verify(secret: str, query: str, body: str) -> None:
    """Check the signature of a request (else -1022 / -1102)."""
    q, sig_q = split_signature(query)
    b, sig_b = split_signature(body)
    signature = sig_q or sig_b
    if not signature:
        raise BinanceError.missing("signature")
    expected = sign(secret, q + b)
    if not hmac.compare_digest(expected, signature.lower()):
        raise BinanceError.bad_signature()


def check_timestamp(params: dict[str, str], server_ms: int) -> None:
    """Binance's timing security: ``timestamp`` within ``recvWindow`` of the server (-1021)."""
    raw = params.get("timestamp")
    if not raw:
        raise BinanceError.missing("timestamp")
    if not raw.isdigit():
        raise BinanceError.bad_param("timestamp", "^[0-9]{1,20}$")
    window_raw = params.get("recvWindow") or str(DEFAULT_RECV_WINDOW_MS)
    if not window_raw.isdigit():
        raise BinanceError.bad_param("recvWindow", "^[0-9]{1,20}$")
    window = int(window_raw)
    if window > MAX_RECV_WINDOW_MS:
        raise BinanceError(-1131, "recvWindow must be less than 60000")
    ts = int(raw)
    if ts >= server_ms + FUTURE_TOLERANCE_MS:
        raise BinanceError.bad_timestamp(
            "Timestamp for this request was 1000ms ahead of the server's time."
        )
    if server_ms - ts > window:
        raise BinanceError.bad_timestamp("Timestamp for this request is outside of the recvWindow.")
