"""Province scale: 20 county-size halls with 60 business days of history each, PostgreSQL.

    PYTHONPATH=. .venv/bin/python bench/province.py [--halls 20] [--days 60] [--tickets 1250]
        [--rebuild] [--samples 200] [--seconds 10] [--only build]

The dataset (``bench/province_data.py``: the county demo's workbook through the hall import,
then history in the product's own shape with a valid audit chain; about 1.5 million tickets
at the defaults) is built once into a template database named after the dataset version and
scale (``province_p1_20x60x1250``; ``province_p1_20h_empty`` holds the same halls without
history, and is where a new scale's history starts)
and kept; each run copies both with ``CREATE DATABASE … TEMPLATE`` and drops the copies at
the end. ``--rebuild`` builds the templates again.

On each copy it runs ``window-service serve --workers 2`` and measures, printing:
issue, call-next and display-snapshot latency (p50/p99) with the history and without; issuing
with 64 clients spread over all halls vs 64 on one hall (aggregate tickets/s); the office
statistics of one hall-month (goal p99 ≤ 300 ms); the region's comparison of all halls for a
month (≤ 2 s; timed as one statistics call per hall when the deployment has no region
endpoint); a quarter's stars for all halls (≤ 10 s); then ``window-service audit verify``
over the whole history (≥ 50,000 records/s) and ``audit verify --since-anchor`` (≤ 1 s); and
the memory (RSS) of each server process at start and after each phase (the office work runs
twice, so that growth with what was served shows apart from a high-water mark).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
PASSWORD = "bench-pass-123"
KIOSK_KEY = "bench-kiosk-key-0123456789"
AUDIT_KEY = "bench-audit-key-not-for-production"
TIMEZONE = "Asia/Shanghai"
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
os.environ.setdefault("WINDOW_SERVICE_AUDIT_KEY", AUDIT_KEY)

import asyncpg  # noqa: E402
from province_data import DATASET_VERSION, load_history, seed_halls  # noqa: E402


def url(database: str) -> str:
    return f"postgresql+asyncpg://{PG.split('//', 1)[1]}/{database}"


def dsn(database: str) -> str:
    return f"{PG}/{database}"


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(dsn("postgres"))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def exists(database: str) -> bool:
    conn = await asyncpg.connect(dsn("postgres"))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database))
    finally:
        await conn.close()


def template_names(halls: int, days: int, tickets: int) -> tuple[str, str]:
    """The templates: the halls with their history, and the same halls freshly seeded
    (shared by every history of that many halls, so a new scale seeds nothing)."""
    return (
        f"province_{DATASET_VERSION}_{halls}x{days}x{tickets}",
        f"province_{DATASET_VERSION}_{halls}h_empty",
    )


@dataclass
class Built:
    seconds: float
    counts: dict[str, int]


async def build(
    halls: int,
    days: int,
    tickets: int,
    *,
    rebuild: bool = False,
    progress: bool = True,
    workers: int = 2,
) -> Built | None:
    """The two template databases (history, and the same halls without it); None when cached."""
    from window_service.chain import AuditKey
    from window_service.db import create_database
    from window_service.migrate import upgrade

    full, empty = template_names(halls, days, tickets)
    if not rebuild and await exists(full) and await exists(empty):
        return None
    work = f"{full}_build"
    for name in (work, full, *((empty,) if rebuild else ())):
        await admin(f'DROP DATABASE IF EXISTS "{name}"')
    t0 = time.monotonic()
    key = AuditKey(AUDIT_KEY.encode())
    if await exists(empty):
        await admin(f'CREATE DATABASE "{work}" TEMPLATE "{empty}"')
        await asyncio.to_thread(upgrade, url(work))
        print(f"  halls: a copy of {empty}")
    else:
        await admin(f'CREATE DATABASE "{work}"')
        await asyncio.to_thread(upgrade, url(work))
        db = create_database(url(work), audit_key=key)
        try:
            await seed_halls(db, halls, TIMEZONE, PASSWORD, KIOSK_KEY)
        finally:
            await db.dispose()
        await admin(f'CREATE DATABASE "{empty}" TEMPLATE "{work}"')
        print(f"  seeded {halls} halls in {time.monotonic() - t0:.0f} s")
    t1 = time.monotonic()
    counts = await load_history(
        url(work),
        dsn(work),
        key,
        AUDIT_KEY.encode(),
        days=days,
        tickets=tickets,
        workers=workers,
        progress=progress,
    )
    print(f"  history in {time.monotonic() - t1:.0f} s")
    t2 = time.monotonic()
    await caught_up(work)
    print(f"  housekeeping caught up in {time.monotonic() - t2:.0f} s")
    # The planner's statistics, as autovacuum keeps them on a live database (a bulk load
    # leaves none, and the copies are measured at once).
    conn = await asyncpg.connect(dsn(work))
    try:
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    # Renamed only when complete: a build cut short is never taken for the dataset.
    await admin(f'ALTER DATABASE "{work}" RENAME TO "{full}"')
    return Built(time.monotonic() - t0, counts)


async def caught_up(database: str) -> None:
    """One round of the product's own housekeeping (``housekeeping.run_once``) over the history.

    A hall that had run for those 60 days would hold what its jobs wrote meanwhile: the
    deadline warnings of the case watch, the quarter's proposed efficiency warnings. Without
    them each server process started on a copy first worked through 60 days of backlog (about
    25 s and 250 MiB each on 20 halls), and the hot paths and memory measured that start."""
    from window_service.app import create_app
    from window_service.config import Settings
    from window_service.housekeeping import run_once

    with tempfile.TemporaryDirectory() as var:
        settings = Settings(
            database_url=url(database),
            secret_key="bench-secret-key",
            audit_key=AUDIT_KEY,
            timezone=TIMEZONE,
            var_dir=Path(var),
        )
        app = create_app(settings, run_housekeeping=False)
        core = app.state.core
        try:
            await run_once(core)
        finally:
            await core.db.dispose()


async def copy_of(template: str, tag: str) -> str:
    name = f"{template}_run_{tag}_{os.getpid()}"
    await admin(f'DROP DATABASE IF EXISTS "{name}"')
    await admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return name


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cli(
    database: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "window_service", *args],
        env={**os.environ, **service_env(database), **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def service_env(database: str) -> dict[str, str]:
    return {
        "WINDOW_SERVICE_DATABASE_URL": url(database),
        "WINDOW_SERVICE_SECRET_KEY": "bench-secret-key",
        "WINDOW_SERVICE_AUDIT_KEY": AUDIT_KEY,
        "WINDOW_SERVICE_TIMEZONE": TIMEZONE,
        "PYTHONPATH": str(ROOT),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--halls", type=int, default=20)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--tickets", type=int, default=1250, help="tickets a hall-day (mean)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--only", choices=["build", "measure"], default=None)
    parser.add_argument("--workers", type=int, default=2, help="processes that generate history")
    args = parser.parse_args()
    print(
        f"province bench: {args.halls} halls × {args.days} business days × ~{args.tickets} tickets; load {load_average()}"
    )
    built = asyncio.run(
        build(
            args.halls,
            args.days,
            args.tickets,
            rebuild=args.rebuild,
            progress=sys.stdout.isatty(),
            workers=args.workers,
        )
    )
    if built is None:
        print(
            "dataset: cached template databases",
            ", ".join(template_names(args.halls, args.days, args.tickets)),
        )
    else:
        rows = ", ".join(f"{t} {n:,}" for t, n in sorted(built.counts.items()))
        print(f"dataset built in {built.seconds:.0f} s (load {load_average()}): {rows}")
    if args.only == "build":
        return 0
    from province_measure import measure

    return asyncio.run(measure(args, template_names(args.halls, args.days, args.tickets)))


if __name__ == "__main__":
    raise SystemExit(main())


__all__: list[Any] = []
