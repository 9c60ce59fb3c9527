from __future__ import annotations

from fastapi import APIRouter

from app.access.permissions import DirectoryReader
from app.db import WriteSession
from app.errors import Forbidden, problem_responses
from app.kit.pagination import Page
from app.organisations import service
from app.organisations.schemas import ServiceRead

router = APIRouter(prefix="/services", tags=["services"])


@router.get("", responses=problem_responses(Forbidden))
def list_services(_principal: DirectoryReader, session: WriteSession) -> Page[ServiceRead]:
    """Counselling services: municipality, catchment, languages, modes and locations (one
    page: the region's directory)."""
    return Page[ServiceRead](items=service.directory(session), next_cursor=None)
