"""What one ``python -m bench.exchange`` run measured (filled by the CLI, read by the report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bench.exchange.rest_case import RestOutcome
from bench.exchange.stream_case import StreamOutcome
from bench.exchange.venue_case import VenueOutcome


@dataclass
class ExchangeBenchResult:
    """The whole run."""

    started: datetime
    command: str
    finished: datetime | None = None
    load_start: tuple[float, float, float] | None = None
    load_end: tuple[float, float, float] | None = None
    venue: VenueOutcome | None = None
    rest_server: str = ""  # the command line of the REST phases' server
    rest: list[RestOutcome] = field(default_factory=list)
    stream_servers: list[str] = field(default_factory=list)  # one command line per rate
    streams: list[StreamOutcome] = field(default_factory=list)
