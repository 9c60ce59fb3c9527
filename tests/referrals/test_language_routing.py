"""Routing by the patient's registered language: a Swedish speaker to a service that speaks
Swedish, in their municipality or, failing that, elsewhere in the region; a Finnish speaker to
their municipality's own; the clinician's explicit choice still wins."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.organisations import service as organisations
from app.organisations.models import CounsellingService, ServiceCatchment
from app.patients.models import Patient
from tests.fixtures.factories import demo_patient, referral_body

Auth = Callable[[str], dict[str, str]]


def speaking(session: Session, municipality: str, language: str) -> Patient:
    patient = demo_patient(session, municipality)
    patient.language = language
    session.flush()
    return patient


def send(client: TestClient, auth: Auth, patient: Patient, **overrides: object) -> dict[str, str]:
    """A referral as the patient system sends it when the clinician leaves the language alone."""
    body = referral_body(patient.id, **overrides)
    if "preferred_language" not in overrides:
        del body["preferred_language"]
    response = client.post("/api/v1/referrals", json=body, headers=auth("doctor.laihia"))
    assert response.status_code == 201, response.text
    sent: dict[str, str] = response.json()
    return sent


def code_of(session: Session, service_id: str) -> str:
    service = organisations.get(session, uuid.UUID(service_id))
    assert service is not None
    return service.code


def test_a_swedish_speaker_goes_to_the_regions_swedish_speaking_service(
    client: TestClient, auth: Auth, session: Session
) -> None:
    # Laihia's service speaks Finnish (and English); Kaskinen's, in the same region, Swedish too.
    referral = send(client, auth, speaking(session, "399", "sv"))
    assert code_of(session, referral["service_id"]) == "ln-kaskinen"
    assert referral["preferred_language"] == "sv"


def test_a_finnish_speaker_goes_to_the_municipalitys_own_service(
    client: TestClient, auth: Auth, session: Session
) -> None:
    referral = send(client, auth, speaking(session, "399", "fi"))
    assert code_of(session, referral["service_id"]) == "ln-laihia"
    assert referral["preferred_language"] == "fi"


def test_in_a_bilingual_municipality_each_goes_to_the_service_of_their_language(
    client: TestClient, auth: Auth, session: Session
) -> None:
    kaskinen = organisations.by_code(session, "ln-kaskinen")
    assert kaskinen is not None
    session.add(
        CounsellingService(
            code="aa-kaskinen-fi",  # first in every other order
            municipality_id=kaskinen.municipality_id,
            name_fi="Kaskisten suomenkielinen liikuntaneuvonta",
            name_sv="Kaskö finskspråkig motionsrådgivning",
            languages=["fi"],
            catchment=[ServiceCatchment(municipality_code="231")],
        )
    )
    session.flush()
    swedish = send(client, auth, speaking(session, "231", "sv"))
    finnish = send(client, auth, speaking(session, "231", "fi"))
    assert code_of(session, swedish["service_id"]) == "ln-kaskinen"
    assert code_of(session, finnish["service_id"]) == "aa-kaskinen-fi"


def test_the_clinicians_choice_of_language_wins(
    client: TestClient, auth: Auth, session: Session
) -> None:
    patient = speaking(session, "399", "sv")
    referral = send(client, auth, patient, preferred_language="fi")
    assert code_of(session, referral["service_id"]) == "ln-laihia"
    laihia = organisations.by_code(session, "ln-laihia")
    assert laihia is not None
    named = send(client, auth, patient, service_id=str(laihia.id))
    assert named["service_id"] == str(laihia.id)
    assert named["preferred_language"] == "sv"


def test_without_a_service_of_their_language_anywhere_the_usual_one(
    client: TestClient, auth: Auth, session: Session
) -> None:
    for service in session.scalars(select(CounsellingService)):
        service.languages = [language for language in service.languages if language != "sv"]
    session.flush()
    referral = send(client, auth, speaking(session, "152", "sv"))
    assert code_of(session, referral["service_id"]) == "ln-isokyro"


def test_another_language_is_not_looked_for_outside_the_municipality(
    client: TestClient, auth: Auth, session: Session
) -> None:
    # Only Kaskinen's service speaks English now; a Laihia patient still goes to Laihia's.
    for service in session.scalars(select(CounsellingService)):
        if service.code != "ln-kaskinen":
            service.languages = [language for language in service.languages if language != "en"]
    session.flush()
    referral = send(client, auth, speaking(session, "399", "en"))
    assert code_of(session, referral["service_id"]) == "ln-laihia"
