"""Link routes of the operator API: state, paths, scorecards, tests, suspension."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from redline.domain.messages import Direction
from redline.domain.names import check_station_id
from redline.errors import InputError
from redline.services.queries.logs import parse_size
from redline.web.requests import read_json_object
from redline.web.services import operator_of, services_of

MAX_BODY = 8 * 1024


async def list_links(request: Request) -> JSONResponse:
    await operator_of(request)
    return JSONResponse({"links": await services_of(request).links.links()})


async def get_link(request: Request) -> JSONResponse:
    await operator_of(request)
    return JSONResponse(await services_of(request).links.link(request.path_params["peer"]))


async def get_scorecard(request: Request) -> JSONResponse:
    await operator_of(request)
    return JSONResponse(await services_of(request).links.scorecard(request.path_params["peer"]))


async def send_test(request: Request) -> JSONResponse:
    operator = await operator_of(request)
    test_id = await services_of(request).link_commands.send_test(operator, request.path_params["peer"])
    return JSONResponse({"test_id": test_id}, status_code=201)


async def _suspension(request: Request, suspend: bool) -> JSONResponse:
    operator = await operator_of(request)
    commands = services_of(request).link_commands
    await services_of(request).links.verified_peer(request.path_params["peer"])
    data = await read_json_object(request, MAX_BODY, set(), {"reason"})
    message_id, link = await commands.change_suspension(
        operator, request.path_params["peer"], suspend, data.get("reason", "")
    )
    return JSONResponse({"service_message_id": message_id, "link": link}, status_code=201)


async def suspend(request: Request) -> JSONResponse:
    return await _suspension(request, True)


async def resume(request: Request) -> JSONResponse:
    return await _suspension(request, False)


def _direction(request: Request) -> Direction:
    raw = request.query_params.get("direction")
    if raw not in ("outbound", "inbound"):
        raise InputError(f"direction: expected outbound or inbound, not {raw!r}")
    return Direction(raw)


async def log_head(request: Request) -> JSONResponse:
    """The tree head of one direction's Merkle log, now or at ``size``."""
    await operator_of(request)
    peer = check_station_id(request.path_params["peer"], "peer")
    size = parse_size(request.query_params.get("size"), "size")
    head = await services_of(request).logs.head(peer, _direction(request), size)
    return JSONResponse(head.fields())


async def log_consistency(request: Request) -> JSONResponse:
    """That the log's first ``first`` envelopes begin its first ``second`` (now, by default)."""
    await operator_of(request)
    peer = check_station_id(request.path_params["peer"], "peer")
    first = parse_size(request.query_params.get("first"), "first")
    if first is None:
        raise InputError("first: the size of the earlier tree head is required")
    second = parse_size(request.query_params.get("second"), "second")
    proof = await services_of(request).logs.consistency(peer, _direction(request), first, second)
    return JSONResponse(proof.fields())


ROUTES = [
    Route("/api/v1/links", list_links, methods=["GET"]),
    Route("/api/v1/links/{peer}", get_link, methods=["GET"]),
    Route("/api/v1/links/{peer}/scorecard", get_scorecard, methods=["GET"]),
    Route("/api/v1/links/{peer}/log", log_head, methods=["GET"]),
    Route("/api/v1/links/{peer}/log/consistency", log_consistency, methods=["GET"]),
    Route("/api/v1/links/{peer}/test", send_test, methods=["POST"]),
    Route("/api/v1/links/{peer}/suspend", suspend, methods=["POST"]),
    Route("/api/v1/links/{peer}/resume", resume, methods=["POST"]),
]
