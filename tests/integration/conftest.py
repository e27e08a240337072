"""Fixtures: ``exchange_factory(*flags)`` starts a real simulated exchange server per call (its own
data directory, a free port); every server is stopped at the end of the module."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from tests.kit.sim_exchange import RunningExchange


@pytest.fixture(scope="module")
def exchange_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., RunningExchange]]:
    started: list[RunningExchange] = []

    def start(*flags: str) -> RunningExchange:
        server = RunningExchange(tmp_path_factory.mktemp("simx"), flags)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
