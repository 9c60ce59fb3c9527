"""A minor's guardians on the pages, reached from a referral of the child's: the same service
and policy as `router.py` (those who may see a referral of the patient's), in the request's
transaction, so that each read and change leaves the API's audit entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.principal import Principal
from app.db import WriteSession
from app.families import service
from app.families.models import Guardian
from app.families.schemas import GuardiansIn
from app.i18n import N_
from app.referrals import policies
from app.referrals.service import patient_of
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import (
    FormState,
    attempt,
    form_fields,
    form_values,
    refused_status,
    validate,
)
from app.web.pages import PageRoute, id_in_path
from app.web.signin import PageUser
from app.web.templating import page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# As many rows as the API takes guardians.
ROWS = 4
ROW_FIELDS = ("name", "relation", "phone", "language", "receives_notices")
RELATIONS = {"parent": N_("Parent"), "other": N_("Other guardian")}
SAVED = N_("The guardians are recorded.")


def _as_values(guardians: Sequence[Guardian]) -> dict[str, str]:
    """The recorded guardians in their rows, and the empty rows with the API's defaults (a
    parent, in Finnish, told of the appointments)."""
    values: dict[str, str] = {}
    for row in range(ROWS):
        guardian = guardians[row] if row < len(guardians) else None
        told = guardian.receives_notices if guardian else True
        values |= {
            f"guardians.{row}.name": guardian.name if guardian else "",
            f"guardians.{row}.relation": guardian.relation if guardian else "parent",
            f"guardians.{row}.phone": (guardian.phone or "") if guardian else "",
            f"guardians.{row}.language": guardian.language if guardian else "fi",
            f"guardians.{row}.receives_notices": "true" if told else "",
        }
    return values


def _validated(request: Request, state: FormState) -> GuardiansIn | None:
    """The rows with a name or a phone typed, as the API's body (an empty row is no guardian;
    an unticked box is not posted at all: it is no), each message beside the row it is about."""
    typed: dict[int, dict[str, str]] = {}
    for name, value in state.values.items():
        group, _, rest = name.partition(".")
        row, _, field = rest.partition(".")
        if group == "guardians" and row.isdigit() and field in ROW_FIELDS and value:
            typed.setdefault(int(row), {})[field] = value
    rows = [row for row in sorted(typed) if typed[row].get("name") or typed[row].get("phone")]
    body = {
        "guardians": [
            {**typed[row], "receives_notices": typed[row].get("receives_notices") == "true"}
            for row in rows
        ]
    }
    checked = FormState()
    valid = validate(GuardiansIn, body, page_language(request), checked)
    for name, message in checked.errors.items():
        parts = name.split(".")
        if len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(rows):
            parts[1] = str(rows[int(parts[1])])
        state.errors.setdefault(".".join(parts), message)
    return valid


def _page(
    request: Request,
    session: Session,
    principal: Principal,
    referral_id: uuid.UUID,
    state: FormState | None = None,
) -> Response:
    referral = policies.visible(session, principal, referral_id)
    minor, guardians = service.guardians(session, principal, referral.patient_id)
    context = {
        "referral": referral,
        "patient": patient_of(session, referral),
        "minor": minor,
        "guardians": guardians,
        "state": state or FormState(values=_as_values(guardians)),
        "rows": range(ROWS),
        "relations": RELATIONS,
        **form_fields(),
    }
    status_code = refused_status(state) if state and state.failed else 200
    return render(request, "families/guardians.html", context, status_code=status_code)


@router.get("/referrals/{referral_id}/guardians")
def guardians_page(
    request: Request, referral_id: str, principal: PageUser, session: WriteSession
) -> Response:
    """The child's guardians, and the form to record them (`GET` and `PUT
    /api/v1/patients/{id}/guardians`); for an adult, that guardians are a minor's only."""
    return _page(request, session, principal, id_in_path(referral_id))


@router.post("/referrals/{referral_id}/guardians")
def record_guardians(
    request: Request,
    referral_id: str,
    form: CheckedForm,
    principal: PageUser,
    session: WriteSession,
) -> Response:
    """Record the guardians typed, in place of those recorded before."""
    found = id_in_path(referral_id)
    referral = policies.visible(session, principal, found)
    state = FormState(values=form_values(form))
    body = _validated(request, state)
    if body is not None:
        done = attempt(
            session,
            request,
            lambda: service.replace(session, principal, referral.patient_id, body),
            state,
            AuditAction.update,
        )
        if done is not None:
            sessions.current(request).data["flash"] = SAVED
            return RedirectResponse(f"/referrals/{referral.id}", status_code=303)
    return _page(request, session, principal, found, state)
