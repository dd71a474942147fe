"""The console's link panel, audit log and administration pages."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from redline.domain.clock import format_ts, utc_now
from redline.domain.names import check_operator_name
from redline.domain.stations import Role
from redline.errors import Conflict
from redline.services import operators
from redline.services.accounts import check_password
from redline.web.console.pages import console_errors, field, redirect, session_and_form
from redline.web.console.render import page
from redline.web.console.security import accounts_of, require_session, station_of
from redline.web.links import link_view

AUDIT_LIMIT = 500


async def links_context(request: Request) -> dict[str, Any]:
    station = station_of(request)
    peers = [p for p in await station.store.peers() if p.verified]
    return {"links": [await link_view(station, p) for p in peers], "now": format_ts(utc_now())}


@console_errors
async def links(request: Request) -> Response:
    session = await require_session(request)
    return page(request, "links.html", session, **await links_context(request))


@console_errors
async def link_test(request: Request) -> Response:
    await session_and_form(request, Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN, what="test links")
    station = station_of(request)
    peer_id = request.path_params["peer"]
    tester = station.testers.get(peer_id)
    if tester is None:
        raise Conflict(f"there is no running link to {peer_id!r}")
    await tester.send_test()
    return redirect("/links")


@console_errors
async def audit(request: Request) -> Response:
    session = await require_session(request, Role.AUDITOR, Role.ADMIN, what="read the audit log")
    events = [
        {**asdict(e), "detail": json.loads(e.detail)}
        for e in await station_of(request).store.audit_log(AUDIT_LIMIT)
    ]
    return page(request, "audit.html", session, events=events, limit=AUDIT_LIMIT)


async def _admin_page(request: Request, **extra: Any) -> Response:
    session = await require_session(request, Role.ADMIN, what="administer this station")
    accounts = await request.app.state.console_store.accounts()
    station = station_of(request)
    deadlines = {p.value: str(d) for p, d in station.me.config.deadlines().items()}
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
    return await _admin_page(request)


@console_errors
async def add_operator(request: Request) -> Response:
    session, form = await session_and_form(request, Role.ADMIN, what="administer this station")
    name = check_operator_name(field(form, "name"))
    role = Role.parse(field(form, "role"))
    check_password(field(form, "password"))  # before anything is created: a refusal leaves no account
    store = station_of(request).store
    await operators.add_operator(store, name, role)
    await accounts_of(request).set_password(name, field(form, "password"), session.operator.name)
    uri = (
        await accounts_of(request).enroll_totp(name, session.operator.name)
        if role.needs_second_factor
        else None
    )
    return await _admin_page(request, created=name, totp_uri=uri)


@console_errors
async def enroll_totp(request: Request) -> Response:
    session, _form = await session_and_form(request, Role.ADMIN, what="administer this station")
    name = request.path_params["name"]
    uri = await accounts_of(request).enroll_totp(name, session.operator.name)
    return await _admin_page(request, created=name, totp_uri=uri)
