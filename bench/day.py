"""A day in the demo hall, time-compressed: 2,000 citizens, 8 windows, PostgreSQL, 2 workers.

    .venv/bin/python bench/day.py [--citizens 2000] [--minutes 6] [--seed 7] [--size county]

``--size county`` plays the county-size demo hall instead (``window-service demo --size
county``: 24 queues, 40 windows in 3 zones, most windows serving two queues and each zone's
综合窗口 all eight of its zone), with 6,000 citizens by default and a service mix and
service times that differ per queue.

It creates its own PostgreSQL database on 127.0.0.1:5432 (dropped at the end), seeds the demo
hall, starts ``window-service serve --workers 2`` on the loopback and plays one business day
08:30–17:30 in ``--minutes`` of wall-clock time (so 1 real second = 90 hall seconds at the
default): citizens arrive with a morning peak (9–11) and an afternoon peak (14–16) and take
tickets at the kiosk (5 % green channel); the staff of windows 1–8 call, start and finish
with realistic outcomes — some citizens do not come (过号), some are transferred (转移) to
another service, some applications are accepted as cases (受理, when the case API exists) —
about 40 % of citizens rate the service by their ticket's QR (a few 差评), and the
efficiency office records undercover visits (暗访, when the inspection API exists). A hall
display stays connected all day and counts the calls it hears.

It prints the throughput, the waiting and service times as the system recorded them (from the
statistics API; real seconds, and scaled back to hall minutes), how good the wait estimates
printed on the tickets were (mean absolute error against the actual wait, from the estimate
each ticket recorded, in hall minutes; the goal is an MAE within 25 % of the mean wait),
the memory (RSS) of each
server process at the start and at the end, whether the display heard every call, and finally
runs ``window-service audit verify`` and prints its verdict. Everything is bounded: citizens
who are still waiting when the day ends are left waiting (they would expire at midnight).

The server runs the real clock, so times the system records are compressed; ``--minutes``
trades realism for run time (the 2-core machine runs the load generator too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-pass-123"
KIOSK_KEY = "bench-kiosk-key-0123456789"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")

DAY_START_H, DAY_END_H = 8.5, 17.5  # the hall's day, hall hours
#: arrival intensity by hour of day (relative): morning and afternoon peaks
INTENSITY = {8: 0.6, 9: 2.4, 10: 2.6, 11: 1.3, 12: 0.5, 13: 0.9, 14: 2.2, 15: 2.3, 16: 1.0, 17: 0.4}
#: service mix, roughly matching the windows (1–2 A, 3–4 B, 5 C, 6 D, 7 E, 8 all)
MIX = {"hukou": 0.30, "budongchan": 0.25, "qiye": 0.12, "shebao": 0.18, "shuiwu": 0.15}
#: mean service minutes per service (hall time); lognormal around it
SERVICE_MINUTES = {"hukou": 1.2, "budongchan": 1.5, "qiye": 1.4, "shebao": 1.0, "shuiwu": 0.9}
OUTCOMES = [
    ("completed", 0.62),
    ("accepted", 0.14),
    ("consulted", 0.14),
    ("correction", 0.06),
    ("rejected", 0.04),
]
RATINGS = [(5, 0.62), (4, 0.24), (3, 0.08), (2, 0.04), (1, 0.02)]
NO_SHOW = 0.05
TRANSFER = 0.04
RATE_SHARE = 0.40


@dataclass
class Size:
    """The hall played: its code, accounts, kiosk key, windows and citizens' mix."""

    hall: str = "demo"
    staff: str = "w"  # staff of window n sign in as f"{staff}{n}"
    office: str = "office"
    windows: int = 8
    mix: dict[str, float] = field(default_factory=lambda: dict(MIX))
    minutes: dict[str, float] = field(default_factory=lambda: dict(SERVICE_MINUTES))
    kiosk_key: str = KIOSK_KEY
    citizens: int = 2000


