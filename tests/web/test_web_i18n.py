"""The page catalogue: the compiled .mo matches the .po, and every page template compiles."""

from __future__ import annotations

from babel.messages.pofile import read_po
from babel.support import Translations
from jinja2 import Environment, FileSystemLoader

from window_service.web.pages import LOCALE_DIR

TEMPLATES = LOCALE_DIR.parent / "templates"


def test_compiled_catalogue_matches_the_po_file() -> None:
    with open(LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalog = read_po(f, locale="en")
    compiled = Translations.load(str(LOCALE_DIR), ["en"])
    stale = [
        m.id
        for m in catalog
        if m.id
        and isinstance(m.id, str)
        and m.string
        and (compiled.pgettext(m.context, m.id) if m.context else compiled.gettext(m.id))
        != m.string
    ]
    assert not stale, f"run `make i18n` (the .mo is older than the .po): {stale[:5]}"
    assert compiled.gettext("叫号") == "Call next"


def test_every_page_template_compiles() -> None:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), extensions=["jinja2.ext.i18n"])
    names = env.list_templates(extensions=["html"])
    assert "base.html" in names
    for name in names:
        env.get_template(name)
