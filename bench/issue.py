"""Benchmark: issuing tickets (取号) under 32 concurrent clients, beside a plain Starlette app.

    .venv/bin/python bench/issue.py [--seconds 10] [--clients 32] [--only sqlite|postgresql]

For each database it creates its own temporary database (a SQLite file in a temporary
directory; a fresh PostgreSQL database on 127.0.0.1:5432 that it drops afterwards), seeds it
with ``window-service demo --password … --device-key …``, starts ``window-service serve``
(SQLite: 1 process; PostgreSQL: ``--workers 2``) and drives ``POST /api/v1/halls/demo/tickets``
with the kiosk key, cycling over the five demo services. Then it serves a tiny plain Starlette
app (parse the JSON body, answer a JSON object) with uvicorn and the same worker count, loads it
the same way, and prints tickets/s, p50/p99 latency and the ratio window_service ÷ plain.
After each run it checks the numbers in the database: no duplicate, no gap.

The load generator is ``wrk`` (apt package ``wrk``) with a Lua script; it runs on the same
machine, loopback only, and competes with the server for the CPU (state the core count when
quoting figures). Without wrk it falls back to a small asyncio HTTP/1.1 keep-alive client in
two processes, which is slower and takes more CPU from the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-pass-123"
KIOSK_KEY = "bench-kiosk-key-0123456789"
SERVICES = ["hukou", "budongchan", "qiye", "shebao", "shuiwu"]
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")

# --- the plain Starlette app (served by uvicorn as "issue:plain_app") ---------------------
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402
from starlette.routing import Route  # noqa: E402

_plain_counter = 0


async def _plain_issue(request: Request) -> JSONResponse:
    global _plain_counter
    body = await request.json()
    _plain_counter += 1
    return JSONResponse({"number": f"A{_plain_counter:03d}", "service": body.get("service")}, 201)


async def _plain_health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


plain_app = Starlette(
    routes=[
        Route("/api/v1/halls/demo/tickets", _plain_issue, methods=["POST"]),
        Route("/healthz", _plain_health, methods=["GET"]),
    ]
)

# --- load generation ----------------------------------------------------------------------
WRK_SCRIPT = """
local services = {"hukou", "budongchan", "qiye", "shebao", "shuiwu"}
local reqs = {}
local i = 0
init = function(args)
  for k, s in ipairs(services) do
    reqs[k] = wrk.format("POST", "/api/v1/halls/demo/tickets",
      {["Content-Type"] = "application/json", ["X-Device-Key"] = os.getenv("BENCH_KEY")},
      '{"service":"' .. s .. '"}')
  end
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"non2xx":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass
class Result:
    requests: int
    seconds: float
    failed: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return (self.requests - self.failed) / self.seconds


def run_wrk(url: str, seconds: float, clients: int, script: Path) -> Result:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{clients}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "BENCH_KEY": KIOSK_KEY},
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    data = json.loads(line[len("RESULT ") :])
    return Result(
        data["requests"],
        data["duration_us"] / 1e6,
        data["non2xx"] + data["errors"],
        data["p50_us"] / 1000,
        data["p99_us"] / 1000,
    )


