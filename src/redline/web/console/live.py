"""Live pages: a server-sent event stream per open console, woken by the station's change feed.

The station's ``ChangeFeed`` (``redline.services.changes``) moves after every
committed write and every change of a link's state; nothing here polls or
starts a task. Each stream re-renders its fragments in its reader's language
when the feed moves, or every ``REFRESH_SECONDS`` so deadlines turn overdue
on time, and sends them only if they changed. A stream ends when the browser
goes away, when its session ends, or after ``MAX_STREAM_SECONDS`` (the
browser's EventSource reconnects by itself).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from redline.web.console.admin import links_context
from redline.web.console.pages import traffic_context
from redline.web.console.render import language_of, render_text
from redline.web.console.security import HEADERS, SESSION_COOKIE, accounts_of, require_session
from redline.web.services import services_of

REFRESH_SECONDS = 5.0
MAX_STREAM_SECONDS = 3600.0


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def events(request: Request) -> Response:
    session = await require_session(request)
    services = services_of(request)
    feed, clock = services.changes, services.clock
    token = request.cookies.get(SESSION_COOKIE)
    what = request.query_params.get("page", "traffic")

    async def stream() -> AsyncIterator[str]:
        sent: dict[str, Any] | None = None
        started = clock.monotonic()
        yield "retry: 2000\n\n"
        while clock.monotonic() - started < MAX_STREAM_SECONDS:
            seen = feed.version
            current = await accounts_of(request).session(token)
            if current is None:
                yield _event("logout", {})
                return
            lang = language_of(request, current)
            who = {"operator": current.operator, "csrf": current.csrf_token}
            payload: dict[str, Any]
            if what == "links":
                context = await links_context(request)
                payload = {"links": render_text("_links.html", lang, **context, **who)}
            else:
                context = {**await traffic_context(request, current, lang), **who}
                payload = {
                    "inbox": render_text("_rows.html", lang, rows=context["inbox"], box="inbox", **context),
                    "outbox": render_text(
                        "_rows.html", lang, rows=context["outbox"], box="outbox", **context
                    ),
                    "escalations": render_text("_escalations.html", lang, **context),
                    "alarm": len(context["alarms"]),
                    "alarm_text": render_text("_alarm.html", lang, **context),
                }
            if payload != sent:
                sent = payload
                yield _event("update", {**payload, "now": context["now"]})
            else:
                yield ": quiet\n\n"
            await feed.wait(seen, REFRESH_SECONDS)

    del session
    headers = {**HEADERS, "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
