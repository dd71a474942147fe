"""The console's link panel, audit log and administration pages (what an administrator does to
an account is in ``officers.py``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from redline.domain.clock import format_ts
from redline.domain.stations import Role
from redline.errors import InputError, _t
from redline.services.queries.messages import AuditFilter
from redline.web.console.pages import console_errors, redirect, session_and_form
from redline.web.console.render import page
from redline.web.console.security import require_session
from redline.web.paging import page_request
from redline.web.services import services_of

AUDIT_LIMIT = 200  # events per page; an "older" link leads to the next
# The detail fields that name what an action was done to: the page's "target" column.
TARGET_KEYS = ("link", "peer", "message", "message_id", "operator", "notice", "test_id")


async def links_context(request: Request) -> dict[str, Any]:
    services = services_of(request)
    peer_watch: dict[str, list[Any]] = {}
    for w in await services.watch.peer_watch():
        peer_watch.setdefault(w.peer_id, []).append(w)
    return {
        "links": await services.links.links(),
        "now": format_ts(services.clock.now()),
        "peer_watch": peer_watch,
    }


@console_errors
async def links(request: Request) -> Response:
    session = await require_session(request)
    return page(request, "links.html", session, **await links_context(request))


@console_errors
async def link_test(request: Request) -> Response:
    roles = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)
    session, _ = await session_and_form(request, *roles, what=_t("test links"))
    await services_of(request).link_commands.test_running_link(session.operator, request.path_params["peer"])
    return redirect("/links")


@console_errors
async def audit(request: Request) -> Response:
    session = await require_session(request, Role.AUDITOR, Role.ADMIN, what=_t("read the audit log"))
    actor = request.query_params.get("actor", "").strip() or None
    action = request.query_params.get("action", "").strip() or None
    if any(v is not None and len(v) > 200 for v in (actor, action)):
        raise InputError(_t("actor and action filters are at most 200 characters"))
    events = await services_of(request).messages.audit_log(
        page_request(request, AUDIT_LIMIT, AUDIT_LIMIT), AuditFilter(actor, [action] if action else None)
    )
    kept = {k: v for k, v in (("actor", actor), ("action", action)) if v}
    older = f"/audit?{urlencode({**kept, 'cursor': events.next})}" if events.next else None
    return page(
        request,
        "audit.html",
        session,
        events=events.items,
        limit=AUDIT_LIMIT,
        older=older,
        newest=f"/audit?{urlencode(kept)}",
        target_keys=TARGET_KEYS,
        actor=actor or "",
        action=action or "",
        paged=bool(request.query_params.get("cursor")),
    )


async def admin_page(request: Request, **extra: Any) -> Response:
    session = await require_session(request, Role.ADMIN, what=_t("administer this station"))
    services = services_of(request)
    accounts = await services.console.accounts()
    deadlines = services.station.deadlines
    return page(
        request,
        "admin.html",
        session,
        accounts=accounts,
        roles=[r.value for r in Role],
        deadlines=deadlines,
        **extra,
    )


@console_errors
async def admin(request: Request) -> Response:
    return await admin_page(request)
