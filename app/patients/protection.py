"""How the personal identity code is kept: a keyed hash to find it, a ciphertext to read it."""

from __future__ import annotations

import uuid
from functools import cache

from app.config import get_settings
from app.kit.crypto import decrypt, derive_key, encrypt, keyed_hash
from app.patients.hetu import Hetu


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
