"""The counselling's content as Physical Activity IG resources: the activity figures of each visit
(Observations), the plan made with the patient (Goals and a CarePlan) and the outcome summary
(the intervention report, a DiagnosticReport)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from html import escape
from typing import Any

from app.counselling.models import PlanVersion
from app.counselling.schemas import Outcome
from app.fhir_sync.mappings import fixed, mapped, mapping, meta
from app.fhir_sync.parts import (
    LOINC,
    Outbound,
    RecordedVisit,
    Refer,
    ReferralRecords,
    Resource,
    business_identifier,
    derived_key,
    instant,
    practitioner_reference,
    quantity,
    service_reference,
)

MINUTES_PER_WEEK = "82290-8"


def _status(recorded: RecordedVisit, figure: str) -> str:
    """Amended when a version the correction replaced recorded another value; a figure the
    correction left as it was stays final."""
    value = getattr(recorded.visit, figure)
    changed = any(getattr(earlier, figure) not in (None, value) for earlier in recorded.earlier)
    return str(mapped("Observation", "status", "corrected" if changed else "recorded"))


def observations(
    records: ReferralRecords, recorded: RecordedVisit, refer: Refer
) -> Iterator[Outbound]:
    """One per activity figure the visit recorded; the weekly minutes derived from the days and
    the minutes a day, where the visit recorded those."""
    visit, codes = recorded.visit, mapping("Observation")["codes"]
    for figure, code in codes.items():
        value = getattr(visit, figure)
        if value is None:
            continue
        key = derived_key(recorded.root_id, code["loinc"])
        body: Resource = {
            "resourceType": "Observation",
            "meta": {"profile": [code["profile"]]},
            "identifier": [business_identifier(key)],
            "status": _status(recorded, figure),
            **fixed("Observation"),
            "code": {
                "coding": [{"system": LOINC, "code": code["loinc"], "display": code["display"]}]
            },
            "subject": refer("Patient", records.patient.id),
            "encounter": refer("Encounter", recorded.root_id),
            "effectiveDateTime": visit.visited_on.isoformat(),
            "valueQuantity": quantity(value, code["unit"]),
        }
        sources = [
            refer("Observation", derived_key(recorded.root_id, codes[source]["loinc"]))
            for source in code.get("derived_from", [])
            if getattr(visit, source) is not None
        ]
        if sources:
            body["derivedFrom"] = sources
        yield Outbound("Observation", key, body)


def _target(goal: dict[str, Any]) -> Resource:
    """Every target of a PA Goal has a quantity, and so (gol-1) a measure: a goal measured
    otherwise than by the codes names its measure in words."""
    target: Resource = {"dueDate": goal["target_date"]}
    measure = mapping("Goal")["measures"].get(goal["measure"])
    if measure is not None:
        target["measure"] = {"coding": [{"system": LOINC, "code": measure["loinc"]}]}
        target["detailQuantity"] = quantity(goal["target"], measure["unit"])
    else:
        target["measure"] = {"text": goal["what"]}
        target["detailQuantity"] = {"value": goal["target"]}
    return target


def goals(records: ReferralRecords, plan: PlanVersion, refer: Refer) -> list[Outbound]:
    published = []
    for place, goal in enumerate(plan.goals):
        key = derived_key(plan.referral_id, f"goal-{place}")
        achieved = bool(goal.get("achieved"))
        body: Resource = {
            "resourceType": "Goal",
            **meta("Goal"),
            "identifier": [business_identifier(key)],
            "lifecycleStatus": "completed" if achieved else "active",
            "achievementStatus": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/goal-achievement",
                        "code": mapped("Goal", "achievement", achieved),
                    }
                ]
            },
            **fixed("Goal"),
            "description": {"text": goal["what"]},
            "subject": refer("Patient", records.patient.id),
            "startDate": plan.agreed_on.isoformat(),
            "target": [_target(goal)],
        }
        published.append(Outbound("Goal", key, body))
    return published


def _activity_line(planned: dict[str, Any]) -> str:
    words = mapping("CarePlan")["narrative"]
    line = (
        f"{planned['kind']}, {mapped('CarePlan', 'intensity', planned['intensity'])}, "
        f"{planned['frequency_per_week']} {words['times_a_week']}, {planned['minutes']} min"
    )
    return f"{line}, {planned['where']}" if planned.get("where") else line


def _narrative(plan: PlanVersion) -> Resource:
    """The plan in words, generated from the same fields as the rest of the CarePlan."""
    words = mapping("CarePlan")["narrative"]
    agreed = plan.agreed_on
    parts = [f"<p>{escape(words['title'])} {agreed.day}.{agreed.month}.{agreed.year}</p>"]
    for heading, lines in (
        (words["goals"], [goal["what"] for goal in plan.goals]),
        (words["activities"], [_activity_line(planned) for planned in plan.activities]),
        (words["support"], [plan.support_agreed] if plan.support_agreed else []),
    ):
        if lines:
            items = "".join(f"<li>{escape(line)}</li>" for line in lines)
            parts.append(f"<p>{escape(heading)}</p><ul>{items}</ul>")
    div = f'<div xmlns="http://www.w3.org/1999/xhtml">{"".join(parts)}</div>'
    return {"status": "generated", "div": div}


def _activities(plan: PlanVersion, status: str) -> list[Resource]:
    activity_status = {"active": "in-progress", "completed": "completed"}.get(status, "cancelled")
    activities = []
    for planned in plan.activities:
        detail: Resource = {
            "status": activity_status,
            "code": {"text": mapped("CarePlan", "intensity", planned["intensity"])},
            "description": planned["kind"],
            "scheduledTiming": {
                "repeat": {
                    "frequency": planned["frequency_per_week"],
                    "period": 1,
                    "periodUnit": "wk",
                    "duration": planned["minutes"],
                    "durationUnit": "min",
                }
            },
        }
        if planned.get("where"):
            detail["location"] = {"display": planned["where"]}
        activities.append({"detail": detail})
    return activities


def care_plan(
    records: ReferralRecords, plan: PlanVersion, goal_keys: list[uuid.UUID], refer: Refer
) -> Outbound:
    status = mapped("CarePlan", "status", records.referral.status)
    body: Resource = {
        "resourceType": "CarePlan",
        **meta("CarePlan"),
        "text": _narrative(plan),
        "identifier": [business_identifier(plan.referral_id)],
        "status": status,
        **fixed("CarePlan"),
        "subject": refer("Patient", records.patient.id),
        "basedOn": [refer("ServiceRequest", plan.referral_id)],
        "created": plan.agreed_on.isoformat(),
        "period": {"start": plan.agreed_on.isoformat()},
        "author": practitioner_reference(refer, plan.author_subject, plan.author_name),
        "goal": [refer("Goal", key) for key in goal_keys],
        "activity": _activities(plan, status),
    }
    if plan.support_agreed:
        author = practitioner_reference(
            refer, plan.author_subject, plan.author_name, identified=False
        )
        body["note"] = [
            {
                "authorReference": author,
                "time": plan.agreed_on.isoformat(),
                "text": plan.support_agreed,
            }
        ]
    return Outbound("CarePlan", plan.referral_id, body)


def diagnostic_report(records: ReferralRecords, outcome: Outcome, refer: Refer) -> Outbound:
    referral = records.referral
    body: Resource = {
        "resourceType": "DiagnosticReport",
        **meta("DiagnosticReport"),
        "identifier": [business_identifier(referral.id)],
        "basedOn": [refer("ServiceRequest", referral.id)],
        **fixed("DiagnosticReport"),
        "subject": refer("Patient", records.patient.id),
        "issued": instant(referral.updated_at),
        "performer": [service_reference(records, refer)],
        "conclusion": referral.outcome_summary,
    }
    first, last = outcome.first_assessment, outcome.last_assessment
    if first and last:
        body["effectivePeriod"] = {
            "start": first.visited_on.isoformat(),
            "end": last.visited_on.isoformat(),
        }
    else:  # no assessments to span: the report is of the counselling as it ended
        body["effectiveDateTime"] = instant(referral.updated_at)
    results = [
        refer("Observation", derived_key(recorded.root_id, MINUTES_PER_WEEK))
        for recorded in records.visits
        if recorded.visit.minutes_per_week is not None
        and (first and last)
        and recorded.visit.visited_on in (first.visited_on, last.visited_on)
    ]
    if results:
        body["result"] = results
    return Outbound("DiagnosticReport", referral.id, body)
