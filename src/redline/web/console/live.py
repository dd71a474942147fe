"""Live pages: one change feed per station, and a server-sent event stream per open console.

The feed polls a cheap fingerprint of the message, translation and link tables
(``ConsoleStore.change_marker`` plus each link's state and queue depth) twice
a second, and only while someone is watching. Each stream re-renders its
fragments in its reader's language when the fingerprint moves, or every
``REFRESH_SECONDS`` so deadlines turn overdue on time, and sends them only if
they changed. A stream ends when the browser goes away, when its session ends,
or after ``MAX_STREAM_SECONDS`` (the browser's EventSource reconnects by
itself).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from redline.runtime import Station
from redline.store.console import ConsoleStore
from redline.web.console.admin import links_context
from redline.web.console.pages import traffic_context
from redline.web.console.render import language_of, render_text
from redline.web.console.security import HEADERS, SESSION_COOKIE, accounts_of, require_session

POLL_SECONDS = 0.5
REFRESH_SECONDS = 5.0
MAX_STREAM_SECONDS = 3600.0


class ChangeFeed:
    """Counts changes to what the live pages show; streams wait for the count to move."""

    def __init__(self, station: Station, store: ConsoleStore) -> None:
        self._station = station
        self._store = store
        self.version = 0
        self._changed = asyncio.Event()
        self._watchers = 0
        self._poller: asyncio.Task[None] | None = None

    async def _marker(self) -> tuple[Any, ...]:
        links = tuple(
            (peer, tester.status()["state"], self._station.workers[peer].cursor.pending)
            for peer, tester in sorted(self._station.testers.items())
            if peer in self._station.workers
        )
        return (*await self._store.change_marker(), links)

    async def _poll(self) -> None:
        last = await self._marker()
        while self._watchers > 0:
            await asyncio.sleep(POLL_SECONDS)
            marker = await self._marker()
            if marker != last:
                last = marker
                self.version += 1
                self._changed.set()
                self._changed = asyncio.Event()

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        self._watchers += 1
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll())
        try:
            yield
        finally:
            self._watchers -= 1

    async def wait(self, seen: int, seconds: float) -> None:
        if self.version != seen:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


async def events(request: Request) -> Response:
    session = await require_session(request)
    feed: ChangeFeed = request.app.state.feed
    token = request.cookies.get(SESSION_COOKIE)
    what = request.query_params.get("page", "traffic")

    async def stream() -> AsyncIterator[str]:
        sent: dict[str, Any] | None = None
        started = time.monotonic()
        async with feed.watching():
            yield "retry: 2000\n\n"
            while time.monotonic() - started < MAX_STREAM_SECONDS:
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
                        "inbox": render_text(
                            "_rows.html", lang, rows=context["inbox"], box="inbox", **context
                        ),
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
