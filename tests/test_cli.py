"""The ``window-service`` command as an operator uses it: migrate, demo, user add, audit verify."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from tests.support.cli import can_log_in, run_cli
from tests.support.client import issue
from tests.support.dbs import _dsn, postgres_admin_url
from tests.support.settings import make_settings
from window_service.app import create_app
from window_service.db import create_database


@pytest.fixture
async def empty_db_url(backend: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database with nothing in it, not even the schema."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
        return
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("postgresql is not available")
    name = f"wst_cli_{os.getpid()}_{tmp_path.name[-12:].lower().replace('-', '_')}"
    conn = await asyncpg.connect(_dsn(admin))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    from sqlalchemy.engine import make_url

    yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    conn = await asyncpg.connect(_dsn(admin))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def credentials(output: str) -> dict[str, str]:
    """The ``username password`` lines and the kiosk key printed by ``demo``."""
    found: dict[str, str] = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in {
            "admin",
            "office",
            "head",
            *(f"w{n}" for n in range(1, 9)),
        }:
            found[parts[0]] = parts[1]
        if "kiosk device key" in line:
            found["kiosk"] = line.rsplit(" ", 1)[-1]
    return found


async def test_migrate_then_demo_twice_is_idempotent(empty_db_url: str, tmp_path: Path) -> None:
    r = await asyncio.to_thread(run_cli, empty_db_url, tmp_path, "migrate")
    assert r.returncode == 0, r.stderr
    first = await asyncio.to_thread(run_cli, empty_db_url, tmp_path, "demo")
    assert first.returncode == 0, first.stderr
    assert "已创建 (created)" in first.stdout
    creds = credentials(first.stdout)
    assert set(creds) == {"admin", "office", "head", "kiosk", *(f"w{n}" for n in range(1, 9))}
    second = await asyncio.to_thread(run_cli, empty_db_url, tmp_path, "demo")
    assert second.returncode == 0, second.stderr
    assert "已存在 (exists)" in second.stdout
    assert credentials(second.stdout) == creds, "running demo again changes nothing"
    assert await can_log_in(empty_db_url, tmp_path, "w3", creds["w3"])
    # The printed kiosk key works, and only one demo hall exists.
    app = create_app(make_settings(empty_db_url, tmp_path), run_housekeeping=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            r = await c.post(
                "/api/v1/halls/demo/tickets",
                json={"service": "hukou"},
                headers={"X-Device-Key": creds["kiosk"]},
            )
            assert r.status_code == 201 and r.json()["number"] == "A001"
            windows = (await c.get("/api/v1/halls/demo/windows")).json()
            assert len(windows) == 8
        async with app.state.core.db.read() as session:
            assert (await session.execute(text("SELECT count(*) FROM hall"))).scalar_one() == 1
    finally:
        await app.state.core.db.dispose()


async def test_demo_honours_password_and_device_key(db_url: str, tmp_path: Path) -> None:
    args = ("demo", "--password", "Copper-Fjord-774", "--device-key", "new-kiosk-key-0123456789")
    r = await asyncio.to_thread(run_cli, db_url, tmp_path, *args)
    assert r.returncode == 0, r.stderr
    creds = credentials(r.stdout)
    assert creds["kiosk"] == "new-kiosk-key-0123456789"
    assert {pw for name, pw in creds.items() if name != "kiosk"} == {"Copper-Fjord-774"}
    assert await can_log_in(db_url, tmp_path, "admin", "Copper-Fjord-774")
    app = create_app(make_settings(db_url, tmp_path), run_housekeeping=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            new_key = {"X-Device-Key": "new-kiosk-key-0123456789"}
            r = await c.post(
                "/api/v1/halls/demo/tickets", json={"service": "qiye"}, headers=new_key
            )
            assert r.status_code == 201
            old_key = {"X-Device-Key": "kiosk-test-key-0123456789"}
            r = await c.post(
                "/api/v1/halls/demo/tickets", json={"service": "qiye"}, headers=old_key
            )
            assert r.status_code == 401, "the old kiosk key no longer works"
    finally:
        await app.state.core.db.dispose()


async def test_user_add_then_log_in(db_url: str, tmp_path: Path) -> None:
    r = await asyncio.to_thread(
        run_cli,
        db_url,
        tmp_path,
        "user",
        "add",
        "zhaoliu",
        "--role",
        "staff",
        "--window",
        "3",
        stdin="Harbor-Quill-312\n",
    )
    assert r.returncode == 0, r.stderr
    assert "zhaoliu" in r.stdout
    app = create_app(make_settings(db_url, tmp_path), run_housekeeping=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            r = await c.post(
                "/api/v1/auth/token", json={"username": "zhaoliu", "password": "Harbor-Quill-312"}
            )
            assert r.status_code == 200, r.text
            assert r.json()["user"] == {**r.json()["user"], "username": "zhaoliu", "role": "staff"}
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            kiosk_ticket = await issue(c, "budongchan")
            called = await c.post("/api/v1/windows/3/call-next", headers=headers)
            assert called.status_code == 200 and called.json()["id"] == kiosk_ticket["id"]
            assert (await c.post("/api/v1/windows/4/call-next", headers=headers)).status_code == 403
    finally:
        await app.state.core.db.dispose()


async def test_user_add_makes_an_invited_supervisor(db_url: str, tmp_path: Path) -> None:
    """特邀廉政监督员: ``user add --role supervisor`` makes an account of the hall that signs in
    and lands on its own page's API (observations), nothing of the office's."""
    r = run_cli(
        db_url,
        tmp_path,
        "user",
        "add",
        "jd-zhou",
        "--role",
        "supervisor",
        stdin="Meadow-Falcon-64\n",
    )
    assert r.returncode == 0, r.stderr
    assert "supervisor" in r.stdout
    app = create_app(make_settings(db_url, tmp_path), run_housekeeping=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as c:
            r = await c.post(
                "/api/v1/auth/token", json={"username": "jd-zhou", "password": "Meadow-Falcon-64"}
            )
            assert r.status_code == 200 and r.json()["user"]["role"] == "supervisor", r.text
            headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
            mine = await c.get("/api/v1/halls/demo/supervision/observations", headers=headers)
            assert mine.status_code == 200 and mine.json() == []
            assert (await c.get("/api/v1/halls/demo/feedback", headers=headers)).status_code == 403
    finally:
        await app.state.core.db.dispose()


BAD_USER_ADDS = [
    (("newbie", "--role", "wizard"), "some-pass-123\n", "invalid choice"),
    (("newbie", "--role", "staff", "--window", "99"), "some-pass-123\n", "unknown window"),
    (("newbie", "--role", "admin"), "short\n", "password"),
    (("newbie", "--role", "admin"), "12345678\n", "password too common"),
    (("newbie", "--role", "admin"), "newbie-2026-xyz\n", "contains the username"),
    (("w1", "--role", "staff", "--window", "1"), "some-pass-123\n", "username taken"),
]


def test_user_add_refuses_bad_input(db_url: str, tmp_path: Path) -> None:
    for args, stdin, message in BAD_USER_ADDS:
        r = run_cli(db_url, tmp_path, "user", "add", *args, stdin=stdin)
        assert r.returncode != 0, args
        assert message in r.stderr, r.stderr
        assert "Traceback" not in r.stderr


async def test_audit_verify_finds_a_tampered_record(
    db_url: str, tmp_path: Path, app: Any, client: httpx.AsyncClient
) -> None:
    await issue(client)
    await issue(client)
    r = await asyncio.to_thread(run_cli, db_url, tmp_path, "audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    db = create_database(db_url)
    try:
        async with db.write() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT id, seq FROM audit_record WHERE action = 'ticket.issue' ORDER BY seq LIMIT 1"
                    )
                )
            ).one()
            if db.dialect == "postgresql":
                # The append-only trigger refuses updates; only the table owner bypassing
                # triggers can tamper, and verify must still notice.
                await session.execute(text("SET LOCAL session_replication_role = replica"))
            await session.execute(
                text("UPDATE audit_record SET actor = 'user:nobody' WHERE id = :id"), {"id": row.id}
            )
            await session.commit()
    finally:
        await db.dispose()
    r = await asyncio.to_thread(run_cli, db_url, tmp_path, "audit", "verify")
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert f"seq {row.seq}" in out and f"id {row.id}" in out, out
    assert "Traceback" not in out


def test_demo_refuses_a_weak_password(db_url: str, tmp_path: Path) -> None:
    r = run_cli(db_url, tmp_path, "demo", "--password", "12345678")
    assert r.returncode != 0
    assert "password too common" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_serve_prints_every_page_with_the_demo_device_keys(db_url: str, tmp_path: Path) -> None:
    """What ``make run`` prints: the lookup and hall-settings pages too, and the kiosk and pad
    addresses with the keys that work, not a placeholder."""
    from tests.support.server import start_server
    from window_service.seed import pad_key

    key = "printed-kiosk-key-0123456789"
    seeded = run_cli(
        db_url, tmp_path, "demo", "--password", "Copper-Fjord-774", "--device-key", key
    )
    assert seeded.returncode == 0, seeded.stderr
    server = start_server(db_url, tmp_path)
    try:
        printed = (tmp_path / f"server-{server.port}.log").read_text()
    finally:
        server.stop()
    assert f"/kiosk/demo?key={key}" in printed
    assert f"/pad/demo/1?key={pad_key(key, 1)}" in printed
    assert "/lookup" in printed and "/office/admin" in printed and "<" not in printed
