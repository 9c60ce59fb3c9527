"""The authenticated caller as the rest of the service sees it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

# The name under which the development issuer's accounts are kept (whatever its URL).
LOCAL_ISSUER = "askel-dev"


class Role(StrEnum):
    clinician = "clinician"
    counsellor = "counsellor"
    access_admin = "access_admin"
    auditor = "auditor"
    statistician = "statistician"
    # Prepares research extracts for the region, the controller.
    data_steward = "data_steward"
    integration = "integration"


class Profession(StrEnum):
    doctor = "doctor"
    nurse = "nurse"
    physiotherapist = "physiotherapist"
    counsellor = "counsellor"


@dataclass(frozen=True, slots=True)
class Principal:
    subject: str
    organisation: str
    roles: frozenset[Role]
    issuer: str
    profession: Profession | None = None
    name: str | None = None
    token_id: str | None = None
    # From the account, once the token's subject has been matched to an active user.
    user_id: uuid.UUID | None = None
    service_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    organisation_kind: str | None = None

    @property
    def account_key(self) -> str:
        """Unique across issuers: the account id once resolved."""
        return str(self.user_id) if self.user_id else f"{self.issuer}|{self.subject}"

    @property
    def purpose(self) -> str | None:
        """What the caller processes patient data for, by their role."""
        return next((PURPOSES[role] for role in PURPOSE_ORDER if role in self.roles), None)

    @property
    def role_names(self) -> str:
        return ",".join(sorted(self.roles))


PURPOSES = {
    Role.clinician: "care",
    Role.integration: "care",
    Role.counsellor: "counselling",
    Role.statistician: "statistics",
    Role.data_steward: "research",
    Role.auditor: "audit",
    Role.access_admin: "audit",
}
# When an account holds several roles, the first that applies names the purpose.
PURPOSE_ORDER = (
    Role.counsellor,
    Role.clinician,
    Role.integration,
    Role.statistician,
    Role.data_steward,
    Role.auditor,
    Role.access_admin,
)
