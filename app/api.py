"""Mounts each domain's router under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from app.access.audit.router import router as audit_router
from app.access.grants.router import router as grants_router
from app.consents.router import router as consents_router
from app.counselling.router import router as counselling_router
from app.errors import InvalidToken, Unauthenticated, problem_responses
from app.families.router import router as families_router
from app.fhir_sync.admin import router as fhir_admin_router
from app.jobs.router import router as outbox_router
from app.organisations.router import router as services_router
from app.patients.router import router as patients_router
from app.referrals.router import router as referrals_router
from app.scheduling.router import router as scheduling_router
from app.statistics.router import router as statistics_router

api_router = APIRouter(prefix="/api/v1", responses=problem_responses(Unauthenticated, InvalidToken))
api_router.include_router(services_router)
api_router.include_router(patients_router)
api_router.include_router(referrals_router)
api_router.include_router(scheduling_router)
api_router.include_router(counselling_router)
api_router.include_router(consents_router)
api_router.include_router(families_router)
api_router.include_router(grants_router)
api_router.include_router(outbox_router)
api_router.include_router(fhir_admin_router)
api_router.include_router(audit_router)
api_router.include_router(statistics_router)
