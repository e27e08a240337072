"""``PasswordHasher``: argon2id hashes, verification, rehash on login, and a cap on concurrency.

The default profile is argon2-cffi's (RFC 9106 low-memory: t=3, m=64 MiB, p=4), above the OWASP
minimum (argon2id, m >= 19 MiB, t >= 2); a weaker profile is refused unless built with
``insecure_for_tests=True``. Hashing is CPU- and memory-bound and a login flood is a memory
DoS (64 MiB each): at most ``max_concurrency`` hashes run at once (default: the usable cores),
the others wait their turn.

``verify_dummy`` runs one verification against a hash of the same profile, so an unknown user
costs the same time as a wrong password.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tradeforge.domain.errors import ConfigurationError

__all__ = ["OWASP_MIN_MEMORY_KIB", "OWASP_MIN_TIME_COST", "PasswordHasher", "usable_cores"]

OWASP_MIN_MEMORY_KIB = 19_456
OWASP_MIN_TIME_COST = 2


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, not the host's count)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


class PasswordHasher:
    """Hash and verify passwords with argon2id; counts what it did (for tests and metrics)."""

    def __init__(
        self,
        parameters: argon2.Parameters | None = None,
        *,
        max_concurrency: int | None = None,
        insecure_for_tests: bool = False,
    ) -> None:
        params = parameters or argon2.profiles.RFC_9106_LOW_MEMORY
        weak = (
            params.type is not argon2.Type.ID
            or params.memory_cost < OWASP_MIN_MEMORY_KIB
            or params.time_cost < OWASP_MIN_TIME_COST
        )
        if weak and not insecure_for_tests:
            raise ConfigurationError(
                f"argon2 parameters {params} are below the OWASP minimum (argon2id, "
                f"m >= {OWASP_MIN_MEMORY_KIB} KiB, t >= {OWASP_MIN_TIME_COST})"
            )
        self.parameters = params
        self._hasher = argon2.PasswordHasher.from_parameters(params)
        self._gate = threading.BoundedSemaphore(max_concurrency or usable_cores())
        self._lock = threading.Lock()
        self._in_flight = 0
        self.peak_in_flight = 0
        """The most hashes that ever ran at once."""
        self.verifications = 0
        """Verifications run (real and dummy): a throttled login runs none."""
        self._dummy: str | None = None

    def hash(self, password: str) -> str:
        """A new argon2id hash of ``password`` with a random salt."""
        with self._running():
            return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``stored_hash`` (constant time within argon2)."""
        with self._running():
            with self._lock:
                self.verifications += 1
            try:
                return self._hasher.verify(stored_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

    def prepare(self) -> None:
        """Make the dummy hash now rather than on the first unknown user."""
        if self._dummy is None:
            self._dummy = self.hash(secrets.token_urlsafe(16))

    def verify_dummy(self, password: str) -> None:
        """Spend the time of one verification, for a user that does not exist."""
        self.prepare()
        assert self._dummy is not None
        self.verify(self._dummy, password)

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether ``stored_hash`` was made with other parameters than this hasher's."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    @contextmanager
    def _running(self) -> Iterator[None]:
        with self._gate:
            with self._lock:
                self._in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self._in_flight)
            try:
                yield
            finally:
                with self._lock:
                    self._in_flight -= 1
