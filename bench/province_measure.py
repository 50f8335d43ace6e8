"""The measurements of ``bench/province.py`` on copies of its template databases."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psutil
import websockets
from province import (
    AUDIT_KEY,
    KIOSK_KEY,
    PASSWORD,
    ROOT,
    admin,
    caught_up,
    copy_of,
    load_average,
    service_env,
    url,
)
from province_data import business_days, device_key, hall_code

from window_service.migrate import upgrade

API = "/api/v1"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def ms(values: list[float]) -> str:
    return f"p50 {pct(values, 50) * 1000:7.1f} ms  p99 {pct(values, 99) * 1000:7.1f} ms  (n={len(values)})"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, database: str, var_dir: Path) -> None:
        self.database = database
        #: whether the province region and its office account exist (region_comparison)
        self.region_made = False
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        var_dir.mkdir(parents=True, exist_ok=True)
        self.log = open(var_dir / "server.log", "ab")
        env = {**os.environ, **service_env(database), "WINDOW_SERVICE_VAR_DIR": str(var_dir)}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "window_service",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    async def healthy(self) -> None:
        deadline = time.monotonic() + 90
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with {self.proc.returncode}")
                try:
                    if (await http.get(f"{self.url}/healthz", timeout=1)).status_code == 200:
                        await asyncio.sleep(1.0)  # both workers up
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
        raise RuntimeError("server did not start")

    def rss(self) -> dict[int, float]:
        root = psutil.Process(self.proc.pid)
        out = {}
        for p in [root, *root.children(recursive=True)]:
            try:
                out[p.pid] = p.memory_info().rss / 2**20
            except psutil.Error:
                pass
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


async def token(http: httpx.AsyncClient, username: str) -> dict[str, str]:
    r = await http.post(f"{API}/auth/token", json={"username": username, "password": PASSWORD})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def services_of(http: httpx.AsyncClient, code: str) -> list[str]:
    r = await http.get(f"{API}/halls/{code}/services")
    r.raise_for_status()
    return [s["code"] for s in r.json()]


async def hot_paths(server: Server, samples: int) -> dict[str, list[float]]:
    """Issue, call-next (then 过号, untimed) and display snapshot latency in hall p01."""
    code = hall_code(1)
    out: dict[str, list[float]] = {"issue": [], "call-next": [], "snapshot": []}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        services = await services_of(http, code)
        kiosk = {"X-Device-Key": device_key(KIOSK_KEY, code)}
        for i in range(samples):
            t = time.perf_counter()
            r = await http.post(
                f"{API}/halls/{code}/tickets",
                json={"service": services[i % len(services)]},
                headers=kiosk,
            )
            out["issue"].append(time.perf_counter() - t)
            r.raise_for_status()
        windows = (await http.get(f"{API}/halls/{code}/windows")).json()
        staff = [(w["id"], await token(http, f"{code}-w{w['number']}")) for w in windows[:8]]
        for i in range(samples):
            window_id, headers = staff[i % len(staff)]
            t = time.perf_counter()
            r = await http.post(f"{API}/windows/{window_id}/call-next", headers=headers)
            out["call-next"].append(time.perf_counter() - t)
            if r.status_code == 200:
                await http.post(f"{API}/tickets/{r.json()['id']}/no-show", headers=headers)
    ws_url = server.url.replace("http", "ws") + f"/ws/halls/{code}/display"
    for _ in range(samples):
        t = time.perf_counter()
        async with websockets.connect(ws_url) as ws:
            await ws.recv()
            out["snapshot"].append(time.perf_counter() - t)
    return out


async def _issuer(
    host: str, port: int, halls: list[tuple[str, str, list[str]]], deadline: float, done: list[int]
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    i = 0
    try:
        while time.monotonic() < deadline:
            code, key, services = halls[i % len(halls)]
            body = json.dumps({"service": services[i % len(services)]}).encode()
            i += 1
            writer.write(
                f"POST {API}/halls/{code}/tickets HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"X-Device-Key: {key}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            await reader.readexactly(length)
            if status.split()[1].startswith(b"2"):
                done[0] += 1
            else:
                done[1] += 1
    finally:
        writer.close()


async def issuing_rate(
    server: Server, halls: list[str], clients: int, seconds: float
) -> tuple[float, int]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        targets = [(c, device_key(KIOSK_KEY, c), await services_of(http, c)) for c in halls]
    warm = [0, 0]
    end = time.monotonic() + min(2.0, seconds / 3)
    await asyncio.gather(
        *(_issuer("127.0.0.1", server.port, targets, end, warm) for _ in range(clients))
    )
    done = [0, 0]
    deadline = time.monotonic() + seconds
    t = time.monotonic()
    await asyncio.gather(
        *(
            _issuer(
                "127.0.0.1",
                server.port,
                [targets[k % len(targets)]],  # a kiosk belongs to one hall
                deadline,
                done,
            )
            for k in range(clients)
        )
    )
    return done[0] / (time.monotonic() - t), done[1]


REGION = "610000"
#: CPU seconds of this process in the last verify (full: False; since the anchor: True): on a
#: machine shared with other work, wall time mostly measures the wait for a core.
VERIFY_CPU: dict[bool, float] = {}


def _cli(server: Server, *args: str, stdin: str = "") -> None:
    result = subprocess.run(
        [sys.executable, "-m", "window_service", *args],
        input=stdin,
        env={**os.environ, **service_env(server.database)},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"window-service {' '.join(args)}: {result.stderr.strip()}")


async def region_comparison(
    server: Server, http: httpx.AsyncClient, halls: int, month: str, samples: int
) -> list[float]:
    """The region's comparison of every hall for a month (``GET /regions/{r}/comparison``)
    as a province's office asks it; the region and its account made with the CLI (once)."""
    if not server.region_made:
        await make_region_office(server, halls)
        server.region_made = True
    headers = await token(http, "province-office")
    times = []
    for _ in range(samples):
        t = time.perf_counter()
        r = await http.get(
            f"{API}/regions/{REGION}/comparison", params={"period": month}, headers=headers
        )
        times.append(time.perf_counter() - t)
        r.raise_for_status()
    return times


