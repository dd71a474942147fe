"""Filing, amending and cancelling our notices from the deconfliction page's map and form.

``static/notices.js`` draws the volumes with Leaflet-Geoman and posts the form
(session cookie, CSRF token, role checked like ``pages.compose``) to these
routes, which call the same ``Deconfliction`` service as the API. The answer is
JSON, because the page stays open with its drawing: the notice on success, or
the error with the ``field`` it concerns, taken from the path every
validation error starts with (``altitude.lower: the lower limit ... is above
the upper limit``), so the page shows it at that input, or at the map for
``volumes``.

The form's inputs are named by the notice's own field paths (``altitude.lower.value``,
``window.start``, ``buffers.time_s``); ``volumes`` is the drawing as the notice
JSON's volume list. Times are UTC, as ``datetime-local`` inputs give them
(``2026-03-01T10:00``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from redline.domain.clock import format_ts
from redline.domain.stations import OperatorRecord
from redline.errors import InputError, RedlineError, _t
from redline.geo import Notice
from redline.json_input import parse_json
from redline.services.deconfliction import Deconfliction
from redline.web.console.i18n import error_text
from redline.web.console.pages import SENDERS, field, session_and_form
from redline.web.console.render import language_of
from redline.web.console.security import HEADERS, NotLoggedIn, current_session
from redline.web.errors import status_for
from redline.web.services import services_of

WHAT = _t("file, amend or cancel notices")
# An error message starting with a field path ("volumes[0].polygon: ...") names its field.
FIELD_PATH = re.compile(r"^([a-z_]+(?:\[\d+\]|\.[a-z_]+)*): ")
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S")
LIMITS = ("lower", "upper")
OPTIONAL_NUMBERS = ("buffers.horizontal_m", "buffers.vertical_m", "buffers.time_s")
Action = Callable[[Deconfliction, OperatorRecord, Mapping[str, object]], Awaitable[Notice]]


async def file_notice(request: Request) -> JSONResponse:
    return await _run(request, 201, lambda service, by, form: service.file(by, notice_from_form(form)))


async def amend_notice(request: Request) -> JSONResponse:
    notice_id = request.path_params["notice_id"]
    return await _run(
        request, 200, lambda service, by, form: service.amend(by, notice_id, notice_from_form(form))
    )


async def cancel_notice(request: Request) -> JSONResponse:
    notice_id = request.path_params["notice_id"]
    return await _run(
        request, 200, lambda service, by, form: service.cancel(by, notice_id, field(form, "reason"))
    )


async def _run(request: Request, status: int, action: Action) -> JSONResponse:
    """The notice the action gives, or the error as JSON naming its field (a script shows it there)."""
    try:
        session, form = await session_and_form(request, *SENDERS, what=WHAT)
        notice = await action(services_of(request).deconfliction, session.operator, form)
    except NotLoggedIn as exc:
        return await _error(request, 401, exc)
    except RedlineError as exc:
        return await _error(request, status_for(exc), exc)
    return JSONResponse({"notice": notice.to_json()}, status_code=status, headers=HEADERS)


async def _error(request: Request, status: int, exc: RedlineError) -> JSONResponse:
    """The error for the page: ``message`` in the reader's language, ``field`` its machine path."""
    found = FIELD_PATH.match(exc.message)  # the English message starts with the path
    lang = language_of(request, await current_session(request))
    body = {"code": exc.code, "message": error_text(exc, lang), "field": found.group(1) if found else None}
    return JSONResponse({"error": body}, status_code=status, headers=HEADERS)


# -- the form, as the notice JSON the service takes -------------------------------------


def notice_from_form(form: Mapping[str, object]) -> dict[str, Any]:
    """The notice fields the form gives; the service checks everything else (and says which field)."""
    permanent = field(form, "window.permanent") == "on"
    window: dict[str, Any] = {
        "start": _utc(form, "window.start"),
        "permanent": permanent,
        "estimated_end": field(form, "window.estimated_end") == "on",
    }
    if not permanent:
        window["end"] = _utc(form, "window.end")
    return {
        "activity": field(form, "activity"),
        "title": field(form, "title").strip(),
        "volumes": _volumes(form),
        "altitude": {side: _limit(form, side) for side in LIMITS},
        "window": window,
        "priority": _whole(form, "priority"),
        "buffers": {name.split(".")[1]: _number(form, name, default=0.0) for name in OPTIONAL_NUMBERS},
        "text": field(form, "text"),
    }


def _volumes(form: Mapping[str, object]) -> object:
    raw = field(form, "volumes").strip()
    if not raw or raw == "[]":
        raise InputError(_t("volumes: draw the area on the map first (a polygon, a circle or a corridor)"))
    return parse_json(raw, _t("volumes: the drawing"))


def _limit(form: Mapping[str, object], side: str) -> dict[str, Any]:
    path = f"altitude.{side}"
    return {
        "value": _number(form, f"{path}.value"),
        "unit": field(form, f"{path}.unit"),
        "reference": field(form, f"{path}.reference"),
    }


def _number(form: Mapping[str, object], name: str, default: float | None = None) -> float:
    raw = field(form, name).strip()
    if not raw and default is not None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise InputError(
            _t("{name}: {value!r} is not a number", name=name, value=raw[:40])
            if raw
            else _t("{name}: missing", name=name)
        ) from None


def _whole(form: Mapping[str, object], name: str) -> int:
    raw = field(form, name).strip() or "0"
    try:
        return int(raw)
    except ValueError:
        raise InputError(_t("{name}: {value!r} is not a whole number", name=name, value=raw[:40])) from None


def _utc(form: Mapping[str, object], name: str) -> str:
    raw = field(form, name).strip()
    if not raw:
        if name == "window.end":
            raise InputError(_t("{name}: missing; give an end time or tick permanent", name=name))
        raise InputError(_t("{name}: missing", name=name))
    for pattern in TIME_FORMATS:
        try:
            return format_ts(datetime.strptime(raw, pattern).replace(tzinfo=UTC))
        except ValueError:
            continue
    raise InputError(
        _t("{name}: {value!r} is not a UTC time like 2026-03-01T10:00", name=name, value=raw[:40])
    )
