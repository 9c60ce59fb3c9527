"""Where notices go. The default writes them to a file (development, demos, tests); an HTTP SMS
gateway is a configuration change (`ASKEL_NOTICE_CHANNEL=http` and its URL and key)."""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import httpx2 as httpx

from app.config import Settings


@dataclass(frozen=True, slots=True)
class Notice:
    to: str  # E.164 phone number
    language: str
    text: str
    reference: str  # Askel's id for it, so that a gateway can drop re-sends


class NoticeChannel(Protocol):
    # Who receives the patient's data on its way to them, for the audit log.
    recipient: str

    def send(self, notice: Notice) -> None: ...


class FileChannel:
    """Appends each notice as a JSON line."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self.recipient = f"file {path.name}"
        self._lock = threading.Lock()

    def send(self, notice: Notice) -> None:
        line = json.dumps(asdict(notice), ensure_ascii=False)
        with self._lock, self._path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")


class HttpChannel:
    """POSTs `{to, language, text, reference}` as JSON to an SMS gateway; any non-2xx answer is
    an error, so that the worker retries it."""

    def __init__(self, url: str, api_key: str, client: httpx.Client | None = None) -> None:
        self._url = url
        self.recipient = f"SMS gateway {httpx.URL(url).host}"
        self._client = client or httpx.Client(timeout=10.0)
        self._headers = {"Authorization": f"Bearer {api_key}", "Idempotency-Key": ""}

    def send(self, notice: Notice) -> None:
        headers = {**self._headers, "Idempotency-Key": notice.reference}
        response = self._client.post(self._url, json=asdict(notice), headers=headers)
        response.raise_for_status()


def channel_from(settings: Settings) -> NoticeChannel:
    if settings.notice_channel == "http":
        assert settings.notice_gateway_url is not None
        key = settings.notice_gateway_key.get_secret_value() if settings.notice_gateway_key else ""
        return HttpChannel(settings.notice_gateway_url, key)
    return FileChannel(settings.notice_file)
