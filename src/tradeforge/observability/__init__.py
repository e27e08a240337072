"""Observability: structured logging now; progress bars; metrics and tracing later."""

from tradeforge.observability.config import LogConfig, LogFormat, LogLevel
from tradeforge.observability.logging import configure_logging, get_logger
from tradeforge.observability.progress import progress_bar

__all__ = [
    "LogConfig",
    "LogFormat",
    "LogLevel",
    "configure_logging",
    "get_logger",
    "progress_bar",
]
