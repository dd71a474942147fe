"""The operator API under /api/v1 (documented in docs/api.md and /api/v1/openapi.json)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.names import check_station_id
from redline.domain.search import SEARCH_STATES, MessageSearch, check_query
from redline.domain.stations import Role
from redline.errors import Forbidden, InputError
from redline.services.queries import BOX_KINDS
from redline.services.queries.logs import parse_size
from redline.services.queries.messages import ALARM_KINDS, AuditFilter
from redline.services.views import message_json
from redline.web.openapi import OPENAPI
from redline.web.paging import choices, flag, page_request, timestamp
from redline.web.requests import read_json_object
from redline.web.services import operator_of, services_of

MAX_API_BODY = 64 * 1024
# Page sizes: (default, most) per list.
DEFAULT_MESSAGES, MAX_MESSAGES = 100, 1000
DEFAULT_ALARMS, MAX_ALARMS = 200, 1000
DEFAULT_AUDIT, MAX_AUDIT = 200, 1000


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "station": services_of(request).station.station_id})


async def openapi(request: Request) -> JSONResponse:
    return JSONResponse(OPENAPI)


async def whoami(request: Request) -> JSONResponse:
    operator = await operator_of(request)
    station = services_of(request).station
    return JSONResponse(
        {"operator": operator.name, "role": operator.role.value, "station": station.station_id}
    )


async def list_peers(request: Request) -> JSONResponse:
    await operator_of(request)
    return JSONResponse({"peers": await services_of(request).links.peers()})


async def post_message(request: Request) -> JSONResponse:
    operator = await operator_of(request)
    data = await read_json_object(
        request, MAX_API_BODY, {"to", "precedence"}, {"text", "lang", "phrase", "in_reply_to"}
    )
    messaging = services_of(request).messaging
    if ("text" in data) == ("phrase" in data):
        raise InputError("give either text (free text) or phrase (a standard phrase), not both or neither")
    if "phrase" in data:
        phrase = data["phrase"]
        if not isinstance(phrase, dict) or phrase.keys() != {"code", "params"}:
            raise InputError('phrase: expected {"code": "REQ-01", "params": {...}}')
        message_id = await messaging.send_phrase(
            operator,
            data["to"],
            data["precedence"],
            phrase["code"],
            phrase["params"],
            data.get("in_reply_to"),
        )
    else:
        message_id = await messaging.send_text(
            operator,
            data["to"],
            data["precedence"],
            data["text"],
            data.get("lang", "en"),
            data.get("in_reply_to"),
        )
    return JSONResponse(
        {"id": message_id}, status_code=201, headers={"Location": f"/api/v1/messages/{message_id}"}
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


BOXES = {"inbox": Direction.INBOUND, "outbox": Direction.OUTBOUND, "all": None}


async def list_messages(request: Request) -> JSONResponse:
    await operator_of(request)
    params = request.query_params
    box = params.get("box", "inbox")
    if box not in BOXES:
        raise InputError(f"box: {box!r} is not 'inbox', 'outbox' or 'all'")
    page = page_request(request, DEFAULT_MESSAGES, MAX_MESSAGES)
    peer = params.get("peer")
    precedences = choices(request, "precedence", [p.value for p in Precedence])
    states = choices(request, "state", [s.value for s in SEARCH_STATES])
    kinds = _kinds(params.get("kind", ",".join(k.value for k in BOX_KINDS)))
    search = MessageSearch(
        direction=BOXES[box],
        text=check_query(params.get("q", "")),
        peer=None if peer is None else check_station_id(peer, "peer"),
        kinds=None if kinds is None else tuple(kinds),
        precedences=None if precedences is None else tuple(Precedence(p) for p in precedences),
        states=None if states is None else tuple(DeliveryState(s) for s in states),
        since=timestamp(request, "since"),
        until=timestamp(request, "until"),
        awaiting_ack=flag(request, "awaiting_ack"),
        awaiting_theirs=flag(request, "awaiting_theirs"),
        overdue=flag(request, "overdue"),
    )
    found = await services_of(request).messages.box(page, search, total=flag(request, "total") is True)
    return JSONResponse({"box": box, "messages": [message_json(v) for v in found.items], **found.fields()})


async def get_message(request: Request) -> JSONResponse:
    await operator_of(request)
    view = await services_of(request).messages.message(request.path_params["message_id"])
    return JSONResponse(message_json(view))


async def message_proof(request: Request) -> JSONResponse:
    """The message's inclusion proof in its direction's Merkle log (docs/protocol.md)."""
    await operator_of(request)
    size = parse_size(request.query_params.get("size"), "size")
    proof = await services_of(request).logs.inclusion(request.path_params["message_id"], size)
    return JSONResponse(proof.fields())


async def message_thread(request: Request) -> JSONResponse:
    await operator_of(request)
    page = page_request(request, DEFAULT_MESSAGES, MAX_MESSAGES)
    thread = await services_of(request).threads.thread(request.path_params["message_id"], page)
    messages = [{**message_json(e.view), "depth": e.depth} for e in thread.items]
    root = messages[0]["id"] if messages and messages[0]["depth"] == 0 else None
    return JSONResponse({"root": root, "messages": messages, **thread.fields()})


async def unanswered(request: Request) -> JSONResponse:
    await operator_of(request)
    box = request.query_params.get("box", "all")
    if box not in ("inbox", "outbox", "all"):
        raise InputError(f"box: {box!r} is not 'inbox', 'outbox' or 'all'")
    direction = {"inbox": Direction.INBOUND, "outbox": Direction.OUTBOUND}.get(box)
    page = page_request(request, DEFAULT_MESSAGES, MAX_MESSAGES)
    views = await services_of(request).threads.unanswered(direction, page)
    return JSONResponse({"box": box, "messages": [message_json(v) for v in views.items], **views.fields()})


async def ack_message(request: Request) -> JSONResponse:
    operator = await operator_of(request)
    services = services_of(request)
    ack_id = await services.messaging.acknowledge(operator, request.path_params["message_id"])
    view = await services.messages.message(request.path_params["message_id"], signed_receipt=False)
    return JSONResponse({"ack_message_id": ack_id, "message": message_json(view)}, status_code=201)


async def transcript(request: Request) -> JSONResponse:
    await operator_of(request)
    return JSONResponse(await services_of(request).messages.transcript(request.path_params["peer"]))


async def alarms(request: Request) -> JSONResponse:
    await operator_of(request)
    kind = request.query_params.get("type")
    if kind not in ALARM_KINDS:
        raise InputError(f"type: expected one of {', '.join(ALARM_KINDS)}, not {kind!r}")
    page = await services_of(request).messages.alarms(
        kind, page_request(request, DEFAULT_ALARMS, MAX_ALARMS), flag(request, "active")
    )
    return JSONResponse({"type": kind, "alarms": page.items, **page.fields()})


async def audit(request: Request) -> JSONResponse:
    operator = await operator_of(request)
    if operator.role not in (Role.AUDITOR, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("the audit log is for auditors, supervisors and administrators")
    page = page_request(request, DEFAULT_AUDIT, MAX_AUDIT)
    actor = request.query_params.get("actor")
    actions = request.query_params.get("action")
    filters = AuditFilter(
        actor=None if actor is None else _audit_word(actor, "actor", 128),
        actions=None if actions is None else [_audit_word(a, "action", 32) for a in actions.split(",")],
    )
    events = await services_of(request).messages.audit_log(page, filters)
    return JSONResponse({"events": events.items, **events.fields()})


def _audit_word(value: str, name: str, longest: int) -> str:
    """An actor or action as the audit log writes them: printable, no commas, not too long."""
    if not value or len(value) > longest or not value.isprintable() or "," in value:
        raise InputError(
            f"{name}: expected 1 to {longest} printable characters (no commas), not {value[:40]!r}"
        )
    return value


ROUTES = [
    Route("/api/v1/health", health, methods=["GET"]),
    Route("/api/v1/openapi.json", openapi, methods=["GET"]),
    Route("/api/v1/whoami", whoami, methods=["GET"]),
    Route("/api/v1/peers", list_peers, methods=["GET"]),
    Route("/api/v1/messages", post_message, methods=["POST"]),
    Route("/api/v1/messages", list_messages, methods=["GET"]),
    Route("/api/v1/messages/{message_id}", get_message, methods=["GET"]),
    Route("/api/v1/messages/{message_id}/ack", ack_message, methods=["POST"]),
    Route("/api/v1/messages/{message_id}/thread", message_thread, methods=["GET"]),
    Route("/api/v1/messages/{message_id}/proof", message_proof, methods=["GET"]),
    Route("/api/v1/unanswered", unanswered, methods=["GET"]),
    Route("/api/v1/transcript/{peer}", transcript, methods=["GET"]),
    Route("/api/v1/alarms", alarms, methods=["GET"]),
    Route("/api/v1/audit", audit, methods=["GET"]),
]
