"""A real ``tradeforge up`` process for the benchmark, on SQLite or on a throwaway PostgreSQL
database, and the users, tokens and API keys the clients use.

``PlatformProcess`` starts the embedded platform on a free loopback port with its own data
directory, the gateway's three rate limits off (``TRADEFORGE__GATEWAY__RATE_LIMIT_PER_*=0``: the
benchmark sends far more than the default 1,200 requests a minute) and a known admin password;
it waits for ``/readyz``, reports the CPU time and resident memory of the process (from
``/proc``) and stops it with SIGTERM, as an operator would. ``throwaway_postgres`` creates an
empty database on the local server and drops it afterwards, as the tests do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.exchange.server import free_port

TRADEFORGE = Path(sys.executable).parent / "tradeforge"
ADMIN_PASSWORD = "gateway-bench-passphrase-7c1e"
TRADER = ("bench-trader", "orders-per-second-passphrase-42b9")
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
# The settings the benchmark changes from the defaults (shown in the report).
NO_RATE_LIMITS = {f"TRADEFORGE__GATEWAY__RATE_LIMIT_PER_{k}": "0" for k in ("IP", "USER", "KEY")}


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A new, empty PostgreSQL database on 127.0.0.1:5432 (dropped afterwards); its URL.

    Raises ``RuntimeError`` when the server is not there."""
    import psycopg  # noqa: PLC0415 (only the PostgreSQL phases need it)

    name = f"tf_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        raise RuntimeError(f"PostgreSQL on 127.0.0.1:5432 is not running: {exc}") from None
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_version() -> str:
    """The local PostgreSQL server's version, or why it is not known."""
    try:
        import psycopg  # noqa: PLC0415

        with psycopg.connect(PG_ADMIN, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except Exception as exc:  # a fact for the report, never fatal
        return f"unknown ({type(exc).__name__})"
    return str(row[0]) if row else "unknown"


@dataclass
class Credentials:
    """What the clients authenticate with: a trader's access token and its ``trade`` key."""

    bearer: str
    api_key: str

    def headers(self, kind: str) -> dict[str, str]:
        """``Authorization`` for ``kind`` (``bearer`` or ``key``)."""
        return {"Authorization": f"Bearer {self.bearer if kind == 'bearer' else self.api_key}"}


@dataclass
class PlatformProcess:
    """One ``tradeforge up`` (see the module docstring)."""

    data_dir: Path
    database_url: str | None = None
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> dict[str, str]:
        """The environment the benchmark sets (the admin password and database URL aside)."""
        return dict(NO_RATE_LIMITS)

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TRADEFORGE__")}
        env |= self.settings | {"TRADEFORGE__AUTH__ADMIN_PASSWORD": ADMIN_PASSWORD,
                                "TRADEFORGE__LOG__LEVEL": "warning"}  # fmt: skip
        if self.database_url:
            env["TRADEFORGE__DB__URL"] = self.database_url
        return env

    def start(self) -> None:
        """Start the process and wait until ``/readyz`` answers 200 (at most 60 s)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "up.log").open("ab")
        self.proc = subprocess.Popen(
            [str(TRADEFORGE), "--data-dir", str(self.data_dir), "up", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env=self._env(),
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"tradeforge up exited at start:\n{self.log_tail()}")
            try:
                if httpx.get(self.base + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("tradeforge up was not ready within 60 s")

    def log_tail(self) -> str:
        """The end of the process's output."""
        path = self.data_dir / "up.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within 30 s."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def _stat(self) -> list[str]:
        if self.proc is None:
            return []
        try:
            with open(f"/proc/{self.proc.pid}/stat", encoding="ascii") as stat:
                return stat.read().rsplit(")", 1)[1].split()
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (its threads included)."""
        fields = self._stat()
        if not fields:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        """Its resident memory now, in MiB."""
        fields = self._stat()
        return int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20 if fields else 0.0

    def credentials(self) -> Credentials:
        """A trader created by the admin, logged in, with an API key of scope ``trade``."""
        with httpx.Client(base_url=self.base, timeout=30) as http:
            admin = _login(http, "admin", ADMIN_PASSWORD)
            body = {"username": TRADER[0], "role": "trader", "password": TRADER[1]}
            made = http.post("/api/v1/users", json=body, headers=admin)
            if made.status_code != 201:
                raise RuntimeError(f"creating the trader: {made.status_code} {made.text}")
            trader = _login(http, *TRADER)
            key = http.post("/api/v1/api-keys", json={"name": "bench", "scopes": ["trade"]},
                            headers=trader)  # fmt: skip
            if key.status_code != 201:
                raise RuntimeError(f"creating the API key: {key.status_code} {key.text}")
        bearer = trader["Authorization"].removeprefix("Bearer ")
        return Credentials(bearer=bearer, api_key=key.json()["secret"])


def _login(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    answer = http.post("/api/v1/auth/login", json={"username": username, "password": password})
    if answer.status_code != 200:
        raise RuntimeError(f"login of {username}: {answer.status_code} {answer.text}")
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}