def county_size() -> Size:
    """The county demo (window_service/admin/county.py): its 24 services get a mix and
    service times of their own (a few busy queues, a few slow ones), fixed by a seed."""
    import hashlib

    from window_service.admin.county import ZONES, county_setup

    setup = county_setup()
    rng = random.Random(2026)
    codes = [s.code for s in setup.services]
    mix = {code: rng.choice([0.5, 0.8, 1.0, 1.0, 1.3, 1.8]) for code in codes}
    total = sum(mix.values())
    minutes = {code: rng.choice([0.8, 1.0, 1.2, 1.5, 2.0, 2.5]) for code in codes}
    kiosk = "cty-" + hashlib.sha256(f"{KIOSK_KEY}-{ZONES[0]}取号机".encode()).hexdigest()[:32]
    return Size(
        hall="county",
        staff="county-w",
        office="county-office",
        windows=len(setup.windows),
        mix={code: w / total for code, w in mix.items()},
        minutes=minutes,
        kiosk_key=kiosk,
        citizens=6000,
    )


#: The hall played (``--size``).
SIZE = Size()


def pick(rng: random.Random, weighted: list[tuple[Any, float]]) -> Any:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def arrival_hours(rng: random.Random, n: int) -> list[float]:
    """``n`` arrival times (hall hours, e.g. 9.25) following the intensity profile."""
    hours = list(INTENSITY)
    weights = []
    for h in hours:
        lo, hi = max(h, DAY_START_H), min(h + 1, DAY_END_H - 0.5)
        weights.append(INTENSITY[h] * max(0.0, hi - lo))
    out = []
    for _ in range(n):
        h = rng.choices(hours, weights=weights)[0]
        lo, hi = max(h, DAY_START_H), min(h + 1, DAY_END_H - 0.5)
        out.append(rng.uniform(lo, hi))
    return sorted(out)


@dataclass
class Figures:
    requests: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    issued: int = 0
    called: int = 0
    served: int = 0
    no_shows: int = 0
    transfers: int = 0
    cases: int = 0
    ratings: int = 0
    bad_ratings: int = 0
    inspections: int = 0
    display_calls: int = 0
    display_seqs: list[int] = field(default_factory=list)

    def fail(self, what: str) -> None:
        self.failed[what] = self.failed.get(what, 0) + 1


class Hall:
    """The HTTP side: one pooled client, latency and failures recorded per request."""

    def __init__(self, url: str, figures: Figures) -> None:
        self.http = httpx.AsyncClient(
            base_url=url,
            timeout=30,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=64),
        )
        self.figures = figures

    async def request(
        self, method: str, path: str, what: str, **kwargs: Any
    ) -> httpx.Response | None:
        start = time.perf_counter()
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.HTTPError:
            self.figures.fail(f"{what}: connection")
            return None
        self.figures.requests += 1
        self.figures.latencies.append(time.perf_counter() - start)
        if response.status_code >= 500:
            self.figures.fail(f"{what}: {response.status_code}")
        return response

    async def token(self, username: str) -> dict[str, str]:
        response = await self.request(
            "POST", "/api/v1/auth/token", "login", json={"username": username, "password": PASSWORD}
        )
        assert response is not None and response.status_code == 200, "login failed"
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass
class Day:
    hall: Hall
    rng: random.Random
    factor: float  # hall seconds per real second
    t0: float  # real monotonic time of 08:30
    closing: float  # real monotonic time of 17:30
    figures: Figures
    ratable: asyncio.Queue[tuple[str, float]] = field(default_factory=asyncio.Queue)
    #: ticket id → the track token printed on the citizen's ticket (their QR)
    tokens: dict[int, str] = field(default_factory=dict)

    def at(self, hour: float) -> float:
        return self.t0 + (hour - DAY_START_H) * 3600 / self.factor

    def real(self, hall_minutes: float) -> float:
        return hall_minutes * 60 / self.factor

    def open(self) -> bool:
        return time.monotonic() < self.closing


async def citizen(day: Day, n: int, hour: float) -> None:
    await asyncio.sleep(max(0.0, day.at(hour) - time.monotonic()))
    rng = random.Random(day.rng.random())
    service = rng.choices(list(SIZE.mix), weights=list(SIZE.mix.values()))[0]
    priority = (
        rng.choice(["elderly", "disabled", "pregnant", "military"]) if rng.random() < 0.05 else None
    )
    body = {"service": service, "priority": priority, "idempotency_key": f"day-{n}"}
    response = await day.hall.request(
        "POST",
        f"/api/v1/halls/{SIZE.hall}/tickets",
        "issue",
        json=body,
        headers={"X-Device-Key": SIZE.kiosk_key},
    )
    if response is not None and response.status_code == 201:
        day.figures.issued += 1
        ticket = response.json()
        day.tokens[ticket["id"]] = ticket["track_token"]
    elif response is not None:
        day.figures.fail(f"issue: {response.status_code}")


