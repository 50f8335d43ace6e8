"""Display fan-out benchmark: call → display latency and memory per idle display socket.

    .venv/bin/python bench/display.py [--quick] [--idle 2000,5000,10000] [--skip-pg]

What it does (loopback only, bounded, creates and drops its own databases):

1. SQLite, one ``window-service serve`` process: 200 and then 1,000 display sockets; window 1
   calls (call-next, then recalls, then no-show, repeatedly); for every call the time from the
   call-next/recall HTTP response to each display receiving the call message.
2. PostgreSQL, two server processes on one database: calls through process A, 1,000 displays
   connected to process B (LISTEN/NOTIFY fan-out).
3. Memory: RSS of a fresh server process before and after opening N idle display sockets.

The displays (minimal raw websocket clients, no task per socket) and the timing run in this
process, which competes with the server(s) for the machine's cores; figures therefore include
the clients' own scheduling delay, and whatever else runs on the machine (the load average is
printed). Latency is measured with ``time.perf_counter`` in this process: "after response" is
from the call-next/recall HTTP response to the message; "after request" from just before
sending the request. In one process the server puts the call in every socket's buffer at
COMMIT and the socket tasks run before the handler writes its response, so the displays
usually have the call *before* the staff terminal has its answer ("after response" ≤ 0); the
end-to-end figure is "after request" (it includes the call-next request itself).
Targets: p99 ≤ 50 ms at 1,000 displays, in one process and across two (issue 18); 10,000 idle
sockets in 1 GiB.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from window_service.chain import AuditKey  # noqa: E402
from window_service.db import create_database  # noqa: E402
from window_service.migrate import upgrade  # noqa: E402
from window_service.seed import seed_demo  # noqa: E402

PASSWORD = "bench-pass-123"
KIOSK_KEY = "bench-kiosk-key-0123456789"
BENCH_AUDIT_KEY = "bench-audit-key-not-for-production"
PG_ADMIN = os.environ.get("BENCH_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def raise_fd_limit() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_ms(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws/halls/demo/display"

    def stop(self) -> None:
        if self.process.poll() is None:
            # SIGINT lets a profiled server write its stats (uvicorn re-raises the signal).
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


#: How to run the server: "serve" (window-service serve, as deployed) or "uvicorn:<ws>:<deflate>"
#: to compare uvicorn's websocket implementations and per-message deflate.
SERVER_MODE = "serve"


#: With --profile, the (first) server runs under cProfile and writes its stats here.
PROFILE = ""


def server_command(port: int) -> list[str]:
    global PROFILE
    python = [sys.executable, "-m"]
    if PROFILE and SERVER_MODE == "serve":
        code = "import cProfile,sys;from window_service.cli import main;"
        code += f"cProfile.run('main(sys.argv[1:])', {PROFILE!r})"
        python = [sys.executable, "-c", code]
        rest = ["serve", "--port", str(port), "--log-level", "warning"]
        PROFILE = ""
        return [*python, *rest]
    if SERVER_MODE == "serve":
        return [*python, "window_service", "serve", "--port", str(port), "--log-level", "warning"]
    _, ws, deflate = SERVER_MODE.split(":")
    return [
        *python,
        *("uvicorn", "window_service.asgi:app", "--port", str(port), "--log-level=warning"),
        *(f"--ws={ws}", f"--ws-per-message-deflate={deflate}"),
        *("--ws-ping-interval=20", "--ws-ping-timeout=20"),
    ]


def start_server(db_url: str, var_dir: Path, extra_env: dict[str, str] | None = None) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "WINDOW_SERVICE_DATABASE_URL": db_url,
        "WINDOW_SERVICE_SECRET_KEY": "bench-secret-key-not-for-production",
        "WINDOW_SERVICE_AUDIT_KEY": BENCH_AUDIT_KEY,
        "WINDOW_SERVICE_VAR_DIR": str(var_dir),
        **(extra_env or {}),
    }
    log = open(var_dir / f"server-{port}.log", "ab")
    process = subprocess.Popen(
        server_command(port),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    server = Server(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((var_dir / f"server-{port}.log").read_text()[-2000:])
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("server did not start")


async def seed(url: str, var_dir: Path) -> None:
    await asyncio.to_thread(upgrade, url, audit_key=BENCH_AUDIT_KEY.encode())
    db = create_database(url, audit_key=AuditKey(BENCH_AUDIT_KEY.encode()))
    try:
        await seed_demo(
            db, timezone="Asia/Shanghai", var_dir=var_dir, password=PASSWORD, device_key=KIOSK_KEY
        )
    finally:
        await db.dispose()


def pg_dsn(url: str, database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


# -- displays -----------------------------------------------------------------------------
@dataclass
class Sample:
    expected: int
    times: list[float] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class RawDisplay(asyncio.Protocol):
    """A minimal websocket client (no task per socket): the load generator must stay light.

    It does the opening handshake, answers pings, and timestamps call messages as the bytes
    arrive; everything else is read and dropped.
    """

    def __init__(self, owner: Displays, path: str, host: str) -> None:
        self.owner = owner
        self.request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            # What Chromium offers: the server decides whether messages are compressed.
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self.buffer = bytearray()
        self.upgraded = False
        self.first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.inflater: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.first.done():
            self.first.set_exception(ConnectionError("closed before the snapshot"))
        else:
            self.owner.errors += 1

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        buf = self.buffer
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.first.set_exception(ConnectionError(bytes(buf[:40]).decode("latin-1")))
                return
            self.owner.compressed = b"permessage-deflate" in bytes(buf[:end]).lower()
            del buf[: end + 4]
            self.upgraded = True
        while len(buf) >= 2:
            buf_flags, opcode, length, pos = buf[0], buf[0] & 0x0F, buf[1] & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, pos = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, pos = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < pos + length:
                return
            payload = bytes(buf[pos : pos + length])
            del buf[: pos + length]
            if buf_flags & 0x40:  # RSV1: permessage-deflate
                if self.inflater is None:
                    self.inflater = zlib.decompressobj(-15)
                payload = self.inflater.decompress(payload + b"\x00\x00\xff\xff")
            if opcode == 0x1:
                if not self.first.done():
                    self.first.set_result(None)
                elif payload.startswith(b'{"type":"call"'):
                    self.owner.arrived(now)
            elif opcode == 0x9 and self.transport is not None:  # ping → pong (zero mask)
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + bytes(4) + payload)
            elif opcode == 0x8 and self.transport is not None:
                self.transport.close()


class Displays:
    """N display sockets in this process, timing each call message's arrival."""

    def __init__(self) -> None:
        self.sockets: list[RawDisplay] = []
        self.sample: Sample | None = None
        self.errors = 0
        self.compressed = False
        #: Duration (ms) of each call-next/recall request of the last measurement.
        self.requests: list[float] = []
        #: For each call, when its last display had it (ms after the request).
        self.sample_max: list[float] = []
        #: The same for the first call of a measurement, which is not counted.
        self.warm_up = float("nan")

    def arrived(self, now: float) -> None:
        sample = self.sample
        if sample is not None:
            sample.times.append(now)
            if len(sample.times) >= sample.expected:
                sample.done.set()

    async def open(self, url: str, count: int, *, concurrency: int = 100) -> None:
        parts = urlsplit(url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        gate = asyncio.Semaphore(concurrency)
        loop = asyncio.get_running_loop()

        async def one() -> None:
            async with gate:
                for attempt in range(5):
                    try:
                        _, protocol = await loop.create_connection(
                            lambda: RawDisplay(self, parts.path, parts.netloc), host, port
                        )
                        await asyncio.wait_for(protocol.first, 60)
                        break
                    except (OSError, TimeoutError):
                        if attempt == 4:
                            raise
                        await asyncio.sleep(0.5)
                self.sockets.append(protocol)

        await asyncio.gather(*(one() for _ in range(count)))

    async def close(self) -> None:
        for display in self.sockets:
            if display.transport is not None:
                display.transport.close()
        self.sockets.clear()
        await asyncio.sleep(0.5)


async def staff(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await http.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def measure_calls(
    caller: httpx.AsyncClient, displays: Displays, samples: int
) -> tuple[list[float], list[float], int]:
    """Call window 1 ``samples`` times; latencies (ms) after response and after request."""
    headers = await staff(caller, "w1")
    tickets = samples // 5 + 2
    for _ in range(tickets):
        r = await caller.post(
            "/api/v1/halls/demo/tickets",
            json={"service": "hukou"},
            headers={"X-Device-Key": KIOSK_KEY},
        )
        r.raise_for_status()
    await asyncio.sleep(0.5)
    after_response: list[float] = []
    after_request: list[float] = []
    displays.requests = []
    displays.sample_max = []
    missing = 0
    taken = 0
    ticket_id = None
    recalls = 0
    warm_up = True
    n = len(displays.sockets)
    while taken < samples:
        if ticket_id is None:
            path = "/api/v1/windows/1/call-next"
        else:
            path = "/api/v1/windows/1/recall"
        sample = Sample(n)
        displays.sample = sample
        t_req = time.perf_counter()
        r = await caller.post(path, headers=headers)
        t_resp = time.perf_counter()
        r.raise_for_status()
        if ticket_id is None:
            ticket_id = r.json()["id"]
        try:
            await asyncio.wait_for(sample.done.wait(), 20)
        except TimeoutError:
            missing += n - len(sample.times)
        displays.sample = None
        if warm_up:
            # The server's first call compiles its statements and fills its caches: timed and
            # printed, not counted (a hall's server answers thousands of calls a day).
            displays.warm_up = (max(sample.times, default=t_req) - t_req) * 1000
            warm_up = False
        else:
            after_response.extend((t - t_resp) * 1000 for t in sample.times)
            after_request.extend((t - t_req) * 1000 for t in sample.times)
            displays.requests.append((t_resp - t_req) * 1000)
            if sample.times:
                displays.sample_max.append((max(sample.times) - t_req) * 1000)
            taken += 1
        if path.endswith("call-next"):
            recalls = 0
        else:
            recalls += 1
        if recalls >= 4:
            no_show = await caller.post(f"/api/v1/tickets/{ticket_id}/no-show", headers=headers)
            no_show.raise_for_status()
            ticket_id = None
        await asyncio.sleep(0.05)
    if ticket_id is not None:  # leave window 1 free for the next measurement
        no_show = await caller.post(f"/api/v1/tickets/{ticket_id}/no-show", headers=headers)
        no_show.raise_for_status()
    return after_response, after_request, missing


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def report(
    label: str,
    after_resp: list[float],
    after_req: list[float],
    missing: int,
    requests: list[float],
    sample_max: list[float] | None = None,
    warm_up: float = float("nan"),
    cpu: float = float("nan"),
) -> None:
    print(
        f"  {label:<44} after response p50 {pct(after_resp, 50):6.1f} ms  p99 {pct(after_resp, 99):6.1f} ms"
        f"  max {max(after_resp, default=float('nan')):6.1f}"
        f" | after request p50 {pct(after_req, 50):6.1f}  p99 {pct(after_req, 99):6.1f}"
        f" | {len(after_resp)} deliveries, {missing} missing"
        f" | call request p50 {pct(requests, 50):.1f} max {max(requests, default=0):.1f} ms",
        flush=True,
    )
    if sample_max:
        print(
            f"  {'':<44} last display of a call: p50 {pct(sample_max, 50):.1f} ms,"
            f" calls over 50 ms: {sum(m > 50 for m in sample_max)} of {len(sample_max)},"
            f" over 100 ms: {sum(m > 100 for m in sample_max)}"
            f" (warm-up call, not counted: {warm_up:.1f} ms)",
            flush=True,
        )
    if cpu == cpu:
        # Less sensitive to a busy machine than the latencies: what the fan-out costs.
        print(
            f"  {'':<44} CPU of the displays' server per call: {cpu:.1f} ms"
            " (with its share of issuing the tickets called)",
            flush=True,
        )


# -- scenarios ----------------------------------------------------------------------------
@contextmanager
def sqlite_db(root: Path) -> Iterator[str]:
    path = root / "bench.db"
    yield f"sqlite+aiosqlite:///{path}"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def latency_one_process(
    root: Path, counts: list[int], samples: int, env: dict[str, str]
) -> None:
    with sqlite_db(root) as url:
        await seed(url, root)
        server = start_server(url, root, env)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
                for count in counts:
                    displays = Displays()
                    await displays.open(server.ws, count)
                    await asyncio.sleep(1.0)
                    cpu = cpu_ms(server.process.pid)
                    resp, req, missing = await measure_calls(http, displays, samples)
                    cpu = (cpu_ms(server.process.pid) - cpu) / (samples + 1)
                    label = f"SQLite, 1 process, {count} displays"
                    report(
                        label + (" (deflate)" if displays.compressed else ""),
                        resp,
                        req,
                        missing,
                        displays.requests,
                        displays.sample_max,
                        displays.warm_up,
                        cpu,
                    )
                    await displays.close()
                    await asyncio.sleep(1.0)
        finally:
            server.stop()


async def latency_two_processes(root: Path, count: int, samples: int, env: dict[str, str]) -> None:
    name = f"bench_display_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = await asyncpg.connect(pg_dsn(PG_ADMIN))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    from sqlalchemy.engine import make_url

    url = make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        await seed(url, root)
        a = start_server(url, root, env)
        b = start_server(url, root, env)
        try:
            async with httpx.AsyncClient(base_url=a.url, timeout=60) as http:
                displays = Displays()
                await displays.open(b.ws, count)
                await asyncio.sleep(1.0)
                cpu = cpu_ms(b.process.pid)
                resp, req, missing = await measure_calls(http, displays, samples)
                cpu = (cpu_ms(b.process.pid) - cpu) / (samples + 1)
                report(
                    f"PostgreSQL, call on A, {count} displays on B",
                    resp,
                    req,
                    missing,
                    displays.requests,
                    displays.sample_max,
                    displays.warm_up,
                    cpu,
                )
                await displays.close()
        finally:
            a.stop()
            b.stop()
    finally:
        admin = await asyncpg.connect(pg_dsn(PG_ADMIN))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def idle_memory(root: Path, steps: list[int], env: dict[str, str]) -> None:
    with sqlite_db(root) as url:
        await seed(url, root)
        server = start_server(url, root, env)
        try:
            displays = Displays()
            await displays.open(server.ws, 20)  # warm up code paths and caches
            await displays.close()
            await asyncio.sleep(1.0)
            base = rss_mib(server.process.pid)
            print(f"  server RSS with no display: {base:.1f} MiB", flush=True)
            opened = 0
            for target in steps:
                t0 = time.monotonic()
                await displays.open(server.ws, target - opened, concurrency=200)
                opened = target
                await asyncio.sleep(2.0)
                rss = rss_mib(server.process.pid)
                print(
                    f"  {opened:>6} idle sockets: RSS {rss:7.1f} MiB, +{rss - base:6.1f} MiB,"
                    f" {(rss - base) * 1024 / opened:5.1f} KiB per socket"
                    f" (opened in {time.monotonic() - t0:.1f} s; bench process"
                    f" {rss_mib(os.getpid()):.0f} MiB)"
                    + (" (deflate)" if displays.compressed else ""),
                    flush=True,
                )
            await displays.close()
        finally:
            server.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and sockets")
    parser.add_argument("--idle", default="2000,5000,10000")
    parser.add_argument("--counts", default="200,1000")
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--skip-pg", action="store_true")
    parser.add_argument("--profile", default="", help="write the server's cProfile stats here")
    parser.add_argument("--skip-latency", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument(
        "--server",
        default="serve",
        help='"serve" (default) or "uvicorn:<websockets|websockets-sansio|wsproto>:<true|false>"',
    )
    args = parser.parse_args()
    # The displays are this process: its own garbage-collector pauses would show up as
    # display latency. The run is bounded, and what it allocates is freed by reference
    # counting, so the cyclic collector stays off here (the server keeps its own).
    gc.collect()
    gc.disable()
    limit = raise_fd_limit()
    samples = 10 if args.quick else args.samples
    counts = [int(c) for c in args.counts.split(",")]
    idle = [int(n) for n in args.idle.split(",")]
    if args.quick:
        idle = [min(n, 1000) for n in idle[:1]]
    idle = [n for n in idle if n < limit - 100]
    global SERVER_MODE, PROFILE
    SERVER_MODE = args.server
    PROFILE = args.profile
    env: dict[str, str] = {}
    print(
        f"display fan-out benchmark: {os.cpu_count()} cores, open files limit {limit},"
        f" server {SERVER_MODE}, load average {os.getloadavg()[0]:.1f}"
    )
    root = Path(tempfile.mkdtemp(prefix="bench-display-"))
    try:
        if not args.skip_latency:
            print("call → display latency (clients and timing in this process):", flush=True)
            await latency_one_process(root, counts, samples, env)
            if not args.skip_pg:
                await latency_two_processes(root, max(counts), samples, env)
        if not args.skip_memory:
            print("memory per idle display socket (server RSS):", flush=True)
            await idle_memory(root, idle, env)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
