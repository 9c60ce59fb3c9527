"""The counsellor's weekly availability: the recurring weekly times and the exceptions (days
off, extra times), read and replaced through the API's own service functions. Saving reports
what the service reports: the slots made and withdrawn, and the booked appointments the new
times no longer cover (they stay booked)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from app.access.audit.models import AuditAction
from app.db import WriteSession
from app.errors import NotFound
from app.kit.clock import today_in_helsinki
from app.scheduling import availability
from app.scheduling.availability_form import KINDS, Kind, Row, blank, body_of, posted_rows, rows_of
from app.scheduling.page_parts import keep_note, page, take_note
from app.scheduling.schemas import AvailabilityIn
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, refused_status, validate
from app.web.pages import PageRoute
from app.web.signin import PageUser
from app.web.templating import page_language

router = APIRouter(route_class=PageRoute, include_in_schema=False)
SAVED_NOTE = "availability_saved"
# A reference week for the names of the weekdays (Monday 0 ... Sunday 6).
A_MONDAY = date(2026, 11, 30)


def _form(
    request: Request,
    rows: dict[Kind, list[Row]],
    state: FormState,
    saved: dict[str, Any] | None = None,
    adding: Kind | None = None,
) -> Response:
    today = today_in_helsinki()
    shown = {kind: [*rows[kind], blank(kind, today)] for kind in KINDS}
    if adding is not None:
        shown[adding].append(blank(adding, today))
    context = {
        "rows": shown,
        "state": state,
        "saved": saved,
        "weekdays": [(n, A_MONDAY + timedelta(days=n)) for n in range(7)],
    }
    status = refused_status(state) if state.failed else 200
    return page(request, "scheduling/availability.html", context, status_code=status)


def _conflicts(saved: dict[str, Any] | None) -> dict[str, Any] | None:
    if saved is None:
        return None
    conflicts = [
        {"id": c["id"], "start_at": datetime.fromisoformat(c["start_at"]),
         "end_at": datetime.fromisoformat(c["end_at"])}
        for c in saved.get("conflicts", [])
    ]  # fmt: skip
    return {**saved, "conflicts": conflicts}


@router.get("/calendar/availability")
def availability_page(request: Request, principal: PageUser, session: WriteSession) -> Response:
    """One's weekly times and exceptions, to change (the counsellor themself)."""
    if principal.user_id is None:
        raise NotFound()
    stored = availability.get_availability(session, principal, principal.user_id)
    saved = _conflicts(take_note(request, SAVED_NOTE))
    return _form(request, rows_of(stored), FormState(), saved)


@router.post("/calendar/availability")
def save_availability(
    request: Request, principal: PageUser, session: WriteSession, form: CheckedForm
) -> Response:
    """Replace one's weekly times and exceptions (`availability.put_availability`); a row can be
    added first without saving."""
    if principal.user_id is None:
        raise NotFound()
    counsellor_id = principal.user_id
    rows = posted_rows(form)
    state = FormState()
    for kind in KINDS:
        if form.get("add") == kind:
            # Only another empty row, nothing saved; allowed to those who may read the page.
            availability.get_availability(session, principal, counsellor_id)
            return _form(request, rows, state, adding=kind)
    language = page_language(request)
    body = validate(AvailabilityIn, body_of(rows), language, state)
    if body is not None:
        saved = attempt(
            session,
            request,
            lambda: availability.put_availability(
                session, principal, counsellor_id, body, today_in_helsinki()
            ),
            state,
            AuditAction.update,
        )
        if saved is not None:
            keep_note(
                request,
                SAVED_NOTE,
                {
                    "created": saved.slots_created,
                    "withdrawn": saved.slots_withdrawn,
                    "conflicts": [
                        {"id": str(c.appointment_id), "start_at": c.start_at.isoformat(),
                         "end_at": c.end_at.isoformat()}
                        for c in saved.conflicts
                    ],
                },
            )  # fmt: skip
            return RedirectResponse("/calendar/availability", status_code=303)
    return _form(request, rows, state)
