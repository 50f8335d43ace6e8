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

from tests.conftest import KIOSK, login
from tests.dbs import KIOSK_KEY
from window_service.api.endpoint import PUBLIC
from window_service.app import API_PREFIX, API_ROUTERS
from window_service.auth.roles import ADMIN, EVALUATOR, HEAD, INSPECTOR, STAFF
from window_service.auth.roles import KIOSK as KIOSK_ROLE


@pytest.fixture
def backend() -> str:
    """Who may pass the door does not depend on the database: SQLite only (fast)."""
    return "sqlite"


#: Plausible values for path parameters, so requests reach the handler's door.
PATH_VALUES = {"hall": "demo", "id": "1", "number": "1", "token": "x" * 24}
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
        from window_service.halls.demo import pad_key
    except ImportError:  # no evaluator pads in this build
        return out
    out["evaluator pad 1"] = (EVALUATOR, {"X-Device-Key": pad_key(KIOSK_KEY, 1)})
    return out


async def call(
    client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]
) -> httpx.Response:
    body: Any = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, concrete(path), headers=headers, json=body)


async def test_every_role_against_every_endpoint(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
    roles_of = declared()
    people = await callers(client)
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
