"""How the personal identity code and a temporary identifier are kept: a keyed hash to find
each, a ciphertext to read it."""

from __future__ import annotations

import uuid
from functools import cache

from app.config import get_settings
from app.kit.crypto import decrypt, derive_key, encrypt, keyed_hash
from app.patients.hetu import Hetu
from app.patients.temporary_ids import TemporaryId


@cache
def _keys() -> tuple[bytes, bytes]:
    secret = get_settings().hetu_key.get_secret_value()
    return derive_key(secret, "askel hetu lookup v1"), derive_key(secret, "askel hetu seal v1")


def lookup_hash(hetu: Hetu) -> str:
    return keyed_hash(_keys()[0], hetu.value)


def seal(hetu: Hetu, patient_id: uuid.UUID) -> bytes:
    # Bound to the row: a ciphertext copied onto another patient does not decrypt.
    return encrypt(_keys()[1], hetu.value, context=patient_id.bytes)


def unseal(ciphertext: bytes, patient_id: uuid.UUID) -> str:
    return decrypt(_keys()[1], ciphertext, context=patient_id.bytes)


# A temporary identifier's hash and seal are keyed as the identity code's, over a text that no
# identity code can be ("temporary:" first), so that the two never meet.
def temporary_lookup_hash(identifier: TemporaryId) -> str:
    return keyed_hash(_keys()[0], f"temporary:{identifier.text}")


def seal_temporary(identifier: TemporaryId, patient_id: uuid.UUID) -> bytes:
    return encrypt(_keys()[1], f"temporary:{identifier.text}", context=patient_id.bytes)


def unseal_temporary(ciphertext: bytes, patient_id: uuid.UUID) -> TemporaryId:
    text = decrypt(_keys()[1], ciphertext, context=patient_id.bytes)
    return TemporaryId.from_text(text.removeprefix("temporary:"))
