"""The watch page: who holds each position, signing on and off, the handover note with its open
items, the peers' watch, and the watch log (paged with cursors).

Everything it changes goes through ``services.watch`` (``services/watch.py``), which logs,
audits and tells the peers; every POST checks the session's CSRF token first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from redline.domain.stations import Role
from redline.domain.watch import MAX_NOTE, Position
from redline.errors import _t
from redline.services.accounts import Session
from redline.services.paging import PageRequest
from redline.services.watch import OPEN_ITEMS_LIMIT, may_hold
from redline.web.console.pages import console_errors, field, redirect, session_and_form
from redline.web.console.render import page
from redline.web.console.security import require_session
from redline.web.services import services_of

LOG_LIMIT = 50  # watch-log events a page; an "older" link leads on


def _position(request: Request) -> Position:
    return Position.parse(request.path_params["position"])


async def _watch_page(request: Request, session: Session, **extra: Any) -> Response:
    watch = services_of(request).watch
    cursor = request.query_params.get("cursor")
    events = await watch.log(PageRequest(LOG_LIMIT, cursor))
    posts = {p.position: p for p in await watch.posts()}
    positions = []
    for position in Position:
        positions.append(
            {
                "position": position.value,
                "post": posts.get(position),
                "note": await watch.handover_note(posts.get(position)),
                "mine": position in posts and posts[position].officer == session.operator.name,
                "may_hold": may_hold(session.operator.role, position),
                "may_relieve": session.operator.role in (Role.SUPERVISOR, Role.ADMIN),
            }
        )
    return page(
        request,
        "watch.html",
        session,
        positions=positions,
        peer_watch=await watch.peer_watch(),
        events=events.items,
        older=f"/watch?{urlencode({'cursor': events.next})}" if events.next else None,
        paged=bool(cursor),
        log_limit=LOG_LIMIT,
        items_limit=OPEN_ITEMS_LIMIT,
        max_note=MAX_NOTE,
        **extra,
    )


@console_errors
async def watch(request: Request) -> Response:
    session = await require_session(request)
    return await _watch_page(request, session)


@console_errors
async def sign_on(request: Request) -> Response:
    session, _form = await session_and_form(request, what=_t("sign on to the watch"))
    await services_of(request).watch.sign_on(session.operator, _position(request))
    return redirect("/watch")


@console_errors
async def sign_off(request: Request) -> Response:
    session, _form = await session_and_form(request, what=_t("sign off the watch"))
    await services_of(request).watch.sign_off(session.operator, _position(request))
    return redirect("/watch")


@console_errors
async def handover(request: Request) -> Response:
    session, form = await session_and_form(request, what=_t("write a handover note"))
    await services_of(request).watch.write_handover(session.operator, _position(request), field(form, "note"))
    return redirect("/watch")


@console_errors
async def accept(request: Request) -> Response:
    session, form = await session_and_form(request, what=_t("accept a handover"))
    position = _position(request)
    await services_of(request).watch.accept_handover(session.operator, position, field(form, "note_id"))
    return redirect("/watch")


@console_errors
async def relieve(request: Request) -> Response:
    session, _form = await session_and_form(request, what=_t("relieve an officer"))
    await services_of(request).watch.relieve(session.operator, _position(request))
    return redirect("/watch")
