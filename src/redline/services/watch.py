"""The watch: officers sign on and off positions, hand them over with a note, and the peers hear
who is on watch.

At most one officer holds a position (the store's key on it). Signing on to a held position
is a handover in two steps: the outgoing officer writes a note, to which the station adds the
open items of the moment (:meth:`WatchService.open_items`: messages awaiting our
acknowledgement, ours awaiting the peer's, open conflicts, open escalations, link problems);
the incoming officer reads it and acknowledges it, which moves the position. Every step is a
watch-log row and an audit event in one transaction.

After every change the station sends each verified peer a ``service`` envelope with action
``watch`` listing its held positions (``domain.watch.check_watch_report`` checks it at the
receiver, which replaces what it knew of that peer's watch). The held positions are kept in
memory as last read, so every console page can show them in its header.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.messages import Direction, MessageKind, Precedence
from redline.domain.records import MessageRecord
from redline.domain.stations import OperatorRecord, Role
from redline.domain.watch import MAX_NOTE, PeerWatch, Position, WatchEvent, WatchPost
from redline.errors import Conflict, Forbidden, InputError, NotFound, _t
from redline.services.kinds.base import OutboundDraft
from redline.services.outbox import Outbox
from redline.services.paging import Listing, Page, PageRequest, page_of, row_id
from redline.services.peers import PeerDirectory
from redline.services.ports import NoticeReads, StationStore, WatchTables

log = logging.getLogger(__name__)
OPEN_ITEMS_LIMIT = 50  # per kind of open item in a handover note; the note says when there were more
WATCH_LOG = Listing("watch", (int,))
SENDERS = (Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN)


def may_hold(role: Role, position: Position) -> bool:
    """Supervisors and admins hold the supervisor's position; anyone who may send holds the others."""
    if position is Position.SUPERVISOR:
        return role in (Role.SUPERVISOR, Role.ADMIN)
    return role in SENDERS


@dataclass(frozen=True, slots=True)
class OpenItems:
    """What a handover note lists: each kind of item, at most ``OPEN_ITEMS_LIMIT``, and whether
    there were more (by kind)."""

    items: dict[str, list[dict[str, Any]]]
    more: dict[str, bool]

    def to_json(self) -> dict[str, Any]:
        return {"items": self.items, "more": self.more}