async def window(day: Day, number: int, case_api: bool, headers: dict[str, str]) -> None:
    rng = random.Random(number * 7919)
    services = list(SIZE.mix)
    while True:
        called = await day.hall.request(
            "POST", f"/api/v1/windows/{number}/call-next", "call", headers=headers
        )
        if called is None or called.status_code != 200:
            if not day.open() and called is not None and called.status_code == 204:
                return  # closing time and nobody left for this window (延时服务 done)
            await asyncio.sleep(day.real(0.5))  # nobody waits: look again in half a hall minute
            continue
        day.figures.called += 1
        ticket = called.json()
        tid, service = ticket["id"], ticket["service"]
        if rng.random() < NO_SHOW:
            await asyncio.sleep(day.real(1.0))  # wait a minute for the citizen, then 过号
            await day.hall.request(
                "POST", f"/api/v1/tickets/{tid}/no-show", "no-show", headers=headers
            )
            day.figures.no_shows += 1
            continue
        await asyncio.sleep(day.real(0.3))  # walking to the window
        await day.hall.request("POST", f"/api/v1/tickets/{tid}/start", "start", headers=headers)
        minutes = rng.lognormvariate(math.log(SIZE.minutes.get(service, 2.0)), 0.5)
        if rng.random() < TRANSFER:
            await asyncio.sleep(day.real(minutes / 3))
            target = rng.choice([s for s in services if s != service])
            await day.hall.request(
                "POST",
                f"/api/v1/tickets/{tid}/transfer",
                "transfer",
                json={"service": target},
                headers=headers,
            )
            day.figures.transfers += 1
            continue
        await asyncio.sleep(day.real(minutes))
        outcome = pick(rng, OUTCOMES)
        if outcome == "accepted" and case_api:
            case = await day.hall.request(
                "POST",
                f"/api/v1/tickets/{tid}/case",
                "case",
                json={
                    "applicant_name": f"申请人{tid}",
                    "applicant_phone": f"1380000{tid % 10000:04d}",
                },
                headers=headers,
            )
            if case is not None and case.status_code == 201:
                day.figures.cases += 1
        done = await day.hall.request(
            "POST",
            f"/api/v1/tickets/{tid}/finish",
            "finish",
            json={"outcome": outcome},
            headers=headers,
        )
        if done is not None and done.status_code == 200:
            day.figures.served += 1
            token = day.tokens.get(tid)
            if token and rng.random() < RATE_SHARE:
                day.ratable.put_nowait((token, time.monotonic() + day.real(rng.uniform(1, 30))))


async def raters(day: Day) -> None:
    """Citizens rate on their phones a little after leaving."""
    rng = random.Random(17)
    while day.open() or not day.ratable.empty():
        try:
            token, when = await asyncio.wait_for(day.ratable.get(), timeout=1)
        except TimeoutError:
            continue
        await asyncio.sleep(max(0.0, when - time.monotonic()))
        rating = pick(rng, RATINGS)
        body: dict[str, Any] = {"rating": rating}
        if rating <= 2:
            body["comment"] = "等候时间太长，窗口解释不清楚"
        response = await day.hall.request(
            "POST", f"/api/v1/track/{token}/feedback", "rate", json=body
        )
        if response is not None and response.status_code == 201:
            day.figures.ratings += 1
            day.figures.bad_ratings += 1 if rating <= 2 else 0
        elif response is not None and response.status_code not in (404, 409):
            day.figures.fail(f"rate: {response.status_code}")


