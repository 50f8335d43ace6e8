"""Prometheus metrics: counters move with committed work; gauges tell the truth of the database."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tests.support.client import issue, login
from tests.support.server import start_server


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in the Prometheus text format (0 when absent)."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_metrics_follow_the_hall(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics")).text
    issued = sample(before, "window_service_tickets_issued_total", hall="demo", prefix="A")
    calls = sample(before, "window_service_calls_total", hall="demo", recall="false")

    await issue(client, "hukou")
    await issue(client, "hukou")
    await issue(client, "qiye")
    w1 = await login(client, "w1")
    assert (await client.post("/api/v1/windows/1/call-next", headers=w1)).status_code == 200
    # refused work counts nothing
    assert (await client.post("/api/v1/windows/1/call-next", headers=w1)).status_code == 409

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        sample(text, "window_service_tickets_issued_total", hall="demo", prefix="A") == issued + 2
    )
    assert sample(text, "window_service_calls_total", hall="demo", recall="false") == calls + 1
    assert sample(text, "window_service_queue_waiting", hall="demo", prefix="A") == 1
    assert sample(text, "window_service_queue_waiting", hall="demo", prefix="C") == 1
    assert sample(text, "window_service_windows", hall="demo", status="open") == 8
    # latency by route template, never by raw path
    assert 'route="/api/v1/windows/{id}/call-next"' in text
    assert 'route="/api/v1/windows/1/call-next"' not in text


@pytest.mark.slow
async def test_metrics_add_up_across_workers(db_url: str, backend: str, tmp_path: Path) -> None:
    if backend != "postgresql":
        pytest.skip("several workers need PostgreSQL")
    server = start_server(db_url, tmp_path, workers=2)
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            for _ in range(12):
                await issue(client, "shebao")
            # several scrapes land on different workers; each must report the whole hall
            for _ in range(4):
                text = (await client.get("/metrics")).text
                assert (
                    sample(text, "window_service_tickets_issued_total", hall="demo", prefix="D")
                    == 12
                )
                assert sample(text, "window_service_queue_waiting", hall="demo", prefix="D") == 12
        assert (tmp_path / "prometheus").is_dir()
    finally:
        server.stop()
