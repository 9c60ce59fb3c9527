"""The pages of a patient with a security prohibition: the clinician sees that the home
municipality and phone are not shown, and why; the referral still goes to the home
municipality's service, without the check page naming it."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from app.access.audit.models import AuditEvent
from app.organisations import service as organisations
from app.patients.models import Patient
from app.patients.nondisclosure import PROTECTED
from app.referrals.models import Referral
from tests.fixtures.pages import form_for, sign_in
from tests.fixtures.referring import CLINICIAN, Trail, demo_in, find, referral_form, registered

PHONE = "+358409876543"
HOME_NAMES = ("Isokyrö", "Storkyro")
WITHHELD = "Ei näytetä (turvakielto)"


def chosen(pages: TestClient, session: Session, protected: bool) -> tuple[Patient, Trail]:
    """An Isokyrö resident, with the distinctive phone, found by a Laihia doctor."""
    known = demo_in("152")
    patient = registered(session, known)
    patient.security_prohibition, patient.phone = protected, PHONE
    session.flush()
    trail = Trail()
    sign_in(pages, CLINICIAN)
    assert find(pages, known.hetu, trail).status_code == 303
    return patient, trail


def hidden_in(text: str) -> None:
    assert PHONE not in text
    for name in HOME_NAMES:
        assert name not in text


def test_the_patients_page_says_the_details_are_not_shown(
    pages: TestClient, session: Session
) -> None:
    patient, trail = chosen(pages, session, protected=True)
    page = trail.get(pages, "/patient")
    assert page.status_code == 200
    assert f"<h1>{patient.family_name}, {patient.given_name}</h1>" in page.text
    assert page.text.count(WITHHELD) == 2
    hidden_in(page.text)


def test_an_unprotected_patients_page_shows_them(pages: TestClient, session: Session) -> None:
    _patient, trail = chosen(pages, session, protected=False)
    page = trail.get(pages, "/patient")
    assert PHONE in page.text
    assert "Isokyrön kunta" in page.text
    assert WITHHELD not in page.text


@pytest.mark.parametrize("protected", [True, False])
def test_a_referral_from_the_pages_goes_to_the_home_municipalitys_service(
    pages: TestClient, session: Session, protected: bool
) -> None:
    patient, trail = chosen(pages, session, protected=protected)
    form = trail.get(pages, "/patient/referral")
    hidden_in(form.text)
    token = form_for(form.text, "/patient/referral")["csrf_token"]
    posted = trail.post(pages, "/patient/referral", {**referral_form(), "csrf_token": token})
    check = trail.follow(pages, posted)
    assert check.status_code == 200
    if protected:
        hidden_in(check.text)
        assert "Potilaan kotikunnan palvelu (ei näytetä: turvakielto)" in check.text
    else:
        assert "Isokyrö liikuntaneuvonta" in check.text
    sent = trail.post(
        pages, "/patient/referral/send", form_for(check.text, "/patient/referral/send")
    )
    assert sent.status_code == 303
    referral = session.scalars(select(Referral).where(Referral.patient_id == patient.id)).one()
    isokyro = organisations.route(session, "152", "fi")
    assert isokyro is not None
    assert referral.service_id == isokyro.id
    page = trail.follow(pages, sent)
    listed = trail.get(pages, "/referrals/sent")
    if protected:
        hidden_in(page.text)
        # Nor does the list of referrals sent name the service.
        hidden_in(listed.text)
        assert WITHHELD in listed.text
    else:
        assert "Isokyrö liikuntaneuvonta" in listed.text
    uses = session.scalars(
        select(AuditEvent.action).where(
            AuditEvent.resource_type == PROTECTED, AuditEvent.patient_id == patient.id
        )
    ).all()
    # The check page's routing and the sending's, each a protected use; none for the others.
    assert uses == (["query", "query"] if protected else [])
