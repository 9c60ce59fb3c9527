"""Roles map to permissions in this one table; code checks permissions, never role names.

An endpoint shows its rule in its signature through an `Annotated` alias built with `require`.
Record-level rules (care relationship, own service) are policy functions in each domain.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.access.authn import authenticate
from app.access.principal import Principal, Role
from app.access.service import resolve_account
from app.db import WriteSession
from app.errors import Forbidden, RefusalContext
from app.organisations.models import OrganisationKind


class Permission(StrEnum):
    directory_read = "directory:read"
    patient_register = "patient:register"
    patient_lookup = "patient:lookup"
    referral_send = "referral:send"
    referral_read = "referral:read"
    referral_triage = "referral:triage"
    referral_cancel = "referral:cancel"
    referral_book_by_service = "referral:book-by-service"
    slot_search = "slot:search"
    appointment_book = "appointment:book"
    availability_manage = "availability:manage"
    access_administer = "access:administer"
    audit_read = "audit:read"
    research_extract = "research:extract"
    fhir_exchange = "fhir:exchange"
    statistics_read = "statistics:read"
    # The details the population register keeps from disclosure (turvakielto): only for those
    # who must act on them, the patient system that routes and notifies with Askel.
    protected_details_read = "protected-details:read"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.clinician: frozenset(
        {
            Permission.directory_read,
            Permission.patient_register,
            Permission.patient_lookup,
            Permission.referral_send,
            Permission.referral_read,
            Permission.referral_cancel,
            Permission.referral_book_by_service,
            Permission.slot_search,
            Permission.appointment_book,
        }
    ),
    Role.counsellor: frozenset(
        {
            Permission.directory_read,
            Permission.referral_read,
            Permission.referral_triage,
            Permission.referral_cancel,
            Permission.slot_search,
            Permission.appointment_book,
            Permission.availability_manage,
        }
    ),
    Role.access_admin: frozenset({Permission.directory_read, Permission.access_administer}),
    Role.auditor: frozenset({Permission.directory_read, Permission.audit_read}),
    Role.statistician: frozenset({Permission.directory_read, Permission.statistics_read}),
    Role.data_steward: frozenset({Permission.directory_read, Permission.research_extract}),
    Role.integration: frozenset(
        {
            Permission.directory_read,
            Permission.patient_register,
            Permission.patient_lookup,
            Permission.fhir_exchange,
            Permission.protected_details_read,
        }
    ),
}


bearer_scheme = HTTPBearer(auto_error=False, description="A JWT from a trusted issuer.")


def has_permission(principal: Principal, permission: Permission) -> bool:
    return any(permission in ROLE_PERMISSIONS[role] for role in principal.roles)


def require(permission: Permission | None) -> Callable[..., Principal]:
    """A dependency that lets through only active accounts whose roles grant `permission`.

    `None` lets every active account through: for endpoints addressing one record, where the
    record's policy decides, so that a caller who may not see it learns nothing (404), not even
    that their role could never see any (403 would say the record is worth hiding)."""

    def dependency(
        request: Request,
        claimed: Annotated[Principal, Depends(authenticate)],
        session: WriteSession,
        # Declares the scheme in the OpenAPI document; `authenticate` verifies the token.
        _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    ) -> Principal:
        principal = resolve_account(session, claimed)
        request.state.principal = principal
        if permission is not None and not has_permission(principal, permission):
            raise Forbidden()
        return principal

    dependency.__name__ = f"require_{permission.name if permission else 'account'}"
    return dependency


def region_only(principal: Principal, resource_type: str) -> None:
    """Work that is the region's alone (what could not be exchanged with its patient system):
    a municipality's administrator is refused."""
    if principal.organisation_kind != OrganisationKind.region:
        raise Forbidden(refusal=RefusalContext(resource_type))


# Any active account; the record's policy decides what it may do.
RecordUser = Annotated[Principal, Depends(require(None))]
DirectoryReader = Annotated[Principal, Depends(require(Permission.directory_read))]
PatientRegistrar = Annotated[Principal, Depends(require(Permission.patient_register))]
PatientFinder = Annotated[Principal, Depends(require(Permission.patient_lookup))]
ReferralSender = Annotated[Principal, Depends(require(Permission.referral_send))]
ReferralReader = Annotated[Principal, Depends(require(Permission.referral_read))]
SlotSearcher = Annotated[Principal, Depends(require(Permission.slot_search))]
AppointmentBooker = Annotated[Principal, Depends(require(Permission.appointment_book))]
AccessAdmin = Annotated[Principal, Depends(require(Permission.access_administer))]
AuditReader = Annotated[Principal, Depends(require(Permission.audit_read))]
StatisticsReader = Annotated[Principal, Depends(require(Permission.statistics_read))]
FhirExchange = Annotated[Principal, Depends(require(Permission.fhir_exchange))]
DataSteward = Annotated[Principal, Depends(require(Permission.research_extract))]
