"""What every page shares: rendering with the signed-in user, CSRF token and language.

Other areas add their pages like this::

    from .pages import OFFICE_LINKS, OfficeLink, render, require_page_user

    OFFICE_LINKS.append(OfficeLink("/office/cases", N_("办件预警"), roles=("inspector", "head")))

    async def cases_page(request: Request) -> Response:
        user = await require_page_user(request, roles=("inspector", "head", "admin"))
        if isinstance(user, Response):
            return user            # redirect to /login, or the 403 page
        return await render(request, "cases.html", {"cases": ...})

and list ``Route("/office/cases", cases_page)`` in the area's ``routes``, which
``app.PAGE_ROUTES`` holds.

Templates extend ``base.html`` and write their text in Chinese through ``_()``:
``{{ _("叫号") }}``; ``make i18n`` extracts the strings into the English catalogue.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.dates import format_skeleton
from babel.support import NullTranslations, Translations
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..api.csrf import csrf_token
from ..api.errors import ApiError
from ..auth.principal import ANONYMOUS, Principal
from ..auth.roles import ADMIN, HEAD, INSPECTOR, REGION_INSPECTOR, STAFF, SUPERVISOR
from ..state import app_state

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: Chinese is the source language of every template; English comes from the catalogue.
LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"
LANG_COOKIE = "lang"
LANGUAGE_LABELS = {"zh": "中文", "en": "English"}

OFFICE_ROLES = (ADMIN, INSPECTOR, HEAD)


def N_(text: str) -> str:
    """Marks Chinese source text for ``make i18n`` without translating it yet (``_()`` does)."""
    return text


@dataclass(frozen=True)
class OfficeLink:
    """An entry of the office landing page (and the office nav)."""

    href: str
    label: str  # Chinese source text wrapped in N_(); shown through _()
    roles: Sequence[str] = OFFICE_ROLES
    description: str = ""  # Chinese source text wrapped in N_(); shown through _()


#: The office pages. Areas append their own entries (see the module docstring).
OFFICE_LINKS: list[OfficeLink] = []


@dataclass(frozen=True)
class NavLink:
    href: str
    label: str
    roles: Sequence[str] = field(default_factory=tuple)  # empty: everyone signed in


#: Role names as pages show them (auth.roles.ROLE_LABELS), marked for the catalogue.
ROLE_LABEL_TEXTS = (
    *(N_("管理员"), N_("效能办督查员"), N_("部门负责人"), N_("窗口工作人员")),
    N_("特邀廉政监督员"),
)
REGION_ROLE_LABEL_TEXT = N_("区域效能办督查员")

#: Words of the queue (queue.rules) as pages show them, marked for the catalogue.
QUEUE_LABEL_TEXTS = (
    *(N_("等候中"), N_("已叫号"), N_("办理中"), N_("已办结"), N_("过号"), N_("已取消")),
    *(N_("已过期"), N_("办结"), N_("受理"), N_("补正"), N_("不予受理"), N_("咨询")),
    *(N_("70岁以上老人"), N_("残疾人"), N_("孕妇"), N_("军人")),
)

#: Statuses and stages of a rectification (feedback.service), as the office pages show them.
RECTIFICATION_LABEL_TEXTS = (
    *(N_("待核实"), N_("待整改"), N_("待回访"), N_("已撤销"), N_("待效能办认定")),
    # The classes of a 差评 at 核实 (GB/T 39734-2020 §9) and the channels of 好差评.
    *(N_("立行立改"), N_("限期整改"), N_("解释说明"), N_("误评/恶意")),
    *(N_("扫码评价"), N_("评价器"), N_("12345热线"), N_("意见箱"), N_("特邀监督员")),
    N_("现场监督查评"),
)

#: The five levels of 好差评 (GB/T 39734), as the rating pages show them.
RATING_LABEL_TEXTS = (N_("非常满意"), N_("满意"), N_("基本满意"), N_("不满意"), N_("非常不满意"))

#: The top navigation, shown to signed-in users whose role is listed.
NAV_LINKS: list[NavLink] = [
    NavLink("/terminal", N_("窗口叫号终端"), roles=(STAFF,)),
    NavLink("/office", N_("效能监督"), roles=OFFICE_ROLES),
    NavLink("/supervise", N_("监督员工作台"), roles=(SUPERVISOR,)),
]


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain="messages")


@lru_cache(maxsize=8)
def js_catalog(language: str) -> dict[str, str]:
    """The language's messages for ``t()`` in the static scripts (empty for Chinese)."""
    catalog = getattr(translations(language), "_catalog", {})
    return {k: v for k, v in catalog.items() if isinstance(k, str) and k and isinstance(v, str)}


