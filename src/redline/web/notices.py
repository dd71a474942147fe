"""Deconfliction routes of the operator API: notices, conflicts, import and export."""

from __future__ import annotations

import re
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from redline.domain.names import check_station_id
from redline.errors import InputError
from redline.geo import ActivityType, Notice, NoticeState
from redline.geo.formats.areas import Imported
from redline.geo.formats.f3548 import from_volume4d, to_volume4d
from redline.geo.formats.geojson import from_geojson, to_geojson
from redline.geo.formats.navwarn import parse_navwarns
from redline.geo.formats.notam import read_notam, to_notam
from redline.json_input import parse_json
from redline.services.queries import StationServices
from redline.web.paging import choices, flag, page_request
from redline.web.requests import read_body, read_json_object
from redline.web.services import operator_of, services_of

MAX_NOTICE_BODY = 2 * 1024 * 1024  # a notice may carry up to 10,000 vertices per polygon
MAX_IMPORT_BODY = 8 * 1024 * 1024
FORMATS = ("geojson", "f3548", "notam")  # export; import also reads navigational warnings
IMPORT_FORMATS = (*FORMATS, "navwarn")
DEFAULT_LIST = 1000  # notices and conflicts per page, unless ?limit= says otherwise
MAX_LIST = 10_000
NOTICE_STATES = tuple(s.value for s in NoticeState)
NOTICE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


async def list_notices(request: Request) -> JSONResponse:
    await operator_of(request)
    party = request.query_params.get("party")
    if party is not None:
        check_station_id(party, "party")
    states = choices(request, "state", NOTICE_STATES)
    page = page_request(request, DEFAULT_LIST, MAX_LIST)
    in_force = flag(request, "in_force")
    body = await services_of(request).notices.notices(party, states, page, in_force is True)
    return JSONResponse(body)


async def get_notice(request: Request) -> JSONResponse:
    await operator_of(request)
    return JSONResponse(await services_of(request).notices.notice(request.path_params["notice_id"]))


def _answer(services: StationServices, notice: Notice, status: int) -> JSONResponse:
    body = {"notice": notice.to_json(), "conflicts": services.notices.conflicts_of(notice)}
    return JSONResponse(body, status_code=status, headers={"Location": f"/api/v1/notices/{notice.id}"})


async def file_notice(request: Request) -> JSONResponse:
    services = services_of(request)
    operator = await operator_of(request)
    data = await _json(request, MAX_NOTICE_BODY)
    notice = await services.deconfliction.file(operator, data)
    return _answer(services, notice, 201)


async def amend_notice(request: Request) -> JSONResponse:
    services = services_of(request)
    operator = await operator_of(request)
    data = await _json(request, MAX_NOTICE_BODY)
    notice = await services.deconfliction.amend(operator, request.path_params["notice_id"], data)
    return _answer(services, notice, 200)


async def cancel_notice(request: Request) -> JSONResponse:
    services = services_of(request)
    operator = await operator_of(request)
    data = await read_json_object(request, 8 * 1024, set(), {"reason"})
    notice = await services.deconfliction.cancel(
        operator, request.path_params["notice_id"], data.get("reason", "")
    )
    return _answer(services, notice, 200)


async def _json(request: Request, limit: int) -> object:
    return parse_json(await read_body(request, limit), "request body")


async def list_conflicts(request: Request) -> JSONResponse:
    await operator_of(request)
    state = request.query_params.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise InputError(f"state: expected open, closed or all, not {state!r}")
    notice = request.query_params.get("notice")
    if notice is not None:
        _check_notice_id(notice)
    page = await services_of(request).notices.conflicts(
        None if state == "all" else state, notice, page_request(request, DEFAULT_LIST, MAX_LIST)
    )
    return JSONResponse({"conflicts": page.items, **page.fields()})


def _check_notice_id(value: str) -> None:
    if not NOTICE_ID.fullmatch(value):
        raise InputError(
            f"notice: {value[:80]!r} is not a notice id (1-64 letters, digits, '.', '_', ':', '-')"
        )


def _format(request: Request, formats: tuple[str, ...] = FORMATS) -> str:
    fmt = request.query_params.get("format", "geojson")
    if fmt not in formats:
        raise InputError(f"format: {fmt!r} is not one of {', '.join(formats)}")
    return fmt


async def import_notices(request: Request) -> JSONResponse:
    """File notices from GeoJSON, F3548 Volume4D JSON, NOTAM or navigational warning text, as ours.

    The answer's ``sources`` say, per filed notice, where its geometry came from (``item_e``,
    ``q_line``, ``text``, ``geojson``, ``f3548``), how many areas it has and what was approximated.
    """
    services = services_of(request)
    operator = await operator_of(request)
    fmt = _format(request, IMPORT_FORMATS)
    raw = await read_body(request, MAX_IMPORT_BODY)
    parsed = _parse_import(fmt, raw, services.station.station_id)
    # Everything is parsed and checked before anything is filed: a bad notice files none.
    batch = []
    for notice in (p.notice for p in parsed):
        fields = {k: v for k, v in notice.to_json().items() if k not in ("id", "party", "version")}
        if fields.get("state") not in ("draft", "active"):
            fields["state"] = "active"
        batch.append(fields)
    filed = [await services.deconfliction.file(operator, fields) for fields in batch]
    sources = [{**p.to_json(), "id": n.id} for p, n in zip(parsed, filed, strict=True)]
    body = {"notices": [n.to_json() for n in filed], "count": len(filed), "sources": sources}
    return JSONResponse(body, status_code=201)