async def make_region_office(server: Server, halls: int) -> None:
    """The province region over every hall, and its office's account."""
    await asyncio.to_thread(
        _cli, server, "region", "add", REGION, "--name", "示范省", "--level", "province"
    )
    await asyncio.to_thread(
        _cli, server, "region", "assign", REGION, *[hall_code(n) for n in range(1, halls + 1)]
    )
    await asyncio.to_thread(
        _cli,
        server,
        "user",
        "add",
        "province-office",
        "--role",
        "region_inspector",
        "--region",
        REGION,
        stdin=PASSWORD + "\n",
    )


async def office(
    server: Server, halls: int, month: str, quarter: str, samples: int
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as http:
        tokens = [await token(http, f"{hall_code(n)}-office") for n in range(1, halls + 1)]
        one: list[float] = []
        for _ in range(samples):
            t = time.perf_counter()
            r = await http.get(
                f"{API}/halls/{hall_code(1)}/stats", params={"period": month}, headers=tokens[0]
            )
            one.append(time.perf_counter() - t)
            r.raise_for_status()
        out["stats"] = one
        paths = (await http.get(f"{API}/openapi.json")).json().get("paths", {})
        out["region_paths"] = [p for p in paths if "region" in p]
        if (
            f"{API}/regions/{{region}}/comparison" in paths
            or "/regions/{region}/comparison" in paths
        ):
            out["region"] = await region_comparison(server, http, halls, month, samples)
        t = time.perf_counter()
        for n in range(halls):
            (
                await http.get(
                    f"{API}/halls/{hall_code(n + 1)}/stats",
                    params={"period": month},
                    headers=tokens[n],
                )
            ).raise_for_status()
        out["region_fallback"] = time.perf_counter() - t
        t = time.perf_counter()
        for n in range(halls):
            (
                await http.get(
                    f"{API}/halls/{hall_code(n + 1)}/ratings",
                    params={"period": quarter},
                    headers=tokens[n],
                )
            ).raise_for_status()
        out["stars"] = time.perf_counter() - t
    return out


async def verify(database: str, since_anchor: bool = False) -> tuple[float, int, str]:
    """``audit verify`` (what the command runs, in this process: the interpreter's start is
    not the verify's time) over the copy; its seconds, records and verdict line. The CPU
    noted is this process's (the chains); the second process checks the rows meanwhile."""
    from window_service.audit.progress import Progress
    from window_service.audit.verify import verify_command
    from window_service.cli import load_every_table

    out = io.StringIO()
    cpu = time.process_time()
    t = time.perf_counter()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = await verify_command(
            url(database),
            key=AUDIT_KEY.encode(),
            since_anchor=since_anchor,
            progress=Progress(sys.__stdout__),
            jobs=2,  # the command's default: the current rows in a second process
            prepare=load_every_table,
        )
    seconds = time.perf_counter() - t
    VERIFY_CPU[since_anchor] = time.process_time() - cpu
    text = out.getvalue().strip()
    found = re.search(r"(\d+) records", text)
    return seconds, int(found.group(1)) if found else 0, (text.splitlines() or [f"exit {code}"])[-1]


async def measure(args: argparse.Namespace, templates: tuple[str, str]) -> int:
    full, empty = templates
    history_end = datetime.now(UTC).date()
    days = business_days(history_end, args.days)
    last = days[-1]
    month_day = (
        last.replace(day=1) - timedelta(days=1)
        if len([d for d in days if d.month == last.month]) < 15
        else last
    )
    month = f"{month_day.year}-{month_day.month:02d}"
    quarter = f"{last.year}-Q{(last.month - 1) // 3 + 1}"
    halls = [hall_code(n) for n in range(1, args.halls + 1)]
    var = Path(f"/tmp/province-{os.getpid()}")
    hot: dict[str, dict[str, list[float]]] = {}
    rates: dict[str, tuple[float, int]] = {}
    #: per copy, the RSS of each server process after each phase (the first: at start)
    memory: dict[str, list[tuple[str, dict[int, float]]]] = {}
    figures: dict[str, Any] = {}
    verified: dict[str, tuple[float, int, str]] = {}
    for label, template in (("empty", empty), ("history", full)):
        database = await copy_of(template, label)
        try:
            # Migrations added since the template was built (indexes) apply to the copy.
            t = time.perf_counter()
            await asyncio.to_thread(upgrade, url(database))
            print(
                f"{label}: copied {template}, migrated to head in {time.perf_counter() - t:.1f} s"
            )
            # The copy's housekeeping caught up, as in a hall that has been running: the
            # case watch over the days since the build and, at night, the night's warnings
            # (claimed once for the database, so the servers skip them). Otherwise the hot
            # paths measured at night measured one process reading 20 quarters meanwhile.
            t = time.perf_counter()
            await caught_up(database)
            print(f"{label}: housekeeping caught up in {time.perf_counter() - t:.1f} s")
            server = Server(database, var / label)
            try:
                await server.healthy()
                memory[label] = [("start", server.rss())]
                hot[label] = await hot_paths(server, args.samples)
                rates[
                    f"{label}: {args.clients} clients over {len(halls)} halls"
                ] = await issuing_rate(server, halls, args.clients, args.seconds)
                rates[f"{label}: {args.clients} clients on one hall"] = await issuing_rate(
                    server, halls[:1], args.clients, args.seconds
                )
                memory[label].append(("hot paths and issuing", server.rss()))
                if label == "history":
                    figures = await office(
                        server, args.halls, month, quarter, max(20, args.samples // 10)
                    )
                    memory[label].append(("office", server.rss()))
                    # The same office work again: a process that grows with what it has
                    # served grows again; one that keeps its high-water mark stays.
                    await office(server, args.halls, month, quarter, max(20, args.samples // 10))
                    memory[label].append(("office again", server.rss()))
            finally:
                server.stop()
            if label == "history":
                # After the load: the records the bench itself wrote follow the last anchors.
                verified["since-anchor"] = await verify(database, since_anchor=True)
                verified["full"] = await verify(database)
        finally:
            await admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    print(f"\nload average at the end: {load_average()} ({os.cpu_count()} cores)")
    print("\nhot paths (hall p01, sequential requests):")
    for what in ("issue", "call-next", "snapshot"):
        for label in ("empty", "history"):
            print(f"  {what:<10} {label:<8} {ms(hot[label][what])}")
    print("\nissuing (aggregate tickets/s):")
    for what, (rate, failed) in rates.items():
        print(f"  {what:<45} {rate:8.1f}/s" + (f"  ({failed} failed)" if failed else ""))
    print(f"\noffice (history; month {month}, quarter {quarter}):")
    print(f"  statistics of one hall-month           {ms(figures['stats'])}   goal p99 ≤ 300 ms")
    if "region" in figures:
        print(f"  region comparison, {args.halls} halls      {ms(figures['region'])}   goal ≤ 2 s")
    else:
        print(f"  no region comparison endpoint; region endpoints: {figures['region_paths']}")
    print(
        f"  (the same as {args.halls} calls of the halls' statistics: {figures['region_fallback']:.2f} s)"
    )
    print(f"  a quarter's stars, {args.halls} halls        {figures['stars']:.2f} s   goal ≤ 10 s")
    print("\naudit verify:")
    seconds, records, line = verified["full"]
    print(
        f"  whole history: {records:,} records in {seconds:.1f} s = {records / seconds:,.0f} records/s   goal ≥ 50,000/s"
    )
    print(
        f"    (this process's CPU, the chains: {VERIFY_CPU[False]:.1f} s; the rows were checked in a second process meanwhile)"
    )
    print(f"    {line}")
    seconds, records, line = verified["since-anchor"]
    print(
        f"  since the last anchor: {records:,} records (those this bench wrote) in {seconds:.2f} s   goal ≤ 1 s"
    )
    print(f"    {line}")
    print("\nmemory (RSS MiB of each server process, after each phase):")
    for label, phases in memory.items():
        print(f"  {label}: " + " → ".join(phase for phase, _ in phases))
        for pid in phases[0][1]:
            print(f"    pid {pid}: " + " → ".join(f"{rss.get(pid, 0):.0f}" for _, rss in phases))
    return 0


__all__ = ["date", "measure"]
