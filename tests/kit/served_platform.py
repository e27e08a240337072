"""``ServedPlatform``: the embedded platform (``tradeforge up``'s app) served by uvicorn on a free
port in a thread of the test process, for tests that talk real HTTP and WebSocket to it but
also need its node's settings (a shorter valuation interval) or a quicker start than a process.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from tradeforge.auth.config import AuthConfig
from tradeforge.runtime.platform import embedded_app

__all__ = ["ADMIN_PASSWORD", "ServedPlatform"]

ADMIN_PASSWORD = "correct-horse-battery-staple"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServedPlatform:
    """One embedded platform over ``data_dir``; ``value_every_s`` sets the node's valuation
    interval (its ``portfolio`` points)."""

    def __init__(self, data_dir: Path, *, value_every_s: float | None = None) -> None:
        self.port = _free_port()
        app, self.node, _auth = embedded_app(
            data_dir, auth_config=AuthConfig(admin_password=ADMIN_PASSWORD)
        )
        if value_every_s is not None:
            self.node.portfolio.every_s = value_every_s
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning",
                                lifespan="on", ws_ping_interval=None)  # fmt: skip
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="served-platform")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if not self._thread.is_alive():
                raise RuntimeError("the platform stopped while starting")
            if self._server.started:
                return
            time.sleep(0.05)
        raise RuntimeError("the platform did not start in 60 s")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> str:
        """Log in; the access token."""
        answer = httpx.post(self.url + "/api/v1/auth/login",
                            json={"username": username, "password": password})  # fmt: skip
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10,
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