async def inspector(day: Day, visits: int) -> None:
    """The efficiency office visits a few windows unannounced (暗访)."""
    headers = await day.hall.token(SIZE.office)
    templates = await day.hall.request(
        "GET", "/api/v1/inspection-templates", "templates", headers=headers
    )
    windows = await day.hall.request("GET", f"/api/v1/halls/{SIZE.hall}/windows", "windows")
    if templates is None or templates.status_code != 200 or windows is None:
        return  # no inspection API in this build
    template = templates.json()[0]
    ids = [w["id"] for w in windows.json()]
    rng = random.Random(99)
    for hour in sorted(rng.uniform(9.5, 16.5) for _ in range(visits)):
        await asyncio.sleep(max(0.0, day.at(hour) - time.monotonic()))
        scores = {
            item["code"]: max(0, item["max_points"] - rng.choice([0, 0, 0, 2, 5]))
            for item in template["items"]
        }
        body = {
            "window": rng.choice(ids),
            "staff": None,
            "visited_at": datetime.now().astimezone().isoformat(),
            "template": template["code"],
            "scores": scores,
            "notes": "暗访：在岗在位，服务规范",
        }
        response = await day.hall.request(
            "POST", "/api/v1/inspections", "inspect", json=body, headers=headers
        )
        if response is not None and response.status_code == 201:
            day.figures.inspections += 1
        elif response is not None:
            day.figures.fail(f"inspect: {response.status_code}")


async def display(url: str, day: Day, stop: asyncio.Event) -> None:
    from websockets.asyncio.client import connect

    ws_url = url.replace("http://", "ws://") + f"/ws/halls/{SIZE.hall}/display"
    last: int | None = None
    while not stop.is_set():
        target = ws_url + (f"?after={last}" if last is not None else "")
        with contextlib.suppress(Exception):
            async with connect(target, ping_interval=None, max_queue=None) as ws:
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
                    except TimeoutError:
                        continue
                    message = json.loads(raw)
                    if message["type"] == "snapshot":
                        last = message["seq"]
                        continue
                    if message["type"] == "heartbeat":
                        continue
                    if last is not None and message["seq"] != last + 1:
                        day.figures.fail("display: seq jumped")
                    last = message["seq"]
                    day.figures.display_seqs.append(last)
                    if message["type"] == "call":
                        day.figures.display_calls += 1
        await asyncio.sleep(0.2)


# -- the server ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pg_admin(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def server_processes(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    parent = psutil.Process(proc.pid)
    return [parent, *parent.children(recursive=True)]


def roles(processes: list[psutil.Process]) -> dict[int, str]:
    out = {}
    for p in processes:
        try:
            cmdline = " ".join(p.cmdline())
        except psutil.Error:
            cmdline = ""
        if p is processes[0]:
            out[p.pid] = "supervisor"
        elif "resource_tracker" in cmdline:
            out[p.pid] = "tracker"
        else:
            out[p.pid] = "worker"
    return out


def rss(processes: list[psutil.Process]) -> dict[int, float]:
    out = {}
    for p in processes:
        with contextlib.suppress(psutil.Error):
            out[p.pid] = p.memory_info().rss / 2**20
    return out


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def sample_memory(
    processes: list[psutil.Process], every: float, out: list[dict[int, float]], stop: asyncio.Event
) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        out.append(rss(processes))


async def play(
    url: str, args: argparse.Namespace, figures: Figures, processes: list[psutil.Process]
) -> dict[str, Any]:
    hall = Hall(url, figures)
    # The staff sign in one after another before the day (40 password checks at once would
    # hold the pool's connections while hashing).
    staff = {n: await hall.token(f"{SIZE.staff}{n}") for n in range(1, SIZE.windows + 1)}
    factor = (DAY_END_H - DAY_START_H) * 3600 / (args.minutes * 60)
    rng = random.Random(args.seed)
    t0 = time.monotonic() + 1.0
    t0_wall = time.time() + 1.0
    day = Day(hall, rng, factor, t0, t0 + args.minutes * 60, figures)
    openapi = (await hall.http.get("/api/v1/openapi.json")).json()["paths"]
    case_api = "/api/v1/tickets/{id}/case" in openapi
    stop = asyncio.Event()
    watcher = asyncio.ensure_future(display(url, day, stop))
    memory: list[dict[int, float]] = []
    sampler = asyncio.ensure_future(sample_memory(processes, args.minutes * 60 / 6, memory, stop))
    tasks = [
        asyncio.ensure_future(citizen(day, n, h))
        for n, h in enumerate(arrival_hours(rng, args.citizens))
    ]
    tasks += [
        asyncio.ensure_future(window(day, n, case_api, staff[n]))
        for n in range(1, SIZE.windows + 1)
    ]
    tasks.append(asyncio.ensure_future(raters(day)))
    if "/api/v1/inspections" in openapi:
        tasks.append(asyncio.ensure_future(inspector(day, args.inspections)))
    started = time.monotonic()
    _, pending = await asyncio.wait(tasks, timeout=args.minutes * 60 * 3 + 120)
    for task in pending:  # bounded: whoever is still at it when time is up goes home
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    elapsed = time.monotonic() - started
    overtime = max(0.0, time.monotonic() - day.closing)
    # let the display hear the last calls (NOTIFY from the other worker may lag under load)
    heard, quiet = len(figures.display_seqs), 0
    while quiet < 6 and time.monotonic() - started < elapsed + 30:
        await asyncio.sleep(0.5)
        quiet = quiet + 1 if len(figures.display_seqs) == heard else 0
        heard = len(figures.display_seqs)
    stop.set()
    await watcher
    await sampler
    office = await hall.token(SIZE.office)
    day_code = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    today = (
        await hall.http.get(
            f"/api/v1/halls/{SIZE.hall}/stats",
            params={"by": "window", "period": day_code},
            headers=office,
        )
    ).json()
    stats = (
        await hall.http.get(
            f"/api/v1/halls/{SIZE.hall}/stats",
            params={"by": "hall", "period": day_code},
            headers=office,
        )
    ).json()
    head = (await hall.http.get(f"/api/v1/halls/{SIZE.hall}/audit/anchors")).json()["head"]
    metrics = (await hall.http.get("/metrics")).text
    await hall.http.aclose()
    return {
        "elapsed": elapsed,
        "overtime": overtime,
        "cut_off": len(pending),
        "t0_wall": t0_wall,
        "factor": factor,
        "by_window": today,
        "hall": stats,
        "audit_head": head,
        "metrics": metrics,
        "day": day_code,
        "case_api": case_api,
        "memory": memory,
    }


