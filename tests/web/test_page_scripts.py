"""Every page's scripts are ES modules that import what they use and share nothing through
``window``; one Jinja environment renders web and device templates (docs/architecture.md,
"Front-end"). Read from the files; the browser tests run them."""

from __future__ import annotations

import re
from pathlib import Path

from window_service.web.assets import ASSET_DIRS
from window_service.web.templating import DEVICE_TEMPLATES, WEB_TEMPLATES, page_templates

TEMPLATES = [WEB_TEMPLATES, *DEVICE_TEMPLATES.values()]
SCRIPTS = [path for folder in ASSET_DIRS.values() for path in sorted(folder.glob("*.js"))]
#: classic scripts that are not ours (a UMD build that sets window.echarts)
VENDOR = {"/static/vendor/echarts/echarts.common.min.js"}
#: handles on window for operators and tests; no script reads them
HANDLES = {"hallDisplay", "windowDisplay", "boardStrip", "kiosk", "evaluatorPad", "Track"}


def _file_of(url: str) -> Path:
    prefix, _, name = url.lstrip("/").partition("/")
    return ASSET_DIRS["/" + prefix] / name


def _exports(path: Path) -> set[str]:
    text = path.read_text()
    names = set(re.findall(r"(?m)^export (?:const|let|function|class) ([\w$]+)", text))
    for group in re.findall(r"(?m)^export \{([^}]*)\}", text):
        names.update(name.strip() for name in group.split(","))
    return names


def test_pages_load_their_scripts_as_modules_from_files() -> None:
    for folder in TEMPLATES:
        for template in folder.rglob("*.html"):
            for tag, body in re.findall(
                r"(<script\b[^>]*>)(.*?)</script>", template.read_text(), re.S
            ):
                where = f"{template.name}: {tag}"
                if 'type="application/json"' in tag:
                    assert re.search(r'id="[\w-]+"', tag), where  # page data, never run
                    continue
                src = re.search(r'src="([^"?]+)"', tag)
                assert src and not body.strip(), where  # no inline script (CSP script-src 'self')
                if src.group(1) in VENDOR:
                    continue
                assert 'type="module"' in tag and "defer" not in tag, where
                assert _file_of(src.group(1)).is_file(), where


def test_every_import_names_an_export_of_an_existing_module() -> None:
    for script in SCRIPTS:
        text = script.read_text()
        for names, url in re.findall(r'(?m)^import \{([^}]*)\} from "([^"]+)";', text):
            target = script.parent / url[2:] if url.startswith("./") else _file_of(url)
            assert target.is_file(), (script.name, url)
            for name in names.split(","):
                assert name.split(" as ")[0].strip() in _exports(target), (script.name, name)


def test_no_script_shares_anything_through_window() -> None:
    for script in SCRIPTS:
        text = script.read_text()
        for name in re.findall(r"(?m)^window\.([\w$]+) =", text):
            assert name in HANDLES, (script.name, name)
        for name in HANDLES:
            if not re.search(rf"(?m)^window\.{name} =", text):
                assert f"window.{name}" not in text, (script.name, name)


def test_one_environment_renders_web_and_device_templates() -> None:
    env = page_templates().env
    assert "jinja2.ext.InternationalizationExtension" in env.extensions
    for name in ("base.html", "admin/office_admin.html", "displays/hall.html", "kiosks/pad.html"):
        assert env.get_template(name).filename, name
