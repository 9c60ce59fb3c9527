"""Publishing a referral's changes in transaction bundles, for servers whose transactions are
atomic: the region holds each bundle's new state whole or not at all.

Every create is conditional on Askel's identifier (`ifNoneExist`: a resend after a crash finds
what the first send made), and every entry has a fullUrl of its own, a fresh `urn:uuid:` that
names nothing else: a server rewrites every string equal to a fullUrl it resolved, identifiers
included. Servers limit how many entries one transaction may hold (Medplum: 8 once one of them is
conditional), so a larger change goes as several bundles, in order, each referring to what the
earlier ones made; a create whose search names a resource new in the same bundle (the first
Provenance, which names the new request) waits for the next.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from app.fhir_sync import region
from app.fhir_sync.client import FhirClient, VersionConflict
from app.fhir_sync.links import NEVER_UPDATED, Links, changed, content_hash, search_match
from app.fhir_sync.models import FhirLink
from app.fhir_sync.resources import Outbound, ReferralRecords

# The strictest limit met on a server the region may run (Medplum's, for a transaction with a
# conditional entry); `ASKEL_FHIR_BUNDLE_LIMIT` raises it for a server that takes more.
MEDPLUM_LIMIT = 8


def _resolved(value: Any, made: dict[str, str]) -> Any:
    """`value` with each reference to an entry of an earlier bundle made literal."""
    if isinstance(value, dict):
        return {
            name: made.get(item, item)
            if name == "reference" and isinstance(item, str)
            else _resolved(item, made)
            for name, item in value.items()
        }
    if isinstance(value, list):
        return [_resolved(item, made) for item in value]
    return value


@dataclass(frozen=True, slots=True)
class _Entry:
    outbound: Outbound
    link: FhirLink | None
    full_url: str


class _Bundles:
    """The bundle being filled, and what the bundles sent before it made."""

    def __init__(self, client: FhirClient, links: Links, limit: int) -> None:
        self._client = client
        self._links = links
        self._limit = limit
        self._entries: list[_Entry] = []
        self._made: dict[str, str] = {}  # an earlier entry's fullUrl → Type/id on the peer
        self.written: list[FhirLink] = []

    def add(self, outbound: Outbound, link: FhirLink | None) -> None:
        if len(self._entries) >= self._limit or self._searches_this_bundle(outbound, link):
            self.send()
        entry = _Entry(outbound, link, f"urn:uuid:{uuid.uuid4()}")
        if link is None:
            self._links.pending[(outbound.resource_type, outbound.key)] = entry.full_url
        self._entries.append(entry)

    def _searches_this_bundle(self, outbound: Outbound, link: FhirLink | None) -> bool:
        if link is not None:
            return False
        match = search_match(self._body(outbound))
        return any(entry.full_url in match for entry in self._entries)

    def _body(self, outbound: Outbound) -> Outbound:
        body = _resolved(outbound.body, self._made)
        return Outbound(outbound.resource_type, outbound.key, body)

    def _request(self, entry: _Entry) -> dict[str, Any]:
        outbound, link = self._body(entry.outbound), entry.link
        kind, body = outbound.resource_type, outbound.body
        if link is None:
            return {"fullUrl": entry.full_url, "resource": body,
                    "request": {"method": "POST", "url": kind,
                                "ifNoneExist": search_match(outbound)}}  # fmt: skip
        version = link.peer_version
        if link.region_owned:
            current, stored = self._client.fetch(kind, link.peer_id)
            body, version = region.overlay(current, body), stored.version
        return {
            "fullUrl": f"{self._client.base_url}/{kind}/{link.peer_id}",
            "resource": {**body, "id": link.peer_id},
            "request": {"method": "PUT", "url": f"{kind}/{link.peer_id}",
                        "ifMatch": f'W/"{version}"'},
        }  # fmt: skip

    def send(self) -> None:
        """The bundle being filled; when someone else changed one of its resources meanwhile
        (412), their versions are read again and the bundle is sent once more."""
        if not self._entries:
            return
        try:
            stored = self._client.transaction([self._request(e) for e in self._entries])
        except VersionConflict:
            for entry in self._entries:
                if entry.link is not None and not entry.link.region_owned:
                    kind, peer_id = entry.link.resource_type, entry.link.peer_id
                    entry.link.peer_version = self._client.read(kind, peer_id).version
            stored = self._client.transaction([self._request(e) for e in self._entries])
        for entry, where in zip(self._entries, stored, strict=True):
            self._made[entry.full_url] = f"{entry.outbound.resource_type}/{where.id}"
        for entry, where in zip(self._entries, stored, strict=True):
            outbound = self._body(entry.outbound)
            kind = outbound.resource_type
            if entry.link is None and not where.created and kind not in NEVER_UPDATED:
                # Found by its identifier (sent before a crash lost the link): bring it up to date.
                where = self._client.update(kind, where.id, outbound.body, where.version)
            self.written.append(self._links.keep(outbound, content_hash(outbound.body), where))
            self._links.pending.pop((kind, outbound.key), None)
        self._entries = []


def publish(
    client: FhirClient, links: Links, records: ReferralRecords, limit: int
) -> list[FhirLink]:
    bundles = _Bundles(client, links, limit)
    for outbound, link in changed(links, records):
        bundles.add(outbound, link)
    bundles.send()
    return bundles.written
