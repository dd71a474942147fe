"""Link routes of the operator API: state, paths, scorecards, tests, suspension."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from redline.domain.phrases import load_catalogue
from redline.domain.stations import PeerRecord
from redline.errors import Conflict, NotFound
from redline.runtime import Station
from redline.services.assurance import change_suspension, scorecard, suspension_of
from redline.web.requests import read_json_object

MAX_BODY = 8 * 1024


def _station(request: Request) -> Station:
    station: Station = request.app.state.station
    return station


async def _verified_peer(station: Station, station_id: str) -> PeerRecord:
    peer = await station.peers.get(station_id)
    if peer is None:
        raise NotFound(f"no peer {station_id!r}")
    if not peer.verified:
        raise Conflict(f"peer {station_id!r} is not verified; there is no link yet")
    return peer


async def link_view(station: Station, peer: PeerRecord) -> dict[str, Any]:
    row = await station.store.link_row(peer.station_id)
    tester = station.testers.get(peer.station_id)
    worker = station.workers.get(peer.station_id)
    suspension = suspension_of(row)
    peer_card = json.loads(row.peer_scorecard) if row and row.peer_scorecard else None
    ours = station.me.config.ack_deadlines
    theirs = peer_card.get("ack_deadlines") if peer_card else None
    return {
        "peer": peer.station_id,
        "name": peer.name,
        "state": tester.status()["state"] if tester else "unknown",
        "tests": tester.status() if tester else None,
        "suspended": suspension is not None,
        "suspended_at": suspension["at"] if suspension else None,
        "suspended_by": suspension["by"] if suspension else None,
        "suspensions": {
            "ours": {"at": row.suspended_at, "by": row.suspended_by} if row and row.suspended_at else None,
            "peers": (
                {"at": row.peer_suspended_at, "by": row.peer_suspended_by}
                if row and row.peer_suspended_at
                else None
            ),
        },
        "queue_depth": worker.cursor.pending if worker else None,
        "delivery": worker.status() if worker else None,
        "paths": station.transport.path_status(peer),
        "ack_deadlines": {
            "ours": ours,
            "peers": theirs,
            # Each side computes "overdue" itself: a mismatch must be seen and settled.
            "agreed": None if theirs is None else theirs == ours,
        },
        "phrase_catalogue": {
            "ours": load_catalogue().version,
            "peers": peer_card.get("phrase_catalogue") if peer_card else None,
            "agreed": None
            if not peer_card or "phrase_catalogue" not in peer_card
            else peer_card["phrase_catalogue"] == load_catalogue().version,
        },
        "peer_scorecard": peer_card,
    }


async def list_links(request: Request) -> JSONResponse:
    station = _station(request)
    await station.auth.authenticate(request.headers.get("authorization"))
    peers = [p for p in await station.store.peers() if p.verified]
    return JSONResponse({"links": [await link_view(station, p) for p in peers]})


async def get_link(request: Request) -> JSONResponse:
    station = _station(request)
    await station.auth.authenticate(request.headers.get("authorization"))
    peer = await _verified_peer(station, request.path_params["peer"])
    return JSONResponse(await link_view(station, peer))


async def get_scorecard(request: Request) -> JSONResponse:
    station = _station(request)
    await station.auth.authenticate(request.headers.get("authorization"))
    peer = await _verified_peer(station, request.path_params["peer"])
    row = await station.store.link_row(peer.station_id)
    shared = row.peer_scorecard if row else None
    return JSONResponse(
        {
            "link": f"{station.me.station_id}<->{peer.station_id}",
            "ours": await scorecard(station.store, peer.station_id, station.me.config.ack_deadlines),
            "peers": json.loads(shared) if shared else None,
        }
    )


async def send_test(request: Request) -> JSONResponse:
    station = _station(request)
    await station.auth.authenticate(request.headers.get("authorization"))
    peer = await _verified_peer(station, request.path_params["peer"])
    tester = station.testers.get(peer.station_id)
    if tester is None:
        raise Conflict(f"the link to {peer.station_id} is not running yet; try again in a few seconds")
    return JSONResponse({"test_id": await tester.send_test()}, status_code=201)


async def _suspension(request: Request, suspend: bool) -> JSONResponse:
    station = _station(request)
    operator = await station.auth.authenticate(request.headers.get("authorization"))
    peer = await _verified_peer(station, request.path_params["peer"])
    data = await read_json_object(request, MAX_BODY, set(), {"reason"})
    message_id = await change_suspension(
        station.outbox, station.store, operator, peer, suspend, data.get("reason", "")
    )
    return JSONResponse(
        {"service_message_id": message_id, "link": await link_view(station, peer)}, status_code=201
    )


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
