"""SEC-7 brute force: 1,000 guesses at one account in 10 min run <= 10 password verifications,
the back-off grows 1 -> 2 -> 4 -> 8 -> 15 min, the failure count never reaches 100 (the name
locks at ``max_failures``, an admin unlocks it); one password against 1,000 names from one IP
is cut to <= 20 a minute; an unknown user and a wrong password give the same error and
latencies within 10 %; every attempt is audited."""

from __future__ import annotations

import math
import statistics
import threading
import time

import argon2
import pytest
from sqlalchemy import select
from tests.unit.auth.conftest import (
    CTX,
    PASSWORD,
    admin_principal,
    advance,
    fast_hasher,
    make_config,
)

from tradeforge.auth import (
    AccountLocked,
    AuthenticationFailed,
    AuthService,
    LoginThrottled,
    PasswordHasher,
    RequestContext,
    Role,
)
from tradeforge.auth.throttle import backoff_s
from tradeforge.bus import ReplayClock
from tradeforge.store import Database
from tradeforge.store import tables as t

WRONG = "wrong password guess"


def guess(
    service: AuthService, username: str, password: str = WRONG, ip: str = "198.51.100.1"
) -> Exception | None:
    """One login attempt: the error it got, or None when it logged in."""
    try:
        service.login(username, password, RequestContext(ip=ip, request_id="guess"))
    except (AuthenticationFailed, LoginThrottled, AccountLocked) as exc:
        return exc
    return None


@pytest.fixture
def counted(database: Database, clock: ReplayClock) -> tuple[AuthService, PasswordHasher]:
    hasher = fast_hasher()
    service = AuthService(config=make_config(), database=database, clock=clock, hasher=hasher)
    admin = admin_principal(service)
    service.create_user(admin, "alice", PASSWORD, Role.TRADER, CTX)
    return service, hasher


def test_the_back_off_schedule_grows_to_15_minutes() -> None:
    config = make_config()
    waits = [backoff_s(n, config) for n in range(1, 12)]

    assert waits == [0, 0, 0, 0, 60, 120, 240, 480, 900, 900, 900]


def test_1000_guesses_in_10_minutes_run_at_most_10_verifications(
    counted: tuple[AuthService, PasswordHasher], clock: ReplayClock
) -> None:
    service, hasher = counted
    before = hasher.verifications
    waits: list[int] = []  # the wait announced right after each verified failure
    for _ in range(1000):
        verified_before = hasher.verifications
        guess(service, "alice")
        advance(clock, 0.6)  # 1,000 guesses in 600 s
        if hasher.verifications > verified_before:
            following = guess(service, "alice")
            if isinstance(following, LoginThrottled) and following.retry_after:
                waits.append(math.ceil(following.retry_after))
            advance(clock, 0.6)

    verifications = hasher.verifications - before
    print(f"\nSEC-7: 1,000 guesses in 10 min -> {verifications} verifications")
    assert verifications <= 10
    assert waits == [60, 120, 240, 480]


def test_the_count_never_reaches_100_and_an_admin_unlocks(
    counted: tuple[AuthService, PasswordHasher], clock: ReplayClock, database: Database
) -> None:
    service, _ = counted
    outcomes = []
    for _ in range(150):  # a patient attacker who waits out every back-off
        error = guess(service, "alice")
        outcomes.append(type(error).__name__)
        if isinstance(error, LoginThrottled):
            advance(clock, (error.retry_after or 1) + 1)
    with database.engine.connect() as conn:
        failures = conn.execute(select(t.login_throttle.c.failures)).scalars().all()

    assert max(failures) == make_config().max_failures < 100
    assert outcomes[-1] == "AccountLocked"
    with pytest.raises(AccountLocked):
        service.login("alice", PASSWORD, CTX)  # even the right password: locked

    admin = admin_principal(service)
    assert service.locked_usernames(admin, CTX) == ["alice"]
    assert service.unlock(admin, "alice", CTX)
    assert service.login("alice", PASSWORD, CTX).access_token


