"""Rate limits on every endpoint that checks a token: per network client before the token is
looked at (so guessing tokens is slow too), and per user after it (all requests, and writes
apart). A refusal is 429 with `Retry-After`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from app.access.principal import Principal
from app.config import Settings
from app.errors import AppError
from app.i18n import N_
from app.kit.rate_limit import RateLimiter, retry_after

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class RateLimited(AppError):
    status = 429
    code = "rate_limited"
    title = N_("Too many requests")
    detail = N_("Too many requests in a short time. Try again in a moment.")


@dataclass(frozen=True, slots=True)
class RateLimits:
    per_client: RateLimiter
    per_user: RateLimiter
    per_user_writes: RateLimiter

    @classmethod
    def from_settings(cls, settings: Settings) -> RateLimits | None:
        if not settings.rate_limits_enabled:
            return None
        return cls(
            RateLimiter(settings.rate_limit_client_per_minute),
            RateLimiter(settings.rate_limit_user_per_minute),
            RateLimiter(settings.rate_limit_user_writes_per_minute),
        )


def _refuse_if_waiting(wait: float | None) -> None:
    if wait is not None:
        raise RateLimited(headers={"Retry-After": retry_after(wait)})


def check_client(request: Request) -> None:
    """Count the request against its network client (the address the proxy vouched for)."""
    limits: RateLimits | None = request.app.state.rate_limits
    if limits is not None:
        _refuse_if_waiting(limits.per_client.take(request.client.host if request.client else ""))


def check_user(request: Request, principal: Principal) -> None:
    limits: RateLimits | None = request.app.state.rate_limits
    if limits is None:
        return
    user = f"{principal.issuer} {principal.subject}"
    _refuse_if_waiting(limits.per_user.take(user))
    if request.method in WRITE_METHODS:
        _refuse_if_waiting(limits.per_user_writes.take(user))
