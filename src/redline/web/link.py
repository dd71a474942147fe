"""The link endpoint peers deliver to, behind mutual TLS with pinned certificates."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from redline.services.inbound import MAX_BODY_BYTES
from redline.services.queries import LinkEndpoint
from redline.web.requests import read_body


def _endpoint(request: Request) -> LinkEndpoint:
    endpoint: LinkEndpoint = request.app.state.link
    return endpoint


def _client_cert(request: Request) -> bytes | None:
    tls: dict[str, Any] = request.scope.get("extensions", {}).get("tls", {})
    der = tls.get("client_cert_der")
    return der if isinstance(der, bytes) else None


async def receive_envelopes(request: Request) -> JSONResponse:
    endpoint = _endpoint(request)
    # Who is calling is settled before a byte of the body is read.
    peer = endpoint.peer_for_certificate(_client_cert(request))
    raw = await read_body(request, MAX_BODY_BYTES)
    answer = await endpoint.inbound.receive(peer, raw)
    return JSONResponse(answer.body, status_code=409 if answer.equivocation else 200)


async def ping(request: Request) -> JSONResponse:
    endpoint = _endpoint(request)
    peer = endpoint.peer_for_certificate(_client_cert(request))
    return JSONResponse({"station": endpoint.station_id, "peer": peer.station_id})


ROUTES = [
    Route("/link/v1/envelopes", receive_envelopes, methods=["POST"]),
    Route("/link/v1/ping", ping, methods=["GET"]),
]
