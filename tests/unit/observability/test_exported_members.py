from __future__ import annotations

import tradeforge.observability


def test_public_api_is_pinned() -> None:
    assert tradeforge.observability.__all__ == [
        "LogConfig",
        "LogFormat",
        "LogLevel",
        "configure_logging",
        "get_logger",
        "progress_bar",
    ]
    for name in tradeforge.observability.__all__:
        assert hasattr(tradeforge.observability, name)
