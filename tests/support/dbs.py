"""Test databases: a migrated, demo-seeded template per backend, copied fresh for each test.

SQLite: the template file is copied. PostgreSQL: ``CREATE DATABASE … TEMPLATE …``. Each test
therefore starts from the same demo hall with known credentials, and tests never see each
other's rows. PostgreSQL is used when ``WINDOW_SERVICE_TEST_DATABASE_URL`` is set or a server
answers on 127.0.0.1:5432.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
import socket
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from window_service.chain import AuditKey
from window_service.db import create_database
from window_service.migrate import upgrade
from window_service.seed import seed_demo

DEMO_PASSWORD = "Lantern-Tide-58"
KIOSK_KEY = "kiosk-test-key-0123456789"
#: The test halls' audit key (审计密钥): the demo hall's records are sealed with it.
AUDIT_KEY = "test-audit-key-not-for-production"
_counter = itertools.count()


def postgres_admin_url() -> str | None:
    url = os.environ.get("WINDOW_SERVICE_TEST_DATABASE_URL")
    if url:
        return url
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    except OSError:
        return None


def _dsn(url: str, database: str | None = None) -> str:
    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


async def _seed(url: str, var_dir: Path) -> None:
    await asyncio.to_thread(upgrade, url)
    db = create_database(url, audit_key=AuditKey(AUDIT_KEY.encode()))
    try:
        await seed_demo(
            db,
            timezone="Asia/Shanghai",
            var_dir=var_dir,
            password=DEMO_PASSWORD,
            device_key=KIOSK_KEY,
        )
    finally:
        await db.dispose()


def _unlink_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def sqlite_copy(url: str, directory: Path) -> str:
    """A copy of the SQLite database at ``url`` (closed, so its WAL is checkpointed) in
    ``directory``: a database seeded once serves many tests, each on its own copy."""
    path = directory / f"copy-{next(_counter)}.db"
    shutil.copyfile(url.split("///", 1)[1], path)
    return f"sqlite+aiosqlite:///{path}"


class SqliteTemplate:
    kind = "sqlite"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.template = root / "template.db"

    async def prepare(self) -> None:
        await _seed(f"sqlite+aiosqlite:///{self.template}", self.root)

    async def fresh(self) -> str:
        path = self.root / f"test-{next(_counter)}.db"
        shutil.copyfile(self.template, path)
        return f"sqlite+aiosqlite:///{path}"

    async def drop(self, url: str) -> None:
        path = Path(url.split("///", 1)[1])
        await asyncio.to_thread(_unlink_sqlite, path)

    async def close(self) -> None:
        pass


class PostgresTemplate:
    kind = "postgresql"

    def __init__(self, admin_url: str, root: Path) -> None:
        self.admin_url = admin_url
        self.root = root
        self.prefix = f"wst_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.template = f"{self.prefix}_tpl"

    def url_for(self, database: str) -> str:
        return make_url(self.admin_url).set(database=database).render_as_string(hide_password=False)

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(_dsn(self.admin_url))
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def prepare(self) -> None:
        await self._admin(f'CREATE DATABASE "{self.template}"')
        await _seed(self.url_for(self.template), self.root)

    async def fresh(self) -> str:
        name = f"{self.prefix}_{next(_counter)}"
        await self._admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        return self.url_for(name)

    async def drop(self, url: str) -> None:
        name = make_url(url).database
        await self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def close(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
