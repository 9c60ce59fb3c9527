"""People sign in with OpenID Connect's authorization code flow and PKCE (S256), through
Authlib's Starlette client: `state` and `nonce` are checked and the id token is verified with
joserfc against the issuer's JWKS; tokens never reach the browser. The session then holds the
id token's claims, and every page matches them to the active account again, exactly as the API
does with a bearer token: one policy layer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import httpx2 as httpx
from authlib.integrations.starlette_client import OAuth, OAuthError, StarletteOAuth2App
from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.types import ASGIApp

from app.access.authn import principal_from_claims
from app.access.permissions import Permission, has_permission
from app.access.principal import LOCAL_ISSUER, Principal
from app.access.service import resolve_account
from app.config import Settings
from app.db import WriteSession
from app.errors import AppError, Forbidden
from app.i18n import N_
from app.web import sessions

# What the session keeps of the id token: who the person is and what the issuer vouches for.
KEPT_CLAIMS = ("sub", "org", "roles", "name", "profession")


class SignInRequired(AppError):
    """A page was asked for without a signed-in session: the pages answer with the way in."""

    status = 401
    code = "sign_in_required"
    title = N_("Sign in")
    detail = N_("Sign in to use Askel.")


class SignIn:
    """The configured issuer as Authlib's client. The development issuer, inside this very app,
    is reached in-process: the embedded default needs no address of its own to call itself."""

    def __init__(self, settings: Settings, app: ASGIApp) -> None:
        dev = settings.page_issuer is None and settings.dev_issuer_on
        issuer = settings.dev_issuer_url if dev else settings.page_issuer
        self.configured = issuer is not None
        self.account_issuer = LOCAL_ISSUER if dev else (issuer or "").rstrip("/")
        client_kwargs: dict[str, Any] = {"scope": "openid profile", "code_challenge_method": "S256"}
        if dev:
            client_kwargs["transport"] = httpx.ASGITransport(app=app)
        secret = settings.page_client_secret
        self.client: StarletteOAuth2App = OAuth().register(
            "issuer",
            client_id=settings.page_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            server_metadata_url=f"{(issuer or '').rstrip('/')}/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )

    async def claims(self, request: Request) -> dict[str, Any]:
        """The verified id token's claims of the issuer's answer to the callback."""
        token = await self.client.authorize_access_token(request)
        claims = token.get("userinfo")
        if not isinstance(claims, dict):
            raise OAuthError(description="the issuer sent no id token")
        kept = {name: claims[name] for name in KEPT_CLAIMS if name in claims}
        return {**kept, "issuer": self.account_issuer}


def account_of(request: Request, session: Session, claims: dict[str, Any]) -> Principal:
    """The person the claims name, as an active account (`AccountRefused` if not)."""
    claimed = principal_from_claims(claims, str(claims.get("issuer")))
    request.state.claimed_principal = claimed
    principal = resolve_account(session, claimed)
    request.state.principal = principal
    return principal


def signed_in(request: Request, session: WriteSession) -> Principal:
    """The session's person as an active account, checked on this request (a deactivated
    account or a lapsed grant loses its access at once)."""
    claims = sessions.current(request).claims
    if claims is None:
        raise SignInRequired()
    return account_of(request, session, claims)


def page_require(permission: Permission | None) -> Callable[..., Principal]:
    """The pages' counterpart of `permissions.require`: the same permission table."""

    def dependency(principal: Annotated[Principal, Depends(signed_in)]) -> Principal:
        if permission is not None and not has_permission(principal, permission):
            raise Forbidden()
        return principal

    dependency.__name__ = f"page_require_{permission.name if permission else 'account'}"
    return dependency


PageUser = Annotated[Principal, Depends(page_require(None))]
PageAccessAdmin = Annotated[Principal, Depends(page_require(Permission.access_administer))]
PageReferralReader = Annotated[Principal, Depends(page_require(Permission.referral_read))]
PageReferralSender = Annotated[Principal, Depends(page_require(Permission.referral_send))]
PagePatientFinder = Annotated[Principal, Depends(page_require(Permission.patient_lookup))]
PagePatientRegistrar = Annotated[Principal, Depends(page_require(Permission.patient_register))]
PageSlotSearcher = Annotated[Principal, Depends(page_require(Permission.slot_search))]
PageAppointmentBooker = Annotated[Principal, Depends(page_require(Permission.appointment_book))]
PageAvailabilityManager = Annotated[
    Principal, Depends(page_require(Permission.availability_manage))
]
