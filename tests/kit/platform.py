"""``Platform``: a real ``tradeforge up`` process on a free port, for HTTP tests.

It starts the embedded platform with a known admin password, waits for ``/readyz``, logs users
in and stops the process the way an operator would (SIGTERM), checking it stopped cleanly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

__all__ = ["ADMIN_PASSWORD", "TRADEFORGE", "Platform"]

TRADEFORGE = Path(sys.executable).parent / "tradeforge"
ADMIN_PASSWORD = "correct-horse-battery-staple"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Platform:
    """One ``tradeforge up`` process with its data directory."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.extra_env = dict(env or {})  # settings of this platform (TRADEFORGE__...)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEFORGE__")}
        env["TRADEFORGE__AUTH__ADMIN_PASSWORD"] = ADMIN_PASSWORD
        return env | self.extra_env

    def generate(self, instrument: str = "BTC/USDT.SIM", bars: int = 20_000, seed: int = 7) -> None:
        """Write a synthetic 1m dataset into the platform's history catalog."""
        subprocess.run(
            [str(TRADEFORGE), "--data-dir", str(self.data_dir), "data", "generate",
             "--instrument", instrument, "--bars", str(bars), "--seed", str(seed)],
            check=True, capture_output=True, env=self._env(),
        )  # fmt: skip

    def start(self) -> None:
        log = (self.data_dir / "up.log").open("ab")
        self.proc = subprocess.Popen(
            [str(TRADEFORGE), "--data-dir", str(self.data_dir), "up", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env=self._env(),
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.data_dir / "up.log").read_text()[-2000:]
            try:
                if httpx.get(self.url + "/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("tradeforge up did not become ready in 60 s")

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> dict[str, str]:
        """Log in; the headers of an authenticated request."""
        answer = httpx.post(
            self.url + "/api/v1/auth/login", json={"username": username, "password": password}
        )
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    def client(self, headers: dict[str, str] | None = None) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, headers=headers or self.login())

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            # uvicorn shuts down gracefully, then re-raises SIGTERM: exit status -15.
            assert self.proc.wait(timeout=30) in (0, -15)
            assert "platform stopped cleanly" in (self.data_dir / "up.log").read_text()
            self.proc = None
