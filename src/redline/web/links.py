"""Link routes of the operator API: state, paths, scorecards, tests, suspension."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

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


ROUTES = [
    Route("/api/v1/links", list_links, methods=["GET"]),
    Route("/api/v1/links/{peer}", get_link, methods=["GET"]),
    Route("/api/v1/links/{peer}/scorecard", get_scorecard, methods=["GET"]),
    Route("/api/v1/links/{peer}/test", send_test, methods=["POST"]),
    Route("/api/v1/links/{peer}/suspend", suspend, methods=["POST"]),
    Route("/api/v1/links/{peer}/resume", resume, methods=["POST"]),
]
