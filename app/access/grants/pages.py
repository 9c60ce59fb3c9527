"""The access administrators' pages of grants: the grants in their scope, one grant with what
they may do to it now, giving a grant (the region's administrators, who answer for access rights
being valid), attesting one (the counsellor's municipality's, who answer for them being used
only by the people whose work needs them) and revoking one (either). Each calls the service
functions of `router.py` in the request's transaction: the same scope (a grant outside it is
not found, audited as the API's 404), the same rules and the same audit entries."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.grants import review_pages, service, views
from app.access.grants.schemas import GrantCreate, GrantRevoke
from app.access.principal import Principal
from app.db import WriteSession
from app.errors import Forbidden, RefusalContext
from app.i18n import N_
from app.kit.clock import today_in_helsinki, utcnow
from app.kit.pagination import Cursor, TimeAndId, Window, after_time_and_id
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import (
    FormState,
    attempt,
    form_fields,
    form_values,
    nested,
    placed,
    refused_status,
    validate,
)
from app.web.pages import PageRoute
from app.web.signin import PageAccessAdmin
from app.web.templating import page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

GRANTS = "/admin/access-grants"
# Grants a page of the list shows, oldest first, as the API's list gives them.
LISTED = 100
GRANT_FIELDS = ("user_id", "valid_from", "valid_until")
# A message about the period as a whole is shown beside its end; one about the service (the
# counsellor's own, not on the form) beside the counsellor, as is the service's refusal.
GRANT_MESSAGES = {"": "valid_until", "service_id": "user_id"}
GRANT_PROBLEMS = {"not_a_counsellor_of_the_service": "user_id"}
GIVEN = N_("The grant is given. It takes effect once the counsellor's municipality attests it.")
ATTESTED = N_("The grant is attested.")
REVOKED = N_("The grant is revoked. The counsellor's next request is already refused.")


def _granting(principal: Principal) -> None:
    """Only the region's administrators give grants: the form is refused to others as
    `service.grant` refuses them."""
    if not service.may_grant(principal):
        raise Forbidden(refusal=RefusalContext(service.RESOURCE))


@router.get(GRANTS)
def grants_page(
    request: Request, principal: PageAccessAdmin, session: WriteSession, cursor: Cursor = None
) -> Response:
    """The grants in the administrator's scope (`service.listing`, as `GET /admin/access-grants`):
    all for the region's, their own staff's for a municipality's."""
    after = after_time_and_id(cursor, uuid.UUID)
    window = Window.of(service.listing(session, principal, after, LISTED + 1), LISTED)
    shelf = views.shown(session, window.rows, page_language(request), today_in_helsinki())
    context = {
        "shelf": shelf,
        "statuses": views.STATUSES,
        "may_grant": service.may_grant(principal),
        "next_cursor": window.next_cursor(lambda row: TimeAndId(t=row[0].created_at, i=row[0].id)),
        "first_page": cursor is None,
    }
    return render(request, "access/grants.html", context)


def _grant_form(
    request: Request, session: Session, state: FormState, status_code: int = 200
) -> Response:
    context = {
        "state": state,
        "counsellors": views.counsellors(session, page_language(request)),
        **form_fields(),
    }
    return render(request, "access/grant_form.html", context, status_code=status_code)


@router.get(f"{GRANTS}/new")
def new_grant(request: Request, principal: PageAccessAdmin, session: WriteSession) -> Response:
    """The form to give a counsellor a grant to their service (the region's administrators)."""
    _granting(principal)
    values = {"valid_from": today_in_helsinki().isoformat()}
    return _grant_form(request, session, FormState(values=values))


