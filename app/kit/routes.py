"""The route template of a request, for metrics, logs and the audit log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

UNMATCHED = "<unmatched>"


def route_template(scope: Mapping[str, Any]) -> str:
    """`/api/v1/referrals/{referral_id}` for `/api/v1/referrals/3f2…`, never the raw values:
    a template does not explode metric cardinality and carries no identifiers."""
    if "route" not in scope:
        return UNMATCHED
    by_value = {str(value): name for name, value in scope.get("path_params", {}).items()}
    segments = str(scope["path"]).split("/")
    return "/".join(f"{{{by_value[s]}}}" if s in by_value else s for s in segments)
