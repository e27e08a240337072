"""Observability: structured logging now; metrics, tracing and progress later."""

from tradeforge.observability.config import LogConfig, LogFormat, LogLevel
from tradeforge.observability.logging import configure_logging, get_logger

__all__ = ["LogConfig", "LogFormat", "LogLevel", "configure_logging", "get_logger"]
