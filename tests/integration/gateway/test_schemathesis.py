"""SEC-1 and SEC-3's canary against ``tradeforge up`` over real HTTP, on SQLite and PostgreSQL.

**SEC-1.** Schemathesis (its CLI, as a user runs it) reads the live ``/api/v1/openapi.json`` and
runs every phase (examples, coverage, fuzzing, stateful links) with ``--checks all``, once as an
admin and once as a trader; the two operations that end the caller's own session (logout,
revoking a session) run last with a session of their own, so they cannot log the other runs
out. Per change about 1,000 requests in all; with ``TF_SEC1_LONG=1`` (``make chaos``) at least
10,000, at least 100 per operation. Pass: Schemathesis finds nothing, and no answer is 5xx.

One check is given a documented allowance: ``positive_data_acceptance`` expects a schema-valid
request to be accepted, but the API answers 422 for refusals JSON Schema cannot express (a price
off the instrument's tick, a password the policy refuses, a dataset that does not exist, a
cursor it never gave out, a kill-switch ``id`` for the global scope; docs/api.md's 422 row). It
still fails on any other status (400, 405, 5xx...).

**SEC-3 canary.** Before the runs a canary password (a user's), an API key's secret and an
exchange credential's secret (sealed by the auth service's secrets box) are planted; every
response Schemathesis got (its HAR record), the answers of every GET route for every role, and
the platform's log hold 0 occurrences of any of them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.kit.databases import fresh_postgres
from tests.kit.platform import Platform

from tradeforge.auth import AuthConfig, AuthService, RequestContext
from tradeforge.bus import LiveClock
from tradeforge.store import Database

LONG = os.environ.get("TF_SEC1_LONG") == "1"
pytestmark = [pytest.mark.integration, pytest.mark.timeout(3_600 if LONG else 300)]

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
NO_LIMITS = {f"TRADEFORGE__GATEWAY__RATE_LIMIT_PER_{k}": "0" for k in ("IP", "USER", "KEY")}
# Test cases per operation and phase: about 1,000 requests per change, >= 10,000 long.
EXAMPLES = {"admin": 100, "trader": 60, "ending": 100} if LONG else {
    "admin": 6, "trader": 3, "ending": 3}  # fmt: skip
MIN_REQUESTS, MIN_PER_OPERATION = (10_000, 100) if LONG else (1_000, 1)
ENDS_SESSION = ["/api/v1/auth/logout", "/api/v1/sessions/{session_id}"]
CANARY_PASSWORD = "canary-Pw-7f3c91e2-lighthouse"
CANARY_EXCHANGE = "canary-exch-5b0d44aa9e1f"
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]
"""


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def platform(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Platform]:  # fmt: skip
    with fresh_postgres() if request.param == "postgresql" else _no_database() as url:
        env = NO_LIMITS | ({"TRADEFORGE__DB__URL": url} if url else {})
        p = Platform(tmp_path_factory.mktemp(f"sec1-{request.param}"), env=env)
        p.start()
        p.database_url = url  # type: ignore[attr-defined]
        yield p
        p.stop()


class _no_database:  # noqa: N801 - used like fresh_postgres()
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _auth_service(platform: Platform) -> AuthService:
    """The platform's own auth service, opened beside it on its database and key files."""
    keys = platform.data_dir / "platform" / "keys"
    url = getattr(platform, "database_url", None) or (
        f"sqlite:///{platform.data_dir / 'platform' / 'journal.sqlite'}"
    )
    config = AuthConfig(jwt_secret_file=str(keys / "jwt.key"),
                        secret_key_file=str(keys / "secret.key"))  # fmt: skip
    return AuthService(config=config, database=Database(url), clock=LiveClock())


def plant_canaries(platform: Platform, admin: dict[str, str]) -> list[str]:
    """A user with the canary password, an API key and an exchange credential; their secrets."""
    with httpx.Client(base_url=platform.url, headers=admin, timeout=30) as http:
        body = {"username": "sentinel", "role": "trader", "password": CANARY_PASSWORD}
        assert http.post("/api/v1/users", json=body).status_code == 201
        key = http.post("/api/v1/api-keys", json={"name": "canary", "scopes": ["read"]})
        assert key.status_code == 201
    auth = _auth_service(platform)
    principal = auth.authenticate(admin["Authorization"].removeprefix("Bearer "))
    auth.store_credential(principal, venue="binance", label="canary", api_key="canary-exch-key",
                          secret=CANARY_EXCHANGE, ctx=RequestContext())  # fmt: skip
    return [CANARY_PASSWORD, key.json()["secret"], CANARY_EXCHANGE]


