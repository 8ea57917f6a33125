"""The service report: one PDF with the job, the work, photos, parts, the bill and the customer's signature.

Chinese text uses the Adobe-Asian CID font reportlab ships with (STSong-Light): nothing to install, and
any PDF reader renders it.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from reportlab.graphics.shapes import Drawing, PolyLine
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

TEXT = ParagraphStyle("text", fontName=FONT, fontSize=9.5, leading=13)
TITLE = ParagraphStyle("title", parent=TEXT, fontSize=16, leading=20, spaceAfter=4)
HEADING = ParagraphStyle("heading", parent=TEXT, fontSize=11.5, leading=15, spaceBefore=8, spaceAfter=3)


@dataclass
class ReportData:
    """Everything the report shows, gathered by the caller (no database access here)."""

    reference: str
    title: str
    status: str
    customer: str
    site: str
    address: str
    asset: str | None
    engineer: str | None
    timeline: list[tuple[str, datetime | None]]
    resolution_code: str | None = None
    resolution_notes: str | None = None
    checklist: list[tuple[str, str]] = field(default_factory=list)
    notes: list[tuple[datetime, str, str]] = field(default_factory=list)
    parts: list[tuple[str, int]] = field(default_factory=list)
    settlement: dict[str, Any] | None = None
    photos: list[tuple[bytes, str]] = field(default_factory=list)  # JPEG thumbnails with captions
    signer_name: str | None = None
    signed_at: datetime | None = None
    signature_png: bytes | None = None
    signature_strokes: list[Any] | None = None
    customer_absent_reason: str | None = None
    rating: int | None = None
    rating_comment: str | None = None


def _p(text: object, style: ParagraphStyle = TEXT) -> Paragraph:
    safe = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", "<br/>")
    return Paragraph(safe, style)


def _table(rows: Sequence[Sequence[object]], widths: Sequence[float], header: bool = True) -> Table:
    table = Table([[_p(c) for c in row] for row in rows], colWidths=widths, hAlign="LEFT")
    style: list[Any] = [
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9aa5b1")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4e7eb")))
    table.setStyle(TableStyle(style))
    return table


def _when(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M %Z") if at else "—"


def _strokes(strokes: list[Any]) -> Flowable:
    """Strokes drawn on the phone (points in a 0–1000 box) redrawn at 60 × 25 mm."""
    width, height = 60 * mm, 25 * mm
    drawing = Drawing(width, height)
    for stroke in strokes:
        points: list[float] = []
        for x, y in stroke:
            points += [x / 1000 * width, height - y / 1000 * height]
        if len(points) >= 4:
            drawing.add(PolyLine(points, strokeWidth=1.2, strokeColor=colors.black))
    return drawing


def render(data: ReportData) -> bytes:
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=16 * mm,
        rightMargin=16 * mm,
        topMargin=14 * mm,
        bottomMargin=14 * mm,
        title=f"Service report {data.reference}",
        author="fieldops",
    )
    body: list[Flowable] = [
        _p(f"Service report / 服务报告  {data.reference}", TITLE),
        _table(
            [
                ["Job / 工单", f"{data.title} ({data.status})"],
                ["Customer / 客户", data.customer],
                ["Site / 地点", f"{data.site}, {data.address}"],
                ["Asset / 设备", data.asset or "—"],
                ["Engineer / 工程师", data.engineer or "—"],
            ],
            [38 * mm, 140 * mm],
            header=False,
        ),
        _p("Timeline / 时间线", HEADING),
        _table(
            [["Step / 步骤", "Time / 时间"], *[[k, _when(v)] for k, v in data.timeline]], [60 * mm, 118 * mm]
        ),
    ]
    if data.resolution_code:
        body += [
            _p("Work done / 处理结果", HEADING),
            _p(f"{data.resolution_code}: {data.resolution_notes or ''}"),
        ]
    if data.checklist:
        body += [
            _p("Checklist / 检查表", HEADING),
            _table([["Item / 项目", "Answer / 结果"], *data.checklist], [110 * mm, 68 * mm]),
        ]
    if data.notes:
        body += [
            _p("Notes / 备注", HEADING),
            _table(
                [["Time", "By", "Note"], *[[_when(t), a, x] for t, a, x in data.notes]],
                [38 * mm, 30 * mm, 110 * mm],
            ),
        ]
    if data.parts:
        body += [
            _p("Parts used / 使用备件", HEADING),
            _table([["SKU", "Quantity / 数量"], *[[s, str(q)] for s, q in data.parts]], [110 * mm, 68 * mm]),
        ]
    if data.settlement:
        s = data.settlement
        rows = [["Item / 项目", "Qty", "Unit", "Amount", "Covered by / 承担"]]
        rows += [
            [
                line["description"],
                line["quantity"],
                line["unit_price"],
                line["amount"],
                line["covered_by"] or "—",
            ]
            for line in s["lines"]
        ]
        rows += [
            ["Covered / 保修或合同承担", "", "", s["covered_amount"], ""],
            [f"Customer pays / 客户应付 ({s['currency']})", "", "", s["customer_amount"], ""],
        ]
        body += [
            _p("Settlement / 结算", HEADING),
            _table(rows, [70 * mm, 16 * mm, 22 * mm, 24 * mm, 46 * mm]),
        ]
    if data.photos:
        body.append(_p("Photos / 照片", HEADING))
        cells = [
            [Image(io.BytesIO(jpeg), width=55 * mm, height=41 * mm, kind="proportional"), _p(caption)]
            for jpeg, caption in data.photos
        ]
        body.append(Table(cells, colWidths=[60 * mm, 118 * mm], hAlign="LEFT"))
    body.append(_p("Customer sign-off / 客户签字", HEADING))
    if data.signature_png:
        body.append(Image(io.BytesIO(data.signature_png), width=60 * mm, height=25 * mm, kind="proportional"))
    elif data.signature_strokes:
        body.append(_strokes(data.signature_strokes))
    if data.customer_absent_reason:
        body.append(_p(f"Not signed / 未签字: {data.customer_absent_reason}"))
    body.append(_p(f"Signed by / 签字人: {data.signer_name or '—'}   {_when(data.signed_at)}"))
    if data.rating is not None:
        body.append(
            _p(f"Rating / 评分: {'★' * data.rating}{'☆' * (5 - data.rating)}  {data.rating_comment or ''}")
        )
    body.append(Spacer(1, 6 * mm))
    doc.build(body)
    return out.getvalue()
