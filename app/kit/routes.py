"""Routes: the template of a request, for metrics, logs and the audit log; the absolute
address of a route, for what Askel hands out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request

UNMATCHED = "<unmatched>"


def route_template(scope: Mapping[str, Any]) -> str:
    """`/api/v1/referrals/{referral_id}` for `/api/v1/referrals/3f2…`, never the raw values:
    a template does not explode metric cardinality and carries no identifiers."""
    if "route" not in scope:
        return UNMATCHED
    by_value = {str(value): name for name, value in scope.get("path_params", {}).items()}
    segments = str(scope["path"]).split("/")
    return "/".join(f"{{{by_value[s]}}}" if s in by_value else s for s in segments)


def absolute_url_for(request: Request, name: str, /, **path_params: Any) -> URL:
    """The address of a route as clients reach it: under ASKEL_PUBLIC_URL when it is set, else
    the request's own (its Host, and the scheme a trusted proxy forwarded: uvicorn believes
    X-Forwarded-Proto only from ASKEL_TRUSTED_PROXIES)."""
    public: str | None = request.app.state.settings.public_url
    if public is None:
        return request.url_for(name, **path_params)
    return URL(public + str(request.app.url_path_for(name, **path_params)))
