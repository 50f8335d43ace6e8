"""Signing in and out of the pages (session cookie + CSRF), and the office landing page."""

from __future__ import annotations

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..api.csrf import SESSION_KEY as CSRF_SESSION_KEY
from ..api.csrf import csrf_ok, csrf_token
from ..api.errors import ApiError
from ..auth.models import User
from ..auth.service import client_address, sign_in
from ..chain import snapshot
from ..halls.models import Hall
from ..state import app_state
from ..transaction import Tx
from .pages import N_, OFFICE_ROLES, current_user, error_page, home_for, render, require_page_user

MAX_FIELD = 256


def safe_next(value: str | None) -> str | None:
    """Only same-site paths: "/office", never "//evil.example" or "https://…"."""
    if not value or len(value) > 1000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 32 for c in value):
        return None
    return value


async def login_page(request: Request) -> Response:
    user = await current_user(request)
    target = safe_next(request.query_params.get("next"))
    if user.is_user and request.method == "GET":
        return RedirectResponse(target or home_for(user), status_code=303)
    return await render(request, "login.html", {"next": target or "", "username": "", "error": ""})


async def login_submit(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("username") or "").strip()[:MAX_FIELD]
    password = str(form.get("password") or "")[:MAX_FIELD]
    target = safe_next(str(form.get("next") or ""))
    if not csrf_ok(request, str(form.get("csrf_token") or "")):
        return await error_page(
            request, 403, N_("页面已过期"), N_("登录表单已过期或来源不明，请刷新登录页后重试。")
        )
    error = ""
    if not username or not password:
        error = N_("请输入用户名和密码")
    else:
        state = app_state(request)
        try:
            account = await sign_in(
                state.db,
                state.auth.login_throttle,
                username,
                password,
                client_address(request),
                state.clock.now(),
            )
        except ApiError as exc:
            if exc.status == 429:
                return await render(
                    request,
                    "login.html",
                    {
                        "next": target or "",
                        "username": username,
                        "error": N_("登录失败次数过多，请稍后再试"),
                    },
                    status=429,
                )
            error = N_("用户名或密码错误")
    if error:
        return await render(
            request,
            "login.html",
            {"next": target or "", "username": username, "error": error},
            status=401 if username and password else 422,
        )
    # A fresh session: nothing from before signing in (including the CSRF token) survives.
    request.session.clear()
    assert account.id is not None
    request.session["user_id"] = account.id
    request.session["token_version"] = account.token_version
    csrf_token(request)
    request.scope.pop("window_service.page_user", None)
    user = await current_user(request)
    return RedirectResponse(target or home_for(user), status_code=303)


async def logout(request: Request) -> Response:
    """退出登录. The session cookie is signed, not stored, so clearing it is not enough: a copy
    of the cookie would still work. Signing out therefore bumps the account's token version,
    which ends every session and bearer token of the account (on every PC)."""
    form = await request.form()
    supplied = str(form.get("csrf_token") or "") or request.headers.get("x-csrf-token")
    if request.session.get(CSRF_SESSION_KEY) is not None and not csrf_ok(request, supplied):
        return await error_page(request, 403, N_("页面已过期"), N_("请刷新页面后再退出登录。"))
    user = await current_user(request)
    if user.is_user and user.user_id is not None and user.hall_id is not None:
        state = app_state(request)
        async with state.db.write() as session:
            account = await session.get(User, user.user_id)
            if account is not None:
                tx = Tx(
                    session, user.hall_id, state.clock.now(), user.actor, state.hub.publish_local
                )
                before = snapshot(account)
                account.token_version += 1
                tx.audit("user.logout", account, before=before)
                await tx.commit()
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


async def office_home(request: Request) -> Response:
    user = await require_page_user(request, OFFICE_ROLES)
    if isinstance(user, Response):
        return user
    return await render(request, "office.html")


async def start_page(request: Request) -> Response:
    """``/``: a signed-in person goes to their page; anyone else sees the hall's entry points."""
    user = await current_user(request)
    if user.is_user:
        return RedirectResponse(home_for(user), status_code=303)
    async with app_state(request).db.read() as session:
        halls = list((await session.execute(select(Hall).order_by(Hall.id))).scalars())  # type: ignore[arg-type]
    return await render(request, "start.html", {"halls": halls})
