"""Deny by default, checked over the whole API: every caller × every operation of the OpenAPI
document. An operation not declared public refuses nobody-signed-in with 401 and every role
it does not name with 403, before it looks at the request; the roles it names are let past
the door (their finer checks — own window, own department — may still refuse) and never
meet a 5xx.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.support.client import KIOSK, login
from tests.support.dbs import KIOSK_KEY
from tests.support.regions import DEMO_REGION, region_office
from tests.support.supervisors import supervisor
from window_service.api.endpoint import PUBLIC
from window_service.app import API_PREFIX, API_ROUTERS
from window_service.auth.roles import (
    ADMIN,
    EVALUATOR,
    HEAD,
    INSPECTOR,
    REGION_INSPECTOR,
    STAFF,
    SUPERVISOR,
)
from window_service.auth.roles import KIOSK as KIOSK_ROLE


@pytest.fixture
def backend() -> str:
    """Who may pass the door does not depend on the database: SQLite only (fast)."""
    return "sqlite"


#: Plausible values for path parameters, so requests reach the handler's door.
PATH_VALUES = {"hall": "demo", "id": "1", "number": "1", "token": "x" * 24, "region": DEMO_REGION}
_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def declared() -> dict[tuple[str, str], tuple[str, ...]]:
    """(method, OpenAPI path) → the roles the endpoint names."""
    out = {}
    for router in API_ROUTERS:
        for spec in router.specs:
            path = API_PREFIX + _PARAM.sub(lambda m: "{" + m.group(1) + "}", spec.path)
            out[(spec.method, path)] = spec.roles
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), "1"), path)


async def callers(client: httpx.AsyncClient) -> dict[str, tuple[str | None, dict[str, str]]]:
    """name → (role, headers) for every kind of caller of the demo hall."""
    out: dict[str, tuple[str | None, dict[str, str]]] = {
        "anonymous": (None, {}),
        "admin": (ADMIN, await login(client, "admin")),
        "inspector": (INSPECTOR, await login(client, "office")),
        "head": (HEAD, await login(client, "head")),
        "staff w1": (STAFF, await login(client, "w1")),
        "staff w2": (STAFF, await login(client, "w2")),
        "kiosk": (KIOSK_ROLE, dict(KIOSK)),
    }
    try:
        from window_service.seed import pad_key
    except ImportError:  # no evaluator pads in this build
        return out
    out["evaluator pad 1"] = (EVALUATOR, {"X-Device-Key": pad_key(KIOSK_KEY, 1)})
    return out


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body: Any = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, concrete(path), headers=headers, json=body)


async def test_every_role_against_every_endpoint(app: Any, client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    roles_of = declared()
    people = await callers(client)
    people["region office"] = (REGION_INSPECTOR, await region_office(app, client))
    # 特邀廉政监督员: an outsider's account; deny by default like every other role.
    people["supervisor"] = (SUPERVISOR, await supervisor(app, client))
    for name, (_, headers) in people.items():  # every credential is a valid one
        assert (
            await call(client, "GET", "/api/v1/halls/{hall}/services", headers)
        ).status_code == 200, name

    operations = [
        (method.upper(), path, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]
    assert len(operations) >= 20
    wrong: list[str] = []
    allowed_calls: list[tuple[str, str, str, dict[str, str]]] = []
    for method, path, op in operations:
        if path == "/api/v1/openapi.json":
            continue
        roles = roles_of.get((method, path))
        assert roles is not None, f"{method} {path} is documented but not declared by a router"
        public = PUBLIC in roles
        if public == ("security" in op):
            wrong.append(f"{method} {path}: OpenAPI 'security' disagrees with its roles {roles}")
        for name, (role, headers) in people.items():
            if public or role in roles:
                allowed_calls.append((method, path, name, headers))
                continue
            response = await call(client, method, path, headers)
            expected = 401 if role is None else 403
            if response.status_code != expected:
                wrong.append(
                    f"{method} {path} as {name}: {response.status_code}, expected {expected}"
                )
            elif response.json()["error"]["code"] not in ("unauthorized", "forbidden"):
                wrong.append(f"{method} {path} as {name}: code {response.json()['error']['code']}")

    # The roles an endpoint names get past the door; whatever happens next is no 5xx.
    for method, path, name, headers in allowed_calls:
        response = await call(client, method, path, headers)
        if response.status_code >= 500:
            wrong.append(f"{method} {path} as {name}: {response.status_code} {response.text[:200]}")
        elif response.status_code == 401 and name != "anonymous":
            wrong.append(f"{method} {path} as {name}: 401 for a signed-in caller")
    assert not wrong, "\n".join(wrong)


async def test_staff_cannot_work_another_window(client: httpx.AsyncClient) -> None:
    """Finer than roles: window 2's staff are refused at window 1 (一人一窗)."""
    w2 = await login(client, "w2")
    for action in ("call-next", "recall", "pause", "resume"):
        response = await client.post(f"/api/v1/windows/1/{action}", headers=w2)
        assert response.status_code == 403, (action, response.text)
    for read in ("queue", "held", "transfer-targets"):
        response = await client.get(f"/api/v1/windows/1/{read}", headers=w2)
        assert response.status_code == 403, (read, response.text)


