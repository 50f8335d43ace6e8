"""The hall administrator sets up a hall through the API: a new department, service, window,
staff member and kiosk work end to end; bad configuration is refused; only the admin of the
hall may change it; every change is on the audit chain."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.support.client import login
from window_service.audit.verify import verify_command
from window_service.ledger import HallEvent

API = "/api/v1"


async def setup_new_service(client: httpx.AsyncClient, admin: dict[str, str]) -> dict[str, Any]:
    dept = await client.post(
        f"{API}/halls/demo/departments",
        json={"code": "minzheng", "name": "县民政局"},
        headers=admin,
    )
    assert dept.status_code == 201, dept.text
    svc = await client.post(
        f"{API}/halls/demo/services",
        json={
            "code": "hunyin",
            "name": "婚姻登记",
            "prefix": "F",
            "department": "minzheng",
            "legal_days": 0,
            "promised_days": 0,
            "materials": "身份证、户口簿",
        },
        headers=admin,
    )
    assert svc.status_code == 201, svc.text
    window = await client.post(
        f"{API}/halls/demo/windows",
        json={"number": 9, "name": "婚姻登记窗口", "services": ["hunyin"]},
        headers=admin,
    )
    assert window.status_code == 201, window.text
    assert window.json()["services"] == ["hunyin"]
    staff = await client.post(
        f"{API}/halls/demo/staff",
        json={
            "username": "w9",
            "display_name": "王九",
            "staff_no": "0009",
            "role": "staff",
            "window": 9,
            "password": "Ninth-Window-Key-47",
        },
        headers=admin,
    )
    assert staff.status_code == 201, staff.text
    assert staff.json()["window"] == 9
    kiosk = await client.post(
        f"{API}/halls/demo/devices", json={"kind": "kiosk", "name": "二号取号机"}, headers=admin
    )
    assert kiosk.status_code == 201, kiosk.text
    return {"window": window.json(), "service": svc.json(), "kiosk": kiosk.json()}


async def test_admin_sets_up_a_service_that_works_end_to_end(
    client: httpx.AsyncClient, db_url: str, app: Any
) -> None:
    admin = await login(client, "admin")
    made = await setup_new_service(client, admin)
    key = made["kiosk"]["key"]
    assert len(key) >= 30
    listed = (await client.get(f"{API}/halls/demo/devices", headers=admin)).json()
    assert all("key" not in d for d in listed)

    ticket = await client.post(
        f"{API}/halls/demo/tickets", json={"service": "hunyin"}, headers={"X-Device-Key": key}
    )
    assert ticket.status_code == 201, ticket.text
    assert ticket.json()["number"] == "F001"
    w9 = await login(client, "w9", "Ninth-Window-Key-47")
    window_id = made["window"]["id"]
    called = await client.post(f"{API}/windows/{window_id}/call-next", headers=w9)
    assert called.status_code == 200, called.text
    assert called.json()["number"] == "F001"

    # The public service list shows it; deactivating it takes it off the kiosk at once.
    public = (await client.get(f"{API}/halls/demo/services")).json()
    assert "hunyin" in [s["code"] for s in public]
    off = await client.patch(
        f"{API}/services/{made['service']['id']}", json={"active": False}, headers=admin
    )
    assert off.status_code == 200 and off.json()["active"] is False
    again = await client.post(
        f"{API}/halls/demo/tickets", json={"service": "hunyin"}, headers={"X-Device-Key": key}
    )
    assert again.status_code == 404, again.text

    # A rotated key replaces the old one.
    rotated = await client.post(
        f"{API}/devices/{made['kiosk']['id']}/rotate-key",
        json={"reason": "钥匙外泄"},
        headers=admin,
    )
    assert rotated.status_code == 200 and rotated.json()["key"] != key
    old = await client.get(f"{API}/halls/demo/admin/services", headers={"X-Device-Key": key})
    assert old.status_code == 401

    # Settings: the notice goes to the displays as a "hall" event.
    settings = await client.patch(
        f"{API}/halls/demo/settings",
        json={"notice": "今日下午停电检修", "issuing_start": "08:30", "issuing_end": "17:00"},
        headers=admin,
    )
    assert settings.status_code == 200, settings.text
    assert settings.json()["notice"] == "今日下午停电检修"
    assert settings.json()["issuing_start"] == "08:30"
    async with app.state.core.db.read() as session:
        event = (
            (
                await session.execute(
                    select(HallEvent).where(HallEvent.type == "hall").order_by(HallEvent.seq.desc())
                )
            )
            .scalars()
            .first()
        )
    assert event is not None and event.payload["notice"] == "今日下午停电检修"
    bad_hours = await client.patch(
        f"{API}/halls/demo/settings",
        json={"issuing_start": "18:00", "issuing_end": "09:00"},
        headers=admin,
    )
    assert bad_hours.status_code == 422
    back = await client.patch(
        f"{API}/halls/demo/settings",
        json={"issuing_start": None, "issuing_end": None},
        headers=admin,
    )
    assert back.json()["issuing_start"] is None

    # Window 1 now serves hukou and hunyin... (re-activated first), in that order.
    await client.patch(
        f"{API}/services/{made['service']['id']}", json={"active": True}, headers=admin
    )
    config = await client.patch(
        f"{API}/windows/1/config", json={"services": ["hunyin", "hukou"]}, headers=admin
    )
    assert config.status_code == 200 and config.json()["services"] == ["hunyin", "hukou"]
    public_windows = (await client.get(f"{API}/halls/demo/windows")).json()
    assert [w["services"] for w in public_windows if w["number"] == 1] == [["hunyin", "hukou"]]

    # A head answers for departments; the staff member moves to window 8, then is deactivated.
    head = await client.patch(
        f"{API}/staff/w9",
        json={"role": "head", "window": None, "departments": ["minzheng"]},
        headers=admin,
    )
    assert head.status_code == 200, head.text
    assert head.json()["departments"] == ["minzheng"] and head.json()["window"] is None
    assert (await client.get(f"{API}/cases", headers=w9)).status_code == 401  # role changed
    assert (await client.get(f"{API}/halls/demo/devices", headers=admin)).status_code == 200

    assert await verify_command(db_url) == 0


async def test_bad_configuration_is_refused(client: httpx.AsyncClient) -> None:
    admin = await login(client, "admin")
    await setup_new_service(client, admin)
    base = {"name": "测试", "department": "minzheng"}
    late = await client.post(
        f"{API}/halls/demo/services",
        json={**base, "code": "x1", "prefix": "G", "legal_days": 5, "promised_days": 10},
        headers=admin,
    )
    assert late.status_code == 422, late.text
    assert late.json()["error"]["code"] == "invalid_time_limits"
    dup = await client.post(
        f"{API}/halls/demo/services", json={**base, "code": "x2", "prefix": "F"}, headers=admin
    )
    assert dup.status_code == 409 and dup.json()["error"]["code"] == "prefix_taken"
    dup_code = await client.post(
        f"{API}/halls/demo/services", json={**base, "code": "hukou", "prefix": "H"}, headers=admin
    )
    assert dup_code.status_code == 409
    lower = await client.post(
        f"{API}/halls/demo/services", json={**base, "code": "x3", "prefix": "g"}, headers=admin
    )
    assert lower.status_code == 422
    window = await client.post(f"{API}/halls/demo/windows", json={"number": 9}, headers=admin)
    assert window.status_code == 409
    unknown = await client.post(
        f"{API}/halls/demo/windows", json={"number": 10, "services": ["nope"]}, headers=admin
    )
    assert unknown.status_code == 422
    user = {"username": "w9", "role": "staff", "window": 9, "password": "Maple-Orbit-905"}
    assert (
        await client.post(f"{API}/halls/demo/staff", json=user, headers=admin)
    ).status_code == 409
    short = {**user, "username": "w10", "password": "short"}
    assert (
        await client.post(f"{API}/halls/demo/staff", json=short, headers=admin)
    ).status_code == 422
    no_window = {**user, "username": "w10", "window": None}
    assert (
        await client.post(f"{API}/halls/demo/staff", json=no_window, headers=admin)
    ).status_code == 422
    pad = await client.post(
        f"{API}/halls/demo/devices", json={"kind": "evaluator", "name": "评价器"}, headers=admin
    )
    assert pad.status_code == 422
    assert (await client.patch(f"{API}/services/999999", json={}, headers=admin)).status_code == 404
    assert (await client.patch(f"{API}/staff/nobody", json={}, headers=admin)).status_code == 404
    assert (await client.get(f"{API}/halls/nowhere/settings", headers=admin)).status_code == 404
    self_off = await client.patch(f"{API}/staff/admin", json={"active": False}, headers=admin)
    assert self_off.status_code == 409


@pytest.mark.parametrize("who", ["w1", "office", "head"])
async def test_only_the_admin_configures(client: httpx.AsyncClient, who: str) -> None:
    headers = await login(client, who)
    for method, path, body in [
        ("GET", "/halls/demo/settings", None),
        ("PATCH", "/halls/demo/settings", {"notice": "x"}),
        ("POST", "/halls/demo/departments", {"code": "x", "name": "x"}),
        ("PATCH", "/windows/1/config", {"services": []}),
        ("PATCH", "/staff/w1", {"active": False}),
        ("POST", "/devices/1/rotate-key", {"reason": "x"}),
        ("GET", "/halls/demo/staff", None),
    ]:
        response = await client.request(method, API + path, json=body, headers=headers)
        assert response.status_code == 403, (who, method, path, response.text)


async def test_deactivating_a_user_ends_their_sign_in(
    client: httpx.AsyncClient, db_url: str
) -> None:
    admin = await login(client, "admin")
    w2 = await login(client, "w2")
    assert (await client.post(f"{API}/windows/2/pause", headers=w2)).status_code == 200
    off = await client.patch(
        f"{API}/staff/w2", json={"active": False, "reason": "调离"}, headers=admin
    )
    assert off.status_code == 200 and off.json()["active"] is False
    assert (await client.post(f"{API}/windows/2/resume", headers=w2)).status_code == 401
    bad = await client.post(f"{API}/auth/token", json={"username": "w2", "password": "whatever"})
    assert bad.status_code == 401
    on = await client.patch(
        f"{API}/staff/w2", json={"active": True, "password": "a-new-password"}, headers=admin
    )
    assert on.status_code == 200
    w2 = await login(client, "w2", "a-new-password")
    assert (await client.post(f"{API}/windows/2/resume", headers=w2)).status_code == 200
    kiosk = await client.post(
        f"{API}/devices/1/deactivate", json={"reason": "设备报废"}, headers=admin
    )
    assert kiosk.status_code == 200 and kiosk.json()["active"] is False
    from tests.support.client import KIOSK

    taken = await client.post(f"{API}/halls/demo/tickets", json={"service": "hukou"}, headers=KIOSK)
    assert taken.status_code == 401
    assert await verify_command(db_url) == 0


async def test_admin_page_configures_through_the_session(client: httpx.AsyncClient) -> None:
    from tests.support.client import csrf_from, page_login

    assert (await page_login(client, "admin")).status_code == 303
    office = await client.get("/office")
    assert 'href="/office/admin"' in office.text
    page = await client.get("/office/admin")
    assert page.status_code == 200
    for text in ("大厅配置", "示范县政务服务中心", "户籍业务", "县公安局", "取号机", "w8"):
        assert text in page.text, text
    token = csrf_from(page.text)
    saved = await client.patch(
        f"{API}/halls/demo/settings",
        json={"notice": "请有序排队"},
        headers={"X-CSRF-Token": token},
    )
    assert saved.status_code == 200, saved.text
    assert "请有序排队" in (await client.get("/office/admin")).text
    english = await client.get("/office/admin?lang=en")
    assert "Hall configuration" in english.text


@pytest.mark.parametrize("who", ["w1", "office"])
async def test_admin_page_is_for_the_admin_only(client: httpx.AsyncClient, who: str) -> None:
    from tests.support.client import page_login

    await page_login(client, who)
    assert (await client.get("/office/admin")).status_code == 403
    if who == "office":
        assert 'href="/office/admin"' not in (await client.get("/office")).text


async def test_another_halls_configuration_is_out_of_reach(
    client: httpx.AsyncClient, app: Any
) -> None:
    from window_service.halls.models import Department, Hall, Service, Window

    async with app.state.core.db.write() as session:
        other = Hall(code="other", name="另一县政务服务中心")
        session.add(other)
        await session.flush()
        dept = Department(hall_id=other.id, code="ga", name="公安局")
        session.add(dept)
        await session.flush()
        svc = Service(hall_id=other.id, department_id=dept.id, code="hk", name="户籍", prefix="A")
        window = Window(hall_id=other.id, number=1)
        session.add_all([svc, window])
        await session.commit()
        ids = {"service": svc.id, "window": window.id, "department": dept.id}
    admin = await login(client, "admin")
    for method, path, body in [
        ("GET", "/halls/other/settings", None),
        (
            "POST",
            "/halls/other/services",
            {"code": "x", "name": "x", "prefix": "X", "department": "ga"},
        ),
        ("PATCH", f"/services/{ids['service']}", {"name": "改名"}),
        ("PATCH", f"/windows/{ids['window']}/config", {"services": []}),
        ("PATCH", f"/departments/{ids['department']}", {"name": "改名"}),
    ]:
        response = await client.request(method, API + path, json=body, headers=admin)
        assert response.status_code == 403, (method, path, response.text)
