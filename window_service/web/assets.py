"""The pages' scripts and styles (/static, /displays, /kiosks).

The page scripts are ES modules that import one another by plain URLs (``./dom.js``), so a
version in the page's address cannot reach them. Instead every file is answered with
``Cache-Control: no-cache``: the browser asks again on each load and gets a 304 while the
file is unchanged, so after an upgrade a kiosk or TV never runs a mix of old and new modules.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

PACKAGE = Path(__file__).resolve().parent.parent
ROOT = PACKAGE.parent
#: URL prefix → folder of the pages' static files
ASSET_DIRS = {
    "/static": PACKAGE / "web" / "static",
    "/displays": ROOT / "displays" / "static",
    "/kiosks": ROOT / "kiosks" / "static",
}


class PageAssets(StaticFiles):
    """Static files that the browser revalidates on every use (see the module docstring)."""

    def file_response(
        self, full_path: PathLike, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        return response
