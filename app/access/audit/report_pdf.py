"""The access report as a PDF (ReportLab), with the same texts as the printable page: A4, DejaVu
Sans embedded (every Latin letter of a name prints as written), the proofs in an appendix."""

from __future__ import annotations

from functools import cache
from io import BytesIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.access.audit import texts
from app.access.audit.report_sheet import NONE, Line, Sheet
from app.fonts import BOLD as BOLD_FILE
from app.fonts import REGULAR as REGULAR_FILE

REGULAR, BOLD = "DejaVuSans", "DejaVuSans-Bold"
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
BRAND = colors.HexColor("#0000bf")
RULE = colors.HexColor("#b3b3b3")


@cache
def _fonts() -> None:
    pdfmetrics.registerFont(TTFont(REGULAR, str(REGULAR_FILE)))
    pdfmetrics.registerFont(TTFont(BOLD, str(BOLD_FILE)))
    pdfmetrics.registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR,
                                  boldItalic=BOLD)  # fmt: skip


def _style(
    name: str, size: float, *, bold: bool = False, color: colors.Color = colors.black
) -> ParagraphStyle:
    return ParagraphStyle(
        name,
        fontName=BOLD if bold else REGULAR,
        fontSize=size,
        leading=size * 1.3,
        textColor=color,
        spaceAfter=size * 0.4,
    )


TITLE = _style("title", 18, bold=True)
HEADING = _style("heading", 12.5, bold=True, color=BRAND)
BODY = _style("body", 9.5)
NAME = _style("name", 13, bold=True)
CELL = _style("cell", 8)
CELL_BOLD = _style("cell-bold", 8, bold=True)
HASH = _style("hash", 6)


def _p(text: str, style: ParagraphStyle = BODY) -> Paragraph:
    return Paragraph(escape(text), style)


def _cell(*parts: str | None) -> Paragraph:
    return Paragraph("<br/>".join(escape(part) for part in parts if part), CELL)


def _table(head: list[str], rows: list[list[Flowable]], widths: list[float]) -> Table:
    table = Table(
        [[Paragraph(escape(text), CELL_BOLD) for text in head], *rows],
        colWidths=widths,
        repeatRows=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("RIGHTPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _what(sheet: Sheet, line: Line) -> Paragraph:
    return _cell(f"{line.action}: {line.data}", line.outcome)


def _accesses(sheet: Sheet) -> list[Flowable]:
    found: list[Flowable] = [_p(sheet.text(texts.ACCESSES), HEADING)]
    if not sheet.accesses:
        return [*found, _p(sheet.text(texts.NO_ACCESSES))]
    head = [sheet.text(name) for name in texts.ACCESS_COLUMNS]
    rows: list[list[Flowable]] = [
        [_cell(line.when), _cell(line.who, line.title), _cell(line.organisation),
         _cell(line.purpose), _what(sheet, line)]
        for line in sheet.accesses
    ]  # fmt: skip
    return [*found, _table(head, rows, [36 * mm, 40 * mm, 36 * mm, 28 * mm, WIDTH - 140 * mm])]


def _disclosures(sheet: Sheet) -> list[Flowable]:
    found: list[Flowable] = [_p(sheet.text(texts.DISCLOSURES), HEADING)]
    if not sheet.disclosures:
        return [*found, _p(sheet.text(texts.NO_DISCLOSURES))]
    head = [sheet.text(name) for name in texts.DISCLOSURE_COLUMNS]
    rows: list[list[Flowable]] = [
        [_cell(line.when), _what(sheet, line), _cell(line.recipient or NONE),
         _cell(line.who, line.organisation)]
        for line in sheet.disclosures
    ]  # fmt: skip
    return [*found, _table(head, rows, [36 * mm, 48 * mm, 44 * mm, WIDTH - 128 * mm])]


def _hashes(values: list[str]) -> Paragraph:
    return Paragraph("<br/>".join(escape(value) for value in values) or NONE, HASH)


def _split(value: str, width: int = 64) -> list[str]:
    return [value[i : i + width] for i in range(0, len(value), width)]


def _appendix(sheet: Sheet) -> list[Flowable]:
    found: list[Flowable] = [_p(sheet.text(texts.APPENDIX), HEADING)]
    head = sheet.head
    if head is None:
        return [*found, _p(sheet.text(texts.NO_HEAD))]
    found += [_p(sheet.text(text)) for text in texts.HOW_TO_CHECK]
    facts = [
        (texts.HEAD_SIZE, [str(head.size)]),
        (texts.HEAD_ROOT, [head.root]),
        (texts.HEAD_TIME, [head.signed_at, head.signed_at_exactly]),
        (texts.HEAD_KEY, [head.key_id, *_split(head.public_key)]),
        (texts.HEAD_SIGNATURE, _split(head.signature)),
    ]
    found.append(
        _table(
            [sheet.text(texts.SIGNED_HEAD), ""],
            [[_cell(sheet.text(name)), _hashes(values)] for name, values in facts],
            [45 * mm, WIDTH - 45 * mm],
        )
    )
    found.append(Spacer(1, 4 * mm))
    lines = [line for line in [*sheet.accesses, *sheet.disclosures] if line.proof is not None]
    rows: list[list[Flowable]] = []
    for line in sorted(lines, key=lambda line: line.seq):
        assert line.proof is not None
        rows.append([_cell(str(line.seq), line.when), _cell(str(line.proof.position)),
                     _hashes([line.proof.leaf_hash]), _hashes(line.proof.path)])  # fmt: skip
    if rows:
        names = [sheet.text(name) for name in texts.PROOF_COLUMNS]
        found.append(_table(names, rows, [30 * mm, 16 * mm, 64 * mm, WIDTH - 110 * mm]))
    if sheet.unsealed:
        found.append(_p(sheet.text(texts.UNSEALED, count=sheet.unsealed)))
    return found


def access_report_pdf(sheet: Sheet) -> bytes:
    """The report as a PDF document."""
    _fonts()
    out = BytesIO()
    title = sheet.text(texts.REPORT_TITLE)
    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{title}: {sheet.patient_name}",
        author=sheet.controller,
        subject=title,
        lang=sheet.language,
    )
    footer = f"{title} · {sheet.patient_name} · {sheet.since}\u2013{sheet.until}"

    def number_pages(canvas: Canvas, _document: object) -> None:
        canvas.saveState()
        canvas.setFont(REGULAR, 7.5)
        canvas.setFillColor(colors.HexColor("#4d4d4d"))
        canvas.drawString(MARGIN, 10 * mm, footer)
        page = sheet.text(texts.PAGE, number=canvas.getPageNumber())
        canvas.drawRightString(A4[0] - MARGIN, 10 * mm, page)
        canvas.restoreState()

    story: list[Flowable] = [
        _p(title, TITLE),
        _p(sheet.patient_name, NAME),
        _p(sheet.text(texts.INTRODUCTION, since=sheet.since, until=sheet.until)),
        _p(sheet.text(texts.CONTROLLER, controller=sheet.controller)),
        *_accesses(sheet),
        Spacer(1, 3 * mm),
        *_disclosures(sheet),
        Spacer(1, 3 * mm),
        *_appendix(sheet),
    ]
    document.build(story, onFirstPage=number_pages, onLaterPages=number_pages)
    return out.getvalue()