async def times_in_db(db_url: str) -> dict[str, list[float]]:
    """Waits (queue time → first call) and service times (start → finish), in real seconds."""
    from sqlalchemy import text

    from window_service.db import create_database

    db = create_database(db_url)
    try:
        async with db.read() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT t.status, EXTRACT(EPOCH FROM (c.first_call - t.queued_at)),"
                        " EXTRACT(EPOCH FROM (t.finished_at - t.started_at)),"
                        " EXTRACT(EPOCH FROM t.queued_at), t.estimated_wait_seconds"
                        " FROM ticket t LEFT JOIN (SELECT ticket_id, min(at) AS first_call"
                        " FROM ticket_event WHERE action = 'called' GROUP BY ticket_id) c"
                        " ON c.ticket_id = t.id"
                    )
                )
            ).all()
    finally:
        await db.dispose()
    waits = [float(w) for _, w, _, _, _ in rows if w is not None]
    services = [float(d) for status, _, d, _, _ in rows if status == "done" and d is not None]
    queued = [(float(q), None if w is None else float(w)) for _, w, _, q, _ in rows]
    # (estimate, actual wait, queue time) of every called ticket; estimate None: nobody on
    # duty for it
    estimated = [
        (None if e is None else float(e), float(w), float(q))
        for _, w, _, q, e in rows
        if w is not None
    ]
    finished = [float(q) + float(w) + float(d) for s, w, d, q, _ in rows if s == "done" and w and d]
    first_finish = min(finished, default=float("inf"))
    return {  # type: ignore[dict-item]
        "wait": waits,
        "service": services,
        "queued": queued,
        "estimated": estimated,
        "first_finish": first_finish,
    }


