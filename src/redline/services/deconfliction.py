"""Activity notices and conflict detection at a station.

Our notices are filed, amended and cancelled here and shared with every
verified peer as ``notice_*`` envelopes; the peers' arrive through
``services.inbound``, which stores them in the same transaction as the
envelope, and reach :meth:`Deconfliction.on_peer_notice` after the commit.
Every change goes through one lock, in order, into the in-memory
``redline.geo.ConflictIndex``; the conflicts of the changed notice are then
reconciled with the ``conflicts`` table (opened, updated or closed), and for a
conflict between one of our notices and a peer's we send that peer an
IMMEDIATE ``conflict_alert`` that needs acknowledgement. The peer does the same
from its side, so both parties are alerted and both stations hold the same
conflicts. Alerts go out once per conflict *identity* (``alerts_due``): each
side has exactly one alert to acknowledge per conflict, from the other side,
and a detail recomputed without a change of notice versions alerts nobody
(docs/deconfliction.md, "One conflict, one alert per side"). At start-up every
live notice is loaded and re-checked in full.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, NamedTuple

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.messages import MessageKind, Precedence
from redline.domain.records import ConflictDetail, ConflictRecord, NoticeRecord
from redline.domain.stations import OperatorRecord, PeerRecord
from redline.errors import Conflict as StateConflict
from redline.errors import Forbidden, InputError, NotFound, _t
from redline.geo import Notice, NoticeState, parse_notice
from redline.geo.conflicts import Conflict
from redline.geo.index import ConflictIndex
from redline.services.outbox import OutboundDraft, Outbox
from redline.services.peers import PeerDirectory
from redline.services.ports import NoticeStore

log = logging.getLogger(__name__)
NOTICE_PRECEDENCE = Precedence.PRIORITY
ALERT_PRECEDENCE = Precedence.IMMEDIATE
EXPIRY_SCAN_SECONDS = 30.0
SERVER_FIELDS = ("id", "party", "version")


def notice_record(notice: Notice, at: str, by: str, shared: bool = False) -> NoticeRecord:
    return NoticeRecord(
        id=notice.id,
        party=notice.party,
        version=notice.version,
        state=notice.state.value,
        activity=notice.activity.value,
        starts_at=format_ts(notice.window.start),
        ends_at=format_ts(notice.window.end) if notice.window.end else None,
        body=json.dumps(notice.to_json(), sort_keys=True, separators=(",", ":")),
        shared=shared,
        updated_at=at,
        updated_by=by,
    )


def stored_notice(record: NoticeRecord) -> Notice:
    """The notice as stored; state and version come from the record (a cancellation changes only them)."""
    return parse_notice({**json.loads(record.body), "state": record.state, "version": record.version})


def check_peer_notice(kind: MessageKind, sender: str, body: dict[str, Any]) -> Notice | None:
    """Check a peer's notice envelope before it is stored: a valid notice of the sender's own."""
    if kind is MessageKind.NOTICE_CANCELLED:
        return None
    notice = parse_notice(body["notice"])
    if notice.party != sender:
        raise InputError(
            _t("notice.party: {party!r} is not the sender {sender!r}", party=notice.party, sender=sender)
        )
    allowed = ("active",) if kind is MessageKind.NOTICE_FILED else ("active", "amended")
    if notice.state.value not in allowed:
        raise InputError(
            _t(
                "notice.state: a {kind} notice is {choices}, not {state}",
                kind=kind.value,
                choices=" or ".join(allowed),
                state=notice.state.value,
            )
        )
    return notice


def pair_of(conflict: Conflict) -> str:
    return f"{conflict.notice_a}~{conflict.notice_b}"


class Facts(NamedTuple):
    """What a conflict's detail says of each of its notices (kept for every notice in the index)."""

    party: str
    priority: int
    activity: str
    title: str

    @classmethod
    def of(cls, notice: Notice) -> Facts:
        return cls(notice.party, notice.priority, notice.activity.value, notice.title)


Alert = tuple[str, ConflictDetail, str]  # action, the conflict's detail (the last one when closed), pair


def alerts_due(current: dict[str, ConflictDetail], stored: dict[str, ConflictDetail]) -> list[Alert]:
    """The alerts a change calls for, by pair: once per conflict identity, never for a mere recomputation.

    A conflict's identity is its ``key``: the two notice ids, smaller first, each with its version.
    A pair newly in conflict is ``opened``; a pair whose notices changed version and still conflict is
    ``updated``; a pair no longer in conflict is ``closed`` (with its last detail, so its notices can
    still be named). The same key with a different detail (a start-up re-check after an upgrade of the
    arithmetic, say) is stored but alerts nobody: the people on watch have already acknowledged it.
    """
    alerts: list[Alert] = []
    for pair, detail in current.items():
        before = stored.get(pair)
        if before is None:
            alerts.append(("opened", detail, pair))
        elif before.get("key") != detail["key"]:
            alerts.append(("updated", detail, pair))
    alerts += [("closed", stored[pair], pair) for pair in sorted(set(stored) - set(current))]
    return alerts


