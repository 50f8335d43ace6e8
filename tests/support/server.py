"""``window-service serve`` in a subprocess, for the tests that need a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.dbs import AUDIT_KEY
from tests.support.settings import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    env: dict[str, str]
    port: int

    def stop(self, *, kill: bool = False) -> None:
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(
    db_url: str,
    var_dir: Path,
    *,
    workers: int = 1,
    port: int | None = None,
    extra_env: dict[str, str] | None = None,
) -> LiveServer:
    """``window-service serve`` in a subprocess, waited for until /healthz answers."""
    port = port or free_port()
    env = {
        **os.environ,
        "WINDOW_SERVICE_DATABASE_URL": db_url,
        "WINDOW_SERVICE_SECRET_KEY": "test-secret-key-not-for-production",
        "WINDOW_SERVICE_AUDIT_KEY": AUDIT_KEY,
        "WINDOW_SERVICE_VAR_DIR": str(var_dir),
        **(extra_env or {}),
    }
    log = open(var_dir / f"server-{port}.log", "ab")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "window_service",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    server = LiveServer(f"http://127.0.0.1:{port}", process, env, port)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited: {(var_dir / f'server-{port}.log').read_text()[-2000:]}"
            )
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop(kill=True)
    raise RuntimeError("server did not start in time")
