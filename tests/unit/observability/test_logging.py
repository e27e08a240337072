from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

from tradeforge.observability import LogConfig, configure_logging, get_logger


def _json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_format_emits_one_parseable_object_per_line() -> None:
    stream = io.StringIO()
    configure_logging(LogConfig(format="json"), stream=stream)

    get_logger("tradeforge.test").info("order sent", client_order_id="O-1")
    get_logger("tradeforge.test").warning("venue slow")

    first, second = _json_lines(stream)
    assert first["event"] == "order sent"
    assert first["level"] == "info"
    assert first["logger"] == "tradeforge.test"
    assert first["client_order_id"] == "O-1"
    assert second["level"] == "warning"
    timestamp = datetime.fromisoformat(str(first["timestamp"]))
    assert timestamp.utcoffset() == UTC.utcoffset(None)


def test_stdlib_logging_goes_through_the_same_renderer() -> None:
    stream = io.StringIO()
    configure_logging(LogConfig(format="json"), stream=stream)

    logging.getLogger("some.library").warning("disk %s%% full", 91)

    (record,) = _json_lines(stream)
    assert record["event"] == "disk 91% full"
    assert record["level"] == "warning"
    assert record["logger"] == "some.library"
    assert "timestamp" in record


def test_records_below_the_level_are_dropped() -> None:
    stream = io.StringIO()
    configure_logging(LogConfig(level="warning", format="json"), stream=stream)

    get_logger("tradeforge.test").info("quiet")
    logging.getLogger("some.library").info("quiet too")
    get_logger("tradeforge.test").error("loud")

    assert [r["event"] for r in _json_lines(stream)] == ["loud"]


def test_console_format_is_plain_text_for_a_non_terminal_stream() -> None:
    stream = io.StringIO()
    configure_logging(LogConfig(level="debug", format="console"), stream=stream)

    get_logger("tradeforge.test").debug("settings loaded", sources=3)

    line = stream.getvalue()
    assert "settings loaded" in line
    assert "debug" in line
    assert "sources=3" in line
    assert "\x1b[" not in line


def test_configuring_again_replaces_the_handler_instead_of_adding_one() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(LogConfig(format="json"), stream=first)

    configure_logging(LogConfig(format="json"), stream=second)
    get_logger("tradeforge.test").info("once")

    assert first.getvalue() == ""
    assert [r["event"] for r in _json_lines(second)] == ["once"]
