"""A link's transcript as a file: JSON, CSV (stdlib ``csv``) or PDF (ReportLab).

Every format holds the same rows (:func:`row_of`), oldest first, as the
transcript page orders them. An export is bounded, not streamed: it reads the
link (or the chosen period) a page at a time up to :data:`EXPORT_LIMIT`
messages and refuses, saying so, when there are more (the reader then chooses
a shorter period), so no file is ever cut silently. The PDF is set in
ReportLab's CID font ``STSong-Light`` (Adobe-GB1, which every PDF reader
supplies), holding Latin and Chinese, so no font file is embedded; the PDF's
own separators are ASCII, since readers substitute that font differently for
symbols such as "·".

CSV is UTF-8 *with* a byte-order mark: spreadsheet programs otherwise read the
Chinese as their local code page; ``csv`` readers open it with ``utf-8-sig``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from redline.errors import InputError, _t
from redline.services.paging import PageRequest
from redline.services.queries import StationServices
from redline.services.queries.transcript import ChainStatus, TimeRange, TranscriptEntry
from redline.services.views import MessageView
from redline.web.console.i18n import translations

EXPORT_LIMIT = 10_000  # messages in one export; more is refused with a request for a shorter period
READ_PAGE = 500  # messages read from the store at a time
FORMATS = ("pdf", "json", "csv")
MEDIA_TYPES = {"pdf": "application/pdf", "json": "application/json", "csv": "text/csv; charset=utf-8"}
FONT = "STSong-Light"
COLUMNS = (
    "stored_at", "direction", "seq", "id", "from", "created_by", "precedence", "kind", "ts", "sent_at",
    "delivered_at", "lang", "code", "text", "translation", "translation_lang", "translated_by",
    "certified_by", "certified_at", "receipt_id", "acked_by", "acked_at", "state", "digest",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Heading:
    """The title block: which link, which period, when and by whom it was taken out."""

    station: str
    station_name: str
    peer: str
    peer_name: str
    period: TimeRange
    exported_at: str
    exported_by: str

    @property
    def link(self) -> str:
        return f"{self.station}<->{self.peer}"


async def read_all(
    services: StationServices, peer: str, period: TimeRange, lang: str
) -> list[TranscriptEntry]:
    """Every message of the link in ``period``, oldest first; InputError beyond EXPORT_LIMIT."""
    entries: list[TranscriptEntry] = []
    cursor: str | None = None
    while True:
        page = await services.transcripts.page(peer, PageRequest(READ_PAGE, cursor), period, lang)
        entries.extend(page.items)
        if len(entries) > EXPORT_LIMIT:
            raise InputError(
                _t(
                    "the transcript holds more than {EXPORT_LIMIT} messages in this period: choose a "
                    "shorter period (since / until) and export it in parts",
                    EXPORT_LIMIT=EXPORT_LIMIT,
                )
            )
        if page.next is None:
            return entries
        cursor = page.next


def original(view: MessageView) -> str:
    """The message as written: free text as is, a phrase rendered in the reader's language."""
    if view.text is not None:
        return view.text
    if view.phrase is not None:
        params = ", ".join(f"{k}={v}" for k, v in view.phrase.params.items())
        return view.phrase.text or params
    if view.conflict is not None:
        return json.dumps(view.conflict, ensure_ascii=False, sort_keys=True)
    call = view.fields.api.get("call") if view.kind == "call" else None
    if call is not None:  # a move of a call request (docs/calls.md)
        return f"call {call['call_id']}: {call['action']} ({call['by']})"
    return view.service or ""


def row_of(entry: TranscriptEntry, station: str) -> dict[str, Any]:
    """One message as every export format writes it (``COLUMNS``)."""
    v, t = entry.view, entry.view.translation
    return {
        "stored_at": entry.stored_at,
        "direction": v.direction,
        "seq": v.seq,
        "id": v.id,
        "from": station if v.direction == "outbound" else v.peer,
        "created_by": v.created_by,
        "precedence": v.precedence,
        "kind": v.kind,
        "ts": v.ts,
        "sent_at": v.sent_at,
        "delivered_at": v.delivered_at,
        "lang": v.lang,
        "code": v.phrase.code if v.phrase else None,
        "text": original(v),
        "translation": t.text if t else None,
        "translation_lang": t.lang if t else None,
        "translated_by": t.translated_by if t else None,
        "certified_by": t.certified_by if t else None,
        "certified_at": t.certified_at if t else None,
        "receipt_id": v.receipt_id,
        "acked_by": v.acked_by,
        "acked_at": v.acked_at,
        "state": v.state,
        "digest": v.digest,
    }