async def events_in_db(db_url: str) -> tuple[int, int]:
    from sqlalchemy import text

    from window_service.db import create_database

    db = create_database(db_url)
    try:
        async with db.read() as session:
            calls = (
                await session.execute(text("SELECT count(*) FROM hall_event WHERE type = 'call'"))
            ).scalar_one()
            last = (
                await session.execute(text("SELECT coalesce(max(seq), 0) FROM hall_event"))
            ).scalar_one()
    finally:
        await db.dispose()
    return int(calls), int(last)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--citizens", type=int, default=None, help="2000 (small), 6000 (county)")
    parser.add_argument("--size", choices=["small", "county"], default="small")
    parser.add_argument("--minutes", type=float, default=6.0, help="wall-clock minutes for the day")
    parser.add_argument("--inspections", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    global SIZE
    SIZE = county_size() if args.size == "county" else Size()
    if args.citizens is None:
        args.citizens = SIZE.citizens
    print(
        f"day benchmark: {args.citizens} citizens, {SIZE.windows} windows ({SIZE.hall} hall), "
        "PostgreSQL, serve --workers 2, "
        f"08:30–17:30 played in {args.minutes:g} min, {os.cpu_count()} cores shared with the load generator"
    )
    name = f"ws_day_{uuid.uuid4().hex[:8]}"
    pg_admin(f'CREATE DATABASE "{name}"')
    db_url = (
        PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0] + f"/{name}"
    )
    proc: subprocess.Popen[bytes] | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="ws-day-") as tmp:
            var = Path(tmp)
            env = {
                **os.environ,
                "WINDOW_SERVICE_DATABASE_URL": db_url,
                "WINDOW_SERVICE_VAR_DIR": str(var),
                "WINDOW_SERVICE_SECRET_KEY": "bench-secret-key",
                "WINDOW_SERVICE_AUDIT_KEY": "bench-audit-key-not-for-production",
            }
            cli = [sys.executable, "-m", "window_service"]
            subprocess.run(
                [*cli, "demo", "--password", PASSWORD, "--device-key", KIOSK_KEY]
                + (["--size", "county"] if SIZE.hall == "county" else []),
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            log = open(var / "server.log", "ab")
            proc = subprocess.Popen(
                [*cli, "serve", "--port", str(port), "--workers", "2", "--log-level", "warning"],
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        "server did not start: " + (var / "server.log").read_text()[-2000:]
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                time.sleep(0.2)
            for _ in range(40):  # warm both workers up before measuring memory
                httpx.get(f"{url}/api/v1/halls/{SIZE.hall}/services", timeout=10)
            processes = server_processes(proc)
            rss_start = rss(processes)
            figures = Figures()
            result = asyncio.run(play(url, args, figures, processes))
            result["roles"] = roles(processes)
            rss_end = rss(processes)
            proc.terminate()
            proc.wait(timeout=30)
            proc = None
            log.close()
            server_log = (var / "server.log").read_text(errors="replace").splitlines()
            errors = [line for line in server_log if "Traceback" in line]
            if errors:  # show the first one: a 5xx is a bug to report
                first = next(i for i, line in enumerate(server_log) if "Traceback" in line)
                print("\n".join(server_log[max(0, first - 2) : first + 80]))
            calls_db, last_seq = asyncio.run(events_in_db(db_url))
            result["times"] = asyncio.run(times_in_db(db_url))
            verify_started = time.monotonic()
            verify = subprocess.run(
                [*cli, "audit", "verify"],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=600,
            )
            result["verify_seconds"] = time.monotonic() - verify_started
            report(
                args,
                figures,
                result,
                rss_start,
                rss_end,
                processes,
                errors,
                calls_db,
                last_seq,
                verify,
            )
            return 0 if verify.returncode == 0 else 1
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def report(
    args: argparse.Namespace,
    figures: Figures,
    result: dict[str, Any],
    rss_start: dict[int, float],
    rss_end: dict[int, float],
    processes: list[psutil.Process],
    errors: list[str],
    calls_db: int,
    last_seq: int,
    verify: subprocess.CompletedProcess[str],
) -> None:
    factor = result["factor"]
    hall = result["hall"]["rows"][0] if result["hall"]["rows"] else result["hall"]["total"]
    lat = figures.latencies
    print()
    print(f"wall-clock {result['elapsed']:.0f} s for the day (1 real s = {factor:.0f} hall s)")
    print(
        f"requests {figures.requests} ({figures.requests / result['elapsed']:.0f}/s), "
        f"latency p50 {quantile(lat, 0.5) * 1000:.0f} ms, p99 {quantile(lat, 0.99) * 1000:.0f} ms, "
        f"max {max(lat, default=0) * 1000:.0f} ms; server errors: {sum(figures.failed.values())} {figures.failed or ''}"
    )
    print(
        f"citizens {args.citizens}: issued {figures.issued}, called {figures.called}, served {figures.served}, "
        f"no-shows {figures.no_shows}, transfers {figures.transfers}, cases {figures.cases}"
        + ("" if result["case_api"] else " (no case API)")
        + f", ratings {figures.ratings} ({figures.bad_ratings} 差评), inspections {figures.inspections}"
    )

    def both(seconds: float) -> str:
        return f"{seconds:.1f} s real = {seconds * factor / 60:.1f} hall min"

    print("as the system recorded them:")
    print(
        f"  statistics API: tickets {hall['tickets']}, served {hall['served']}, "
        f"no-shows {hall['no_shows']}, green share {hall['green_share']}, "
        f"satisfaction {hall['satisfaction']}, 差评 rate {hall['bad_rate']}"
    )
    for label, values in (
        ("wait", result["times"]["wait"]),
        ("service", result["times"]["service"]),
    ):
        if values:
            print(
                f"  {label:<7} (ticket timestamps, n={len(values)}): "
                f"mean {both(statistics.fmean(values))}, median {both(statistics.median(values))}, "
                f"p90 {both(quantile(values, 0.9))}"
            )
    by_hour: dict[int, list[float | None]] = {}
    for queued_epoch, wait in result["times"]["queued"]:
        hour = int(DAY_START_H + (queued_epoch - result["t0_wall"]) * factor / 3600)
        by_hour.setdefault(hour, []).append(wait)
    print("  by hall hour: tickets / mean wait (hall min):")
    print(
        "    "
        + "  ".join(
            f"{h}时 {len(v)}/"
            + (
                f"{statistics.fmean(w) * factor / 60:.0f}"
                if (w := [x for x in v if x is not None])
                else "—"
            )
            for h, v in sorted(by_hour.items())
        )
    )
    estimated = result["times"]["estimated"]
    # The tickets recorded their estimate in (real) seconds: compared as such, then scaled to
    # hall minutes (the whole minutes printed mean nothing at this speed). Tickets taken
    # before the hall's first finished service had only the services' default minutes to go
    # on, which the compressed clock makes 50–90 times too long: shown apart.
    warm = result["times"]["first_finish"]
    for label, chosen in (
        ("all", estimated),
        ("after the first finish", [x for x in estimated if x[2] >= warm]),
    ):
        pairs = [(e, w) for e, w, _ in chosen if e is not None]
        if not pairs:
            continue
        misses = [abs(e - w) * factor / 60 for e, w in pairs]
        mean_wait = statistics.fmean(w for _, w in pairs) * factor / 60
        mae = statistics.fmean(misses)
        bias = statistics.fmean((e - w) for e, w in pairs) * factor / 60
        within = sum(1 for x in misses if x <= 5) / len(misses)
        print(
            f"  estimates, {label} (n={len(pairs)}, {len(chosen) - len(pairs)} without): "
            f"MAE {mae:.1f} hall min vs mean wait {mean_wait:.1f} hall min "
            f"= {mae / mean_wait * 100 if mean_wait else float('nan'):.0f} % (goal ≤ 25 %), "
            f"bias {bias:+.1f}, within ±5 min {within * 100:.0f} %"
        )
    print(
        f"  the windows worked {result['overtime']:.0f} s real ({result['overtime'] * factor / 60:.0f} hall min) after closing to serve everyone (延时服务)"
    )
    print(
        "memory (RSS, MiB) at start, every 1/6 of the day, at end (after the statistics queries):"
    )
    for p in processes:
        role = result["roles"].get(p.pid, "?")
        start, end = rss_start.get(p.pid), rss_end.get(p.pid)
        if start is not None and end is not None:
            series = " ".join(f"{m[p.pid]:.0f}" for m in result["memory"] if p.pid in m)
            print(
                f"  pid {p.pid} {role:<10} {start:7.1f} → {end:7.1f}  ({end - start:+.1f})   [{series}]"
            )
    gapless = (
        figures.display_seqs == list(range(figures.display_seqs[0], figures.display_seqs[-1] + 1))
        if figures.display_seqs
        else False
    )
    print(
        f"hall display heard {figures.display_calls} calls of {calls_db} in the event log "
        f"(events up to seq {last_seq}; its sequence {'had no gaps' if gapless else 'HAD GAPS'})"
    )
    if result["cut_off"]:
        print(f"the day was cut off: {result['cut_off']} tasks still busy at the time limit")
    print(f"tracebacks in the server log: {len(errors)}")
    print(
        f"audit chain head: seq {result['audit_head']['seq']} {result['audit_head']['hash'][:16]}…"
    )
    print(
        f"window-service audit verify ({result['verify_seconds']:.1f} s) → exit {verify.returncode}: {(verify.stdout + verify.stderr).strip()}"
    )


if __name__ == "__main__":
    sys.exit(main())