def page_language(request: Request) -> str:
    """``?lang=xx`` first (remembered in a cookie by ``render``), then the cookie, then zh."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return str(asked)
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return str(cookie)
    return DEFAULT_LANGUAGE


#: Babel locales of the page languages (dates: 2026年12月2日 / December 2, 2026).
BABEL_LOCALES = {"zh": "zh_CN", "en": "en"}


def date_formatter(language: str) -> Callable[..., str]:
    """``ldate(day, skeleton="yMMMMd")`` for templates: a date in the page's language
    (skeletons: ``yMMMMd`` a day, ``yMMMM`` a month, ``yQQQ`` a quarter, ``MMMd`` no year)."""
    locale = BABEL_LOCALES.get(language, BABEL_LOCALES[DEFAULT_LANGUAGE])

    def ldate(day: Any, skeleton: str = "yMMMMd") -> str:
        if isinstance(day, str):
            day = date.fromisoformat(day[:10])
        return str(format_skeleton(skeleton, day, locale=locale))

    return ldate


def period_formatter(language: str) -> Callable[[str], str]:
    """``lperiod("2026-12")`` for templates: a period code (day ``YYYY-MM-DD``, month
    ``YYYY-MM``, quarter ``YYYY-Qn``) in the page's language: 2026年12月 / December 2026."""
    ldate = date_formatter(language)

    def lperiod(code: str) -> str:
        code = str(code or "")
        if len(code) == 7 and code[4:6] == "-Q" and code[6] in "1234":
            return ldate(date(int(code[:4]), int(code[6]) * 3 - 2, 1), "yQQQ")
        if len(code) == 7:
            return ldate(code + "-01", "yMMMM")
        return ldate(code) if code else ""

    return lperiod


def gettext_for(request: Request) -> Callable[[str], str]:
    return translations(page_language(request)).gettext


async def current_user(request: Request) -> Principal:
    """The signed-in user of the page (session cookie), or ANONYMOUS."""
    cached = request.scope.get("window_service.page_user")
    if isinstance(cached, Principal):
        return cached
    try:
        principal = await app_state(request).auth.authenticate(request)
    except ApiError:
        principal = ANONYMOUS
    request.scope["window_service.page_user"] = principal
    return principal


def _relative(url: Any) -> str:
    """Path and query of a URL (links stay on whatever host the page was opened by)."""
    return f"{url.path}?{url.query}" if url.query else str(url.path)


async def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200
) -> Response:
    """Render ``templates/name`` with the user, CSRF token, language and ``_()``."""
    language = page_language(request)
    trans = translations(language)
    user = await current_user(request)
    nav = [
        link for link in NAV_LINKS if user.is_user and (not link.roles or user.role in link.roles)
    ]
    office_links = [link for link in OFFICE_LINKS if user.is_user and user.role in link.roles]
    ctx: dict[str, Any] = {
        "user": user,
        "csrf_token": csrf_token(request),
        "lang": language,
        "languages": LANGUAGE_LABELS,
        "lang_links": {
            code: _relative(request.url.include_query_params(lang=code)) for code in LANGUAGES
        },
        "nav_links": nav,
        "office_links": office_links,
        "_": trans.gettext,
        "gettext": trans.gettext,
        "ngettext": trans.ngettext,
        "pgettext": trans.pgettext,
        "js_catalog": js_catalog(language),
        "ldate": date_formatter(language),
        "lperiod": period_formatter(language),
        **(context or {}),
    }
    templates = app_state(request).templates  # web/templating.py
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    # Pages are not to be framed by other sites (clickjacking of the terminal's buttons), and
    # what a signed-in person sees is not kept in shared caches.
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if user.is_user:
        response.headers["Cache-Control"] = "no-store"
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, language, max_age=365 * 86400, samesite="lax")
    return response


async def error_page(request: Request, status: int, title: str, message: str = "") -> Response:
    """A page-shaped error (403, 404 …); ``title``/``message`` are Chinese source text (N_)."""
    return await render(
        request, "error.html", {"status": status, "title": title, "message": message}, status=status
    )


def login_redirect(request: Request) -> Response:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="/")


async def require_page_user(request: Request, roles: Sequence[str]) -> Principal | Response:
    """The signed-in user if their role is in ``roles``; else a redirect to /login or a 403 page."""
    user = await current_user(request)
    if not user.is_user:
        return login_redirect(request)
    if user.role not in roles:
        return await error_page(
            request,
            403,
            N_("无权访问此页面"),
            N_("当前账号的角色不能使用此页面，请换用有权限的账号登录。"),
        )
    return user


def home_for(user: Principal) -> str:
    """Where a user lands after signing in."""
    if user.role == STAFF:
        return "/terminal"
    if user.role == REGION_INSPECTOR:
        return "/region"
    if user.role == SUPERVISOR:
        return "/supervise"
    return "/office"
