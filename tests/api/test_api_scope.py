"""The route declaration: a handler's body and query types agree with its route, and a route's
scope refuses rows of another hall, department or window with the one status and code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from window_service.api.endpoint import ApiRequest, ApiRouter
from window_service.api.errors import ApiError
from window_service.api.schemas import Input, Query
from window_service.api.scope import HALL, Scope
from window_service.auth.principal import Principal
from window_service.auth.roles import ADMIN, HEAD, STAFF


class Body(Input):
    name: str


class Filters(Query):
    limit: int = 10


@dataclass
class Row:
    hall_id: int
    department_id: int | None = None
    window_id: int | None = None


@dataclass
class HallRow:
    id: int


def test_the_annotation_gives_the_route_its_body_and_query() -> None:
    router = ApiRouter("t")

    @router.route("POST", "/x", roles=[ADMIN])
    async def handler(api: ApiRequest[Body, Filters]) -> None:
        return None

    [spec] = router.specs
    assert (spec.body, spec.query) == (Body, Filters)


def test_a_handler_that_disagrees_with_its_route_is_refused_when_declared() -> None:
    router = ApiRouter("t")
    with pytest.raises(TypeError, match="declares body"):

        @router.route("POST", "/x", roles=[ADMIN], body=Body)
        async def untyped(api: ApiRequest) -> None:
            return None

    with pytest.raises(TypeError, match="declares body"):

        @router.route("POST", "/y", roles=[ADMIN], body=Body, query=Filters)
        async def wrong_query(api: ApiRequest[Body]) -> None:
            return None


def test_a_shared_handler_takes_what_each_route_declares() -> None:
    router = ApiRouter("t")

    async def shared(api: ApiRequest[Any, Any]) -> None:
        return None

    router.route("POST", "/a", roles=[ADMIN], body=Body)(shared)
    router.route("POST", "/b", roles=[ADMIN])(shared)
    assert [(s.body, s.query) for s in router.specs] == [(Body, None), (None, None)]


def refusal(scope: Scope, principal: Principal, row: Any) -> tuple[int, str] | None:
    try:
        scope.check(principal, row)
    except ApiError as exc:
        return exc.status, exc.code
    return None


def test_hall_scope() -> None:
    scope = Scope("hall", "号票", "ticket")
    admin = Principal("user", role=ADMIN, hall_id=1)
    assert refusal(scope, admin, Row(hall_id=1)) is None
    assert refusal(scope, admin, Row(hall_id=2)) == (403, "forbidden")
    assert refusal(scope, Principal("user", role=ADMIN), Row(hall_id=1)) == (403, "forbidden")
    assert refusal(HALL, admin, HallRow(id=1)) is None
    assert refusal(HALL, admin, HallRow(id=2)) == (403, "forbidden")


def test_department_scope_holds_heads_to_their_departments() -> None:
    scope = Scope("department", "评价", "rating")
    head = Principal("user", role=HEAD, hall_id=1, department_ids=frozenset({7}))
    admin = Principal("user", role=ADMIN, hall_id=1)
    assert refusal(scope, head, Row(hall_id=1, department_id=7)) is None
    assert refusal(scope, head, Row(hall_id=1, department_id=8)) == (403, "not_your_department")
    assert refusal(scope, head, Row(hall_id=2, department_id=7)) == (403, "forbidden")
    assert refusal(scope, admin, Row(hall_id=1, department_id=8)) is None
    assert scope.departments(head) == {7} and scope.departments(admin) is None
    # A hall's list in department scope: the hall is the head's, the list is cut to them.
    assert refusal(HALL.at("department"), head, HallRow(id=1)) is None


def test_window_scope_holds_staff_to_their_window() -> None:
    scope = Scope("window", "号票", "ticket", not_your_window="只能为本窗口 (not your ticket)")
    staff = Principal("user", role=STAFF, hall_id=1, window_id=3)
    no_window = Principal("user", role=STAFF, hall_id=1)
    admin = Principal("user", role=ADMIN, hall_id=1)
    assert refusal(scope, staff, Row(hall_id=1, window_id=3)) is None
    assert refusal(scope, staff, Row(hall_id=1, window_id=4)) == (403, "forbidden")
    assert refusal(scope, staff, Row(hall_id=1)) == (403, "forbidden")
    assert refusal(scope, no_window, Row(hall_id=1, window_id=3)) == (403, "forbidden")
    assert refusal(scope, admin, Row(hall_id=1, window_id=4)) is None
    with pytest.raises(ApiError) as refused:
        scope.check(staff, Row(hall_id=1, window_id=4))
    assert refused.value.message == "只能为本窗口 (not your ticket)"