NOTAM_HEADER = re.compile(r"^\s*[A-Z]\d{4}/\d{2}\s+NOTAM[NRC]\b", re.MULTILINE)


def split_notams(text: str) -> list[str]:
    """One NOTAM per ``A0001/26 NOTAMN`` header; text without headers is one NOTAM."""
    starts = [m.start() for m in NOTAM_HEADER.finditer(text)]
    if not starts:
        return [text]
    if text[: starts[0]].strip():
        raise InputError("line 1: text before the first NOTAM header (e.g. 'A0001/26 NOTAMN')")
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def _new_id() -> str:
    return uuid.uuid4().hex


def _parse_import(fmt: str, raw: bytes, me: str) -> list[Imported]:
    if fmt in ("notam", "navwarn"):
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"the {'NOTAM' if fmt == 'notam' else 'warning'} text is not UTF-8") from None
        if fmt == "navwarn":
            return parse_navwarns(text, party=me, new_id=_new_id)
        notices = []
        for i, part in enumerate(split_notams(text)):
            try:
                notices.append(read_notam(part, notice_id=_new_id(), party=me))
            except InputError as exc:
                raise InputError(f"NOTAM {i + 1}: {exc.message}") from None
        return notices
    return [Imported(n, fmt, len(n.volumes)) for n in _parse_json_import(fmt, raw, me)]


def _parse_json_import(fmt: str, raw: bytes, me: str) -> list[Notice]:
    data = parse_json(raw, "request body")
    if fmt == "geojson":
        return from_geojson(data)
    # ASTM F3548: one notice's Volume4D list, or our export's {"notices": [{"volumes": [...]}, ...]}.
    if isinstance(data, dict) and isinstance(data.get("notices"), list):
        found = []
        for i, entry in enumerate(data["notices"]):
            if not isinstance(entry, dict):
                raise InputError(f"notices[{i}]: expected an object with volumes")
            kinds = {a.value for a in ActivityType}
            activity = ActivityType(entry["activity"]) if entry.get("activity") in kinds else None
            try:
                found.append(
                    from_volume4d(
                        entry.get("volumes"), notice_id=uuid.uuid4().hex, party=me, activity=activity
                    )
                    if activity
                    else from_volume4d(entry.get("volumes"), notice_id=uuid.uuid4().hex, party=me)
                )
            except InputError as exc:
                raise InputError(f"notices[{i}].{exc.message}") from None
        return found
    return [from_volume4d(data, notice_id=uuid.uuid4().hex, party=me)]


async def export_notices(request: Request) -> Response:
    await operator_of(request)
    fmt = _format(request)
    party = request.query_params.get("party")
    if party is not None:
        check_station_id(party, "party")
    notices = await services_of(request).notices.in_force(party)
    if fmt == "geojson":
        return JSONResponse(to_geojson(notices), media_type="application/geo+json")
    # NOTAM and F3548 cannot carry every notice (corridors, several volumes, permanent windows):
    # those are left out and counted in X-Redline-Skipped (for F3548 also named in "skipped").
    exported: list[Any] = []
    skipped: list[str] = []
    for notice in notices:
        try:
            if fmt == "f3548":
                volumes = to_volume4d(notice)
                entry = {"id": notice.id, "party": notice.party, "activity": notice.activity.value}
                exported.append({**entry, "volumes": volumes})
            else:
                series = f"A{len(exported) + 1:04d}/{notice.window.start:%y}"
                exported.append(to_notam(notice, series=series))
        except InputError as exc:
            skipped.append(f"{notice.id}: {exc.message}")
    headers = {"X-Redline-Skipped": str(len(skipped))}
    if fmt == "f3548":
        return JSONResponse({"notices": exported, "skipped": skipped}, headers=headers)
    return PlainTextResponse("\n".join(exported), headers=headers)


ROUTES = [
    Route("/api/v1/notices", list_notices, methods=["GET"]),
    Route("/api/v1/notices", file_notice, methods=["POST"]),
    Route("/api/v1/notices/import", import_notices, methods=["POST"]),
    Route("/api/v1/notices/export", export_notices, methods=["GET"]),
    Route("/api/v1/notices/{notice_id}", get_notice, methods=["GET"]),
    Route("/api/v1/notices/{notice_id}/amend", amend_notice, methods=["POST"]),
    Route("/api/v1/notices/{notice_id}/cancel", cancel_notice, methods=["POST"]),
    Route("/api/v1/conflicts", list_conflicts, methods=["GET"]),
]
