"""Structured logging: one structlog set-up for TradeForge's loggers and the stdlib's alike.

Call :func:`configure_logging` once, at process start (the CLI does). Every record, whether it
comes from ``get_logger(...)`` or a library using stdlib ``logging``, then goes through the same
processors: level, logger name, ISO-8601 UTC timestamp, and the console or JSON renderer.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import Processor

from tradeforge.observability.config import LogConfig

__all__ = ["configure_logging", "get_logger"]


class _StreamHandler(logging.Handler):
    """Writes formatted records to ``stream``, or to whatever ``sys.stderr`` is at the time.

    Looking ``sys.stderr`` up per record (as stdlib's last-resort handler does) keeps working
    when a test runner or CLI runner swaps the stream after configuration. The class also marks
    the handler as ours, so that configuring again replaces it instead of adding a second one.
    """

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self._stream = stream

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = self._stream if self._stream is not None else sys.stderr
            stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)


def configure_logging(config: LogConfig, *, stream: TextIO | None = None) -> None:
    """Route structlog and stdlib logging through one handler on the root logger.

    Records below ``config.level`` are dropped. ``stream`` defaults to standard error. Calling
    this again replaces the previous TradeForge handler, so it is safe in tests.
    """
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.StackInfoRenderer(),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StreamHandler(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *_renderer(config, stream),
            ],
        )
    )
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _StreamHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(config.level.upper())
    # Libraries that narrate their set-up at INFO (a line per plugin or migration).
    for name in ("alembic", "websockets", "httpx"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A structured logger named ``name`` (use the module's ``__name__``)."""
    logger: structlog.stdlib.BoundLogger = structlog.stdlib.get_logger(name)
    return logger


def _renderer(config: LogConfig, stream: TextIO | None) -> list[Processor]:
    if config.format == "json":
        return [structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()]
    target = stream if stream is not None else sys.stderr
    return [structlog.dev.ConsoleRenderer(colors=target.isatty())]