def to_json(heading: Heading, chains: list[ChainStatus], entries: list[TranscriptEntry]) -> bytes:
    document = {
        "link": heading.link,
        "station": heading.station,
        "peer": heading.peer,
        "since": heading.period.since,
        "until": heading.period.until,
        "exported_at": heading.exported_at,
        "exported_by": heading.exported_by,
        "order": "stored_at, id",
        "chains": [
            {"direction": c.direction, "verified_to": c.verified_to, "fault": c.fault} for c in chains
        ],
        "messages": [row_of(e, heading.station) for e in entries],
    }
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


def to_csv(heading: Heading, _chains: list[ChainStatus], entries: list[TranscriptEntry]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(row_of(e, heading.station) for e in entries)
    return out.getvalue().encode("utf-8-sig")


def to_pdf(heading: Heading, chains: list[ChainStatus], entries: list[TranscriptEntry], lang: str) -> bytes:
    """A document: the title block, each chain's status, then every message in order."""
    _ = translations(lang).gettext
    _register_font()
    title = ParagraphStyle("title", fontName=FONT, fontSize=15, leading=20, wordWrap="CJK", spaceAfter=4)
    head = ParagraphStyle("head", fontName=FONT, fontSize=10, leading=13, wordWrap="CJK", spaceBefore=6)
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12, wordWrap="CJK", leftIndent=8)
    at_by = {"at": heading.exported_at, "by": heading.exported_by}
    flow: list[Flowable] = [
        _para(_("Transcript of the link %(link)s") % {"link": heading.link}, title),
        _para(f"{heading.station_name} ({heading.station}) <-> {heading.peer_name} ({heading.peer})", body),
        _para(_("Period: %(since)s to %(until)s") % _period(heading.period, _), body),
        _para(_("Printed at %(at)s by %(by)s") % at_by, body),
        _para(_("%(n)d messages, in the order this station stored them") % {"n": len(entries)}, body),
    ]
    flow += [_para(chain_line(c, _), body) for c in chains]
    flow.append(Spacer(1, 4 * mm))
    for entry in entries:
        flow += _pdf_entry(entry, heading.station, _, head, body)
    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer, pagesize=A4, title=_("Transcript of the link %(link)s") % {"link": heading.link},
        author=heading.exported_by, leftMargin=18 * mm, rightMargin=18 * mm,
    ).build(flow)  # fmt: skip
    return buffer.getvalue()


def chain_line(chain: ChainStatus, _: Callable[[str], str]) -> str:
    """ "outbound: chain verified to seq N" or the fault, in the reader's language."""
    if chain.fault is None:
        line = _("%(direction)s: chain verified to seq %(seq)d")
    else:
        line = _("%(direction)s: chain verified to seq %(seq)d, then: %(fault)s")
    return line % {"direction": _(chain.direction), "seq": chain.verified_to, "fault": chain.fault}


def _period(period: TimeRange, _: Callable[[str], str]) -> dict[str, str]:
    return {"since": period.since or _("the first message"), "until": period.until or _("now")}


def _pdf_entry(
    entry: TranscriptEntry,
    station: str,
    _: Callable[[str], str],
    head: ParagraphStyle,
    body: ParagraphStyle,
) -> list[Flowable]:
    r = row_of(entry, station)
    lines = [
        f"{_(r['direction'])} #{r['seq']} | {_(r['precedence'])} | {r['kind']} | {_('from')} {r['from']}"
        + (f" ({r['created_by']})" if r["created_by"] else ""),
        _("sent %(ts)s | stored %(stored)s | delivered %(delivered)s")
        % {"ts": r["ts"], "stored": r["stored_at"], "delivered": r["delivered_at"] or "-"},
        (f"[{r['code']}] " if r["code"] else "") + (f"({r['lang']}) " if r["lang"] else "") + r["text"],
    ]
    if r["translation"]:
        lines.append(
            _("Translation (%(lang)s) by %(by)s: %(text)s")
            % {"lang": r["translation_lang"], "by": r["translated_by"], "text": r["translation"]}
            + (" | " + _("certified by %(by)s") % {"by": r["certified_by"]} if r["certified_by"] else "")
        )
    if r["receipt_id"]:
        lines.append(f"{_('Receipt')} {r['delivered_at'] or '-'}")
    if r["acked_at"]:
        lines.append(_("Acknowledged by %(by)s at %(at)s") % {"by": r["acked_by"], "at": r["acked_at"]})
    return [_para(lines[0], head), *(_para(s, body) for s in lines[1:])]


def _para(text: str, style: ParagraphStyle) -> Paragraph:
    """Text as a paragraph: ReportLab reads markup, so the text is escaped; its line breaks kept."""
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _register_font() -> None:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
