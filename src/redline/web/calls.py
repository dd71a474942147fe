"""Call requests in the operator API: ask for a call, answer one, read the timeline
(``redline.services.calls``; docs/calls.md, docs/api.md)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from redline.domain.calls import Action
from redline.domain.names import check_station_id
from redline.errors import InputError
from redline.json_input import parse_json
from redline.web.paging import page_request
from redline.web.requests import read_body, read_json_object
from redline.web.services import operator_of, services_of

MAX_CALL_BODY = 16 * 1024
DEFAULT_CALLS, MAX_CALLS = 100, 1000
# What each answer's body may hold (all optional unless required).
MOVES: dict[Action, tuple[set[str], set[str]]] = {
    Action.ACKNOWLEDGE: (set(), set()),
    Action.ACCEPT: (set(), {"note"}),
    Action.DECLINE: ({"reason"}, {"note"}),
    Action.COUNTER: ({"window"}, {"note"}),
    Action.CANCEL: (set(), {"note"}),
    Action.HELD: (set(), {"note"}),
}


async def post_call(request: Request) -> JSONResponse:
    operator = await operator_of(request)
    data = await read_json_object(request, MAX_CALL_BODY, {"to", "purpose", "urgency", "asked_for", "window"})
    calls = services_of(request).calls
    call_id = await calls.request(
        operator, data["to"], data["purpose"], data["urgency"], data["asked_for"], data["window"]
    )
    return JSONResponse(
        {"call": await calls.call(call_id)}, status_code=201, headers={"Location": f"/api/v1/calls/{call_id}"}
    )


async def list_calls(request: Request) -> JSONResponse:
    await operator_of(request)
    peer = request.query_params.get("peer")
    page = await services_of(request).calls.calls(
        page_request(request, DEFAULT_CALLS, MAX_CALLS),
        None if peer is None else check_station_id(peer, "peer"),
    )
    return JSONResponse({"calls": page.items, **page.fields()})


async def get_call(request: Request) -> JSONResponse:
    await operator_of(request)
    return JSONResponse(await services_of(request).calls.call(request.path_params["call_id"]))


async def _fields(request: Request, action: Action) -> dict[str, Any]:
    """The answer's body: an empty body is an empty object."""
    required, optional = MOVES[action]
    raw = await read_body(request, MAX_CALL_BODY)
    data = {} if not raw.strip() else parse_json(raw, "request body")
    if not isinstance(data, dict):
        raise InputError("request body must be a JSON object")
    missing, unknown = required - data.keys(), data.keys() - required - optional
    if missing:
        raise InputError(f"missing field(s): {', '.join(sorted(missing))}")
    if unknown:
        raise InputError(f"unknown field(s): {', '.join(sorted(unknown))}")
    return data


def _answer(action: Action) -> Any:
    async def answer(request: Request) -> JSONResponse:
        operator = await operator_of(request)
        calls = services_of(request).calls
        call_id = request.path_params["call_id"]
        fields = await _fields(request, action)
        message_id = await calls.answer(operator, call_id, action.value, fields)
        return JSONResponse({"message_id": message_id, "call": await calls.call(call_id)}, status_code=201)

    answer.__name__ = f"call_{action.value}"
    return answer


ROUTES = [
    Route("/api/v1/calls", post_call, methods=["POST"]),
    Route("/api/v1/calls", list_calls, methods=["GET"]),
    Route("/api/v1/calls/{call_id}", get_call, methods=["GET"]),
    *(Route(f"/api/v1/calls/{{call_id}}/{a.value}", _answer(a), methods=["POST"]) for a in MOVES),
]
