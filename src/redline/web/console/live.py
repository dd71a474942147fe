"""Live pages: a server-sent event stream per open console, woken by the station's change feed.

The station's ``ChangeFeed`` (``redline.services.changes``) moves after every
committed write and every change of a link's state; nothing here polls or
starts a task. Each stream re-renders its fragments in its reader's language
when the feed moves, or every ``REFRESH_SECONDS`` so deadlines turn overdue
on time, and sends them only if they changed. A stream ends when the browser
goes away, when its session ends, or after ``MAX_STREAM_SECONDS`` (the
browser's EventSource reconnects by itself).

One session holds at most ``MAX_STREAMS_PER_SESSION`` streams at once (a
console tab holds one): a further one is refused with 429 and ``Retry-After``,
and its page shows live updates as disconnected. Refusing the newcomer, rather
than closing the oldest, keeps tabs from taking the slot from each other every
time their EventSource reconnects; a closed tab's stream ends, and frees its
slot, as soon as the server sees the browser go.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from redline.errors import RateLimited
from redline.web.console import attention
from redline.web.console.admin import links_context
from redline.web.console.pages import traffic_context
from redline.web.console.render import language_of, render_text
from redline.web.console.security import HEADERS, accounts_of, require_session, session_token
from redline.web.services import services_of

REFRESH_SECONDS = 5.0
MAX_STREAM_SECONDS = 3600.0
MAX_STREAMS_PER_SESSION = 4


class TooManyStreams(RateLimited):
    code = "too_many_streams"


class StreamSlots:
    """How many live streams each console session has open (one per app: ``app.state.live_streams``)."""

    def __init__(self, per_session: int = MAX_STREAMS_PER_SESSION) -> None:
        self.per_session = per_session
        self._open: Counter[str] = Counter()

    def open(self, session: str) -> int:
        return self._open[session]

    def take(self, session: str) -> None:
        if self._open[session] >= self.per_session:
            raise TooManyStreams(
                f"this session already has {self.per_session} live pages open: close one "
                "(or reload this page once another is closed)",
                int(REFRESH_SECONDS),
            )
        self._open[session] += 1

    def give_back(self, session: str) -> None:
        self._open[session] -= 1
        if self._open[session] <= 0:
            del self._open[session]


class _HeldStream(StreamingResponse):
    """A stream that gives its session's slot back however it ends, even if it never started."""

    def __init__(self, body: AsyncIterator[str], slots: StreamSlots, session: str, headers: dict[str, str]):
        super().__init__(body, media_type="text/event-stream", headers=headers)
        self._slots, self._session = slots, session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._slots.give_back(self._session)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def events(request: Request) -> Response:
    session = await require_session(request)
    services = services_of(request)
    feed, clock = services.changes, services.clock
    token = session_token(request)
    what = request.query_params.get("page", "traffic")  # links, traffic; any other: the watch alone

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
            watch = await attention.attention_context(services, current.operator, lang)
            payload = attention.fragments(watch, lang, **who)
            if what == "links":
                context = await links_context(request)
                payload["links"] = render_text("_links.html", lang, **context, **who)
            elif what == "traffic":
                context = {**await traffic_context(request, current, lang), **who, "streamed": True}
                payload |= {
                    "inbox": render_text("_rows.html", lang, rows=context["inbox"], box="inbox", **context),
                    "outbox": render_text(
                        "_rows.html", lang, rows=context["outbox"], box="outbox", **context
                    ),
                    "escalations": render_text("_escalations.html", lang, **context),
                }
            if payload != sent:
                sent = payload
                yield _event("update", {**payload, "now": watch["now"]})
            else:
                yield ": quiet\n\n"
            await feed.wait(seen, REFRESH_SECONDS)

    slots: StreamSlots = request.app.state.live_streams
    slots.take(session.token_hash)
    headers = {**HEADERS, "X-Accel-Buffering": "no"}
    return _HeldStream(stream(), slots, session.token_hash, headers)
