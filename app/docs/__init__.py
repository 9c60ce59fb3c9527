"""The interactive API documentation at `/docs`: Swagger UI served from the package itself (a
pinned, hash-checked copy of `swagger-ui-dist`, see `vendor.py`), so that it works on a network
without the internet, under a Content-Security-Policy that runs no inline script."""

from __future__ import annotations

import mimetypes
from functools import cache
from html import escape
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import HTMLResponse

from app.errors import RouteNotFound

DOCS = "/docs"
ASSETS = f"{DOCS}/assets"
PACKAGE = files(__name__)
# The page's own start-up script beside the vendored files: all that the page loads.
ASSET_FILES = {"init.js": PACKAGE / "init.js"} | {
    name: PACKAGE / "swagger-ui" / name
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png")
}

router = APIRouter(include_in_schema=False)


@cache
def _read(name: str) -> bytes:
    return ASSET_FILES[name].read_bytes()


@router.get(DOCS)
def docs(request: Request) -> HTMLResponse:
    """Swagger UI over the OpenAPI document."""
    prefix = escape(request.scope.get("root_path", ""))
    page = (PACKAGE / "page.html").read_text(encoding="utf-8")
    return HTMLResponse(
        page.replace("{assets}", prefix + ASSETS).replace("{openapi}", prefix + "/openapi.json")
    )


@router.get(f"{ASSETS}/{{name}}")
def asset(name: Annotated[str, Path(max_length=40)]) -> Response:
    """A file of the page: the vendored Swagger UI or its start-up script."""
    if name not in ASSET_FILES:
        raise RouteNotFound()
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    # The files change only with Askel's version: a day in the browser's cache is safe.
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(_read(name), media_type=media_type, headers=headers)
