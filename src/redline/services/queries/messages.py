"""Read-only queries over the traffic: boxes, one message, transcripts, alarms, audit.

Each answer is built from stored rows by the shared view in
``services.views``; the state a message shows depends on the time, which
comes from the injected clock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Protocol

from redline.domain.calls import CallState
from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.messages import Direction, MessageKind
from redline.domain.names import check_message_id
from redline.domain.records import Escalation, MessageRecord, TranslationRecord
from redline.domain.search import MessageSearch
from redline.errors import InputError, NotFound, _t
from redline.services.paging import (
    Listing,
    Page,
    PageRequest,
    cursor_list,
    decode_cursor,
    encode_cursor,
    page_of,
    row_id,
    text_pair,
)
from redline.services.ports import StationStore
from redline.services.verification import Signers, Verification, check_acknowledgement, check_receipt
from redline.services.views import MessageView, message_view, sort_for_watch

# What a duty officer's boxes show unless asked otherwise: acknowledgements show as the
# state of the message they acknowledge, link tests on the link panel.
BOX_KINDS = (MessageKind.TEXT, MessageKind.PHRASE, MessageKind.CONFLICT_ALERT, MessageKind.SERVICE)
EQUIVOCATION_FIELDS = ("id", "peer_id", "seq", "known_digest", "reason", "detected_at")

# The paged lists, each with the types of its sort key (see services.paging). A search's
# messages page by (stored_at, id), newest first; its listings are named by the search
# (``search_listings``), so a cursor cannot page a search other than the one that made it.
MESSAGES = "messages"
AUDIT = Listing("audit", (int,))  # event id, newest first
ALARM_LISTS = {
    "equivocations": Listing("equivocations", (int,)),
    "link_alarms": Listing("link_alarms", (int,)),
    "escalations": Listing("escalations", (str, str)),  # (escalated_at, message id)
    "call_escalations": Listing("call_escalations", (str, str)),  # (escalated_at, call id)
}
ALARM_KINDS = tuple(ALARM_LISTS)


@dataclass(frozen=True, slots=True)
class Found:
    """One page of a search, newest first: ``next`` pages to older messages, ``previous`` back to
    newer ones (None: none that way); ``total``: how many the search finds in all, when asked."""

    items: list[MessageView]
    limit: int
    next: str | None
    previous: str | None
    total: int | None = None

    def fields(self) -> dict[str, object]:
        shown: dict[str, object] = {"limit": self.limit, "next": self.next, "previous": self.previous}
        if self.total is not None:
            shown["total"] = self.total
        return shown


@dataclass(frozen=True, slots=True)
class AuditFilter:
    actor: str | None = None
    actions: Sequence[str] | None = None


@dataclass(frozen=True, slots=True)
class NeedsAction:
    """What awaits a person, the most urgent first: received messages awaiting our
    acknowledgement, ours awaiting the peer's; each list at most the limit asked for, with
    the number waiting in all beside it."""

    inbound: list[MessageView]
    outbound: list[MessageView]
    inbound_total: int
    outbound_total: int
    flash: int  # received FLASH messages nobody here has acknowledged: the alarm sounds while > 0


class TranslationReads(Protocol):
    """Translations attached to received messages (``redline.store.console.ConsoleStore``)."""

    async def translation(self, message_id: str) -> TranslationRecord | None: ...
    async def translations(self, message_ids: list[str]) -> dict[str, TranslationRecord]: ...


class MessageQueries:
    def __init__(
        self,
        store: StationStore,
        translations: TranslationReads,
        me_id: str,
        my_key: str,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._translations = translations
        self._me_id = me_id
        self._my_key = my_key  # our signing key (base64url): we sign our receipts and acknowledgements
        self._clock = clock

    async def _row(self, message_id: str) -> MessageRecord:
        row = await self._store.message(check_message_id(message_id))
        if row is None:
            raise NotFound(_t("no message {message_id}", message_id=message_id))
        return row

    async def box(
        self, request: PageRequest, search: MessageSearch, lang: str = "en", *, total: bool = False
    ) -> Found:
        """One page of the messages ``search`` finds, newest first, as seen now; in ``lang``, with
        translations (the console reads them; a search matches them). The cursor must come from
        the same search: one made by another is refused, never read as a position in this one."""
        older, newer = search_listings(search)
        after, backwards = _position(request.cursor, older, newer)
        now = self._clock.now()
        rows = await self._store.search_messages(
            search, format_ts(now), request.limit + 1, after, newer=backwards
        )
        more = len(rows) > request.limit
        shown = (rows[1:] if backwards else rows[:-1]) if more else rows
        translated = await self._translations.translations([r.id for r in shown])
        views = [message_view(r, now, lang, translated.get(r.id)) for r in shown]
        replies = await self._store.replies_to([v.id for v in views])
        for view in views:
            view.replies = replies.get(view.id, [])
        has_older = more if not backwards else after is not None
        has_newer = more if backwards else after is not None
        return Found(
            views,
            request.limit,
            encode_cursor(older.name, (shown[-1].stored_at, shown[-1].id)) if shown and has_older else None,
            encode_cursor(newer.name, (shown[0].stored_at, shown[0].id)) if shown and has_newer else None,
            await self._store.count_messages(search, format_ts(now)) if total else None,
        )

    async def watch_box(
        self, direction: Direction, limit: int, lang: str, now: datetime
    ) -> list[MessageView]:
        """A console box as seen at ``now``: with translations, in the reader's language, sorted
        for the watch."""
        rows = await self._store.messages(direction, limit, kinds=BOX_KINDS)
        translated = await self._translations.translations([r.id for r in rows])
        return sort_for_watch([message_view(r, now, lang, translated.get(r.id)) for r in rows])

    async def needs_action(self, limit: int, lang: str, now: datetime) -> NeedsAction:
        """Both directions' messages still awaiting acknowledgement, seen at ``now``: read from
        the store by deadline, not from the newest rows, so no amount of later traffic hides one."""
        if limit < 1:
            raise InputError(_t("limit: {limit} is not a positive number of messages", limit=limit))
        inbound, inbound_total, flash = await self._store.awaiting_ack(Direction.INBOUND, limit)
        outbound, outbound_total, _ = await self._store.awaiting_ack(Direction.OUTBOUND, limit)
        return NeedsAction(
            [message_view(r, now, lang) for r in inbound],
            [message_view(r, now, lang) for r in outbound],
            inbound_total,
            outbound_total,
            flash,
        )

    async def message(self, message_id: str, lang: str = "en", signed_receipt: bool = True) -> MessageView:
        """One message with its translation and (unless not wanted) its signed receipt; the
        receipt and the acknowledgement are verified again against their signers' keys."""
        row = await self._row(message_id)
        translation = await self._translations.translation(row.id)
        view = message_view(row, self._clock.now(), lang, translation)
        view.replies = (await self._store.replies_to([row.id])).get(row.id, [])
        if not signed_receipt:
            return view
        signers = await self._signers(row.peer_id)
        if row.receipt_id:
            body = await self._store.receipt(row.receipt_id)
            view.receipt = json.loads(body) if body else None
            view.receipt_check = (
                check_receipt(view.receipt, row, signers)
                if view.receipt is not None
                else Verification(f"receipt {row.receipt_id} is recorded but not stored")
            )
        if row.ack_message_id:
            ack = await self._store.message(row.ack_message_id)
            view.ack_check = (
                check_acknowledgement(ack, row, signers)
                if ack is not None
                else Verification(f"acknowledgement {row.ack_message_id} is recorded but not stored")
            )
        return view

    async def _signers(self, peer_id: str) -> Signers:
        peer = await self._store.peer(peer_id)
        if peer is None:
            raise NotFound(_t("no peer {peer_id!r}", peer_id=peer_id))
        return Signers(self._me_id, self._my_key, peer.station_id, peer.signing_key)

    async def transcript(self, peer: str) -> dict[str, Any]:
        me = self._me_id

        def chain(items: list[tuple[int, str, str]]) -> list[dict[str, Any]]:
            return [{"seq": s, "prev": p, "digest": d} for s, p, d in items]

        return {
            "link": f"{me}<->{peer}",
            f"{me}->{peer}": chain(await self._store.chain(peer, Direction.OUTBOUND)),
            f"{peer}->{me}": chain(await self._store.chain(peer, Direction.INBOUND)),
        }

    async def alarms(self, kind: str, request: PageRequest, active: bool | None) -> Page[dict[str, Any]]:
        """One page of one kind of alarm (``ALARM_KINDS``), newest first; ``active``: only those
        still standing (a link alarm not cleared, an escalation not acknowledged)."""
        listing = ALARM_LISTS[kind]
        fetch = request.limit + 1
        if kind == "equivocations":
            if active is not None:
                raise InputError(_t("active: equivocations are never cleared; leave active out for them"))
            found = await self._store.equivocations(fetch, row_id(request.after(listing)))
            rows = [{k: getattr(r, k) for k in EQUIVOCATION_FIELDS} for r in found]
        elif kind == "link_alarms":
            alarms = await self._store.link_alarms(fetch, row_id(request.after(listing)), active)
            rows = [asdict(a) for a in alarms]
        elif kind == "call_escalations":
            rows = await self._call_escalations(fetch, text_pair(request.after(listing)), active)
        else:
            escalations = await self._store.escalations(fetch, text_pair(request.after(listing)), active)
            rows = [_escalation(e) for e in escalations]
        key = (lambda r: (r["escalated_at"], r["id"])) if "escalations" in kind else (lambda r: (r["id"],))
        return page_of(rows, request, listing, key)

    async def _call_escalations(
        self, limit: int, after: tuple[str, str] | None, active: bool | None
    ) -> list[dict[str, Any]]:
        """Call requests whose reply deadline passed here unanswered (docs/calls.md)."""
        pending = [s.value for s in CallState if s.pending]
        records = await self._store.escalated_calls(self._me_id, pending, limit, after, active)
        now = self._clock.now()
        rows = []
        for record in records:
            call = record.at(now)
            rows.append(
                {
                    "id": call.call_id,
                    "peer_id": record.peer_id,
                    "escalated_at": record.escalated_at,
                    "reply_by": call.reply_by,
                    "state": call.state.value,
                    "urgency": call.urgency.value,
                    "purpose": call.purpose,
                }
            )
        return rows

    async def open_escalations(self, limit: int) -> list[dict[str, Any]]:
        """Escalated messages nobody acknowledged yet (the newest ``limit``), with what the
        console's banner shows."""
        return [_escalation(e) for e in await self._store.escalations(limit, active=True)]

    async def audit_log(
        self, request: PageRequest, filters: AuditFilter | None = None
    ) -> Page[dict[str, Any]]:
        """Operator and system actions, newest first, one page at a time."""
        filters = filters or AuditFilter()
        rows = await self._store.audit_log(
            request.limit + 1, row_id(request.after(AUDIT)), filters.actor, filters.actions
        )
        events = [{**asdict(r), "detail": json.loads(r.detail)} for r in rows]
        return page_of(events, request, AUDIT, lambda e: (e["id"],))