class WatchService:
    def __init__(
        self,
        tables: WatchTables,
        store: StationStore,
        notices: NoticeReads,
        outbox: Outbox,
        peers: PeerDirectory,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._tables = tables
        self._store = store
        self._notices = notices
        self._outbox = outbox
        self._peers = peers
        self._clock = clock
        self._posts: list[WatchPost] | None = None

    # -- reading -------------------------------------------------------------------------

    async def posts(self) -> list[WatchPost]:
        """The held positions now (and remembered for :meth:`on_watch`)."""
        self._posts = await self._tables.posts()
        return self._posts

    def on_watch(self) -> list[WatchPost]:
        """The held positions as last read, for page headers: the console reads them once per
        request (``security.require_session``), so templates need no query of their own."""
        return self._posts or []

    async def post(self, position: Position) -> WatchPost | None:
        return next((p for p in await self.posts() if p.position is position), None)

    async def log(self, request: PageRequest) -> Page[WatchEvent]:
        rows = await self._tables.log(request.limit + 1, row_id(request.after(WATCH_LOG)))
        return page_of(rows, request, WATCH_LOG, lambda e: (e.id,))

    async def handover_note(self, post: WatchPost | None) -> WatchEvent | None:
        """The note awaiting the incoming officer at a held position, if any."""
        if post is None or post.handover_id is None:
            return None
        return await self._tables.event(post.handover_id)

    async def peer_watch(self) -> list[PeerWatch]:
        return await self._tables.peer_watch()

    async def open_items(self) -> OpenItems:
        """Everything still open now, capped at ``OPEN_ITEMS_LIMIT`` per kind: messages awaiting an
        acknowledgement most urgent first, the other kinds newest first."""
        n = OPEN_ITEMS_LIMIT + 1
        found: dict[str, list[dict[str, Any]]] = {
            # Most urgent first (FLASH, IMMEDIATE, then by deadline), as the needs-action panel.
            "awaiting_our_ack": [
                _message(r) for r in (await self._store.awaiting_ack(Direction.INBOUND, n))[0]
            ],
            "awaiting_their_ack": [
                _message(r) for r in (await self._store.awaiting_ack(Direction.OUTBOUND, n))[0]
            ],
            "conflicts": [
                {"pair": c.pair, "notice_a": c.notice_a, "notice_b": c.notice_b, "opened_at": c.opened_at}
                for c in (await self._notices.open_conflicts())[:n]
            ],
            "escalations": [
                {
                    "id": e.id,
                    "direction": e.direction.value,
                    "peer": e.peer_id,
                    "precedence": e.precedence.value,
                    "escalated_at": e.escalated_at,
                }
                for e in await self._store.escalations(n, active=True)
            ],
            "link_problems": [
                {"peer": a.peer_id, "state": a.state, "detail": a.detail, "raised_at": a.raised_at}
                for a in await self._store.link_alarms(n, active=True)
            ],
        }
        return OpenItems(
            {k: v[:OPEN_ITEMS_LIMIT] for k, v in found.items()},
            {k: len(v) > OPEN_ITEMS_LIMIT for k, v in found.items()},
        )

    # -- changing ------------------------------------------------------------------------

    async def sign_on(self, operator: OperatorRecord, position: Position) -> None:
        self._may_hold(operator, position)
        held = await self.post(position)
        if held is not None:
            raise Conflict(
                _t(
                    "{position} is held by {officer} since {since}: {officer} writes a handover "
                    "note, which you then acknowledge",
                    position=position.value,
                    officer=held.officer,
                    since=held.since,
                )
            )
        if not await self._tables.sign_on(position, operator.name, self._now()):
            raise Conflict(
                _t("{position} was taken meanwhile: reload the watch page", position=position.value)
            )
        await self._changed(operator.name)

    async def sign_off(self, operator: OperatorRecord, position: Position) -> None:
        if not await self._tables.sign_off(position, operator.name, self._now()):
            raise Conflict(_t("you do not hold {position}", position=position.value))
        await self._changed(operator.name)

    async def relieve(self, operator: OperatorRecord, position: Position) -> None:
        """A supervisor or admin signs off an officer who left without a handover: the position
        is vacant again (logged with who relieved whom)."""
        if operator.role not in (Role.SUPERVISOR, Role.ADMIN):
            raise Forbidden(_t("only a supervisor or an administrator relieves another officer"))
        post = await self.post(position)
        if post is None:
            raise NotFound(_t("nobody holds {position}", position=position.value))
        if not await self._tables.sign_off(position, post.officer, self._now(), relieved_by=operator.name):
            raise Conflict(
                _t("{position} changed hands meanwhile: reload the watch page", position=position.value)
            )
        await self._changed(operator.name)

    async def write_handover(self, operator: OperatorRecord, position: Position, note: object) -> int:
        """The outgoing officer's note; the open items are added to it now."""
        if not isinstance(note, str) or len(note.strip()) > MAX_NOTE or "\x00" in note:
            raise InputError(_t("note: expected text of at most {MAX_NOTE} characters", MAX_NOTE=MAX_NOTE))
        detail = {"note": note.strip(), **(await self.open_items()).to_json()}
        note_id = await self._tables.write_handover_note(position, operator.name, self._now(), detail)
        if note_id is None:
            raise Conflict(
                _t(
                    "you do not hold {position}: only its holder writes the handover note",
                    position=position.value,
                )
            )
        return note_id

    async def accept_handover(self, operator: OperatorRecord, position: Position, note_id: object) -> None:
        """The incoming officer acknowledges note ``note_id`` and takes the position."""
        self._may_hold(operator, position)
        post = await self.post(position)
        if post is None or post.handover_id is None:
            raise NotFound(_t("no handover note awaits acceptance at {position}", position=position.value))
        if not isinstance(note_id, str) or note_id != str(post.handover_id):
            raise Conflict(_t("the handover note changed meanwhile: read the current one"))
        if post.officer == operator.name:
            raise InputError(_t("you hold this position already: another officer accepts your handover"))
        if not await self._tables.accept_handover(
            position, operator.name, post.officer, post.handover_id, self._now()
        ):
            raise Conflict(_t("the handover note changed meanwhile: read the current one"))
        await self._changed(operator.name)

    def _may_hold(self, operator: OperatorRecord, position: Position) -> None:
        if not may_hold(operator.role, position):
            raise Forbidden(
                _t("role {role!r} may not hold {position}", role=operator.role.value, position=position.value)
            )

    def _now(self) -> str:
        return format_ts(self._clock.now())

    async def _changed(self, by: str) -> None:
        """Tell every verified peer who holds which position now (``by``: whose change it was)."""
        await self.announce(by)

    async def announce_held(self, by: str) -> None:
        """At start-up: report the watch again when someone holds a position (an empty watch is
        not repeated at every restart; a lost report of the last sign-off stays a known gap)."""
        if await self.posts():
            await self.announce(by)

    async def announce(self, by: str, peer_id: str | None = None, *, unless_vacant: bool = False) -> None:
        """Send the current watch to every verified peer, or to ``peer_id`` alone.

        Besides each change, the station calls this at start-up and when a peer is newly
        verified: the change's own report is sent after the change commits, so a crash between
        the two (or a peer paired after the change) would otherwise leave the peer's view stale.
        Those calls pass ``unless_vacant``: a station where nobody holds a position sends
        nothing, so restarting an unwatched station adds no traffic to its links."""
        posts = await self.posts()
        if unless_vacant and not posts:
            return
        report = watch_report(posts)
        # The reason is what the peer's traffic list shows of this message.
        held = ", ".join(f"{p.position.value} {p.officer}" for p in posts) or "nobody"
        for peer in self._peers.cached():
            if peer.verified and peer_id in (None, peer.station_id):
                body = {"action": "watch", "by": by, "reason": f"on watch: {held}", "watch": report}
                await self._outbox.submit(
                    OutboundDraft(peer, MessageKind.SERVICE, Precedence.ROUTINE, body, by)
                )


def watch_report(posts: list[WatchPost]) -> list[dict[str, Any]]:
    """Held positions as a ``watch`` service envelope lists them."""
    return [
        {"position": p.position.value, "officer": p.officer, "name": p.name, "since": p.since} for p in posts
    ]


def _message(row: MessageRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "peer": row.peer_id,
        "precedence": row.precedence.value,
        "kind": row.kind.value,
        "deadline": row.deadline,
    }
