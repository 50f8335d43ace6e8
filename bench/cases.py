"""Benchmark: the office's case views and the live watch with many open cases (SQLite).

    .venv/bin/python bench/cases.py [--cases 5000] [--rounds 5]

Creates a temporary migrated demo hall, inserts ``--cases`` cases accepted over the last 30
business days (as if accepted at the windows), then times, in process:

- ``GET /api/v1/cases?warning=red`` and ``?warning=yellow`` (warnings computed at read time),
- ``GET /api/v1/accountability/figures?by=window`` for the month,
- one round of the housekeeping job ``watch_commitments`` (first round announces every crossing,
  later rounds find nothing new),

and prints the median of ``--rounds`` runs of each. State the core count when quoting figures.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from window_service.app import create_app  # noqa: E402
from window_service.auth.models import User  # noqa: E402
from window_service.cases.calendar import OFFICIAL  # noqa: E402
from window_service.cases.deadlines import compute_dues  # noqa: E402
from window_service.cases.models import Case  # noqa: E402
from window_service.cases.numbering import format_receipt_no, new_check_code  # noqa: E402
from window_service.cases.watch import watch_commitments  # noqa: E402
from window_service.chain import AuditKey  # noqa: E402
from window_service.clock import FixedClock  # noqa: E402
from window_service.config import Settings  # noqa: E402
from window_service.db import create_database  # noqa: E402
from window_service.halls.models import Hall, Service, Window  # noqa: E402
from window_service.migrate import upgrade  # noqa: E402
from window_service.seed import seed_demo  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
PASSWORD = "bench-pass-123"
BENCH_AUDIT_KEY = "bench-audit-key-not-for-production"


async def seed(url: str, var: Path, count: int, now: datetime) -> None:
    await asyncio.to_thread(upgrade, url, audit_key=BENCH_AUDIT_KEY.encode())
    db = create_database(url, audit_key=AuditKey(BENCH_AUDIT_KEY.encode()))
    await seed_demo(
        db, timezone="Asia/Shanghai", var_dir=var, password=PASSWORD, device_key="k" * 24
    )
    rng = random.Random(7)
    async with db.write() as session:
        hall = (await session.execute(select(Hall))).scalar_one()
        services = list((await session.execute(select(Service))).scalars())
        windows = list((await session.execute(select(Window))).scalars())
        staff = list((await session.execute(select(User).where(User.role == "staff"))).scalars())
        seq: dict[str, int] = {}
        for _ in range(count):
            svc = rng.choice(services)
            accepted = now - timedelta(days=rng.randint(0, 30), minutes=rng.randint(0, 600))
            day = accepted.astimezone(SHANGHAI).date()
            key = day.isoformat()
            seq[key] = seq.get(key, 0) + 1
            dues = compute_dues(
                OFFICIAL,
                hall,
                accepted_day=day,
                accepted_at=accepted,
                legal_days=svc.legal_days,
                promised_days=svc.promised_days,
                shift=0,
            )
            session.add(
                Case(
                    hall_id=hall.id,  # type: ignore[arg-type]
                    receipt_no=format_receipt_no(hall.code, day, seq[key]),
                    check_code=new_check_code(),
                    service_id=svc.id,  # type: ignore[arg-type]
                    department_id=svc.department_id,
                    window_id=rng.choice(windows).id,
                    accepted_by_id=rng.choice(staff).id,
                    first_responder_id=rng.choice(staff).id,
                    applicant_name="申请人",
                    applicant_phone="13800138000",
                    accepted_at=accepted,
                    accepted_day=day,
                    legal_days=svc.legal_days,
                    promised_days=svc.promised_days,
                    promised_due=dues.promised_due,
                    legal_due=dues.legal_due,
                    promised_due_at=dues.promised_due_at,
                    legal_due_at=dues.legal_due_at,
                    provisional=dues.provisional,
                    status="accepted" if rng.random() < 0.6 else "completed",
                    decided_at=accepted + timedelta(days=2),
                    decided_day=day + timedelta(days=2),
                )
            )
        await session.commit()
    await db.dispose()


async def timed(fn, rounds: int) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    now = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/bench.db"
        await seed(url, Path(tmp), args.cases, now)
        app = create_app(
            Settings(
                database_url=url,
                secret_key="bench",
                audit_key=BENCH_AUDIT_KEY,
                var_dir=Path(tmp),
            ),
            clock=FixedClock(now),
            run_housekeeping=False,
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
            token = (
                await c.post(
                    "/api/v1/auth/token", json={"username": "office", "password": PASSWORD}
                )
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            print(f"{args.cases} cases (about 60% open), SQLite, in process")
            for label, params in (
                ("GET /cases?warning=red", {"warning": "red"}),
                ("GET /cases?warning=yellow", {"warning": "yellow"}),
            ):
                ms, r = await timed(
                    lambda p=params: c.get("/api/v1/cases", params=p, headers=headers), args.rounds
                )
                print(f"  {label:34s} {ms:8.1f} ms  ({len(r.json())} cases)")  # type: ignore[attr-defined]
            ms, _ = await timed(
                lambda: c.get(
                    "/api/v1/accountability/figures", params={"by": "window"}, headers=headers
                ),
                args.rounds,
            )
            print(f"  {'GET /accountability/figures?by=window':34s} {ms:8.1f} ms")
            state = app.state.core
            start = time.perf_counter()
            await watch_commitments(state)
            first = (time.perf_counter() - start) * 1000
            ms, _ = await timed(lambda: watch_commitments(state), args.rounds)
            print(f"  {'watch job, first round':34s} {first:8.1f} ms")
            print(f"  {'watch job, later rounds':34s} {ms:8.1f} ms")
        await app.state.core.db.dispose()


if __name__ == "__main__":
    asyncio.run(main())
