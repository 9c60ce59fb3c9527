"""The audit log as FHIR R4 AuditEvent resources in the IHE Basic Audit Log Patterns (BALP)
shape, one JSON object per line, for the controller's own log archive and SIEM."""

from __future__ import annotations

from typing import Any

from app.access.audit.models import TRANSITIONS, AuditEvent

# BALP: the REST interaction as subtype, C/R/U/E as action (E for searches).
_INTERACTIONS: dict[str, tuple[str, str]] = {
    "create": ("create", "C"),
    "read": ("read", "R"),
    "update": ("update", "U"),
    "query": ("search-type", "E"),
    "disclose": ("read", "R"),
    **dict.fromkeys(TRANSITIONS, ("update", "U")),
}
_DCM = "http://dicom.nema.org/resources/ontology/DCM"
# v3-ActReason: treatment for care and counselling, operations for statistics and audit.
PURPOSE_OF_USE = {
    "care": "TREAT",
    "counselling": "TREAT",
    "statistics": "HOPERAT",
    "audit": "HOPERAT",
    "research": "HRESCH",
}


def _coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return coding


def as_fhir(event: AuditEvent) -> dict[str, Any]:
    subtype, action = _INTERACTIONS[event.action]
    disclosure = event.action == "disclose"
    user_agent: dict[str, Any] = {
        "type": {"coding": [_coding(
            "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP",
            "information recipient")]},
        "who": {"identifier": {"value": event.actor or "askel"}},
        "requestor": True,
    }  # fmt: skip
    if event.actor_roles:
        user_agent["role"] = [{"text": role} for role in event.actor_roles.split(",")]
    if event.actor_organisation:
        user_agent["who"]["display"] = event.actor_organisation
    if event.purpose:
        user_agent["purposeOfUse"] = [{"coding": [_coding(
            "http://terminology.hl7.org/CodeSystem/v3-ActReason", PURPOSE_OF_USE[event.purpose],
        )], "text": event.purpose}]  # fmt: skip
    # The server is the source of reads and the destination of writes (DCM 110153 / 110152).
    server_role = "110153" if action in ("R", "E") else "110152"
    entities: list[dict[str, Any]] = []
    if event.patient_id:
        entities.append(
            {
                "what": {"reference": f"Patient/{event.patient_id}"},
                "type": _coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1"),
                "role": _coding("http://terminology.hl7.org/CodeSystem/object-role", "1"),
            }
        )
    if event.resource_id:
        entities.append(
            {
                "what": {"identifier": {"value": event.resource_id}},
                "type": _coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2"),
                "description": event.resource_type,
            }
        )
    agents = [
        user_agent,
        {
            "type": {"coding": [_coding(_DCM, server_role)]},
            "who": {"display": "Askel"},
            "requestor": False,
        },
    ]
    if event.recipient:
        # Whom the data was disclosed to, beside who disclosed it.
        agents.append({
            "type": {"coding": [_coding(
                "http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "IRCP",
                "information recipient")]},
            "who": {"display": event.recipient},
            "requestor": False,
        })  # fmt: skip
    return {
        "resourceType": "AuditEvent",
        "id": f"askel-{event.seq}",
        "type": _coding("http://terminology.hl7.org/CodeSystem/audit-event-type", "rest"),
        "subtype": [_coding("http://hl7.org/fhir/restful-interaction", subtype)],
        "action": action,
        "recorded": event.occurred_at.isoformat(),
        "outcome": "0" if event.outcome == "success" else "4",
        "outcomeDesc": "disclosure" if disclosure else event.outcome,
        "agent": agents,
        "source": {
            "observer": {"display": "Askel"},
            "type": [_coding("http://terminology.hl7.org/CodeSystem/security-source-type", "4")],
        },
        "entity": entities,
    }
