"""The region's temporary identifier for someone without a personal identity code yet: a
newcomer, a foreign worker, a newborn not yet in the population register.

Kanta's form: the identifier system is the issuing organisation's OID in the SOTE organisation
register with `.22.<year>` appended (`urn:oid:1.2.246.10.<business id>.22.<year>`), the value a
number the organisation gives within the year. Like the identity code, it is kept as a keyed
hash to find it and a ciphertext to read it, never in clear.
"""

from __future__ import annotations

import re
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.errors import Rule
from app.i18n import N_

_SYSTEM = re.compile(r"^urn:oid:1\.2\.246\.10\.[0-9]{7,8}(\.[0-9]+)*\.22\.(19|20)[0-9]{2}$")

NOT_A_TEMPORARY_SYSTEM = Rule(
    "not_a_temporary_identifier_system",
    N_(
        "The system is not a temporary identifier's: urn:oid:1.2.246.10.<business id>.22.<year>,"
        " e.g. urn:oid:1.2.246.10.1234567.22.2026."
    ),
    field="system",
)


class TemporaryId(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    system: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = Field(
        description="The issuing organisation's OID with .22.<year>, as an OID URN.",
        examples=["urn:oid:1.2.246.10.1234567.22.2026"],
    )
    value: Annotated[
        str, StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Za-z-]{1,32}$")
    ] = Field(description="The number the organisation gave, e.g. 000123.", examples=["000123"])

    @model_validator(mode="after")
    def _system_has_kantas_form(self) -> Self:
        if not _SYSTEM.match(self.system):
            raise NOT_A_TEMPORARY_SYSTEM.broken()
        return self

    @property
    def text(self) -> str:
        """As one string, the way a FHIR token names it: system|value."""
        return f"{self.system}|{self.value}"

    @classmethod
    def from_text(cls, text: str) -> TemporaryId:
        system, _, value = text.partition("|")
        return cls(system=system, value=value)

    # The identifier is personal data: it never reaches a log or a traceback.
    def __repr__(self) -> str:
        return "TemporaryId(…)"

    __str__ = __repr__


def is_temporary_system(system: str) -> bool:
    """Whether a FHIR identifier's system is a temporary identifier's."""
    return bool(_SYSTEM.match(system))
