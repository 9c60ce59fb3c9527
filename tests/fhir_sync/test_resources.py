"""What the published resources say as the records change: a corrected visit amends only the
figures it changed, the weekly minutes derive from their parts, a Task is never modified before
it was authored, the custodian is claimed only where it is known, a cancellation's reason."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import timedelta
from typing import Any

import pytest

from app.counselling.models import Visit
from app.fhir_sync.mappings import mapping
from app.fhir_sync.parts import derived_key
from app.fhir_sync.resources import RecordedVisit, ReferralRecords, referral_set
from tests.fixtures.conformance import violations
from tests.fixtures.fhir_scene import CORRECTED_VISIT, refer, scene

DAYS, MINUTES_A_DAY, MINUTES, STRENGTH = "89555-7", "68516-4", "82290-8", "82291-6"


def _bodies(records: ReferralRecords, kind: str) -> list[dict[str, Any]]:
    return [r.body for r in referral_set(records, refer) if r.resource_type == kind]


def _last_visit_statuses(records: ReferralRecords) -> dict[str, str]:
    return {
        body["code"]["coding"][0]["code"]: body["status"]
        for body in _bodies(records, "Observation")
        if body["encounter"]["reference"] == f"Encounter/{CORRECTED_VISIT}"
    }


def test_a_correction_amends_only_the_figures_it_changed() -> None:
    assert _last_visit_statuses(scene()) == {
        DAYS: "final", MINUTES_A_DAY: "final", MINUTES: "final", STRENGTH: "amended"
    }  # fmt: skip


def _corrected(visit: Visit, **changes: object) -> Visit:
    fields = {column.key: getattr(visit, column.key) for column in Visit.__table__.columns}
    return Visit(**{**fields, "id": uuid.uuid4(), "supersedes_id": visit.id, **changes})


def test_a_figure_changed_by_an_earlier_correction_stays_amended() -> None:
    records = scene()
    last = records.visits[-1]
    [original] = last.earlier
    # A second correction changes the minutes; the strength days keep the first correction's.
    newest = _corrected(last.visit, minutes_per_week=160, mvpa_minutes_per_day=80)
    records.visits[-1] = RecordedVisit(newest, last.root_id, (original, last.visit))
    assert _last_visit_statuses(records) == {
        DAYS: "final", MINUTES_A_DAY: "amended", MINUTES: "amended", STRENGTH: "amended"
    }  # fmt: skip


def test_a_figure_first_recorded_in_a_correction_is_final() -> None:
    records = scene()
    last = records.visits[-1]
    [original] = last.earlier
    original.strength_days_per_week = None
    assert _last_visit_statuses(records)[STRENGTH] == "final"


def _weekly(records: ReferralRecords, visit: RecordedVisit) -> dict[str, Any]:
    key = derived_key(visit.root_id, MINUTES)
    [body] = [b for b in _bodies(records, "Observation") if b["identifier"][0]["value"].endswith(
        str(key))]  # fmt: skip
    return body


def test_the_weekly_minutes_derive_from_the_days_and_the_minutes_a_day() -> None:
    records = scene()
    visit = records.visits[0]
    parts = [f"Observation/{derived_key(visit.root_id, code)}" for code in (DAYS, MINUTES_A_DAY)]
    assert [ref["reference"] for ref in _weekly(records, visit)["derivedFrom"]] == parts


def test_the_weekly_minutes_derive_only_from_the_parts_recorded() -> None:
    records = scene()
    visit = records.visits[0]
    visit.visit.mvpa_days_per_week = None
    weekly = _weekly(records, visit)
    only = f"Observation/{derived_key(visit.root_id, MINUTES_A_DAY)}"
    assert [ref["reference"] for ref in weekly["derivedFrom"]] == [only]
    visit.visit.mvpa_minutes_per_day = None
    assert "derivedFrom" not in _weekly(records, visit)


def test_a_task_is_never_modified_before_it_was_authored() -> None:
    records = scene()
    referral = records.referral
    # As a referral is written: its update stamp a moment before its creation stamp.
    referral.status = "sent"
    referral.status_reason_text = None
    referral.created_at = referral.created_at.replace(microsecond=7)
    referral.updated_at = referral.created_at - timedelta(microseconds=1)
    [task] = _bodies(records, "Task")
    assert task["lastModified"] == task["authoredOn"] == "2026-03-02T10:15:00+02:00"
    assert task["businessStatus"]["text"] == "Lähetetty"
    assert violations(task) == []


def test_the_custodian_profile_is_claimed_only_with_the_regions_register_id() -> None:
    [claimed] = _bodies(scene(), "Provenance")
    assert claimed["meta"]["profile"] == [mapping("Provenance")["profile"]]
    [custodian, _] = claimed["agent"]
    assert custodian["who"]["identifier"]["value"] == scene().custodian_id
    [unclaimed] = _bodies(dataclasses.replace(scene(), custodian_id=None), "Provenance")
    assert "meta" not in unclaimed
    assert "entity" not in unclaimed
    assert unclaimed["agent"][0]["who"]["identifier"] == {
        "system": "urn:askel:organisation",
        "value": "hva-pohjanmaa",
    }
    assert violations(unclaimed) == []


def _cancelled(by: str) -> dict[str, Any]:
    records = scene()
    booked = records.bookings[0].appointment
    booked.status, booked.cancelled_by = "cancelled", by
    [appointment] = _bodies(records, "Appointment")
    return appointment


def test_a_cancellation_gives_its_reason_in_words_until_the_thl_codes_are_set() -> None:
    assert _cancelled("patient")["cancelationReason"] == {"text": "Asiakas perui ajan"}
    assert _cancelled("provider")["cancelationReason"] == {"text": "Palveluntuottaja perui ajan"}


def test_thl_codes_set_for_the_reason_and_the_service_are_sent_and_conform(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    appointment_map = mapping("Appointment")
    thl_reason = {"system": "urn:oid:1.2.246.537.6.126", "code": "R"}
    thl_service = {"system": "urn:oid:1.2.246.537.6.49", "code": "S"}
    thl_category = {"system": "urn:oid:1.2.246.537.6.50", "code": "C"}
    monkeypatch.setitem(appointment_map["cancellation_reason"]["patient"], "codings", [thl_reason])
    monkeypatch.setitem(appointment_map["service_type"], "codings", [thl_service])
    monkeypatch.setitem(appointment_map["service_category"], "codings", [thl_category])
    appointment = _cancelled("patient")
    assert appointment["cancelationReason"]["coding"] == [thl_reason]
    assert appointment["serviceType"][0]["coding"] == [thl_service]
    assert appointment["serviceCategory"][0]["coding"] == [thl_category]
    assert violations(appointment) == []


def test_every_user_named_is_one_practitioner_shared_by_the_referrals_naming_them() -> None:
    practitioners = _bodies(scene(), "Practitioner")
    accounts = [body["identifier"][1]["value"] for body in practitioners]
    assert accounts == ["doctor.laihia", "counsellor1.laihia"]
    other = scene()
    other.referral.id = derived_key(other.referral.id, "another referral")
    assert _bodies(other, "Practitioner") == practitioners
