"""The one Jinja environment of every page, web and device, with the i18n extension on.

Template names say where a template lives:

- ``base.html``, ``admin/office_admin.html`` …   window_service/web/templates (the web pages)
- ``displays/hall.html``, ``displays/window.html``, ``displays/device_error.html``
                                                displays/templates (hall TV, window-top display)
- ``kiosks/kiosk.html``, ``kiosks/pad.html``       kiosks/templates (取号机, 评价器)

Every page renders with ``_()``/``gettext``/``ngettext`` of its language from the one Babel
catalogue (window_service/web/locale), passed in by ``pages.render`` and ``devices._page``.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader
from starlette.templating import Jinja2Templates

from ..auth.roles import ROLE_LABELS

PACKAGE = Path(__file__).resolve().parent.parent
ROOT = PACKAGE.parent
WEB_TEMPLATES = PACKAGE / "web" / "templates"
#: device front-ends: name prefix → their templates folder
DEVICE_TEMPLATES = {
    "displays": ROOT / "displays" / "templates",
    "kiosks": ROOT / "kiosks" / "templates",
}


def page_templates() -> Jinja2Templates:
    """Web templates by their own names, device templates under ``displays/``, ``kiosks/``."""
    clash = [name for name in DEVICE_TEMPLATES if (WEB_TEMPLATES / name).exists()]
    assert not clash, f"web templates may not have folders named like a device prefix: {clash}"
    loader = ChoiceLoader(
        [
            PrefixLoader({name: FileSystemLoader(d) for name, d in DEVICE_TEMPLATES.items()}),
            FileSystemLoader(WEB_TEMPLATES),
        ]
    )
    env = Environment(loader=loader, autoescape=True, extensions=["jinja2.ext.i18n"])
    env.globals["role_labels"] = ROLE_LABELS
    return Jinja2Templates(env=env)
