"""The console's search page: the API's message search (``GET /api/v1/messages``) as a form.

Text, peer, precedence, state, kind, a period, and the three quick views (awaiting our
acknowledgement, awaiting theirs, overdue); results newest first with "older" and "newer"
links that carry the cursor with the same search, and how many the search finds in all.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from redline.domain.messages import DeliveryState, Direction, MessageKind, Precedence
from redline.domain.names import check_station_id
from redline.domain.search import SEARCH_STATES, MessageSearch, check_query
from redline.errors import InputError, _t
from redline.services.queries import BOX_KINDS
from redline.web.console.pages import console_errors
from redline.web.console.render import language_of, page
from redline.web.console.security import require_session
from redline.web.console.transcript import _utc
from redline.web.paging import page_request
from redline.web.services import services_of

PAGE_DEFAULT, PAGE_MAX = 50, 200
BOXES = {"all": None, "inbox": Direction.INBOUND, "outbox": Direction.OUTBOUND}
VIEWS = ("awaiting_ack", "awaiting_theirs", "overdue")
FIELDS = ("q", "box", "peer", "precedence", "state", "kind", "since", "until", "view")


def _one_of(request: Request, name: str, allowed: list[str]) -> str | None:
    raw = request.query_params.get(name, "")
    if not raw:
        return None
    if raw not in allowed:
        raise InputError(
            _t(
                "{name}: {value!r} is not one of {choices}",
                name=name,
                value=raw[:20],
                choices=", ".join(allowed),
            )
        )
    return raw


def _search(request: Request) -> MessageSearch:
    params = request.query_params
    box = _one_of(request, "box", list(BOXES)) or "all"
    peer = params.get("peer", "")
    precedence = _one_of(request, "precedence", [p.value for p in Precedence])
    state = _one_of(request, "state", [s.value for s in SEARCH_STATES])
    kind = _one_of(request, "kind", [k.value for k in BOX_KINDS])
    view = _one_of(request, "view", list(VIEWS))
    direction = BOXES[box]
    if view == "awaiting_ack":  # ours to acknowledge: the peer's messages
        direction = Direction.INBOUND
    return MessageSearch(
        direction=direction,
        text=check_query(params.get("q", "")),
        peer=check_station_id(peer, "peer") if peer else None,
        kinds=(MessageKind(kind),) if kind else BOX_KINDS,
        precedences=(Precedence(precedence),) if precedence else None,
        states=(DeliveryState(state),) if state else None,
        since=_utc(request, "since"),
        until=_utc(request, "until"),
        awaiting_ack=True if view == "awaiting_ack" else None,
        awaiting_theirs=True if view == "awaiting_theirs" else None,
        overdue=True if view == "overdue" else None,
    )


@console_errors
async def search(request: Request) -> Response:
    session = await require_session(request)
    services = services_of(request)
    lang = language_of(request, session)
    found = await services.messages.box(
        page_request(request, PAGE_DEFAULT, PAGE_MAX), _search(request), lang, total=True
    )
    kept = {k: request.query_params[k] for k in FIELDS if request.query_params.get(k)}
    return page(
        request,
        "search.html",
        session,
        found=found,
        form=kept,
        peers=await services.links.verified_peers(),
        precedences=[p.value for p in Precedence],
        states=[s.value for s in SEARCH_STATES],
        kinds=[k.value for k in BOX_KINDS],
        older=f"/search?{urlencode({**kept, 'cursor': found.next})}" if found.next else None,
        newer=f"/search?{urlencode({**kept, 'cursor': found.previous})}" if found.previous else None,
    )