def search_listings(search: MessageSearch) -> tuple[Listing, Listing]:
    """The listings of one search's pages: towards older messages, and back towards newer."""
    name = f"{MESSAGES}:{search.key()}"
    return Listing(name, (str, str)), Listing(f"{name}:newer", (str, str))


def _position(cursor: str | None, older: Listing, newer: Listing) -> tuple[tuple[str, str] | None, bool]:
    """(the key a cursor names, whether it pages back to newer messages); a cursor of another
    search or list is refused with an error that says which."""
    if cursor is None:
        return None, False
    made_for = cursor_list(cursor)
    for listing, backwards in ((older, False), (newer, True)):
        if made_for == listing.name:
            return text_pair(decode_cursor(cursor, listing.name, listing.shape)), backwards
    if made_for is not None and made_for.startswith(MESSAGES):
        raise InputError(
            _t(
                "cursor: it pages another search; send it with the same box, q and filters as "
                "the answer that gave it, or leave it out to start from the newest"
            )
        )
    decode_cursor(cursor, older.name, older.shape)  # refuses it, naming the parameter
    raise InputError(_t("cursor: not a cursor of this list"))


def _escalation(row: Escalation) -> dict[str, Any]:
    """An escalation as the API and the console's banner show it."""
    return {**asdict(row), "peer": row.peer_id}
