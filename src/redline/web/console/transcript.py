"""The console's transcript of a link, and its exports (PDF, JSON, CSV).

Every role may read a transcript, as every role reads the traffic. Exporting
takes the record out of the station, so it is for those who answer for the
record: auditors, supervisors and administrators; each export is audited
(``transcript_exported``: format, link, period, how many messages).
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from redline.domain.clock import format_ts
from redline.domain.stations import Role
from redline.errors import InputError, _t
from redline.services.queries.transcript import TimeRange
from redline.web.console import exports
from redline.web.console.pages import console_errors
from redline.web.console.render import language_of, page
from redline.web.console.security import HEADERS, require_session
from redline.web.console.views import N_
from redline.web.paging import page_request
from redline.web.services import services_of

PAGE_DEFAULT = 100  # messages a page unless ?limit= says otherwise
PAGE_MAX = 500
MAX_TIMESTAMP_CHARS = 40
EXPORTERS = (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN)
DIRECTIONS = (N_("outbound"), N_("inbound"))  # the words the transcript translates from data


def period_of(request: Request) -> TimeRange:
    """``?since=`` and ``?until=``: UTC; the form's ``2026-01-31T12:00`` is read as UTC too."""
    return TimeRange.parse(_utc(request, "since"), _utc(request, "until"))


def _utc(request: Request, name: str) -> str | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    if len(raw) > MAX_TIMESTAMP_CHARS:
        raise InputError(
            _t(
                "{name}: expected a UTC time like 2026-01-31T12:00:00Z, not {value!r}…",
                name=name,
                value=raw[:20],
            )
        )
    return raw if raw.endswith("Z") else f"{raw}{':00' if raw.count(':') == 1 else ''}Z"


@console_errors
async def transcript(request: Request) -> Response:
    session = await require_session(request)
    services = services_of(request)
    peer = request.path_params["peer"]
    await services.transcripts.check_peer(peer)
    period = period_of(request)
    shown = await services.transcripts.page(
        peer, page_request(request, PAGE_DEFAULT, PAGE_MAX), period, language_of(request, session)
    )
    kept = {k: v for k, v in (("since", period.since), ("until", period.until)) if v}
    return page(
        request,
        "transcript.html",
        session,
        peer=peer,
        entries=shown.items,
        limit=shown.limit,
        paged=bool(request.query_params.get("cursor")),
        first=f"{request.url.path}?{urlencode(kept)}",
        next=f"{request.url.path}?{urlencode({**kept, 'cursor': shown.next})}" if shown.next else None,
        period=period,
        chains=await services.transcripts.chains(peer),
        export_query=urlencode(kept),
        may_export=session.operator.role in EXPORTERS,
        formats=exports.FORMATS,
        export_limit=exports.EXPORT_LIMIT,
        printed_at=format_ts(services.clock.now()),
    )


@console_errors
async def export(request: Request) -> Response:
    session = await require_session(request, *EXPORTERS, what=_t("export transcripts"))
    services = services_of(request)
    peer = request.path_params["peer"]
    kind = request.query_params.get("format", "")
    if kind not in exports.FORMATS:
        raise InputError(
            _t(
                "format: expected one of {choices}, not {value!r}",
                choices=", ".join(exports.FORMATS),
                value=kind[:20],
            )
        )
    period = period_of(request)
    lang = language_of(request, session)
    peer_name = await services.transcripts.check_peer(peer, lang)
    entries = await exports.read_all(services, peer, period, lang)
    chains = await services.transcripts.chains(peer)
    station = services.station
    now = format_ts(services.clock.now())
    heading = exports.Heading(
        station.station_id, station.name, peer, peer_name, period, now, session.operator.name
    )
    if kind == "pdf":  # ReportLab is CPU-bound: keep the event loop free while it sets the pages
        body = await run_in_threadpool(exports.to_pdf, heading, chains, entries, lang)
    else:
        body = (exports.to_json if kind == "json" else exports.to_csv)(heading, chains, entries)
    await services.console.record_export(
        session.operator,
        {"format": kind, "link": heading.link, "since": period.since, "until": period.until,
         "messages": len(entries), "bytes": len(body)},
    )  # fmt: skip
    name = f"transcript-{heading.link.replace('<->', '-')}-{now[:19].replace(':', '')}.{kind}"
    disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=exports.MEDIA_TYPES[kind], headers={**HEADERS, **disposition})


@console_errors
async def index(request: Request) -> Response:
    """The nav's way in: one transcript per verified link."""
    session = await require_session(request)
    peers = await services_of(request).links.verified_peers()
    return page(request, "transcripts.html", session, peers=peers)
