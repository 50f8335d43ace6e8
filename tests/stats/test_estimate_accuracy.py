"""How good the wait estimates were, on the office statistics: the estimate recorded on each
ticket vs the wait it had (queue time → first call), per service and day (both databases).

Demo hall, FixedClock at 10:00; every service's default is 8 minutes a ticket."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.client import issue, login
from tests.support.dbs import DEMO_PASSWORD
from tests.support.duty import on_duty
from window_service.clock import FixedClock


async def serve(c: httpx.AsyncClient, window: int, headers: dict[str, str]) -> dict[str, Any]:
    r = await c.post(f"/api/v1/windows/{window}/call-next", headers=headers)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_estimate_accuracy_per_service_and_day(
    hc: httpx.AsyncClient, hall_app: Any, clock: FixedClock
) -> None:
    c1 = await issue(hc, "qiye")  # nobody on duty yet: no estimate
    assert c1["estimated_wait_minutes"] is None
    await on_duty(hall_app, 1)
    a1 = await issue(hc)  # window 1 is free: 0 minutes
    a2 = await issue(hc)  # one ahead at 8 minutes, window 1 free: 8 minutes printed
    assert (a1["estimated_wait_minutes"], a2["estimated_wait_minutes"]) == (0, 8)
    w1, w5 = await login(hc, "w1"), await login(hc, "w5")
    first = await serve(hc, 1, w1)  # A001 at 10:00: waited 0
    await hc.post(f"/api/v1/tickets/{first['id']}/start", headers=w1)
    clock.advance(minutes=10)
    await hc.post(
        f"/api/v1/tickets/{first['id']}/finish", json={"outcome": "completed"}, headers=w1
    )
    assert (await serve(hc, 1, w1))["number"] == "A002"  # at 10:10: waited 10
    assert (await serve(hc, 5, w5))["number"] == "C001"
    await issue(hc)  # A003, not called yet: no wait to compare with

    url = "/api/v1/halls/demo/stats/estimates?period=2026-11-26"
    assert (await hc.get(url)).status_code == 401
    assert (await hc.get(url, headers=w1)).status_code == 403
    r = await hc.get(url, headers=await login(hc, "office"))
    assert r.status_code == 200, r.text
    data = r.json()
    hukou = next(s for s in data["services"] if s["key"] == "hukou")
    assert hukou["tickets"] == 2 and hukou["no_estimate"] == 0
    assert (hukou["mean_estimate"], hukou["mean_wait"]) == (4.0, 5.0)
    assert hukou["mae_minutes"] == 1.0 and hukou["bias_minutes"] == -1.0  # |0-0|, |8-10|
    assert hukou["within_5_share"] == 1.0
    qiye = next(s for s in data["services"] if s["key"] == "qiye")
    assert qiye["tickets"] == 0 and qiye["no_estimate"] == 1 and qiye["mae_minutes"] is None
    assert [(d["day"], d["key"], d["tickets"]) for d in data["days"]] == [
        ("2026-11-26", "hukou", 2),
        ("2026-11-26", "qiye", 0),
    ]
    assert data["total"]["tickets"] == 2 and data["total"]["no_estimate"] == 1
    bad = await hc.get(
        "/api/v1/halls/demo/stats/estimates?period=2026-13", headers=await login(hc, "office")
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_period"
    assert (await hc.get(url, headers=await login(hc, "head"))).status_code == 200

    # The statistics page shows the section, in Chinese and in English.
    form = await hc.get("/login")
    token = form.text.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    signed = await hc.post(
        "/login", data={"username": "office", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert signed.status_code in (302, 303)
    page = (await hc.get("/office/stats?period=2026-11-26&lang=zh")).text
    section = page.split('id="stats-estimates"', 1)[1].split("</section>", 1)[0]
    assert "预计等候准确度" in section and "平均绝对误差" in section and "A 户籍业务" in section
    english = (await hc.get("/office/stats?period=2026-11-26&lang=en")).text
    section = english.split('id="stats-estimates"', 1)[1].split("</section>", 1)[0]
    assert "Estimate accuracy" in section and "Mean absolute error" in section
    assert "预计" not in section and "平均" not in section
