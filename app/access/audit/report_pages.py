"""A patient's access report for auditors to hand to the patient (Client Data Act 703/2023,
§ 11): the patient named by identity code in a form's body, then the report as a printable page
and as a PDF, in the patient's language. Each is `reports.access_report`, as the API's
`GET /api/v1/audit/patients/{id}/access-report`: read and logged the same way."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from app.access.audit import report_sheet, reports, repository, texts
from app.access.audit.pages import PageAuditor, find_patient, typed
from app.access.audit.report_pdf import access_report_pdf
from app.access.principal import Principal
from app.db import WriteSession
from app.errors import NotFound, RefusalContext
from app.i18n import LANGUAGES, Language
from app.kit.clock import helsinki_midnight, today_in_helsinki
from app.kit.types import CalendarDate
from app.patients import repository as patients_repository
from app.web.csrf import CheckedForm
from app.web.forms import FormState, form_fields, validate
from app.web.pages import PageRoute
from app.web.templating import LANGUAGE_NAMES, formats_in, page_language, render

router = APIRouter(route_class=PageRoute, include_in_schema=False)

ReportLanguage = Annotated[Language | None, Query()]
Since = Annotated[date | None, Query(ge=date(2000, 1, 1), le=date(2100, 12, 31))]


class ReportForm(BaseModel):
    """The report's period and, for a patient whose own language the report is not written in,
    the language to write it in."""

    model_config = ConfigDict(extra="forbid")

    since: CalendarDate | None = None
    language: Language | None = None


def default_since() -> date:
    """Where a report starts unless asked: two years back (the Client Data Act's minimum)."""
    return today_in_helsinki() - timedelta(days=reports.REPORT_PERIOD.days)


@router.get("/audit/report")
def report_form(request: Request, principal: PageAuditor) -> Response:
    """Whose report: the patient's identity code, the period, the language if not theirs."""
    values = {"since": default_since().isoformat(), "language": page_language(request)}
    return _form(request, FormState(values=values))


def _form(request: Request, state: FormState, status_code: int = 200) -> Response:
    context = {"state": state, "languages_named": LANGUAGE_NAMES, "codes": list(LANGUAGES),
               **form_fields()}  # fmt: skip
    return render(request, "audit/report_form.html", context, status_code=status_code)


@router.post("/audit/report")
def find_report(
    request: Request, form: CheckedForm, principal: PageAuditor, session: WriteSession
) -> Response:
    """The patient looked up as the API's look-up does (audited), then their report, addressed
    by their pseudonymous id: never by the code."""
    state = FormState(values=typed(form, ("hetu", "since", "language")))
    fields = {name: state.values[name] for name in ("since", "language") if state.values.get(name)}
    chosen = validate(ReportForm, fields, page_language(request), state)
    patient = find_patient(request, session, principal, state)
    if chosen is None or patient is None or state.failed:
        return _form(request, state, status_code=422)
    query = [f"since={chosen.since.isoformat()}" if chosen.since else "",
             f"language={chosen.language}" if chosen.language else ""]  # fmt: skip
    address = f"/audit/patients/{patient.id}/access-report"
    joined = "&".join(part for part in query if part)
    return RedirectResponse(f"{address}?{joined}" if joined else address, status_code=303)


def _sheet(
    session: Session,
    principal: Principal,
    patient_id: uuid.UUID,
    since: date | None,
    language: Language | None,
) -> report_sheet.Sheet:
    patient = patients_repository.get(session, patient_id)
    if patient is None:
        raise NotFound(refusal=RefusalContext("AccessReport", str(patient_id)))
    start = helsinki_midnight(since) if since else None
    report = reports.access_report(session, principal, patient_id, start)
    events = [*report.accesses, *report.disclosures]
    controller = repository.organisations_by_code(session, [principal.organisation])
    written_in = report_language(patient.language, language)
    return report_sheet.sheet(
        report,
        reports.directory(session, events),
        written_in,
        patient_name=f"{patient.given_name} {patient.family_name}",
        controller=controller.get(principal.organisation),
    )


def report_language(patients_own: str, chosen: Language | None) -> Language:
    """The patient's own language where the report can be written in it; else the one chosen
    (Finnish unless one was)."""
    for code in LANGUAGES:
        if patients_own == code:
            return code
    return chosen or "fi"


@router.get("/audit/patients/{patient_id}/access-report")
def report_page(
    patient_id: uuid.UUID,
    request: Request,
    principal: PageAuditor,
    session: WriteSession,
    since: Since = None,
    language: ReportLanguage = None,
) -> Response:
    """The report as a page to print (A4, no navigation), in the patient's language."""
    sheet = _sheet(session, principal, patient_id, since, language)
    query = request.url.query
    context: dict[str, Any] = {
        "sheet": sheet,
        "t": texts,
        "pdf_address": f"/audit/patients/{patient_id}/access-report.pdf"
        + (f"?{query}" if query else ""),
        **formats_in(sheet.language),
    }
    response = render(request, "audit/report_print.html", context)
    response.headers["Content-Language"] = sheet.language
    return response


@router.get("/audit/patients/{patient_id}/access-report.pdf")
def report_pdf(
    patient_id: uuid.UUID,
    principal: PageAuditor,
    session: WriteSession,
    since: Since = None,
    language: ReportLanguage = None,
) -> Response:
    """The same report as a PDF document."""
    sheet = _sheet(session, principal, patient_id, since, language)
    today = today_in_helsinki().isoformat()
    return Response(
        access_report_pdf(sheet),
        media_type="application/pdf",
        headers={
            # The patient's pseudonymous id only: the name stays out of file names and logs.
            "Content-Disposition": f'attachment; filename="access-report-{today}.pdf"',
            "Content-Language": sheet.language,
            "Cache-Control": "no-store",
        },
    )
