"""What one ``python -m bench.gateway`` run measured (filled by the CLI, read by the report)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bench.gateway.fanout_case import FanoutOutcome
from bench.gateway.rest_case import RestOutcome


@dataclass
class GatewayBenchResult:
    """The whole run."""

    started: datetime
    command: str
    settings: dict[str, str]  # the environment the benchmark set on the platform
    finished: datetime | None = None
    load_start: tuple[float, float, float] | None = None
    load_end: tuple[float, float, float] | None = None
    backends: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # backend -> why it did not run
    durability: dict[str, str] = field(default_factory=dict)  # backend -> commit settings
    idle_cpu: dict[str, float] = field(default_factory=dict)  # backend -> cores, no requests
    rest: list[RestOutcome] = field(default_factory=list)
    fanout: list[FanoutOutcome] = field(default_factory=list)
    cutoff: list[FanoutOutcome] = field(default_factory=list)

    def rest_of(self, backend: str, auth: str, clients: int) -> RestOutcome | None:
        """The REST phase with these parameters, if it ran."""
        for out in self.rest:
            if (out.backend, out.auth, out.clients) == (backend, auth, clients):
                return out
        return None
