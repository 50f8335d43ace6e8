"""Running the ``window-service`` command as a subprocess, and checking a sign-in it set up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.settings import ROOT, make_settings
from window_service.app import create_app


def run_cli(
    db_url: str, var_dir: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WINDOW_SERVICE_DATABASE_URL": db_url,
        "WINDOW_SERVICE_VAR_DIR": str(var_dir),
        "WINDOW_SERVICE_SECRET_KEY": "test-secret-key-not-for-production",
    }
    return subprocess.run(
        [sys.executable, "-m", "window_service", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


async def can_log_in(db_url: str, var_dir: Path, username: str, password: str) -> bool:
    app = create_app(make_settings(db_url, var_dir), run_housekeeping=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            r = await c.post(
                "/api/v1/auth/token", json={"username": username, "password": password}
            )
            return r.status_code == 200
    finally:
        await app.state.core.db.dispose()
