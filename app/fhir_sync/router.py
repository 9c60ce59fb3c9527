"""Askel as a FHIR server for the region's patient system: referrals arrive as a ServiceRequest
or a transaction bundle (the `integration` role only), errors are OperationOutcomes."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from app.access.permissions import FhirExchange
from app.config import Settings
from app.db import WriteSession
from app.errors import FHIR_JSON, Forbidden, NotFound, ValidationFailed, problem_responses
from app.fhir_sync import held, inbound
from app.fhir_sync.exceptions import InvalidFhirResource, UnknownRequester, UnregisteredPatient

router = APIRouter(prefix="/fhir", tags=["FHIR"])
INBOUND_ERRORS = problem_responses(
    Forbidden, InvalidFhirResource, UnknownRequester, UnregisteredPatient, ValidationFailed
)
# A request body larger than this is not a referral.
MAX_BODY_BYTES = 1_000_000


def _fhir(body: dict[str, Any], status_code: int = 200, **headers: str) -> JSONResponse:
    return JSONResponse(body, status_code=status_code, media_type=FHIR_JSON, headers=headers)


async def _json(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidFhirResource(reason="the body is too large")
    try:
        return await request.json()
    except ValueError:
        raise InvalidFhirResource(reason="the body is not JSON") from None


@router.get("/metadata", response_class=Response, responses={200: {"content": {FHIR_JSON: {}}}})
def capability_statement() -> JSONResponse:
    """What Askel's FHIR endpoint offers (no token needed)."""
    return _fhir(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": "2026-11-28",
            "kind": "instance",
            "fhirVersion": "4.0.1",
            "format": ["json"],
            "software": {"name": "Askel"},
            "implementation": {"description": "Askel physical-activity counselling"},
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "service": [{"coding": [{
                            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                            "code": "SMART-on-FHIR"}]}],
                    },
                    "resource": [{"type": "ServiceRequest",
                                  "interaction": [{"code": "create"}, {"code": "read"}],
                                  "conditionalCreate": True}],
                    "interaction": [{"code": "transaction"}],
                }
            ],
        }
    )  # fmt: skip


@router.get("/.well-known/smart-configuration")
def smart_configuration(request: Request) -> JSONResponse:
    """How a backend client gets a token for this endpoint (SMART Backend Services)."""
    settings: Settings = request.app.state.settings
    token_endpoint = settings.fhir_server_token_endpoint or f"{settings.dev_issuer_url}/token"
    return JSONResponse(
        {
            "token_endpoint": token_endpoint,
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
            "scopes_supported": ["system/ServiceRequest.c", "system/Patient.c"],
            "capabilities": ["client-confidential-asymmetric"],
        }
    )


@router.post(
    "/ServiceRequest",
    status_code=status.HTTP_201_CREATED,
    response_class=Response,
    responses={**INBOUND_ERRORS, 201: {"content": {FHIR_JSON: {}}}},
)
async def receive_service_request(
    request: Request, principal: FhirExchange, session: WriteSession
) -> JSONResponse:
    """A referral from the region's patient system (integration role): 201 with the referral
    as Askel holds it and its `Location`, or 200 with the same when the ServiceRequest's
    identifier was seen before."""
    body = await _json(request)
    referral, created = inbound.receive_service_request(session, principal, body)
    answer = held.held_service_request(session, referral.id)
    version = answer["meta"]["versionId"]
    return _fhir(
        answer,
        status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        Location=f"{request.url_for('read_service_request', referral_id=referral.id)}"
        f"/_history/{version}",
        ETag=f'W/"{version}"',
    )


@router.get(
    "/ServiceRequest/{referral_id}",
    response_class=Response,
    responses={**problem_responses(Forbidden, NotFound), 200: {"content": {FHIR_JSON: {}}}},
)
def read_service_request(
    referral_id: uuid.UUID, principal: FhirExchange, session: WriteSession
) -> JSONResponse:
    """A referral as Askel holds it, as a ServiceRequest (integration role: the region's
    patient system, controller of every referral); 404 for one that does not exist."""
    answer = held.read_service_request(session, principal, referral_id)
    return _fhir(answer, ETag=f'W/"{answer["meta"]["versionId"]}"')


@router.post(
    "", response_class=Response, responses={**INBOUND_ERRORS, 200: {"content": {FHIR_JSON: {}}}}
)
async def receive_transaction(
    request: Request, principal: FhirExchange, session: WriteSession
) -> JSONResponse:
    """A transaction bundle with the Patient, the ServiceRequest and its Task (integration
    role): applied whole or not at all."""
    return _fhir(inbound.receive_bundle(session, principal, await _json(request)))