async def test_hold_and_resume_only_by_the_window_that_has_the_ticket(
    client: httpx.AsyncClient,
) -> None:
    """挂起/恢复: every caller × a ticket called (then held) at window 1."""
    people = await callers(client)
    ids = await _window_ids(client)
    w1 = people["staff w1"][1]
    ticket = await _take(client, "hukou")
    called = (await client.post(f"/api/v1/windows/{ids[1]}/call-next", headers=w1)).json()
    assert called["id"] == ticket["id"]
    wrong: list[str] = []
    for action, before in (("hold", "called"), ("resume", "held")):
        for name, (role, headers) in people.items():
            if name == "staff w1":
                continue
            r = await client.post(f"/api/v1/tickets/{ticket['id']}/{action}", headers=headers)
            expected = 401 if role is None else 403
            if r.status_code != expected:
                wrong.append(f"{action} as {name}: {r.status_code} ≠ {expected}")
        r = await client.get(f"/api/v1/tickets/{ticket['id']}", headers=w1)
        if r.json()["status"] != before:
            wrong.append(f"{action}: others changed the ticket to {r.json()['status']}")
        r = await client.post(f"/api/v1/tickets/{ticket['id']}/{action}", headers=w1)
        if r.status_code != 200:
            wrong.append(f"{action} as staff w1: {r.status_code} {r.text[:200]}")
    assert not wrong, "\n".join(wrong)


# -- the trust rules of issue 17, role by role ---------------------------------------------

#: service → the demo windows that serve it.
SERVED_BY = {
    "hukou": {1, 2, 8},
    "budongchan": {3, 4, 8},
    "qiye": {5, 8},
    "shebao": {6, 8},
    "shuiwu": {7, 8},
}


async def _window_ids(client: httpx.AsyncClient) -> dict[int, int]:
    return {w["number"]: w["id"] for w in (await client.get("/api/v1/halls/demo/windows")).json()}


