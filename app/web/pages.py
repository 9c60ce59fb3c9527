"""The shell's own pages: the way in and out, the language, the home page of each role, the
accessibility statement; and how a page answers an error (a page, never problem+json)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any
from urllib.parse import urlencode

from authlib.integrations.starlette_client import OAuthError
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from app.access.models import User
from app.access.permissions import Permission, has_permission
from app.access.principal import Principal
from app.db import WriteSession
from app.errors import AccountRefused, AppError, NotFound, RouteNotFound
from app.i18n import LANGUAGES
from app.web import sessions
from app.web.csrf import checked_form
from app.web.signin import SignIn, SignInRequired, account_of, signed_in
from app.web.templating import TEMPLATES, page_language, render

STATIC = TEMPLATES.parent / "static"
# Pages a role starts from, by what its permissions let it do.
HOMES = (
    (Permission.referral_triage, "/worklist"),
    (Permission.referral_send, "/patients/find"),
    (Permission.access_administer, "/admin/access-grants"),
    (Permission.statistics_read, "/statistics"),
    (Permission.audit_read, "/audit/events"),
)


class PageRoute(APIRoute):
    """A route of the pages: its errors are answered as pages."""


class Static(StaticFiles):
    """The pages' styles and scripts; they change only with Askel's version."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=86400"
        return response


router = APIRouter(route_class=PageRoute, include_in_schema=False)


def local_path(candidate: str | None) -> str:
    """An address on this site to return to, never one elsewhere (an open redirect)."""
    if not candidate or not candidate.startswith("/") or candidate.startswith("//"):
        return "/"
    if "\\" in candidate or len(candidate) > 500 or any(ord(c) < 32 for c in candidate):
        return "/"
    return candidate


def id_in_path(raw: str) -> uuid.UUID:
    """A record's id in a page's address; a malformed one names no record (404)."""
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound() from None


def _sign_in(request: Request) -> SignIn:
    sign_in: SignIn = request.app.state.sign_in
    return sign_in


def optional_principal(request: Request, session: WriteSession) -> Principal | None:
    try:
        return signed_in(request, session) if sessions.current(request).claims else None
    except AccountRefused:
        sessions.current(request).sign_out()
        return None


@router.get("/")
def home(
    request: Request,
    principal: Annotated[Principal | None, Depends(optional_principal)],
    signed_out: bool = False,
) -> Response:
    """Where a person starts: their role's first page, or the way in."""
    if principal is None:
        context = {"signed_out": signed_out, "configured": _sign_in(request).configured}
        return render(request, "shell/welcome.html", context)
    for permission, path in HOMES:
        if has_permission(principal, permission):
            return RedirectResponse(path, status_code=303)
    return render(request, "shell/home.html")


@router.get("/signin")
async def sign_in(request: Request, next: Annotated[str | None, Query()] = None) -> Response:
    """To the issuer's sign-in, and back to `next` afterwards."""
    signing = _sign_in(request)
    if not signing.configured:
        return render(request, "shell/welcome.html", {"signed_out": False, "configured": False})
    sessions.current(request).data["next"] = local_path(next)
    callback = str(request.url_for("sign_in_callback"))
    public = request.app.state.settings.public_url
    if public:
        callback = f"{public}/signin/callback"
    redirect: Response = await signing.client.authorize_redirect(request, callback)
    return redirect


@router.get("/signin/callback")
async def sign_in_callback(request: Request) -> Response:
    """The issuer's answer: the person is signed in under a new session."""
    try:
        claims = await _sign_in(request).claims(request)
    except OAuthError:
        return render(request, "shell/sign_in_failed.html", {"refused": False}, status_code=400)
    # An account that may not sign in is refused like a token for it, and audited.
    user_id, language = await run_in_threadpool(_account, request, claims)
    page_session = sessions.current(request)
    going = local_path(page_session.data.get("next"))
    page_session.sign_in(user_id, claims)
    if language in LANGUAGES:
        page_session.data["language"] = language
    return RedirectResponse(going, status_code=303)


def _account(request: Request, claims: dict[str, Any]) -> tuple[uuid.UUID, str | None]:
    with request.app.state.db.write_sessions() as session, session.begin():
        principal = account_of(request, session, claims)
        assert principal.user_id is not None
        account = session.get(User, principal.user_id)
        return principal.user_id, account.page_language if account else None


def _remember_language(request: Request, user_id: uuid.UUID, language: str) -> None:
    with request.app.state.db.write_sessions() as session, session.begin():
        account = session.get(User, user_id)
        if account is not None:
            account.page_language = language


@router.post("/signout")
async def sign_out(request: Request) -> Response:
    """Ends the session here (the issuer's own session is the issuer's)."""
    await checked_form(request)
    sessions.current(request).sign_out()
    return RedirectResponse("/?signed_out=true", status_code=303)


@router.post("/language")
async def choose_language(request: Request) -> Response:
    """The pages' language, remembered for the session and for the signed-in person."""
    form = await checked_form(request)
    chosen = form.get("language")
    if chosen in LANGUAGES:
        page_session = sessions.current(request)
        page_session.data["language"] = chosen
        if page_session.user_id is not None:
            await run_in_threadpool(_remember_language, request, page_session.user_id, chosen)
    return RedirectResponse(local_path(str(form.get("next", "/"))), status_code=303)


@router.get("/accessibility")
def accessibility(request: Request) -> Response:
    """The accessibility statement required by Act 306/2019."""
    return render(request, "shell/accessibility.html")


def page_error(request: Request, error: AppError) -> Response:
    """An error of a page, as a page: the way in for a missing session, else what happened in
    the reader's language (a refused record is the same "not found" as a missing one)."""
    if isinstance(error, SignInRequired):
        going = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        target = "/signin?" + urlencode({"next": going if request.method == "GET" else "/"})
        if request.headers.get("HX-Request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    if isinstance(error, AccountRefused):
        # Deactivated, moved to another organisation: the session ends with a word why.
        sessions.current(request).sign_out()
        context = {"refused": True}
        return render(request, "shell/sign_in_failed.html", context, status_code=error.status)
    problem = error.problem(page_language(request), request.url.path)
    return render(request, "shell/error.html", {"problem": problem}, status_code=error.status)


def page_answer(request: Request, error: AppError) -> Response | None:
    """An error answered as a page: on the pages' routes, and for a browser's request of an
    address that does not exist outside the API; None for the API's callers."""
    on_a_page = isinstance(request.scope.get("route"), PageRoute)
    browsing = (
        isinstance(error, RouteNotFound)
        and "text/html" in request.headers.get("accept", "")
        and "page_session" in request.scope
    )
    return page_error(request, error) if on_a_page or browsing else None
