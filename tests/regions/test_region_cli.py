"""The region commands as an operator uses them: region add|assign|list, and the region office's
account (``user add NAME --role region_inspector --region CODE``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.dbs import AUDIT_KEY
from tests.support.regions import REGION_PASSWORD
from tests.support.settings import ROOT, make_settings
from window_service.app import create_app


def cli(
    db_url: str, var_dir: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WINDOW_SERVICE_DATABASE_URL": db_url,
        "WINDOW_SERVICE_VAR_DIR": str(var_dir),
        "WINDOW_SERVICE_SECRET_KEY": "test-secret-key-not-for-production",
        "WINDOW_SERVICE_AUDIT_KEY": AUDIT_KEY,
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


async def test_regions_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    def ok(*args: str, stdin: str = "") -> str:
        done = cli(db_url, tmp_path, *args, stdin=stdin)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    assert "province" in ok("region", "add", "610000", "--name", "陕西省")
    assert "city" in ok("region", "add", "610100", "--name", "西安市", "--parent", "610000")
    assert "county" in ok("region", "add", "610102", "--name", "新城区", "--parent", "610100")
    ok("hall", "add", "beilin", "--name", "碑林区政务服务中心", "--region", "610100")
    assert "demo → 610102" in ok("region", "assign", "610102", "demo")
    listing = ok("region", "list")
    assert "  610100 西安市 (city): beilin" in listing
    assert "    610102 新城区 (county): demo" in listing

    taken = cli(db_url, tmp_path, "region", "add", "610100", "--name", "又一个")
    assert taken.returncode == 2 and "已存在" in taken.stderr
    orphan = cli(db_url, tmp_path, "region", "add", "620100", "--name", "兰州市", "--parent", "6")
    assert orphan.returncode == 2 and "上级区划" in orphan.stderr
    unknown = cli(db_url, tmp_path, "region", "assign", "610102", "nowhere")
    assert unknown.returncode == 2 and "nowhere" in unknown.stderr

    ok(
        "user",
        "add",
        "xian-office",
        "--role",
        "region_inspector",
        "--region",
        "610100",
        stdin=REGION_PASSWORD + "\n",
    )
    ok("region", "add", "620000", "--name", "甘肃省")
    empty = cli(
        db_url,
        tmp_path,
        *("user", "add", "gansu-office", "--role", "region_inspector", "--region", "620000"),
        stdin=REGION_PASSWORD + "\n",
    )
    assert empty.returncode == 2 and "还没有服务大厅" in empty.stderr
    no_region = cli(
        db_url,
        tmp_path,
        "user",
        "add",
        "x",
        "--role",
        "region_inspector",
        stdin=REGION_PASSWORD + "\n",
    )
    assert no_region.returncode == 2 and "--region" in no_region.stderr

    # The account signs in and sees both halls of the city; the hall moved is in its chain.
    app = create_app(make_settings(db_url, tmp_path), run_housekeeping=False)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hall.test") as client:
            token = await client.post(
                "/api/v1/auth/token", json={"username": "xian-office", "password": REGION_PASSWORD}
            )
            assert token.status_code == 200, token.text
            assert token.json()["user"]["role"] == "region_inspector"
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            data = (await client.get("/api/v1/regions/610100/comparison", headers=headers)).json()
            assert [h["hall"] for h in data["halls"]] == ["beilin", "demo"]
    finally:
        await app.state.core.db.dispose()
    assert cli(db_url, tmp_path, "audit", "verify").returncode == 0
