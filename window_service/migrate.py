"""Running the Alembic migrations (``window-service migrate``; ``serve`` does it too)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ROOT = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head", *, audit_key: bytes | None = None) -> None:
    """Alembic upgrade; ``audit_key`` is the key migration 0005 re-keys existing audit chains
    with (by default the configured one, see ``Settings.resolved_audit_key``)."""
    config = alembic_config(url)
    if audit_key is not None:
        config.attributes["audit_key"] = audit_key
    command.upgrade(config, revision)
    if revision == "head" and url.startswith("postgresql"):
        import asyncio

        asyncio.run(_guard_audit(url))


async def _guard_audit(url: str) -> None:
    """PostgreSQL refuses UPDATE/DELETE on the audit tables (see ``audit/protect.py``)."""
    from sqlalchemy.ext.asyncio import create_async_engine

    from .audit.protect import install

    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(install)
    finally:
        await engine.dispose()
