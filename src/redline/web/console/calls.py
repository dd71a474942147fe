"""The calls page: call requests both ways with their state and reply deadline, one call with its
whole timeline, and the moves this officer may make now (docs/calls.md).

Everything it changes goes through ``services.calls`` (the same checks as the API); every POST
checks the session's CSRF token first. Times are UTC; the form's times are read as UTC.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from redline.domain.calls import DECLINE_REASONS, LEVELS, OPERATOR_ACTIONS, Action, Urgency
from redline.domain.clock import format_ts
from redline.errors import NotFound, _t
from redline.services.paging import PageRequest
from redline.web.console.pages import console_errors, field, redirect, session_and_form
from redline.web.console.render import language_of, page
from redline.web.console.security import require_session
from redline.web.services import services_of

LIMIT = 50
_LOCAL = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$")


def _utc(value: str) -> str:
    """A form's time as a UTC timestamp: ``2026-03-01T14:00`` (a datetime-local input) reads as UTC."""
    value = value.strip()
    if _LOCAL.match(value):
        return value + (":00Z" if len(value) == 16 else "Z")
    return value


def _window(form: Any) -> dict[str, str]:
    return {"start": _utc(field(form, "start")), "end": _utc(field(form, "end"))}


def _note(form: Any) -> dict[str, str]:
    note = field(form, "note").strip()
    return {"note": note} if note else {}


async def _calls_page(request: Request, **extra: Any) -> Response:
    session = await require_session(request)
    services = services_of(request)
    cursor = request.query_params.get("cursor")
    calls = await services.calls.calls(PageRequest(LIMIT, cursor))
    lang = language_of(request, session)
    return page(
        request,
        "calls.html",
        session,
        calls=calls.items,
        older=f"/calls?{urlencode({'cursor': calls.next})}" if calls.next else None,
        paged=bool(cursor),
        limit=LIMIT,
        now=format_ts(services.clock.now()),
        peers=await services.links.verified_peers(),
        peer_names=await services.links.peer_names(lang),
        urgencies=[u.value for u in Urgency],
        levels=list(LEVELS),
        values=extra.pop("values", {}),
        **extra,
    )


@console_errors
async def calls(request: Request) -> Response:
    return await _calls_page(request)


@console_errors
async def request_call(request: Request) -> Response:
    session, form = await session_and_form(request, what=_t("request calls"))
    call_id = await services_of(request).calls.request(
        session.operator,
        field(form, "to"),
        field(form, "purpose"),
        field(form, "urgency"),
        {"role": field(form, "role"), "level": field(form, "level")},
        _window(form),
    )
    return redirect(f"/calls/{call_id}")


@console_errors
async def call(request: Request) -> Response:
    session = await require_session(request)
    services = services_of(request)
    shown = await services.calls.call(request.path_params["call_id"])
    lang = language_of(request, session)
    return page(
        request,
        "call.html",
        session,
        call=shown,
        now=format_ts(services.clock.now()),
        peer_names=await services.links.peer_names(lang),
        reasons=list(DECLINE_REASONS),
        station=services.station.station_id,
    )


@console_errors
async def move(request: Request) -> Response:
    session, form = await session_and_form(request, what=_t("answer calls"))
    action = request.path_params["action"]
    if action not in [a.value for a in OPERATOR_ACTIONS]:
        raise NotFound(_t("no call {call_id}", call_id=request.path_params["call_id"]))
    fields: dict[str, Any] = _note(form) if action != Action.ACKNOWLEDGE.value else {}
    if action == Action.DECLINE.value:
        fields["reason"] = field(form, "reason")
    if action == Action.COUNTER.value:
        fields["window"] = _window(form)
    call_id = request.path_params["call_id"]
    await services_of(request).calls.answer(session.operator, call_id, action, fields)
    return redirect(f"/calls/{call_id}")
