"""The access review in the browser: the grants the API's `GET /admin/access-review` lists
(unused for 90 days, expiring, unattested, attested by someone no longer an administrator) and
the counsellors without a grant; the administrator keeps or revokes each grant chosen, checks
the decisions on a page of their own, then applies them as `POST /admin/access-review/recertify`
does: `service.recertify`, all of them in one transaction or none.

The decisions wait for their check in the page session (`data["access_review"]`), under an id
that the applying form carries: a second press of its button finds nothing more to apply."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from app.access.audit.models import AuditAction
from app.access.audit.refusals import audited_as
from app.access.grants import service, views
from app.access.grants.schemas import Recertification
from app.access.principal import Principal
from app.db import WriteSession
from app.i18n import N_
from app.kit.clock import today_in_helsinki, utcnow
from app.web import sessions
from app.web.csrf import CheckedForm
from app.web.forms import FormState, attempt, form_fields, form_values, refused_status, validate
from app.web.pages import PageRoute
from app.web.signin import PageAccessAdmin
from app.web.templating import page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

REVIEW = "/admin/access-review"
DRAFT = "access_review"
# A grant's decision is the form field `decision.<grant id>`: keep it, revoke it, or neither.
DECISION = "decision."
DECISIONS = {"keep": N_("Keep, still needed"), "revoke": N_("Revoke")}
# Messages about the decisions as a whole (none made, an unknown grant) are shown by them.
DECISIONS_FIELD = "decisions"
APPLIED = N_("The review is applied. Kept: {kept}. Revoked: {revoked}.")


def _draft(request: Request) -> dict[str, Any] | None:
    draft = sessions.current(request).data.get(DRAFT)
    return draft if isinstance(draft, dict) else None


def _draft_values(draft: dict[str, Any] | None) -> dict[str, str]:
    """The decisions waiting for their check, as the review's form fields."""
    if draft is None:
        return {}
    values = {f"{DECISION}{grant_id}": "keep" for grant_id in draft["confirm"]}
    values |= {f"{DECISION}{grant_id}": "revoke" for grant_id in draft["revoke"]}
    return {**values, "reason": draft["reason"]}


def _review_page(
    request: Request,
    session: Session,
    principal: Principal,
    state: FormState,
    status_code: int = 200,
) -> Response:
    today = today_in_helsinki()
    found = service.review(session, principal, today)
    held, reasons = views.reviewed(found)
    context = {
        "shelf": views.shown(session, held, page_language(request), today, reasons),
        "statuses": views.STATUSES,
        "reasons": views.REVIEW_REASONS,
        "decisions": DECISIONS,
        "without_grant": views.counsellor_names(session, found.counsellors_without_grant),
        "may_grant": service.may_grant(principal),
        "state": state,
        **form_fields(),
    }
    return render(request, "access/review.html", context, status_code=status_code)


@router.get(REVIEW)
def review_page(request: Request, principal: PageAccessAdmin, session: WriteSession) -> Response:
    """The review in the administrator's scope, with the decisions made so far (if any wait
    for their check)."""
    state = FormState(values=_draft_values(_draft(request)))
    return _review_page(request, session, principal, state)


def _chosen(values: dict[str, str]) -> dict[str, Any]:
    """The review's form as the API's body: the grants to keep, those to revoke, the reason."""
    chosen: dict[str, list[str]] = {"keep": [], "revoke": []}
    for name, value in values.items():
        if name.startswith(DECISION) and value in chosen:
            chosen[value].append(name.removeprefix(DECISION))
    reason = values.get("reason", "")
    return {"confirm": chosen["keep"], "revoke": chosen["revoke"], "reason": reason}


@router.post(REVIEW, openapi_extra=audited_as(AuditAction.update))
def choose(
    request: Request, principal: PageAccessAdmin, session: WriteSession, form: CheckedForm
) -> Response:
    """The decisions, checked by the API's schema and against the administrator's scope (a
    grant outside it is not found, as the API's recertification finds it), kept for their
    check."""
    values = form_values(form)
    state = FormState(values=values)
    decided = validate(Recertification, _chosen(values), page_language(request), state)
    if decided is not None:
        for grant_id in [*decided.confirm, *decided.revoke]:
            service.held(session, principal, grant_id)
        sessions.current(request).data[DRAFT] = {
            "id": str(uuid.uuid4()),
            "confirm": [str(grant_id) for grant_id in decided.confirm],
            "revoke": [str(grant_id) for grant_id in decided.revoke],
            "reason": decided.reason,
        }
        return RedirectResponse(f"{REVIEW}/check", status_code=303)
    # Beside the reason, its own message; any other (none decided, a malformed grant id) by
    # the decisions.
    placed: dict[str, str] = {}
    for name in (DECISIONS_FIELD, "reason"):
        for field, message in state.errors.items():
            if (field == "reason") == (name == "reason"):
                placed.setdefault(name, message)
    state.errors = placed
    return _review_page(request, session, principal, state, status_code=422)


def _check_page(
    request: Request,
    session: Session,
    principal: Principal,
    draft: dict[str, Any],
    state: FormState,
) -> Response:
    language, today = page_language(request), today_in_helsinki()
    kept = [service.held(session, principal, uuid.UUID(i)) for i in draft["confirm"]]
    revoked = [service.held(session, principal, uuid.UUID(i)) for i in draft["revoke"]]
    context = {
        "kept": views.shown(session, kept, language, today),
        "revoked": views.shown(session, revoked, language, today),
        "reason": draft["reason"],
        "draft_id": draft["id"],
        "statuses": views.STATUSES,
        "state": state,
        **form_fields(),
    }
    status_code = refused_status(state) if state.failed else 200
    return render(request, "access/review_check.html", context, status_code=status_code)


@router.get(f"{REVIEW}/check")
def check_page(request: Request, principal: PageAccessAdmin, session: WriteSession) -> Response:
    """Check the decisions before applying them: the grants kept, those revoked and why."""
    draft = _draft(request)
    if draft is None:
        return RedirectResponse(REVIEW, status_code=303)
    return _check_page(request, session, principal, draft, FormState())


@router.post(f"{REVIEW}/recertify", openapi_extra=audited_as(AuditAction.update))
def recertify(
    request: Request, principal: PageAccessAdmin, session: WriteSession, form: CheckedForm
) -> Response:
    """Apply the checked decisions as `POST /admin/access-review/recertify` does: every one of
    them, or none (a grant gone out of scope meanwhile refuses them all, as not found)."""
    draft = _draft(request)
    if draft is None or draft["id"] != form.get("draft"):
        # Applied already (a second press), or another review's decisions: nothing to apply.
        return RedirectResponse(REVIEW, status_code=303)
    state = FormState()
    decided = Recertification.model_validate(
        {"confirm": draft["confirm"], "revoke": draft["revoke"], "reason": draft["reason"]}
    )
    done = attempt(
        session,
        request,
        lambda: service.recertify(session, principal, decided, utcnow()),
        state,
        AuditAction.update,
    )
    if done is None:
        return _check_page(request, session, principal, draft, state)
    kept, revoked = done
    data = sessions.current(request).data
    data.pop(DRAFT, None)
    data["flash"] = {"text": APPLIED, "params": {"kept": kept, "revoked": revoked}}
    return RedirectResponse(REVIEW, status_code=303)