def schemathesis(platform: Platform, token: str, name: str, report: Path, *args: str
                 ) -> dict[str, Any]:  # fmt: skip
    config = report / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        str(SCHEMATHESIS), "--config-file", str(config), "--no-color", "run",
        f"{platform.url}/api/v1/openapi.json", "--checks", "all", "--seed", "20261125",
        "-H", f"Authorization: Bearer {token}", "--report", "har,json",
        "--report-har-path", str(report / f"{name}.har"),
        "--report-json-path", str(report / f"{name}.json"), "--request-timeout", "30", *args,
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=3_000, check=False, cwd=report
    )  # its .schemathesis cache stays out of the work tree
    (report / f"{name}.txt").write_text(done.stdout + done.stderr)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    summary: dict[str, Any] = json.loads((report / f"{name}.json").read_text())
    return summary


def _operation(method: str, url: str, templates: list[tuple[re.Pattern[str], str]]) -> str:
    path = httpx.URL(url).path
    for regex, template in templates:
        if regex.fullmatch(path):
            return f"{method} {template}"
    return f"{method} (not in the document) {path}"


def test_schemathesis_finds_nothing_and_nothing_leaks(platform: Platform, tmp_path: Path) -> None:
    admin = platform.login()
    canaries = plant_canaries(platform, admin)
    with httpx.Client(base_url=platform.url, headers=admin, timeout=30) as http:
        body = {"username": "fuzzer", "role": "trader", "password": "fuzzing-trader-Pass-0042"}
        assert http.post("/api/v1/users", json=body).status_code == 201
    trader = platform.login("fuzzer", "fuzzing-trader-Pass-0042")
    spare = platform.login("fuzzer", "fuzzing-trader-Pass-0042")
    session_enders = [a for p in ENDS_SESSION for a in ("--exclude-path", p)]
    runs = {
        "admin": (admin, ["-n", str(EXAMPLES["admin"]), *session_enders]),
        "trader": (trader, ["-n", str(EXAMPLES["trader"]), *session_enders]),
        "ending": (spare, ["-n", str(EXAMPLES["ending"]),
                           *[a for p in ENDS_SESSION for a in ("--include-path", p)]]),
    }  # fmt: skip
    summaries = {}
    for name, (headers, args) in runs.items():
        token = headers["Authorization"].removeprefix("Bearer ")
        summaries[name] = schemathesis(platform, token, name, tmp_path, *args)

    doc = httpx.get(platform.url + "/api/v1/openapi.json").json()
    templates = [(re.compile(re.sub(r"\{[^}]+\}", "[^/]+", p) if "instrument_id" not in p
                             else re.sub(r"\{instrument_id\}", ".+", p)), p)
                 for p in sorted(doc["paths"], key=lambda p: (p.count("{"), -len(p)))]  # fmt: skip
    requests: Counter[str] = Counter()
    server_errors, bodies = [], []
    for name in runs:
        for entry in json.loads((tmp_path / f"{name}.har").read_text())["log"]["entries"]:
            method, url = entry["request"]["method"], entry["request"]["url"]
            requests[_operation(method, url, templates)] += 1
            response = entry["response"]
            if response["status"] >= 500:
                server_errors.append(f"{method} {url}: {response['status']}")
            bodies.append(json.dumps(response))
    total = sum(requests.values())
    operations = {f"{m.upper()} {p}" for p, ops in doc["paths"].items() for m in ops}
    thin = {op: requests[op] for op in operations if requests[op] < MIN_PER_OPERATION}
    print(f"SEC-1: {total} requests over {len(operations)} operations (fewest: "
          f"{min(requests[op] for op in operations)}), {len(server_errors)} 5xx; "
          f"test cases: " + ", ".join(f"{n} {s['test_cases']['generated']}"
                                      for n, s in summaries.items()))  # fmt: skip
    assert server_errors == []
    assert total >= MIN_REQUESTS
    assert thin == {}

    # SEC-3: every GET route, for each role, with real ids where the route takes one.
    ids = {"instrument_id": "BTC/USDT.SIM"}
    with httpx.Client(base_url=platform.url, timeout=30) as http:
        for headers in (admin, trader, platform.login("sentinel", CANARY_PASSWORD)):
            for path, ops in doc["paths"].items():
                if "get" in ops:
                    url = re.sub(r"\{([^}]+)\}", lambda m: ids.get(m.group(1), "x"), path)
                    answer = http.get(url, headers=headers)
                    assert answer.status_code < 500, (url, answer.text)
                    bodies.append(answer.text + json.dumps(dict(answer.headers)))
    log = (platform.data_dir / "up.log").read_text(errors="replace")
    found = {c: sum(b.count(c) for b in bodies) + log.count(c) for c in canaries}
    print(f"SEC-3 canary: {len(bodies)} responses and {len(log):,} bytes of log: {found}")
    assert found == dict.fromkeys(canaries, 0)
