"""Every route of the API against every role, from one declared table. A route missing from the
table fails the test, so no endpoint can be added without saying who may use it.

`FUNCTION` routes check the role: the roles listed get past it, every other role gets 403.
`RECORD` routes address one record: every role gets past the role check and the record's
policy decides; asked about a record that is not theirs (here: one that does not exist), every
role gets 404, never a 403 that would tell the record is worth hiding.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from starlette.testclient import TestClient

Auth = Callable[[str], dict[str, str]]

CLINICIAN, COUNSELLOR, ADMIN, AUDITOR, STATISTICIAN, STEWARD, SYSTEM = (
    "doctor.laihia", "counsellor1.laihia", "admin.region", "auditor.region",
    "statistician.region", "steward.region", "patient-system",
)  # fmt: skip
EVERYONE = frozenset({CLINICIAN, COUNSELLOR, ADMIN, AUDITOR, STATISTICIAN, STEWARD, SYSTEM})
RECORD = "record"

ACCESS: dict[tuple[str, str], frozenset[str] | str] = {
    ("GET", "/api/v1/services"): EVERYONE,
    ("POST", "/api/v1/patients"): frozenset({CLINICIAN, SYSTEM}),
    ("POST", "/api/v1/patients/lookup"): frozenset({CLINICIAN, SYSTEM}),
    ("POST", "/api/v1/patients/identify"): frozenset({CLINICIAN, SYSTEM}),
    ("POST", "/api/v1/referrals"): frozenset({CLINICIAN}),
    ("GET", "/api/v1/referrals"): frozenset({CLINICIAN, COUNSELLOR}),
    ("GET", "/api/v1/referrals/{referral_id}"): RECORD,
    ("GET", "/api/v1/referrals/{referral_id}/events"): RECORD,
    ("POST", "/api/v1/referrals/{referral_id}/accept"): RECORD,
    ("POST", "/api/v1/referrals/{referral_id}/reject"): RECORD,
    ("POST", "/api/v1/referrals/{referral_id}/return"): RECORD,
    ("POST", "/api/v1/referrals/{referral_id}/start"): RECORD,
    ("POST", "/api/v1/referrals/{referral_id}/complete"): RECORD,
    ("POST", "/api/v1/referrals/{referral_id}/cancel"): RECORD,
    ("POST", "/api/v1/referrals/{referral_id}/book-by-service"): RECORD,
    ("GET", "/api/v1/referral-reasons"): frozenset({CLINICIAN, COUNSELLOR}),
    ("GET", "/api/v1/counsellors/{counsellor_id}/availability"): RECORD,
    ("PUT", "/api/v1/counsellors/{counsellor_id}/availability"): RECORD,
    ("GET", "/api/v1/slots"): frozenset({CLINICIAN, COUNSELLOR}),
    ("POST", "/api/v1/slots/{slot_id}/hold"): frozenset({CLINICIAN, COUNSELLOR}),
    ("POST", "/api/v1/appointments"): frozenset({CLINICIAN, COUNSELLOR}),
    ("GET", "/api/v1/appointments"): frozenset({CLINICIAN, COUNSELLOR}),
    ("GET", "/api/v1/appointments/{appointment_id}"): RECORD,
    ("POST", "/api/v1/appointments/{appointment_id}/cancel"): RECORD,
    ("POST", "/api/v1/appointments/{appointment_id}/reschedule"): RECORD,
    ("POST", "/api/v1/appointments/{appointment_id}/attended"): RECORD,
    ("POST", "/api/v1/appointments/{appointment_id}/no-show"): RECORD,
    ("POST", "/api/v1/counsellors/{counsellor_id}/calendar-token"): RECORD,
    ("POST", "/api/v1/counsellors/{counsellor_id}/calendar-token/revoke"): RECORD,
    # The feed is read by calendar programs with its own token, not a bearer token.
    ("GET", "/api/v1/counsellors/{counsellor_id}/calendar.ics"): RECORD,
    ("POST", "/api/v1/referrals/{referral_id}/visits"): RECORD,
    ("GET", "/api/v1/referrals/{referral_id}/visits"): RECORD,
    ("POST", "/api/v1/visits/{visit_id}/corrections"): RECORD,
    ("PUT", "/api/v1/referrals/{referral_id}/plan"): RECORD,
    ("GET", "/api/v1/referrals/{referral_id}/plan"): RECORD,
    ("GET", "/api/v1/referrals/{referral_id}/outcome"): RECORD,
    ("POST", "/api/v1/referrals/{referral_id}/plan/follow-ups"): RECORD,
    ("POST", "/api/v1/patients/{patient_id}/consents"): RECORD,
    ("GET", "/api/v1/patients/{patient_id}/consents"): RECORD,
    ("GET", "/api/v1/patients/{patient_id}/guardians"): RECORD,
    ("PUT", "/api/v1/patients/{patient_id}/guardians"): RECORD,
    ("POST", "/api/v1/research/extracts"): frozenset({STEWARD}),
    ("GET", "/api/v1/admin/access-grants"): frozenset({ADMIN}),
    ("POST", "/api/v1/admin/access-grants"): frozenset({ADMIN}),
    ("POST", "/api/v1/admin/access-grants/{grant_id}/attest"): frozenset({ADMIN}),
    ("POST", "/api/v1/admin/access-grants/{grant_id}/revoke"): frozenset({ADMIN}),
    ("GET", "/api/v1/admin/access-review"): frozenset({ADMIN}),
    ("POST", "/api/v1/admin/access-review/recertify"): frozenset({ADMIN}),
    ("GET", "/api/v1/admin/outbox/dead-letters"): frozenset({ADMIN}),
    ("POST", "/api/v1/admin/outbox/dead-letters/replay"): frozenset({ADMIN}),
    ("GET", "/api/v1/admin/fhir/refusals"): frozenset({ADMIN}),
    ("GET", "/api/v1/audit/events"): frozenset({AUDITOR}),
    ("GET", "/api/v1/stats/visits"): frozenset({STATISTICIAN}),
    ("GET", "/api/v1/stats/referrals"): frozenset({STATISTICIAN}),
    ("GET", "/api/v1/stats/municipalities/{code}/card"): frozenset({STATISTICIAN}),
    ("GET", "/api/v1/stats/municipalities/{code}/card/{chart}.png"): frozenset({STATISTICIAN}),
    # Askel as a FHIR server: the region's patient system posts referrals; metadata is public.
    ("POST", "/fhir/ServiceRequest"): frozenset({SYSTEM}),
    ("GET", "/fhir/ServiceRequest/{referral_id}"): frozenset({SYSTEM}),
    ("POST", "/fhir"): frozenset({SYSTEM}),
    ("GET", "/fhir/metadata"): EVERYONE,
    ("GET", "/fhir/.well-known/smart-configuration"): EVERYONE,
    ("GET", "/api/v1/audit/export"): frozenset({AUDITOR}),
    ("GET", "/api/v1/audit/patients/{patient_id}/access-report"): frozenset({AUDITOR}),
    ("POST", "/api/v1/audit/verify"): frozenset({AUDITOR}),
}


def caller(method: str, path: str) -> str:
    """A user the route lets past its role check: one of its roles, or anyone for a record."""
    allowed = ACCESS[(method.upper(), path)]
    return CLINICIAN if allowed == RECORD else sorted(allowed)[0]


NOBODY_ID = "00000000-0000-4000-8000-000000000000"


def test_every_route_is_declared(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    routes = {
        (method.upper(), path)
        for path, item in paths.items()
        if path.startswith(("/api/", "/fhir"))
        for method in item
    }
    assert routes - set(ACCESS) == set(), "routes nobody has declared the access of"
    assert set(ACCESS) - routes == set(), "declared routes that no longer exist"


@pytest.mark.parametrize("user", sorted(EVERYONE))
@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
def test_the_matrix(client: TestClient, auth: Auth, user: str, method: str, path: str) -> None:
    url = path.format(**dict.fromkeys(
        ("referral_id", "counsellor_id", "slot_id", "appointment_id", "visit_id", "grant_id",
         "patient_id"), NOBODY_ID), code="000", chart="funnel")  # fmt: skip
    response = client.request(method, url, headers={**auth(user), "If-Match": '"1"'},
                              json={} if method in ("POST", "PUT") else None)  # fmt: skip
    rule = ACCESS[(method, path)]
    if rule == RECORD:
        assert response.status_code in (404, 422), response.text
    elif user in rule:
        assert response.status_code != 403, response.text
    else:
        assert response.status_code == 403, response.text
