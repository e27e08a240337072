"""``LoginThrottle``: brute-force and password-spraying protection (NIST SP 800-63B §5.2.2).

Per account (keyed by the normalised user name typed, whether or not such a user exists, so
an unknown name behaves exactly like a known one):

- the first ``login_free_failures`` failures in a row cost nothing;
- then each failure sets a growing wait before the next attempt is even verified:
  1, 2, 4, 8, then 15 min (``backoff_first_s`` doubling up to ``backoff_max_s``);
- the failure that reaches ``max_failures`` (< 100, NIST's ceiling) locks the name until an
  admin unlocks it; a success resets the count; a streak older than ``failure_memory_s`` is
  forgotten.

Per IP: at most ``ip_failures_per_minute`` failed attempts in any 60 s, across all names
(one password tried against many users).

An attempt is *charged before* its password is verified (the failure is counted, then refunded
on success), inside a transaction that serialises the attempts on the same name and IP, so
parallel guesses cannot run more verifications than the schedule allows. A refused attempt
runs no verification at all and is not counted.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from tradeforge.auth.config import AuthConfig
from tradeforge.auth.records import ThrottleRecord
from tradeforge.auth.repository import Tx

__all__ = ["Admission", "LoginThrottle", "Verdict", "backoff_s"]

_NS = 1_000_000_000
_IP_WINDOW_NS = 60 * _NS


class Verdict(StrEnum):
    """What happens to one login attempt."""

    ADMITTED = "admitted"  # verify the password
    THROTTLED = "throttled"  # back-off running: 429, no verification
    IP_CAPPED = "ip_capped"  # too many failures from the IP: 429, no verification
    LOCKED = "locked"  # admin must unlock: 423, no verification


class Admission(msgspec.Struct, frozen=True, kw_only=True):
    """The throttle's answer to one attempt."""

    verdict: Verdict
    attempt_id: int | None = None
    failures: int = 0
    """Failures counted for the name, this attempt included if it was admitted."""
    retry_after_s: float | None = None
    locks: bool = False
    """This admitted attempt locks the name if its password is wrong."""


def backoff_s(failures: int, config: AuthConfig) -> int:
    """The wait after ``failures`` failures in a row (0 while still free)."""
    over = failures - config.login_free_failures
    if over < 0:
        return 0
    return min(config.backoff_first_s * (1 << min(over, 30)), config.backoff_max_s)


class LoginThrottle:
    """Decides, inside the caller's write transaction, whether an attempt is verified."""

    def __init__(self, config: AuthConfig) -> None:
        self._config = config

    def admit(self, tx: Tx, username: str, ip: str | None, now: int) -> Admission:
        """Charge an attempt on ``username`` from ``ip`` at ``now``, or refuse it."""
        config = self._config
        tx.lock_login(username, ip)
        if ip is not None:
            failures, oldest = tx.ip_failures(ip, now - _IP_WINDOW_NS)
            if failures >= config.ip_failures_per_minute:
                tx.record_attempt(username, ip, now, "refused")
                wait = (oldest or now) + _IP_WINDOW_NS - now
                return Admission(verdict=Verdict.IP_CAPPED, retry_after_s=max(wait, 1) / _NS)
        state = tx.throttle(username)
        if state.locked:
            tx.record_attempt(username, ip, now, "refused")
            return Admission(verdict=Verdict.LOCKED, failures=state.failures)
        if now < state.next_allowed_ns:
            tx.record_attempt(username, ip, now, "refused")
            return Admission(
                verdict=Verdict.THROTTLED,
                failures=state.failures,
                retry_after_s=(state.next_allowed_ns - now) / _NS,
            )
        stale = now - state.last_failure_ns > config.failure_memory_s * _NS
        failures = (0 if stale else state.failures) + 1
        locks = failures >= config.max_failures
        tx.set_throttle(
            ThrottleRecord(
                username=username,
                failures=failures,
                next_allowed_ns=now + backoff_s(failures, config) * _NS,
                locked=locks,
                last_failure_ns=now,
            )
        )
        attempt_id = tx.record_attempt(username, ip, now, "failure")
        return Admission(
            verdict=Verdict.ADMITTED, attempt_id=attempt_id, failures=failures, locks=locks
        )

    def succeeded(self, tx: Tx, username: str, attempt_id: int) -> None:
        """Refund the charge: the password was right."""
        tx.reset_throttle(username)
        tx.set_attempt_outcome(attempt_id, "success")

    def unlock(self, tx: Tx, username: str) -> bool:
        """Clear the name's failures and lock; whether there was anything to clear."""
        return tx.reset_throttle(username)
