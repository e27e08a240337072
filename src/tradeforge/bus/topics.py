"""Hierarchical topics with NATS subject semantics.

A topic is dot-separated tokens, e.g. ``data.bars.BINANCE.BTC/USDT.1m``. In a subscription
pattern ``*`` matches exactly one token and ``>`` (last token only) matches one or more
trailing tokens, exactly as NATS JetStream subjects do, so topics map 1:1 onto subjects.
A token is non-empty, has no whitespace or control characters and no ``.``; ``*`` and ``>``
may only appear as whole tokens, and only in patterns.
"""

from __future__ import annotations

import string

from tradeforge.bus.errors import InvalidTopic

__all__ = [
    "MATCH_ONE",
    "MATCH_REST",
    "escape_token",
    "join_topic",
    "split_pattern",
    "split_topic",
    "tokens_match",
    "topic_matches",
    "unescape_token",
]

MATCH_ONE = "*"
MATCH_REST = ">"

_SEPARATOR = "."
_WILDCARD_CHARS = frozenset(MATCH_ONE + MATCH_REST)
# Characters escape_token leaves alone: enough for ordinary symbols (BTC/USDT, BTC/USDT:USDT,
# BRK-B, ^GSPC) while staying inside what NATS recommends for subjects.
_SAFE_CHARS = frozenset(string.ascii_letters + string.digits + "-_/:+@^~!,")
_ESCAPE = "="
_HEX_DIGITS = frozenset("0123456789ABCDEF")


def _check_token(text: str, index: int, token: str, *, wildcards: bool) -> None:
    if not token:
        raise InvalidTopic(text, f"empty token at position {index}")
    if token in _WILDCARD_CHARS:
        if not wildcards:
            raise InvalidTopic(text, f"wildcard {token!r} is not allowed in a topic")
        return
    for char in token:
        if char in _WILDCARD_CHARS:
            raise InvalidTopic(
                text, f"wildcard {char!r} inside token {token!r} (only whole tokens)"
            )
        if char.isspace() or not char.isprintable():
            raise InvalidTopic(text, f"whitespace or control character in token {token!r}")


def split_topic(topic: str) -> tuple[str, ...]:
    """Validate a concrete (publishable) topic and return its tokens.

    Raises:
        InvalidTopic: the topic is empty, has an empty or malformed token, or a wildcard.
    """
    tokens = tuple(topic.split(_SEPARATOR))
    for index, token in enumerate(tokens):
        _check_token(topic, index, token, wildcards=False)
    return tokens


def split_pattern(pattern: str) -> tuple[str, ...]:
    """Validate a subscription pattern and return its tokens.

    Raises:
        InvalidTopic: a malformed token, or ``>`` anywhere but the last token.
    """
    tokens = tuple(pattern.split(_SEPARATOR))
    last = len(tokens) - 1
    for index, token in enumerate(tokens):
        _check_token(pattern, index, token, wildcards=True)
        if token == MATCH_REST and index != last:
            raise InvalidTopic(pattern, f"{MATCH_REST!r} may only be the last token")
    return tokens


def tokens_match(pattern: tuple[str, ...], topic: tuple[str, ...]) -> bool:
    """Whether already-split ``topic`` tokens match already-split ``pattern`` tokens."""
    count = len(pattern)
    if pattern[-1] == MATCH_REST:
        count -= 1
        if len(topic) <= count:  # '>' needs at least one token
            return False
    elif len(topic) != count:
        return False
    for index in range(count):
        token = pattern[index]
        if token != MATCH_ONE and token != topic[index]:
            return False
    return True


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether ``topic`` matches subscription ``pattern`` (both validated first)."""
    return tokens_match(split_pattern(pattern), split_topic(topic))


def join_topic(*tokens: str) -> str:
    """Join tokens into a topic, refusing any token that is not a valid single token.

    Pass untrusted parts (symbols with dots or spaces) through :func:`escape_token` first.
    """
    topic = _SEPARATOR.join(tokens)
    for index, token in enumerate(tokens):
        if _SEPARATOR in token:
            raise InvalidTopic(topic, f"token {token!r} contains {_SEPARATOR!r}; escape it")
        _check_token(topic, index, token, wildcards=False)
    return topic


def escape_token(text: str) -> str:
    """Turn any string into one safe topic token, reversibly (see :func:`unescape_token`).

    Letters, digits and ``-_/:+@^~!,`` are kept, so ``BTC/USDT`` stays ``BTC/USDT``; every
    other character becomes ``=XX`` per UTF-8 byte (``BRK.B`` -> ``BRK=2EB``); the empty
    string becomes ``=``.
    """
    if not text:
        return _ESCAPE
    if all(char in _SAFE_CHARS for char in text):
        return text
    parts: list[str] = []
    for char in text:
        if char in _SAFE_CHARS:
            parts.append(char)
        else:
            parts.extend(f"={byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
    return "".join(parts)


def unescape_token(token: str) -> str:
    """Invert :func:`escape_token`.

    Raises:
        InvalidTopic: a ``=`` not followed by two upper-case hex digits, or bad UTF-8.
    """
    if token == _ESCAPE:
        return ""
    if _ESCAPE not in token:
        return token
    out = bytearray()
    index = 0
    while index < len(token):
        char = token[index]
        if char != _ESCAPE:
            out += char.encode("utf-8", "surrogatepass")
            index += 1
            continue
        digits = token[index + 1 : index + 3]
        if len(digits) != 2 or not set(digits) <= _HEX_DIGITS:
            raise InvalidTopic(token, f"bad escape at position {index}")
        out.append(int(digits, 16))
        index += 3
    try:
        return out.decode("utf-8", "surrogatepass")
    except UnicodeDecodeError as exc:
        raise InvalidTopic(token, f"escapes are not valid UTF-8 ({exc.reason})") from exc
