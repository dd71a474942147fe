"""The operator API under /api/v1 (documented in docs/api.md and /api/v1/openapi.json)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from redline.domain.clock import parse_ts, utc_now
from redline.domain.messages import Direction, MessageKind, visible_state
from redline.domain.phrases import LANGS, PhraseBody, load_catalogue
from redline.domain.records import MessageRecord
from redline.domain.stations import OperatorRecord, Role
from redline.errors import Forbidden, InputError
from redline.runtime import Station
from redline.web.openapi import OPENAPI
from redline.web.requests import read_json_object

MAX_API_BODY = 64 * 1024


def _station(request: Request) -> Station:
    station: Station = request.app.state.station
    return station


async def _operator(request: Request) -> OperatorRecord:
    return await _station(request).auth.authenticate(request.headers.get("authorization"))


def message_view(row: MessageRecord, receipt: dict[str, Any] | None = None) -> dict[str, Any]:
    kind = row.kind
    deadline = parse_ts(row.deadline, "deadline") if row.deadline else None
    state = visible_state(row.state, kind, deadline, utc_now())
    body = json.loads(row.body)
    view: dict[str, Any] = {
        "id": row.id,
        "direction": row.direction,
        "peer": row.peer_id,
        "seq": row.seq,
        "kind": kind.value,
        "precedence": row.precedence,
        "ts": row.ts,
        "state": state.value,
        "deadline": row.deadline,
        "created_by": row.created_by,
        "digest": row.digest,
        "sent_at": row.sent_at,
        "delivered_at": row.delivered_at,
    }
    if kind is MessageKind.TEXT:
        view["text"], view["lang"] = body["text"], body["lang"]
    elif kind is MessageKind.PHRASE:
        catalogue = load_catalogue()
        phrase = PhraseBody.parse(body, catalogue)
        shown = {lang: catalogue.present(phrase, lang) for lang in LANGS}
        view["phrase"] = {
            **body,
            "text": {lang: p.text for lang, p in shown.items()},  # None where our catalogue cannot render it
            "catalogue_mismatch": shown["en"].version_mismatch,
        }
    elif kind is MessageKind.SERVICE:
        view["action"], view["reason"], view["by"] = body["action"], body["reason"], body["by"]
    elif kind is MessageKind.CONFLICT_ALERT:
        view["conflict"] = body
    elif kind.is_notice:
        view["notice"] = body["notice"]["id"] if "notice" in body else body["notice_id"]
    else:
        view["answers"] = body.get("ack_of") or body.get("test_of")
    view["receipt"] = None
    if row.receipt_id:
        view["receipt"] = {
            "id": row.receipt_id,
            "by": row.peer_id if row.direction == "outbound" else None,
            "at": row.delivered_at,
            "signature_verified": True,  # receipts are stored only after their signature checks out
        }
        if receipt is not None:
            view["receipt"]["by"] = receipt["by"]
            view["receipt"]["signed_at"] = receipt["at"]
            view["receipt"]["signed"] = receipt
    view["acknowledgement"] = None
    if row.acked_at:
        view["acknowledgement"] = {
            "by": row.acked_by,
            "at": row.acked_at,
            "message_id": row.ack_message_id,
            # An outbound message's acknowledgement arrived in an envelope whose signature was checked.
            "signature_verified": row.direction == "outbound",
        }
    return view


async def health(request: Request) -> JSONResponse:
    station = _station(request)
    return JSONResponse({"status": "ok", "station": station.me.station_id})


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(OPENAPI)


async def whoami(request: Request) -> JSONResponse:
    operator = await _operator(request)
    station = _station(request)
    return JSONResponse(
        {"operator": operator.name, "role": operator.role.value, "station": station.me.station_id}
    )


async def list_peers(request: Request) -> JSONResponse:
    await _operator(request)
    station = _station(request)
    result = []
    for peer in await station.store.peers():
        worker = station.workers.get(peer.station_id)
        result.append(
            {
                "station": peer.station_id,
                "name": peer.name,
                "verified": peer.verified,
                "verified_at": peer.verified_at,
                "endpoints": list(peer.endpoints),
                "tls_fingerprint": peer.tls_fingerprint,
                "delivery": worker.status() if worker else None,
            }
        )
    return JSONResponse({"peers": result})


async def post_message(request: Request) -> JSONResponse:
    operator = await _operator(request)
    data = await read_json_object(request, MAX_API_BODY, {"to", "precedence"}, {"text", "lang", "phrase"})
    messaging = _station(request).messaging
    if ("text" in data) == ("phrase" in data):
        raise InputError("give either text (free text) or phrase (a standard phrase), not both or neither")
    if "phrase" in data:
        phrase = data["phrase"]
        if not isinstance(phrase, dict) or phrase.keys() != {"code", "params"}:
            raise InputError('phrase: expected {"code": "REQ-01", "params": {...}}')
        message_id = await messaging.send_phrase(
            operator, data["to"], data["precedence"], phrase["code"], phrase["params"]
        )
    else:
        message_id = await messaging.send_text(
            operator, data["to"], data["precedence"], data["text"], data.get("lang", "en")
        )
    return JSONResponse(
        {"id": message_id}, status_code=201, headers={"Location": f"/api/v1/messages/{message_id}"}
    )


# What a duty officer's boxes show unless asked otherwise: acknowledgements show as the
# state of the message they acknowledge, link tests on the link panel.
BOX_KINDS = (
    MessageKind.TEXT.value,
    MessageKind.PHRASE.value,
    MessageKind.CONFLICT_ALERT.value,
    MessageKind.SERVICE.value,
)


def _kinds(raw: str) -> list[MessageKind] | None:
    if raw == "all":
        return None
    kinds = raw.split(",")
    known = {k.value for k in MessageKind}
    unknown = [k for k in kinds if k not in known]
    if unknown:
        raise InputError(f"kind: {', '.join(unknown)} not among {', '.join(sorted(known))} or 'all'")
    return [MessageKind(k) for k in kinds]


async def list_messages(request: Request) -> JSONResponse:
    await _operator(request)
    box = request.query_params.get("box", "inbox")
    if box not in ("inbox", "outbox"):
        raise InputError(f"box: {box!r} is not 'inbox' or 'outbox'")
    raw_limit = request.query_params.get("limit", "100")
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 1000:
        raise InputError("limit: expected a whole number from 1 to 1000")
    peer = request.query_params.get("peer")
    kinds = _kinds(request.query_params.get("kind", ",".join(BOX_KINDS)))
    rows = await _station(request).store.messages(
        Direction.INBOUND if box == "inbox" else Direction.OUTBOUND, int(raw_limit), peer, kinds
    )
    return JSONResponse({"box": box, "messages": [message_view(r) for r in rows]})


async def get_message(request: Request) -> JSONResponse:
    await _operator(request)
    station = _station(request)
    row = await station.messaging.get(request.path_params["message_id"])
    receipt = None
    if row.receipt_id:
        body = await station.store.receipt(row.receipt_id)
        receipt = json.loads(body) if body else None
    return JSONResponse(message_view(row, receipt))


async def ack_message(request: Request) -> JSONResponse:
    operator = await _operator(request)
    station = _station(request)
    ack_id = await station.messaging.acknowledge(operator, request.path_params["message_id"])
    row = await station.messaging.get(request.path_params["message_id"])
    return JSONResponse({"ack_message_id": ack_id, "message": message_view(row)}, status_code=201)


async def transcript(request: Request) -> JSONResponse:
    await _operator(request)
    station = _station(request)
    peer = request.path_params["peer"]
    me = station.me.station_id

    def chain(items: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
        return [{"seq": s, "prev": p, "digest": d} for s, p, d in items]

    return JSONResponse(
        {
            "link": f"{me}<->{peer}",
            f"{me}->{peer}": chain(await station.store.chain(peer, Direction.OUTBOUND)),
            f"{peer}->{me}": chain(await station.store.chain(peer, Direction.INBOUND)),
        }
    )


async def alarms(request: Request) -> JSONResponse:
    await _operator(request)
    station = _station(request)
    rows = await station.store.equivocations()
    link_alarms = await station.store.link_alarms()
    return JSONResponse(
        {
            "equivocations": [
                {k: getattr(r, k) for k in ("id", "peer_id", "seq", "known_digest", "reason", "detected_at")}
                for r in rows
            ],
            "link_alarms": [asdict(a) for a in link_alarms],
            "escalations": [asdict(e) for e in await station.store.escalations()],
            "active_link_alarms": [asdict(a) for a in link_alarms if a.cleared_at is None],
        }
    )


async def audit(request: Request) -> JSONResponse:
    operator = await _operator(request)
    if operator.role not in (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("the audit log is for auditors, supervisors and administrators")
    rows = await _station(request).store.audit_log()
    return JSONResponse({"events": [{**asdict(r), "detail": json.loads(r.detail)} for r in rows]})


ROUTES = [
    Route("/api/v1/health", health, methods=["GET"]),
    Route("/api/v1/openapi.json", openapi, methods=["GET"]),
    Route("/api/v1/whoami", whoami, methods=["GET"]),
    Route("/api/v1/peers", list_peers, methods=["GET"]),
    Route("/api/v1/messages", post_message, methods=["POST"]),
    Route("/api/v1/messages", list_messages, methods=["GET"]),
    Route("/api/v1/messages/{message_id}", get_message, methods=["GET"]),
    Route("/api/v1/messages/{message_id}/ack", ack_message, methods=["POST"]),
    Route("/api/v1/transcript/{peer}", transcript, methods=["GET"]),
    Route("/api/v1/alarms", alarms, methods=["GET"]),
    Route("/api/v1/audit", audit, methods=["GET"]),
]
