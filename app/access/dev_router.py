"""The development issuer's endpoints; mounted only when the issuer is on."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from app.access import repository
from app.access.dev_issuer import DevIssuer
from app.access.principal import LOCAL_ISSUER
from app.db import ReadSession
from app.errors import AppError, problem_responses
from app.i18n import N_

router = APIRouter(prefix="/dev", tags=["development issuer"])


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
