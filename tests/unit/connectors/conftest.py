"""Connector tests run asyncio on virtual time: sleeps take no real time and end in order.

``VirtualTimeLoop`` is an ordinary selector event loop whose ``time()`` is a counter. When the
loop has nothing ready, instead of blocking in ``select`` until the next timer it moves the
counter to that timer. So ``asyncio.sleep`` (and every ``call_later``) behaves exactly as on the
real clock, with any number of tasks, but minutes of simulated time pass in milliseconds.
Components under test get ``monotonic=loop.time`` and ``sleep=asyncio.sleep``, as in production.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

import pytest

T = TypeVar("T")


class _AdvancingSelector(selectors.BaseSelector):
    def __init__(self, advance: Callable[[float], None]) -> None:
        self._inner = selectors.DefaultSelector()
        self._advance = advance

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._inner.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._inner.unregister(fileobj)

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = self._inner.select(0)
        if ready:
            return ready
        if timeout is None:
            raise RuntimeError("virtual-time loop is idle with nothing scheduled: deadlock")
        self._advance(timeout)
        return []

    def close(self) -> None:
        self._inner.close()

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._inner.get_map()


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector loop on a virtual clock that jumps to the next timer when idle."""

    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(_AdvancingSelector(self._advance))

    def time(self) -> float:
        return self._now

    def _advance(self, seconds: float) -> None:
        self._now += max(0.0, seconds)


class VirtualTime:
    """Runs coroutines to completion on a fresh :class:`VirtualTimeLoop` each."""

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        loop = VirtualTimeLoop()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()


@pytest.fixture
def virtual_time() -> VirtualTime:
    return VirtualTime()
