"""The interactive API documentation (/docs), served entirely by the app itself.

FastAPI's own /docs loads Swagger UI from a CDN, which leaves the page blank on a bank network
without Internet access. Here Swagger UI comes from `static/` (swagger-ui-dist, copied
unchanged from npm; `static/VERSIONS.txt` says which), mounted at /docs/assets, and the page
itself is FastAPI's `get_swagger_ui_html` pointed at those files. The page carries a strict
Content-Security-Policy: scripts only from the app and the page's own start-up script, allowed
by its hash; nothing may be fetched from anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Final

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles

DOCS_PATH: Final = "/docs"
ASSETS_PATH: Final = "/docs/assets"
ASSETS_DIR: Final = Path(__file__).parent / "static"
SWAGGER_UI_PARAMETERS: Final = {
    # The validator badge would send the document's address to validator.swagger.io.
    "validatorUrl": None,
}
_INLINE_SCRIPT: Final = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_POLICY: Final = (
    "default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
"""Swagger UI styles its elements inline and draws icons from data: URIs."""


def docs_page(title: str, root_path: str, openapi_path: str) -> HTMLResponse:
    """The Swagger UI page for the OpenAPI document at `openapi_path`, with its headers."""
    assets = f"{root_path}{ASSETS_PATH}"
    page = get_swagger_ui_html(
        openapi_url=f"{root_path}{openapi_path}",
        title=f"{title} - Swagger UI",
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon-32x32.png",
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )
    html = bytes(page.body).decode()
    hashes = " ".join(_script_hash(script) for script in _INLINE_SCRIPT.findall(html))
    page.headers["Content-Security-Policy"] = _POLICY.format(hashes=hashes)
    page.headers["X-Content-Type-Options"] = "nosniff"
    page.headers["X-Frame-Options"] = "DENY"
    page.headers["Referrer-Policy"] = "same-origin"
    return page


def _script_hash(script: str) -> str:
    digest = hashlib.sha256(script.encode()).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def install_docs(app: FastAPI, openapi_path: str) -> None:
    """Serve the documentation at /docs and Swagger UI's files at /docs/assets."""

    async def swagger_ui(request: Request) -> HTMLResponse:
        root_path = str(request.scope.get("root_path", "")).rstrip("/")
        return docs_page(app.title, root_path, openapi_path)

    app.add_route(DOCS_PATH, swagger_ui, include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
