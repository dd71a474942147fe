"""Conversations: a message's thread from its root, and the requests still unanswered.

The root of a thread is found by following ``in_reply_to`` up (each step names an earlier
message on the same link); the thread is then the root and everything below it, oldest
first, paged like every list. Unanswered requests are read from the store, both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from redline.domain.clock import SYSTEM_CLOCK, Clock
from redline.domain.messages import Direction
from redline.domain.names import check_message_id
from redline.errors import NotFound, _t
from redline.services.paging import Listing, Page, PageRequest, page_of, text_pair
from redline.services.ports import StationStore
from redline.services.views import MessageView, message_view, reference

THREAD = Listing("thread", (str, str))  # (stored_at, id), oldest first
UNANSWERED = Listing("unanswered", (str, str))  # (stored_at, id), newest first
MAX_HOPS = 256  # following in_reply_to up; ids name earlier messages, so this only guards


@dataclass(slots=True)
class ThreadEntry:
    view: MessageView
    depth: int  # replies below the root: 0 is the root


class ThreadQueries:
    def __init__(self, store: StationStore, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store = store
        self._clock = clock

    async def root(self, message_id: str) -> str:
        """The message that started ``message_id``'s conversation (itself when it answers nothing)."""
        row = await self._store.message(check_message_id(message_id))
        if row is None:
            raise NotFound(_t("no message {message_id}", message_id=message_id))
        for _ in range(MAX_HOPS):
            if row.in_reply_to is None:
                break
            parent = await self._store.message(row.in_reply_to)
            if parent is None:
                break
            row = parent
        return row.id

    async def thread(self, message_id: str, request: PageRequest, lang: str = "en") -> Page[ThreadEntry]:
        root = await self.root(message_id)
        found = await self._store.thread(root, request.limit + 1, text_pair(request.after(THREAD)))
        now = self._clock.now()
        page = page_of(found, request, THREAD, lambda f: (f[0].stored_at, f[0].id))
        replies = await self._store.replies_to([r.id for r, _ in page.items])
        entries = []
        for row, depth in page.items:
            view = message_view(row, now, lang)
            view.replies = replies.get(row.id, [])
            entries.append(ThreadEntry(view, depth))
        await attach_references(self._store, [e.view for e in entries], lang, now)
        return Page(entries, page.limit, page.next)

    async def unanswered(
        self, direction: Direction | None, request: PageRequest, lang: str = "en"
    ) -> Page[MessageView]:
        """Requests (REQ phrases) no message has answered yet, newest first; None: both ways."""
        rows = await self._store.unanswered(
            direction, request.limit + 1, after=text_pair(request.after(UNANSWERED))
        )
        now = self._clock.now()
        return page_of(rows, request, UNANSWERED, lambda r: (r.stored_at, r.id)).map(
            lambda r: message_view(r, now, lang)
        )

    async def references(self, views: list[MessageView], lang: str) -> None:
        await attach_references(self._store, views, lang, self._clock.now())


async def attach_references(store: StationStore, views: list[MessageView], lang: str, now: datetime) -> None:
    """Give each view that answers a message, or reminds of one, a readable reference to it."""
    wanted = {v.id: v.in_reply_to or v.reminds for v in views}
    rows = await store.messages_by_id([t for t in wanted.values() if t])
    for view in views:
        target = rows.get(wanted[view.id] or "")
        if target is not None:
            view.refers_to = reference(message_view(target, now, lang))
