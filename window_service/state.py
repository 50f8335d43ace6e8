"""What every handler can reach: settings, database, clock, event hub, authenticator."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection
from starlette.templating import Jinja2Templates

from .auth.principal import Authenticator
from .auth.tokens import TokenSigner
from .clock import Clock
from .config import Settings
from .db import Database

if TYPE_CHECKING:
    from .realtime.hub import Hub
    from .realtime.log import EventLog


@dataclass
class AppState:
    settings: Settings
    db: Database
    clock: Clock
    tokens: TokenSigner
    auth: Authenticator
    hub: Hub
    events: EventLog
    templates: Jinja2Templates


def app_state(conn: HTTPConnection) -> AppState:
    state: AppState = conn.app.state.core
    return state