async def _take(client: httpx.AsyncClient, service: str) -> dict[str, Any]:
    r = await client.post("/api/v1/halls/demo/tickets", json={"service": service}, headers=KIOSK)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_waiting_tickets_only_for_windows_that_serve_them(client: httpx.AsyncClient) -> None:
    """Cancel and transfer of a waiting ticket: every caller × every service."""
    people = await callers(client)
    for n in range(3, 9):
        people[f"staff w{n}"] = (STAFF, await login(client, f"w{n}"))
    wrong: list[str] = []
    for service, windows in SERVED_BY.items():
        target = "shebao" if service != "shebao" else "hukou"
        for action, roles in (
            ("cancel", (STAFF, ADMIN)),
            ("transfer", (STAFF,)),
            ("transfer to window 8", (STAFF,)),
        ):
            for name, (role, headers) in people.items():
                ticket = await _take(client, service)
                body = (
                    {"service": target}
                    if action == "transfer"
                    else {"window": 8}
                    if action.startswith("transfer")
                    else None
                )
                r = await client.post(
                    f"/api/v1/tickets/{ticket['id']}/{action.split()[0]}",
                    json=body,
                    headers=headers,
                )
                if role is None:
                    expected = 401
                elif role not in roles:
                    expected = 403
                elif role == STAFF:
                    expected = 200 if int(name.rsplit("w", 1)[1]) in windows else 403
                else:
                    expected = 200  # the hall's admin
                if r.status_code != expected:
                    wrong.append(f"{action} {service} as {name}: {r.status_code} ≠ {expected}")
                elif expected == 403 and role == STAFF:
                    if r.json()["error"]["code"] != "not_your_service":
                        wrong.append(f"{action} {service} as {name}: {r.json()['error']}")
    assert not wrong, "\n".join(wrong)


async def test_track_tokens_only_for_devices_that_hand_them_to_the_citizen(
    client: httpx.AsyncClient,
) -> None:
    """Issuing and the pad's last-finished ticket: who gets the token (kiosk, window's pad)."""
    people = await callers(client)
    ids = await _window_ids(client)
    wrong: list[str] = []
    for name, (role, headers) in people.items():
        r = await client.post(
            "/api/v1/halls/demo/tickets", json={"service": "hukou"}, headers=headers
        )
        if role in (KIOSK_ROLE, STAFF, ADMIN):
            if r.status_code != 201:
                wrong.append(f"issue as {name}: {r.status_code}")
            elif bool(r.json()["track_token"]) != (role == KIOSK_ROLE):
                wrong.append(f"issue as {name}: track_token {r.json()['track_token']!r}")
            elif bool(r.json()["track_url"]) != (role == KIOSK_ROLE):
                wrong.append(f"issue as {name}: track_url {r.json()['track_url']!r}")
        elif r.status_code != (401 if role is None else 403):
            wrong.append(f"issue as {name}: {r.status_code}")
    # Window 1 finishes a ticket; who sees it, and with its rating link?
    w1 = people["staff w1"][1]
    called = (await client.post(f"/api/v1/windows/{ids[1]}/call-next", headers=w1)).json()
    await client.post(f"/api/v1/tickets/{called['id']}/start", headers=w1)
    await client.post(
        f"/api/v1/tickets/{called['id']}/finish", json={"outcome": "completed"}, headers=w1
    )
    url = f"/api/v1/windows/{ids[1]}/last-finished"
    for name, (role, headers) in people.items():
        r = await client.get(url, headers=headers)
        if name in ("evaluator pad 1", "staff w1"):
            ticket = r.json()["ticket"] if r.status_code == 200 else None
            if ticket is None or ticket["number"] != called["number"]:
                wrong.append(f"last-finished as {name}: {r.status_code} {r.text[:200]}")
            elif bool(ticket["track_token"]) != (role == EVALUATOR):
                wrong.append(f"last-finished as {name}: track_token {ticket['track_token']!r}")
        elif r.status_code != (401 if role is None else 403):
            wrong.append(f"last-finished as {name}: {r.status_code}")
    assert not wrong, "\n".join(wrong)


