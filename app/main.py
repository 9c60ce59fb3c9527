"""The application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx2 as httpx
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import docs, openapi
from app.access.audit.pages import router as audit_pages
from app.access.audit.refusals import record_refusal
from app.access.audit.report_pages import router as access_report_pages
from app.access.authn import DiscoveredKeySource, KeySource, StaticKeySource, TokenVerifier
from app.access.dev_issuer import DevIssuer, load_or_create_key
from app.access.grants import pages as grant_pages
from app.access.principal import LOCAL_ISSUER
from app.access.throttle import RateLimits
from app.api import api_router
from app.config import Settings, get_settings
from app.counselling import pages as counselling_pages
from app.db import Database
from app.errors import UnexpectedErrorMiddleware, install_error_handlers
from app.families.pages import router as family_pages
from app.fhir_sync.router import router as fhir_router
from app.flows import commit as commit_pipeline
from app.hardening import RequestLimits, RequestLimitsMiddleware, SecurityHeadersMiddleware
from app.observability import RequestContextMiddleware
from app.observability import router as operations_router
from app.patients.pages import router as patient_pages
from app.referrals.pages import router as referral_pages
from app.referrals.sending_pages import router as sending_pages
from app.scheduling.pages import router as scheduling_pages
from app.statistics.pages import router as statistics_pages
from app.web import launch, pages
from app.web.sessions import Lifetimes, SessionMiddleware, SessionStore
from app.web.signin import SignIn
from app.web.smart import SmartLaunch

# Each domain's pages, beside its router.
PAGE_ROUTERS: tuple[APIRouter, ...] = (
    patient_pages,
    # Before the referral pages: `/referrals/sent` is no `/referrals/{referral_id}`.
    sending_pages,
    referral_pages,
    family_pages,
    counselling_pages.router,
    scheduling_pages,
    grant_pages.router,
    statistics_pages,
    audit_pages,
    access_report_pages,
)


def create_app(
    settings: Settings | None = None,
    *,
    database: Database | None = None,
    http_client: httpx.AsyncClient | None = None,
) -> FastAPI:
    settings = settings or get_settings()
    # What every commit does, in order: read sessions refuse to write, and each commit notes
    # the referrals whose statistics facts it changed (the worker, or `askel serve` itself,
    # makes them again).
    commit_pipeline.install()
    database = database or Database.from_url(settings.database_url)
    client = http_client or httpx.AsyncClient(timeout=10.0)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await client.aclose()
        await app.state.smart_launch.close()
        database.dispose()

    app = FastAPI(
        title="Askel",
        summary="Physical-activity counselling between wellbeing services counties and "
        "municipalities.",
        version="0.1.0",
        lifespan=lifespan,
        # Askel's own page at /docs (app.docs) loads nothing from outside; no ReDoc.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.db = database

    sources: dict[str, KeySource] = {
        issuer: DiscoveredKeySource(
            issuer,
            client,
            cache_seconds=settings.jwks_cache_seconds,
            min_refresh_seconds=settings.jwks_min_refresh_seconds,
        )
        for issuer in settings.oidc_issuers
    }
    if settings.dev_issuer_on:
        from app.access import dev_patient_system
        from app.access.dev_router import authorize_router
        from app.access.dev_router import router as dev_router

        issuer = DevIssuer(
            settings.dev_issuer_url,
            load_or_create_key(settings.dev_issuer_key_file),
            audience=settings.oidc_audience,
            lifetime_seconds=settings.dev_token_lifetime_seconds,
        )
        app.state.dev_issuer = issuer
        sources[issuer.url] = StaticKeySource(issuer.public_keys)
        app.include_router(dev_router)
        app.include_router(authorize_router)
        app.include_router(dev_patient_system.page_router)
        app.include_router(dev_patient_system.fhir_router)
    app.state.token_verifier = TokenVerifier(
        sources,
        audience=settings.oidc_audience,
        leeway_seconds=settings.token_leeway_seconds,
        account_issuers={settings.dev_issuer_url: LOCAL_ISSUER} if settings.dev_issuer_on else {},
    )

    app.state.rate_limits = RateLimits.from_settings(settings)
    app.state.sign_in = SignIn(settings, app)
    app.state.smart_launch = SmartLaunch(settings, app)
    install_error_handlers(app, record_refusal, pages.page_answer)
    # The last added runs first: the limits are checked inside the request's context (its id
    # and access line), and every answer, refusals included, gets the security headers.
    limits = RequestLimits(
        settings.max_header_bytes, settings.max_body_bytes, settings.max_json_depth
    )
    lifetimes = Lifetimes(
        idle=timedelta(minutes=settings.page_idle_minutes),
        absolute=timedelta(hours=settings.page_session_hours),
    )
    app.add_middleware(
        SessionMiddleware,
        store=SessionStore(database, lifetimes),
        framed=bool(settings.frame_origins),
    )
    app.add_middleware(RequestLimitsMiddleware, limits=limits)
    app.add_middleware(UnexpectedErrorMiddleware)
    app.add_middleware(RequestContextMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            allow_headers=["Authorization", "Content-Type", "Accept-Language", "If-Match",
                           "Idempotency-Key", "X-Request-ID"],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID", "Content-Language"],
        )  # fmt: skip
    app.include_router(docs.router)
    app.include_router(operations_router)
    app.include_router(api_router)
    app.include_router(fhir_router)
    app.include_router(pages.router)
    app.include_router(launch.router)
    for domain_pages in PAGE_ROUTERS:
        app.include_router(domain_pages)
    app.mount("/static", pages.Static(directory=pages.STATIC), name="static")
    openapi.install(app)
    return app