async def _py_client(
    host: str, port: int, deadline: float, lat: list[float], fails: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.monotonic() < deadline:
            body = json.dumps({"service": SERVICES[i % len(SERVICES)]}).encode()
            i += 1
            head = (
                f"POST /api/v1/halls/demo/tickets HTTP/1.1\r\nHost: {host}\r\n"
                f"Content-Type: application/json\r\nX-Device-Key: {KIOSK_KEY}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            start = time.perf_counter()
            writer.write(head + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            lat.append(time.perf_counter() - start)
            if not status_line.split()[1].startswith(b"2"):
                fails[0] += 1
    finally:
        writer.close()


def _py_worker(url: str, seconds: float, clients: int, queue: Any) -> None:
    host, port = url.split("//")[1].split(":")
    lat: list[float] = []
    fails = [0]

    async def main() -> None:
        deadline = time.monotonic() + seconds
        await asyncio.gather(
            *(_py_client(host, int(port), deadline, lat, fails) for _ in range(clients))
        )

    asyncio.run(main())
    queue.put((lat, fails[0]))


def run_python(url: str, seconds: float, clients: int) -> Result:
    queue: Any = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_py_worker, args=(url, seconds, clients // 2, queue))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    lat: list[float] = []
    fails = 0
    for _ in procs:
        part, f = queue.get()
        lat += part
        fails += f
    for p in procs:
        p.join()
    lat.sort()
    return Result(
        len(lat),
        seconds,
        fails,
        statistics.median(lat) * 1000,
        lat[int(len(lat) * 0.99) - 1] * 1000,
    )


def load(url: str, seconds: float, clients: int, script: Path) -> Result:
    if shutil.which("wrk"):
        return run_wrk(url, seconds, clients, script)
    return run_python(url, seconds, clients)


# --- servers ------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server did not start")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def service_env(db_url: str, var_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "WINDOW_SERVICE_DATABASE_URL": db_url,
        "WINDOW_SERVICE_VAR_DIR": str(var_dir),
        "WINDOW_SERVICE_SECRET_KEY": "bench-secret-key",
        "WINDOW_SERVICE_AUDIT_KEY": "bench-audit-key-not-for-production",
    }


def measure_window_service(
    db_url: str, var_dir: Path, workers: int, args: argparse.Namespace, script: Path
) -> Result:
    env = service_env(db_url, var_dir)
    cli = [sys.executable, "-m", "window_service"]
    subprocess.run(
        [*cli, "demo", "--password", PASSWORD, "--device-key", KIOSK_KEY],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = open(var_dir / "server.log", "ab")
    proc = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        load(url, args.warmup, args.clients, script)
        return load(url, args.seconds, args.clients, script)
    finally:
        stop(proc)
        log.close()


def measure_plain(workers: int, args: argparse.Namespace, script: Path) -> Result:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--app-dir",
            str(Path(__file__).parent),
            "issue:plain_app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        load(url, args.warmup, args.clients, script)
        return load(url, args.seconds, args.clients, script)
    finally:
        stop(proc)


async def check_numbers(db_url: str) -> str:
    """No duplicate and no gap per prefix: the count equals the highest number."""
    from sqlalchemy import text

    from window_service.db import create_database

    db = create_database(db_url)
    try:
        async with db.read() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT prefix, business_day, count(*), count(DISTINCT seq_no), max(seq_no) "
                        "FROM ticket GROUP BY prefix, business_day ORDER BY prefix"
                    )
                )
            ).all()
    finally:
        await db.dispose()
    total = sum(r[2] for r in rows)
    ok = all(r[2] == r[3] == r[4] for r in rows)
    return f"{total} tickets in the database, numbers {'gap-free and unique' if ok else 'BROKEN'}"


def pg_admin(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    generator = "wrk (2 threads)" if shutil.which("wrk") else "asyncio HTTP client (2 processes)"
    print(
        f"issue benchmark: {args.clients} concurrent clients, {args.seconds:g} s per measurement, "
        f"load generator {generator} on the same machine ({os.cpu_count()} cores), loopback"
    )
    rows = []
    with tempfile.TemporaryDirectory(prefix="ws-bench-") as tmp:
        script = Path(tmp) / "issue.lua"
        script.write_text(WRK_SCRIPT)
        if args.only in (None, "sqlite"):
            var = Path(tmp) / "sqlite"
            var.mkdir()
            url = f"sqlite+aiosqlite:///{var / 'bench.db'}"
            ws = measure_window_service(url, var, 1, args, script)
            check = asyncio.run(check_numbers(url))
            plain = measure_plain(1, args, script)
            rows.append(("SQLite", 1, ws, plain, check))
        if args.only in (None, "postgresql"):
            name = f"ws_bench_{uuid.uuid4().hex[:8]}"
            try:
                pg_admin(f'CREATE DATABASE "{name}"')
            except OSError as exc:
                print(f"PostgreSQL not reachable ({exc}); skipped")
            else:
                var = Path(tmp) / "pg"
                var.mkdir()
                url = (
                    PG_ADMIN.replace("postgresql://", "postgresql+asyncpg://").rsplit("/", 1)[0]
                    + f"/{name}"
                )
                try:
                    ws = measure_window_service(url, var, 2, args, script)
                    check = asyncio.run(check_numbers(url))
                finally:
                    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                plain = measure_plain(2, args, script)
                rows.append(("PostgreSQL", 2, ws, plain, check))
    print()
    print(
        f"{'database':<11}{'workers':>8}{'tickets/s':>11}{'p50 ms':>8}{'p99 ms':>8}{'failed':>8}"
        f"{'plain req/s':>13}{'p50 ms':>8}{'p99 ms':>8}{'ratio':>7}"
    )
    for label, workers, ws, plain, _check in rows:
        print(
            f"{label:<11}{workers:>8}{ws.rate:>11.0f}{ws.p50_ms:>8.1f}{ws.p99_ms:>8.1f}{ws.failed:>8}"
            f"{plain.rate:>13.0f}{plain.p50_ms:>8.1f}{plain.p99_ms:>8.1f}{ws.rate / plain.rate:>7.2f}"
        )
    for label, _w, _ws, _p, check in rows:
        print(f"{label}: {check}")
    print(
        "targets: ratio >= 0.12 on SQLite (aim 0.15); >= 1500 tickets/s and p99 <= 50 ms on "
        "PostgreSQL (2 workers)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