class Deconfliction:
    def __init__(
        self,
        store: NoticeStore,
        outbox: Outbox,
        peers: PeerDirectory,
        me_id: str,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._clock = clock
        self._outbox = outbox
        self._peers = peers
        self._me = me_id
        self.index = ConflictIndex()
        self._facts: dict[str, Facts] = {}  # notice id -> its facts, for every notice in the index
        self._lock = asyncio.Lock()
        self.ready = asyncio.Event()

    # -- start-up -------------------------------------------------------------

    async def start(self) -> None:
        """Load every live notice, re-check all of them, and share what a crash left unshared."""
        async with self._lock:
            live = [stored_notice(r) for r in await self._store.notices(states=("active", "amended"))]
            self._facts = {n.id: Facts.of(n) for n in live}
            self.index.load(live)
            current = self.index.recheck()
            await self._reconcile(current, await self._store.open_conflicts(), alert=True)
            for row in await self._store.unshared(self._me):
                await self._share(stored_notice(row), row.state, previously_shared=row.version > 1)
            log.info("deconfliction: %d live notices, %d open conflicts", len(live), len(current))
        self.ready.set()

    async def run(self) -> None:
        await self.start()
        while True:
            await self._clock.sleep(EXPIRY_SCAN_SECONDS)
            try:
                await self.expire_past()
            except Exception:
                log.exception("expiring notices failed")

    async def expire_past(self) -> list[str]:
        """Notices whose window has ended leave the index and close their conflicts (no alert)."""
        now = self._clock.now()
        async with self._lock:
            live = await self._store.notices(states=("active", "amended"))
            gone = [r.id for r in live if r.ends_at is not None and r.ends_at < format_ts(now)]
            if not gone:
                return []
            await self._store.expire(gone, format_ts(now))
            closes = []
            for notice_id in gone:
                closes += [r.pair for r in await self._store.open_conflicts(involving=notice_id)]
                self.index.remove(notice_id)
                self._facts.pop(notice_id, None)
            await self._store.record_conflicts([], sorted(set(closes)), format_ts(now))
            return gone

    # -- our notices ------------------------------------------------------------

    def _check_sender(self, operator: OperatorRecord) -> None:
        operator.role.require_send("file notices")

    async def file(self, operator: OperatorRecord, data: object) -> Notice:
        self._check_sender(operator)
        if not isinstance(data, dict):
            raise InputError(_t("notice: expected a JSON object"))
        given = [f for f in SERVER_FIELDS if f in data]
        if given:
            raise InputError(_t("{value}: set by the station, not by the filer", value=given[0]))
        notice = parse_notice({**data, "id": uuid.uuid4().hex, "party": self._me, "version": 1})
        if notice.state not in (NoticeState.DRAFT, NoticeState.ACTIVE):
            raise InputError(
                _t("state: a new notice is draft or active, not {state}", state=notice.state.value)
            )
        return await self._commit(notice, operator.name, "notice_file", previously_shared=False)

    async def amend(self, operator: OperatorRecord, notice_id: str, data: object) -> Notice:
        self._check_sender(operator)
        current, row = await self._own(notice_id)
        if not isinstance(data, dict):
            raise InputError(_t("notice: expected a JSON object"))
        fields = {**data, "id": current.id, "party": self._me, "version": current.version + 1}
        state = data.get("state", "active" if current.state is NoticeState.DRAFT else "amended")
        if state == "active" and current.state is not NoticeState.DRAFT:
            state = "amended"
        notice = parse_notice({**fields, "state": state})
        if notice.state not in (NoticeState.DRAFT, NoticeState.AMENDED, NoticeState.ACTIVE):
            raise InputError(
                _t("state: an amendment is draft, active or amended, not {state}", state=notice.state.value)
            )
        return await self._commit(notice, operator.name, "notice_amend", previously_shared=row.shared)

    async def cancel(self, operator: OperatorRecord, notice_id: str, reason: object = "") -> Notice:
        self._check_sender(operator)
        if not isinstance(reason, str) or len(reason) > 500:
            raise InputError(_t("reason: expected text of at most 500 characters"))
        current, row = await self._own(notice_id)
        data = {**current.to_json(), "version": current.version + 1, "state": "cancelled"}
        notice = parse_notice(data)
        was_shared = row.shared or current.version > 1
        return await self._commit(notice, operator.name, "notice_cancel", was_shared, reason)

    async def _own(self, notice_id: str) -> tuple[Notice, NoticeRecord]:
        row = await self._store.notice(notice_id)
        if row is None:
            raise NotFound(_t("no notice {notice_id!r}", notice_id=notice_id))
        if row.party != self._me:
            raise Forbidden(
                _t(
                    "notice {notice_id} belongs to {party}; only its party amends or cancels it",
                    notice_id=notice_id,
                    party=row.party,
                )
            )
        if row.state in ("cancelled", "expired"):
            raise StateConflict(f"notice {notice_id} is {row.state}; file a new one")
        return stored_notice(row), row

    async def _commit(
        self, notice: Notice, by: str, action: str, previously_shared: bool, reason: str = ""
    ) -> Notice:
        async with self._lock:
            at = format_ts(self._clock.now())
            await self._store.save(notice_record(notice, at, by), by, action)
            if notice.state is not NoticeState.DRAFT:
                await self._share(notice, notice.state.value, previously_shared, by, reason)
            await self._apply(notice)
        return notice

    async def _share(
        self, notice: Notice, state: str, previously_shared: bool, by: str = "system", reason: str = ""
    ) -> None:
        if state == "cancelled":
            if not previously_shared:
                await self._store.mark_shared(notice.id, notice.version)
                return  # a draft never shared needs no cancellation on the other side
            kind = MessageKind.NOTICE_CANCELLED
            body: dict[str, Any] = {
                "notice_id": notice.id,
                "version": notice.version,
                "by": by,
                "reason": reason,
            }
        else:
            kind = MessageKind.NOTICE_AMENDED if previously_shared else MessageKind.NOTICE_FILED
            body = {"notice": notice.to_json()}
        for peer in await self._verified_peers():
            await self._outbox.submit(
                OutboundDraft(peer=peer, kind=kind, precedence=NOTICE_PRECEDENCE, body=body, created_by=by)
            )
        await self._store.mark_shared(notice.id, notice.version)

    async def _verified_peers(self) -> list[PeerRecord]:
        return [p for p in self._peers.cached() if p.verified]

    # -- the peers' notices -------------------------------------------------------

    async def on_peer_notice(self, peer_id: str, kind: MessageKind, body: dict[str, Any]) -> None:
        """A peer's notice envelope was committed (stored by services.inbound); update the index."""
        notice_id = body["notice"]["id"] if "notice" in body else body["notice_id"]
        async with self._lock:
            row = await self._store.notice(notice_id)
            if row is None or row.party != peer_id:
                return
            await self._apply(stored_notice(row))

    # -- conflicts ------------------------------------------------------------------

    async def _apply(self, notice: Notice) -> None:
        """Put one notice version into the index and reconcile its conflicts (lock held)."""
        if notice.is_live:
            self._facts[notice.id] = Facts.of(notice)
            self.index.add(notice)
        else:
            self.index.remove(notice.id)
            self._facts.pop(notice.id, None)
        current = self.index.conflicts_of(notice.id)
        await self._reconcile(current, await self._store.open_conflicts(involving=notice.id), alert=True)

    async def _reconcile(
        self, current: list[Conflict], stored_open: list[ConflictRecord], alert: bool
    ) -> None:
        at = format_ts(self._clock.now())
        stored = {r.pair: json.loads(r.detail) for r in stored_open}
        now = {pair_of(c): self.detail(c) for c in current}
        upserts = [detail for pair, detail in now.items() if stored.get(pair) != detail]
        closes = sorted(set(stored) - set(now))
        await self._store.record_conflicts(upserts, closes, at)
        for action, detail, pair in alerts_due(now, stored):
            if action != "closed":
                log.warning("CONFLICT %s %s", action, pair)
            if alert:
                await self._alert(action, detail, pair)

    def detail(self, conflict: Conflict) -> ConflictDetail:
        detail = conflict.to_json()
        unknown = Facts("", 0, "other", "")
        facts_a = self._facts.get(conflict.notice_a, unknown)
        facts_b = self._facts.get(conflict.notice_b, unknown)
        detail["party_a"], detail["party_b"] = facts_a.party or None, facts_b.party or None
        # Named by activity and title wherever a person reads it, on both stations alike.
        detail["activity_a"], detail["title_a"] = facts_a.activity, facts_a.title
        detail["activity_b"], detail["title_b"] = facts_b.activity, facts_b.title
        # Priorities do not decide whether notices conflict; they say which activity should give
        # way: the one of lower priority (none when they are equal).
        a, b = facts_a.priority, facts_b.priority
        detail["priority_a"], detail["priority_b"] = a, b
        detail["gives_way"] = None if a == b else (conflict.notice_a if a < b else conflict.notice_b)
        return detail

    async def _alert(self, action: str, detail: ConflictDetail, pair: str) -> None:
        """Tell the other party of a conflict that involves one of our notices."""
        a, b = pair.split("~", 1)
        parties = {
            detail.get("party_a") or await self._party_of(a),
            detail.get("party_b") or await self._party_of(b),
        }
        if self._me not in parties:
            return
        for party in parties - {self._me, None}:
            peer = await self._peers.get(str(party))
            if peer is None or not peer.verified:
                continue
            body = {
                "action": action,
                "pair": [a, b],
                "conflict": detail,
            }
            await self._outbox.submit(
                OutboundDraft(
                    peer=peer,
                    kind=MessageKind.CONFLICT_ALERT,
                    precedence=ALERT_PRECEDENCE,
                    body=body,
                    created_by="system",
                )
            )

    async def _party_of(self, notice_id: str) -> str | None:
        row = await self._store.notice(notice_id)
        return None if row is None else row.party
