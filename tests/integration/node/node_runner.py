"""Node processes for the crash tests, forked from a server that has imported TradeForge once.

``NodeRunner`` starts a small fork server (a Python process with ``tradeforge``, CCXT and the
test strategies imported). Each ``run(argv, ...)`` forks a child that runs the ``tradeforge``
command line with ``argv`` (``run --config node.toml``, ``exchange add-account``, ...) in its
own environment, its output appended to a log file. A child is a real process: SIGKILL,
SIGTERM and ``os._exit`` end it as they would end ``tradeforge run``; only the interpreter's
start-up (seconds under load) is shared, which lets the crash matrix's 36 cases fit
``make test``. The server reaps its children and reports each exit status.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]

_SERVER = r"""
import faulthandler, json, os, select, sys, traceback
import ccxt.async_support, ccxt.pro  # noqa: F401  (what every node child needs, imported once)
import tradeforge.runtime.node_builder, tests.kit.node_strategies  # noqa: F401
from tradeforge.runtime.cli import cli

def child(req):
    code = 1
    try:
        os.environ.update(req["env"])
        fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        faulthandler.dump_traceback_later(50, file=sys.stderr)  # where a hung child is stuck
        try:
            cli.main(args=req["argv"], prog_name="tradeforge")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

def say(message):
    os.write(1, (json.dumps(message) + "\n").encode())

say({"ready": os.getpid()})
buffer = b""
while True:
    ready, _, _ = select.select([0], [], [], 0.02)
    if ready:
        chunk = os.read(0, 65536)
        if not chunk:
            break
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            req = json.loads(line)
            pid = os.fork()
            if pid == 0:
                child(req)
            say({"started": req["tag"], "pid": pid})
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
        say({"exited": pid, "code": os.waitstatus_to_exitcode(status)})
"""


class NodeRunner:
    """The fork server and the children it started (see the module docstring)."""

    def __init__(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.upper().startswith("TRADEFORGE__")}
        env["PYTHONPATH"] = str(REPO)
        env.pop("TF_CRASH_AT", None)
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=REPO,
        )
        self._cond = threading.Condition()
        self._pids: dict[str, int] = {}
        self._codes: dict[int, int] = {}
        self._children: set[int] = set()
        self._ready = False
        self._tags = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        with self._cond:
            if not self._cond.wait_for(lambda: self._ready, timeout=120):
                raise RuntimeError("the node fork server did not start within 120 s")

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            message: dict[str, Any] = json.loads(line)
            with self._cond:
                if "ready" in message:
                    self._ready = True
                elif "started" in message:
                    self._pids[message["started"]] = message["pid"]
                else:
                    self._codes[message["exited"]] = message["code"]
                self._cond.notify_all()

    def start(self, argv: list[str], *, env: dict[str, str], log: Path) -> int:
        """Fork a ``tradeforge`` command; its pid."""
        assert self._proc.stdin is not None
        with self._cond:
            self._tags += 1
            tag = str(self._tags)
            request = {"tag": tag, "argv": argv, "env": env, "log": str(log)}
            self._proc.stdin.write((json.dumps(request) + "\n").encode())
            self._proc.stdin.flush()
            if not self._cond.wait_for(lambda: tag in self._pids, timeout=30):
                raise RuntimeError("the fork server did not start the command")
            pid = self._pids.pop(tag)
            self._children.add(pid)
            return pid

    def wait(self, pid: int, timeout: float) -> int | None:
        """The child's exit code (negative: the signal that ended it); None if still running."""
        with self._cond:
            self._cond.wait_for(lambda: pid in self._codes, timeout=timeout)
            return self._codes.get(pid)

    def running(self, pid: int) -> bool:
        """True until the child has exited."""
        with self._cond:
            return pid not in self._codes

    def signal(self, pid: int, sig: int) -> None:
        """Send ``sig`` to a child that is still running."""
        if self.running(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def call(self, argv: list[str], *, env: dict[str, str], log: Path, timeout: float) -> int:
        """Run a command to its end; its exit code."""
        pid = self.start(argv, env=env, log=log)
        code = self.wait(pid, timeout)
        if code is None:
            self.signal(pid, signal.SIGKILL)
            raise TimeoutError(f"tradeforge {' '.join(argv)} still running after {timeout} s")
        return code

    def close(self) -> None:
        """Kill every child still running, then stop the server."""
        with self._cond:
            alive = [p for p in self._children if p not in self._codes]
        for pid in alive:
            self.signal(pid, signal.SIGKILL)
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        deadline = time.monotonic() + 10
        while self._proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
