"""The development issuer's endpoints; mounted only when the issuer is on."""

from __future__ import annotations

import base64
import hmac
import json
import uuid
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from app.access import repository
from app.access.dev_issuer import CODE_LIFETIME, CodeGrant, CodeRefused, DevIssuer, LaunchContext
from app.access.principal import LOCAL_ISSUER
from app.config import PatientSystem, Settings
from app.db import ReadSession
from app.errors import AppError, problem_responses
from app.i18n import N_
from app.kit.clock import utcnow
from app.web.csrf import checked_form
from app.web.pages import PageRoute
from app.web.smart import JWT_BEARER
from app.web.templating import PAGE_POLICY, render

router = APIRouter(prefix="/dev", tags=["development issuer"])
# The issuer's own page, where a person picks a demo user: its errors are pages too.
authorize_router = APIRouter(prefix="/dev", route_class=PageRoute, include_in_schema=False)


class UnknownDemoUser(AppError):
    status = 404
    code = "unknown_user"
    title = N_("Unknown user")
    detail = N_("There is no active user with that username.")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=128, examples=["nurse.laihia"])


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


class DemoUser(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    roles: list[str]
    profession: str | None
    organisation: str
    organisation_name: str
    service_id: uuid.UUID | None
    service_name: str | None


def _issuer(request: Request) -> DevIssuer:
    issuer: DevIssuer = request.app.state.dev_issuer
    return issuer


def issue_token(session: ReadSession, issuer: DevIssuer, username: str) -> TokenResponse:
    found = repository.active_user_with_organisation(session, LOCAL_ISSUER, username)
    if found is None:
        raise UnknownDemoUser()
    user, organisation = found
    token, lifetime = issuer.issue(user, organisation.code)
    return TokenResponse(access_token=token, expires_in=lifetime)


def list_users(session: ReadSession) -> list[DemoUser]:
    return [
        DemoUser(
            id=user.id,
            username=user.username,
            display_name=user.display_name,
            roles=list(user.roles),
            profession=user.profession,
            organisation=organisation.code,
            organisation_name=organisation.name_fi,
            service_id=service.id if service else None,
            service_name=service.name_fi if service else None,
        )
        for user, organisation, service in repository.users_for_listing(session)
    ]


@router.get("/.well-known/openid-configuration")
def discovery(request: Request) -> dict[str, Any]:
    """OpenID Connect discovery document of the development issuer."""
    return _issuer(request).discovery()


@router.get("/jwks")
def jwks(request: Request) -> dict[str, Any]:
    """The development issuer's public signing keys."""
    return _issuer(request).jwks()


@router.post("/token", responses=problem_responses(UnknownDemoUser))
def token(body: TokenRequest, request: Request, session: ReadSession) -> TokenResponse:
    """A signed access token for a demo user (development only)."""
    return issue_token(session, _issuer(request), body.username)


@router.get("/users")
def users(session: ReadSession) -> list[DemoUser]:
    """The demo users with their roles, professions, organisations and services."""
    return list_users(session)


# The authorization code flow, for people signing in to the pages -------------------------------

# The parameters of an authorization request that the page carries through its form.
AUTHORIZE_PARAMS = ("response_type", "client_id", "redirect_uri", "scope", "state", "nonce",
                    "code_challenge", "code_challenge_method", "launch", "aud")  # fmt: skip
LOOPBACK = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _launch_system(settings: Settings, client_id: str | None) -> PatientSystem | None:
    """The patient system whose launches this client authorizes (Askel's client there)."""
    return next((system for system in settings.launch_systems if system.client_id == client_id),
                None)  # fmt: skip


def _authorize_error(request: Request, params: dict[str, str]) -> str | None:
    """Why the request may not be answered with a code, or None. A client or redirect address
    the issuer does not know is shown on the page, never redirected to (RFC 6749 4.1.2.1)."""
    settings: Settings = request.app.state.settings
    launching = _launch_system(settings, params.get("client_id"))
    callback = "/launch/callback" if launching else "/signin/callback"
    redirect = urlsplit(params.get("redirect_uri", ""))
    own_hosts = {urlsplit(url).hostname for url in (settings.dev_issuer_url, settings.public_url)}
    if params.get("client_id") != settings.page_client_id and launching is None:
        return N_("The application asking for sign-in is unknown.")
    if (
        redirect.scheme not in ("http", "https")
        or not redirect.path.endswith(callback)
        or redirect.hostname not in LOOPBACK | own_hosts
    ):
        return N_("The address to return to is not the application's.")
    if params.get("response_type") != "code" or "openid" not in params.get("scope", "").split():
        return N_("The application asked for something other than a sign-in.")
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return N_("The application did not protect its sign-in with PKCE.")
    return None


def _back_to_client(params: dict[str, str], answer: dict[str, str]) -> RedirectResponse:
    query = urlencode({**answer, "state": params["state"]})
    return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=303)


def _grant(request: Request, params: dict[str, str], username: str,
           launch: LaunchContext | None = None) -> RedirectResponse:  # fmt: skip
    grant = CodeGrant(
        username=username,
        client_id=params["client_id"],
        redirect_uri=params["redirect_uri"],
        code_challenge=params["code_challenge"],
        nonce=params["nonce"] or None,
        expires_at=utcnow() + CODE_LIFETIME,
        launch=launch,
        scope=params["scope"],
    )
    return _back_to_client(params, {"code": _issuer(request).grant_code(grant)})


