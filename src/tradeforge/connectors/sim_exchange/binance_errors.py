"""Errors as the Binance Spot API returns them: an HTTP status, a numeric code and a message.

The codes and texts are Binance's (``errors.md`` of the Spot API docs), so that a client written
for Binance (CCXT's ``binance`` class among them) maps them to the same exceptions it would for
the real venue.
"""

from __future__ import annotations

__all__ = ["BinanceError"]


class BinanceError(Exception):
    """A request the simulated exchange refuses, with Binance's status, code and message."""

    def __init__(self, code: int, msg: str, *, status: int = 400, retry_after: int | None = None):
        super().__init__(f"{code}: {msg}")
        self.code = code
        self.msg = msg
        self.status = status
        self.retry_after = retry_after

    def body(self) -> dict[str, object]:
        """The JSON body Binance sends with the error."""
        return {"code": self.code, "msg": self.msg}

    # ------------------------------------------------------------ factories
    @classmethod
    def unknown(
        cls, msg: str = "An unknown error occurred while processing the request."
    ) -> BinanceError:
        """-1000: the server failed; the request's outcome is unknown."""
        return cls(-1000, msg, status=500)

    @classmethod
    def unavailable(cls) -> BinanceError:
        """-1001: the backend is down (an injected fault); the outcome is unknown."""
        return cls(
            -1001, "Internal error; unable to process your request. Please try again.", status=503
        )

    @classmethod
    def too_many_requests(cls, limit: int, retry_after: int) -> BinanceError:
        """-1003 with HTTP 429: the request weight of this minute is used up."""
        return cls(
            -1003,
            f"Too much request weight used; current limit is {limit} request weight per 1 MINUTE."
            " Please use WebSocket Streams for live updates to avoid polling the API.",
            status=429,
            retry_after=retry_after,
        )

    @classmethod
    def banned(cls, until_ms: int, retry_after: int) -> BinanceError:
        """-1003 with HTTP 418: the IP kept sending after a 429 and is banned for a while."""
        return cls(
            -1003,
            f"Way too much request weight used; IP banned until {until_ms}. Please use WebSocket"
            " Streams for live updates to avoid bans.",
            status=418,
            retry_after=retry_after,
        )

    @classmethod
    def bad_timestamp(cls, msg: str) -> BinanceError:
        """-1021: ``timestamp`` is ahead of the server or older than ``recvWindow``."""
        return cls(-1021, msg)

    @classmethod
    def bad_signature(cls) -> BinanceError:
        """-1022: the HMAC signature does not match."""
        return cls(-1022, "Signature for this request is not valid.")

    @classmethod
    def missing(cls, name: str) -> BinanceError:
        """-1102: a mandatory parameter was not sent, or was empty."""
        return cls(
            -1102,
            f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
        )

    @classmethod
    def bad_param(cls, name: str, value: str) -> BinanceError:
        """-1100: a parameter has characters or a form that is not allowed."""
        return cls(
            -1100, f"Illegal characters found in parameter '{name}'; legal range is '{value}'."
        )

    @classmethod
    def bad_symbol(cls) -> BinanceError:
        """-1121: no such symbol."""
        return cls(-1121, "Invalid symbol.")

    @classmethod
    def filter_failure(cls, name: str) -> BinanceError:
        """-1013: the order breaks one of the symbol's filters (PRICE_FILTER, LOT_SIZE, ...)."""
        return cls(-1013, f"Filter failure: {name}")

    @classmethod
    def rejected(cls, msg: str) -> BinanceError:
        """-2010: the new order was rejected (funds, duplicate id, post-only would take)."""
        return cls(-2010, msg)

    @classmethod
    def cancel_rejected(cls) -> BinanceError:
        """-2011: cancel of an order that is not open."""
        return cls(-2011, "Unknown order sent.")

    @classmethod
    def no_such_order(cls) -> BinanceError:
        """-2013: query of an order that does not exist."""
        return cls(-2013, "Order does not exist.")

    @classmethod
    def bad_api_key(cls) -> BinanceError:
        """-2015 with HTTP 401: the API key is unknown."""
        return cls(-2015, "Invalid API-key, IP, or permissions for action.", status=401)

    @classmethod
    def bad_listen_key(cls) -> BinanceError:
        """-1125: the listen key does not exist."""
        return cls(-1125, "This listenKey does not exist.")