@router.post(GRANTS)
def give_grant(
    request: Request, principal: PageAccessAdmin, session: WriteSession, form: CheckedForm
) -> Response:
    """Give the grant as `POST /admin/access-grants` does, for the counsellor's own service."""
    _granting(principal)
    typed = form_values(form)
    state = FormState(values={name: typed.get(name, "") for name in GRANT_FIELDS})
    body = nested(state.values)
    service_id = views.service_of(session, state.values["user_id"])
    if service_id is not None:
        body["service_id"] = service_id
    data = validate(GrantCreate, body, page_language(request), state)
    if data is not None:
        chosen = data
        given = attempt(session, request, lambda: service.grant(session, principal, chosen), state)
        if given is not None:
            sessions.current(request).data["flash"] = GIVEN
            return RedirectResponse(f"{GRANTS}/{given.id}", status_code=303)
    status_code = refused_status(state)
    moved: dict[str, str] = {}
    for name, message in state.errors.items():
        moved.setdefault(GRANT_MESSAGES.get(name, name), message)
    state.errors = moved
    placed(state, GRANT_FIELDS, GRANT_PROBLEMS)
    return _grant_form(request, session, state, status_code)


def _grant_page(
    request: Request,
    session: Session,
    principal: Principal,
    grant_id: uuid.UUID,
    state: FormState | None = None,
) -> Response:
    grant, user = service.held(session, principal, grant_id)
    shelf = views.shown(session, [(grant, user)], page_language(request), today_in_helsinki())
    state = state or FormState()
    context = {
        "shelf": shelf,
        "row": shelf.rows[0],
        "statuses": views.STATUSES,
        "actions": service.actions(principal, grant, user),
        "state": state,
        **form_fields(),
    }
    status_code = refused_status(state) if state.failed else 200
    return render(request, "access/grant.html", context, status_code=status_code)


@router.get(f"{GRANTS}/{{grant_id}}")
def grant_page(
    grant_id: uuid.UUID, request: Request, principal: PageAccessAdmin, session: WriteSession
) -> Response:
    """One grant in the administrator's scope, with the attestation and revocation they may
    make of it."""
    return _grant_page(request, session, principal, grant_id)


@router.post(f"{GRANTS}/{{grant_id}}/attest", openapi_extra=audited_as(AuditAction.update))
def attest_grant(
    grant_id: uuid.UUID,
    request: Request,
    principal: PageAccessAdmin,
    session: WriteSession,
    form: CheckedForm,
) -> Response:
    """Attest that the counsellor's work needs the access, as
    `POST /admin/access-grants/{grant_id}/attest` does (their municipality's administrators)."""
    state = FormState()
    attested = attempt(
        session,
        request,
        lambda: service.attest(session, principal, grant_id, utcnow()),
        state,
        AuditAction.update,
    )
    if attested is None:
        return _grant_page(request, session, principal, grant_id, state)
    sessions.current(request).data["flash"] = ATTESTED
    return RedirectResponse(f"{GRANTS}/{grant_id}", status_code=303)


@router.post(f"{GRANTS}/{{grant_id}}/revoke", openapi_extra=audited_as(AuditAction.update))
def revoke_grant(
    grant_id: uuid.UUID,
    request: Request,
    principal: PageAccessAdmin,
    session: WriteSession,
    form: CheckedForm,
) -> Response:
    """Revoke with a reason, as `POST /admin/access-grants/{grant_id}/revoke` does (the
    region's administrators, or the counsellor's municipality's)."""
    state = FormState(values={"reason": form_values(form).get("reason", "")})
    body = validate(GrantRevoke, nested(state.values), page_language(request), state)
    if body is not None:
        reason = body
        revoked = attempt(
            session,
            request,
            lambda: service.revoke(session, principal, grant_id, reason, utcnow()),
            state,
            AuditAction.update,
        )
        if revoked is not None:
            sessions.current(request).data["flash"] = REVOKED
            return RedirectResponse(f"{GRANTS}/{grant_id}", status_code=303)
    placed(state, ["reason"], {})
    return _grant_page(request, session, principal, grant_id, state)


router.include_router(review_pages.router)