def test_a_success_resets_the_count(
    counted: tuple[AuthService, PasswordHasher], clock: ReplayClock
) -> None:
    service, _ = counted
    for _ in range(4):
        assert isinstance(guess(service, "alice"), AuthenticationFailed)
    assert service.login("alice", PASSWORD, CTX)

    for _ in range(4):
        assert isinstance(guess(service, "alice"), AuthenticationFailed)


def test_parallel_guesses_do_not_run_more_verifications_than_the_schedule(
    counted: tuple[AuthService, PasswordHasher],
) -> None:
    service, hasher = counted
    before = hasher.verifications
    barrier = threading.Barrier(8)

    def attack() -> None:
        barrier.wait()
        for _ in range(5):
            guess(service, "alice")

    threads = [threading.Thread(target=attack) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert hasher.verifications - before <= make_config().login_free_failures


def test_password_spraying_from_one_ip_is_cut_to_20_a_minute(
    counted: tuple[AuthService, PasswordHasher], clock: ReplayClock
) -> None:
    service, hasher = counted
    before = hasher.verifications
    per_minute: dict[int, int] = {}
    for n in range(1000):  # one password against 1,000 names, over 5 minutes
        start = hasher.verifications
        guess(service, f"user{n:04d}", "Summer2025!", ip="192.0.2.66")
        minute = n * 300 // 1000 // 60
        per_minute[minute] = per_minute.get(minute, 0) + hasher.verifications - start
        advance(clock, 0.3)

    print(f"\nSEC-7: spraying 1,000 names from one IP -> verifications per minute {per_minute}")
    assert max(per_minute.values()) <= 20
    assert hasher.verifications - before <= 20 * 5
    # Another IP is not affected.
    assert isinstance(guess(service, "alice", ip="192.0.2.67"), AuthenticationFailed)


def test_every_attempt_is_audited(
    counted: tuple[AuthService, PasswordHasher], clock: ReplayClock
) -> None:
    service, _ = counted
    admin = admin_principal(service)
    for _ in range(30):
        guess(service, "alice")
        guess(service, "nobody")
        advance(clock, 1)

    entries = service.audit_log(admin, CTX, limit=500)
    attempts = [e for e in entries if e.action.startswith("login.") and e.request_id == "guess"]
    assert len(attempts) == 60
    assert all(e.ip == "198.51.100.1" and e.ts_ns > 0 and e.actor for e in attempts)
    assert {e.action for e in attempts} == {"login.failed", "login.throttled"}


def test_unknown_user_and_wrong_password_look_the_same(
    database: Database, clock: ReplayClock
) -> None:
    # A hasher slow enough (~40 ms) that the verification, not the noise, dominates.
    params = argon2.Parameters(
        type=argon2.Type.ID, version=19, salt_len=16, hash_len=32,
        time_cost=2, memory_cost=16_384, parallelism=1,
    )  # fmt: skip
    hasher = PasswordHasher(params, insecure_for_tests=True)
    service = AuthService(config=make_config(), database=database, clock=clock, hasher=hasher)
    service.ensure_admin("alice", PASSWORD, CTX)

    def attempt(username: str) -> tuple[float, Exception | None]:
        advance(clock, 3600)  # outside any back-off, so both are verified
        start = time.perf_counter()
        error = guess(service, username)
        return time.perf_counter() - start, error

    rounds = []
    for _ in range(3):  # the box is shared: take the quietest of three measurements
        known, unknown = [], []
        for _ in range(15):
            known.append(attempt("alice"))
            unknown.append(attempt("mallory"))
        errors = {(type(e).__name__, str(e), getattr(e, "code", None)) for _, e in known + unknown}
        assert errors == {("AuthenticationFailed", "invalid user name or password",
                           "INVALID_CREDENTIALS")}  # fmt: skip
        mean_known = statistics.mean(sorted(d for d, _ in known)[2:-2])
        mean_unknown = statistics.mean(sorted(d for d, _ in unknown)[2:-2])
        rounds.append(abs(mean_known - mean_unknown) / max(mean_known, mean_unknown))
        print(
            f"\nSEC-7: wrong password {mean_known * 1000:.1f} ms, unknown user "
            f"{mean_unknown * 1000:.1f} ms (trimmed means): {rounds[-1]:.1%} apart"
        )
        if rounds[-1] < 0.10:
            break

    assert min(rounds) < 0.10