async def test_ratings_refused_to_every_person_and_foreign_device(
    client: httpx.AsyncClient,
) -> None:
    """The citizen's rating: every caller (bearer, device key, page session) × one ticket."""
    from tests.support.client import page_login

    people = await callers(client)
    ids = await _window_ids(client)
    w1 = people["staff w1"][1]

    async def finished() -> dict[str, Any]:
        ticket = await _take(client, "hukou")
        called = (await client.post(f"/api/v1/windows/{ids[1]}/call-next", headers=w1)).json()
        assert called["id"] == ticket["id"]
        await client.post(f"/api/v1/tickets/{ticket['id']}/start", headers=w1)
        await client.post(
            f"/api/v1/tickets/{ticket['id']}/finish", json={"outcome": "completed"}, headers=w1
        )
        return ticket

    expected = {
        "anonymous": (201, None),
        "evaluator pad 1": (201, None),
        "kiosk": (403, "device_cannot_rate"),
    }
    wrong: list[str] = []
    for name, (_, headers) in people.items():
        ticket = await finished()
        r = await client.post(
            f"/api/v1/track/{ticket['track_token']}/feedback", json={"rating": 5}, headers=headers
        )
        status, code = expected.get(name, (403, "staff_cannot_rate"))
        if r.status_code != status or (code and r.json()["error"]["code"] != code):
            wrong.append(f"rate as {name}: {r.status_code} {r.text[:200]}")
    for username in ("admin", "office", "head", "w1", "w2"):
        ticket = await finished()
        assert (await page_login(client, username)).status_code == 303
        for headers in ({}, {"X-Device-Key": people["evaluator pad 1"][1]["X-Device-Key"]}):
            r = await client.post(
                f"/api/v1/track/{ticket['track_token']}/feedback",
                json={"rating": 5},
                headers=headers,
            )
            if r.status_code != 403 or r.json()["error"]["code"] != "staff_cannot_rate":
                wrong.append(f"rate from {username}'s browser {headers}: {r.status_code}")
        client.cookies.clear()
    assert not wrong, "\n".join(wrong)


def test_office_payload_audience_of_every_role() -> None:
    """Who reads an ``office.*`` payload: role × the event's department (or none)."""
    from window_service.auth.principal import ANONYMOUS, Principal
    from window_service.auth.roles import DISPLAY
    from window_service.realtime.routes import audience_of
    from window_service.realtime.subscriber import encode
    from window_service.transaction import Event

    hall, own, other = 1, 10, 20
    events = {
        "own department": encode(Event(hall, 1, "office.feedback", {"department_id": own})),
        "other department": encode(Event(hall, 2, "office.feedback", {"department_id": other})),
        "whole hall": encode(Event(hall, 3, "office.calendar", {"year": 2027})),
        "public event": encode(Event(hall, 4, "call", {"ticket": "A001"})),
    }
    who = {
        "admin": Principal("user", role=ADMIN, hall_id=hall),
        "inspector": Principal("user", role=INSPECTOR, hall_id=hall),
        "head": Principal("user", role=HEAD, hall_id=hall, department_ids=frozenset({own})),
        "staff": Principal("user", role=STAFF, hall_id=hall, window_id=1),
        "supervisor": Principal("user", role=SUPERVISOR, hall_id=hall),
        "inspector of another hall": Principal("user", role=INSPECTOR, hall_id=2),
        "head of another hall": Principal(
            "user", role=HEAD, hall_id=2, department_ids=frozenset({own})
        ),
        "kiosk": Principal("device", role=KIOSK_ROLE, hall_id=hall, device_id=1),
        "display": Principal("device", role=DISPLAY, hall_id=hall, device_id=2),
        "evaluator": Principal("device", role=EVALUATOR, hall_id=hall, device_id=3),
        "anonymous": ANONYMOUS,
    }
    reads = {
        "admin": {"own department", "other department", "whole hall"},
        "inspector": {"own department", "other department", "whole hall"},
        "head": {"own department"},
    }
    for name, principal in who.items():
        audience = audience_of(principal, hall)
        for label, item in events.items():
            text = audience.text(item)
            full = label == "public event" or label in reads.get(name, set())
            assert (text == item.private_text) is full, (name, label)
            if not full:
                kind = "calendar" if label == "whole hall" else "feedback"
                assert text == f'{{"type":"office.{kind}","seq":{item.seq}}}'