def _authorize_launch(request: Request, params: dict[str, str]) -> RedirectResponse:
    """A launch from a chart: the patient system's user is signed in there already, so the
    code is granted at once for them and the chart's patient (SMART App Launch 2.2: EHR
    launch). A launch that is unknown, expired or for another FHIR server is refused back to
    the application."""
    context = _issuer(request).launch_context(params["launch"])
    if context is None:
        refused = {
            "error": "access_denied",
            "error_description": "the launch is unknown or expired",
        }
        return _back_to_client(params, refused)
    if params.get("aud", "").rstrip("/") != context.iss:
        refused = {
            "error": "invalid_request",
            "error_description": "aud is not the launch's server",
        }
        return _back_to_client(params, refused)
    return _grant(request, params, context.username, context)


def _authorize_page(request: Request, params: dict[str, str], session: ReadSession) -> Response:
    error = _authorize_error(request, params)
    if error is not None:
        context: dict[str, object] = {"error": error, "users": [], "params": {}}
        return render(request, "access/dev_authorize.html", context, status_code=400)
    origin = urlsplit(params["redirect_uri"])
    # The form's answer redirects to the application, which may be on another origin.
    policy = PAGE_POLICY.replace(
        "form-action 'self'", f"form-action 'self' {origin.scheme}://{origin.netloc}"
    )
    context = {"error": None, "users": list_users(session), "params": params}
    return render(request, "access/dev_authorize.html", context, policy=policy)


@authorize_router.get("/authorize")
def authorize(request: Request, session: ReadSession) -> Response:
    """The development issuer's authorization endpoint: a page to pick a demo user, or the
    answer to a launch from the development patient system."""
    params = {name: request.query_params.get(name, "") for name in AUTHORIZE_PARAMS}
    if params["launch"] and _authorize_error(request, params) is None:
        return _authorize_launch(request, params)
    return _authorize_page(request, params, session)


@authorize_router.post("/authorize")
async def authorize_as(request: Request) -> Response:
    """The person picked a demo user: back to the application with a code."""
    form = await checked_form(request)
    params = {name: str(form.get(name, "")) for name in AUTHORIZE_PARAMS}
    if _authorize_error(request, params) is not None or params["launch"]:
        return RedirectResponse(str(request.url), status_code=303)
    return _grant(request, params, str(form.get("username", "")))


def _oauth_error(error: str, description: str) -> JSONResponse:
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=400, headers={"Cache-Control": "no-store"})


def _client_of(request: Request, client_id: str) -> str | None:
    """The client's id from HTTP Basic authentication, or as posted by a public client (the
    pages' client without a secret); a client with a secret must present it."""
    settings: Settings = request.app.state.settings
    known = {settings.page_client_id: settings.page_client_secret}
    known.update((system.client_id, system.client_secret) for system in settings.launch_systems
                 if system.client_secret is not None)  # fmt: skip
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            named, _, secret = base64.b64decode(credentials).decode().partition(":")
        except ValueError:
            return None
        expected = known.get(named)
        if expected is not None and not hmac.compare_digest(
            secret.encode(), expected.get_secret_value().encode()
        ):
            return None
        return named
    return None if known.get(client_id, settings.page_client_secret) is not None else client_id


def _asserted_client(request: Request, client_id: str, kind: str, assertion: str) -> str | None:
    """A launch client authenticated by `private_key_jwt`: its configured key verifies the
    assertion (the development issuer shares Askel's configuration, so the key file is at
    hand; a real authorization server holds the client's public key)."""
    system = _launch_system(request.app.state.settings, client_id)
    if kind != JWT_BEARER or system is None or system.client_key_file is None:
        return None
    key = json.loads(system.client_key_file.read_text())
    endpoint = f"{_issuer(request).url}/oauth/token"
    return (
        client_id if _issuer(request).assertion_valid(assertion, client_id, key, endpoint) else None
    )


@router.post("/oauth/token", include_in_schema=False)
def exchange_code(
    request: Request,
    session: ReadSession,
    grant_type: Annotated[str, Form()],
    code: Annotated[str, Form(max_length=200)],
    redirect_uri: Annotated[str, Form(max_length=2000)],
    code_verifier: Annotated[str, Form(min_length=43, max_length=128)],
    client_id: Annotated[str, Form(max_length=200)] = "",
    client_assertion_type: Annotated[str, Form(max_length=200)] = "",
    client_assertion: Annotated[str, Form(max_length=8192)] = "",
) -> Response:
    """The token endpoint of the code flow: an access token and an id token for the code."""
    if grant_type != "authorization_code":
        return _oauth_error("unsupported_grant_type", "only authorization_code is supported")
    if client_assertion:
        client = _asserted_client(request, client_id, client_assertion_type, client_assertion)
    else:
        client = _client_of(request, client_id)
    if client is None:
        return _oauth_error("invalid_client", "the client did not authenticate")
    issuer = _issuer(request)
    try:
        grant = issuer.redeem(code, client, redirect_uri, code_verifier)
    except CodeRefused as refused:
        return _oauth_error("invalid_grant", str(refused))
    found = repository.active_user_with_organisation(session, LOCAL_ISSUER, grant.username)
    if found is None:
        return _oauth_error("invalid_grant", "there is no active user with that username")
    user, organisation = found
    access_token, lifetime = issuer.issue(user, organisation.code, grant.launch)
    body: dict[str, Any] = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": grant.scope,
        "id_token": issuer.id_token(user, organisation.code, client, grant),
    }
    if grant.launch is not None:
        body["patient"] = grant.launch.patient
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
