"""The development patient system: a stand-in for the region's patient system, so that the
embedded default can try what a clinician does there — open Askel from a patient's chart by a
SMART App Launch. On only with the development issuer, which is its authorization server.

Its page picks the clinician at work and the chart to open, and launches Askel; its FHIR
server (`/dev/fhir`) publishes its SMART configuration and serves each chart's Patient to a
token granted for that chart's launch, nothing else.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from app.access.dev_issuer import LAUNCH_LIFETIME, DevIssuer, LaunchContext
from app.access.dev_router import list_users
from app.config import Settings
from app.db import ReadSession
from app.demo.chart import charts, condition_resources, newcomer_ids, patient_resource
from app.errors import FHIR_JSON
from app.kit.clock import utcnow
from app.web.csrf import checked_form
from app.web.pages import PageRoute
from app.web.templating import render

page_router = APIRouter(prefix="/dev", route_class=PageRoute, include_in_schema=False)
fhir_router = APIRouter(prefix="/dev/fhir", include_in_schema=False)
# A FHIR resource id (FHIR R4 2.24.0.2).
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
CAPABILITIES = ["launch-ehr", "context-ehr-patient", "sso-openid-connect",
                "client-confidential-symmetric", "client-confidential-asymmetric",
                "permission-v2"]  # fmt: skip


def _issuer(request: Request) -> DevIssuer:
    issuer: DevIssuer = request.app.state.dev_issuer
    return issuer


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@page_router.get("/patient-system")
def patient_system(request: Request, session: ReadSession) -> Response:
    """The page: who is at work, whose chart is open, and the button that opens Askel."""
    clinicians = [user for user in list_users(session) if "clinician" in user.roles]
    others = [user for user in list_users(session) if "clinician" not in user.roles]
    context = {
        "clinicians": clinicians,
        "others": others,
        "charts": charts(),
        "newcomers": newcomer_ids(),
        "servers": [system.iss for system in _settings(request).launch_systems],
    }
    return render(request, "access/dev_patient_system.html", context)


@page_router.post("/patient-system/launch")
async def launch(request: Request) -> Response:
    """Opens Askel's launch address with a new launch for the chosen user and chart."""
    form = await checked_form(request)
    username, patient, iss = (str(form.get(name, "")) for name in ("username", "patient", "iss"))
    servers = {system.iss for system in _settings(request).launch_systems}
    if iss not in servers or not FHIR_ID.match(patient) or not username:
        return RedirectResponse("/dev/patient-system", status_code=303)
    context = LaunchContext(username, patient, iss, utcnow() + LAUNCH_LIFETIME)
    handle = _issuer(request).start_launch(context)
    app_address = _settings(request).public_url or ""
    query = urlencode({"iss": iss, "launch": handle})
    return RedirectResponse(f"{app_address}/launch?{query}", status_code=303)


@fhir_router.get("/.well-known/smart-configuration")
def smart_configuration(request: Request) -> dict[str, Any]:
    """How apps are launched from this patient system (SMART App Launch 2.2)."""
    issuer = _issuer(request)
    return {
        "issuer": issuer.url,
        "jwks_uri": f"{issuer.url}/jwks",
        "authorization_endpoint": f"{issuer.url}/authorize",
        "token_endpoint": f"{issuer.url}/oauth/token",
        "grant_types_supported": ["authorization_code"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "scopes_supported": [
            "openid",
            "fhirUser",
            "launch",
            "patient/Patient.rs",
            "patient/Condition.rs",
        ],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": CAPABILITIES,
    }


def _outcome(status: int, code: str, diagnostics: str) -> JSONResponse:
    body = {"resourceType": "OperationOutcome",
            "issue": [{"severity": "error", "code": code, "diagnostics": diagnostics}]}  # fmt: skip
    return JSONResponse(body, status_code=status, media_type=FHIR_JSON)


def _chart_of_token(request: Request, authorization: str) -> str | None:
    """The chart a token of this patient system was granted for."""
    scheme, _, token = authorization.partition(" ")
    claims = _issuer(request).verify(token) if scheme.lower() == "bearer" else None
    return str(claims["patient"]) if claims and "patient" in claims else None


@fhir_router.get("/Condition")
def search_conditions(
    request: Request,
    patient: str = "",
    authorization: Annotated[str, Header()] = "",
) -> Response:
    """The chart's active Conditions (a searchset), to a token granted for that chart."""
    chart = _chart_of_token(request, authorization)
    if chart is None:
        return _outcome(401, "login", "a token of this patient system is required")
    found = condition_resources(chart) if patient == chart and chart in charts() else []
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(found),
              "entry": [{"resource": condition, "search": {"mode": "match"}}
                        for condition in found]}  # fmt: skip
    return JSONResponse(bundle, media_type=FHIR_JSON)


@fhir_router.get("/Patient/{chart_id}")
def read_patient(
    request: Request, chart_id: str, authorization: Annotated[str, Header()] = ""
) -> Response:
    """A chart's Patient, to a token granted for a launch from that very chart."""
    chart = _chart_of_token(request, authorization)
    if chart is None:
        return _outcome(401, "login", "a token of this patient system is required")
    person = charts().get(chart_id)
    if chart != chart_id or person is None:
        return _outcome(404, "not-found", "no such chart for this token")
    return JSONResponse(patient_resource(chart_id, person), media_type=FHIR_JSON)
