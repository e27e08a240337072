import pytest
from hypothesis import given
from hypothesis import strategies as st

from tradeforge.bus import (
    InvalidTopic,
    escape_token,
    join_topic,
    split_pattern,
    split_topic,
    topic_matches,
    unescape_token,
)
from tradeforge.domain.errors import InvalidValue


@pytest.mark.parametrize(
    ("pattern", "topic", "expected"),
    [
        # exact
        ("data.bars.BINANCE.BTC/USDT.1m", "data.bars.BINANCE.BTC/USDT.1m", True),
        ("data.bars", "data.bars", True),
        ("data.bars", "data.bar", False),
        ("data.bars", "data.bars.x", False),
        ("data.bars.x", "data.bars", False),
        # '*' is exactly one token
        ("data.*.BINANCE", "data.bars.BINANCE", True),
        ("data.*", "data.bars", True),
        ("data.*", "data", False),
        ("data.*", "data.bars.x", False),
        ("*.*", "a.b", True),
        ("*", "a", True),
        ("*", "a.b", False),
        ("data.bars.*.BTC/USDT.*", "data.bars.BINANCE.BTC/USDT.1m", True),
        ("data.bars.*.BTC/USDT.*", "data.bars.BINANCE.ETH/USDT.1m", False),
        # '>' is one or more trailing tokens
        ("data.>", "data.bars", True),
        ("data.>", "data.bars.BINANCE.BTC/USDT.1m", True),
        ("data.>", "data", False),
        (">", "a", True),
        (">", "a.b.c", True),
        ("data.*.>", "data.bars", False),
        ("data.*.>", "data.bars.x", True),
        ("data.bars.>", "data.quotes.x", False),
        # a wildcard token does not match as a literal prefix
        ("data.b*", "data.bars", None),
    ],
)
def test_topic_matching_table(pattern: str, topic: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(InvalidTopic):
            topic_matches(pattern, topic)
        return

    assert topic_matches(pattern, topic) is expected


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("", "empty token"),
        ("data..bars", "empty token at position 1"),
        (".data", "empty token at position 0"),
        ("data.", "empty token"),
        ("data.bars.*", "wildcard '*' is not allowed"),
        ("data.>", "wildcard '>' is not allowed"),
        ("data.ba*rs", "inside token"),
        ("data.bars>", "inside token"),
        ("data.BTC USDT", "whitespace"),
        ("data.bars\t", "whitespace"),
        ("data.bars\x00", "control character"),
    ],
)
def test_invalid_topics_are_refused_with_the_topic_named(topic: str, reason: str) -> None:
    with pytest.raises(InvalidTopic) as info:
        split_topic(topic)

    assert reason in str(info.value)
    assert info.value.topic == topic
    assert repr(topic) in str(info.value)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, InvalidValue)


@pytest.mark.parametrize(
    "pattern", ["data.>.bars", ">.x", "data.**", "data.>>", "data.*x", "a..b", "a b"]
)
def test_invalid_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidTopic) as info:
        split_pattern(pattern)

    assert info.value.topic == pattern


def test_tokens_may_contain_slashes_colons_and_unicode() -> None:
    tokens = split_topic("data.bars.BINANCE.BTC/USDT:USDT.1m")

    assert tokens == ("data", "bars", "BINANCE", "BTC/USDT:USDT", "1m")
    assert split_topic("news.Zürich") == ("news", "Zürich")


def test_join_topic_refuses_tokens_with_dots_and_names_them() -> None:
    assert join_topic("data", "bars", "BTC/USDT") == "data.bars.BTC/USDT"

    with pytest.raises(InvalidTopic, match=r"'BRK\.B' contains '\.'; escape it"):
        join_topic("data", "bars", "BRK.B")
    with pytest.raises(InvalidTopic, match="not allowed"):
        join_topic("data", "*")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("BTC/USDT", "BTC/USDT"),
        ("BTC/USDT:USDT", "BTC/USDT:USDT"),
        ("BTC-PERP", "BTC-PERP"),
        ("^GSPC", "^GSPC"),
        ("BRK.B", "BRK=2EB"),
        ("ES=F", "ES=3DF"),
        ("a b", "a=20b"),
        ("*", "=2A"),
        (">", "=3E"),
        ("€", "=E2=82=AC"),
        ("", "="),
    ],
)
def test_escape_token_examples(raw: str, escaped: str) -> None:
    assert escape_token(raw) == escaped
    assert unescape_token(escaped) == raw


@given(st.text())
def test_escape_round_trips_any_text_into_one_valid_token(text: str) -> None:
    token = escape_token(text)

    assert split_topic(token) == (token,)
    assert unescape_token(token) == text


@given(st.text(alphabet="ABCXYZabcxyz0123456789-_/:+@^~!,", min_size=1))
def test_escape_keeps_ordinary_symbols_unchanged(symbol: str) -> None:
    assert escape_token(symbol) == symbol


@pytest.mark.parametrize("token", ["BRK=2", "BRK=2e", "BRK=ZZB", "=C3", "=FF"])
def test_unescape_refuses_malformed_escapes(token: str) -> None:
    with pytest.raises(InvalidTopic) as info:
        unescape_token(token)

    assert info.value.topic == token
