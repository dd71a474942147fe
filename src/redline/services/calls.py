"""What an officer does with call requests: ask for a call, answer one, see the timeline.

Each move is one ``call`` envelope (``services.kinds.call``); the state machine and the
timeline are ``redline.domain.calls``. A move the call does not allow now is refused
with ``Conflict`` before anything is sent. The reply deadline of a request or a
counter-proposal is set here from its urgency (the station's ``call_reply_deadlines``)
and travels in the envelope, so both stations hold the same one. :class:`CallEscalator`
alerts supervisors when a call awaiting *our* answer passes its deadline.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from redline.domain.calls import (
    DEFAULT_REPLY_DEADLINES,
    OPERATOR_ACTIONS,
    Action,
    Call,
    CallRecord,
    CallState,
    Entry,
    Urgency,
    allowed_moves,
    check_call,
)
from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.stations import OperatorRecord
from redline.errors import InputError, NotFound, _t
from redline.services.kinds.call import move
from redline.services.outbox import Outbox
from redline.services.paging import Listing, Page, PageRequest, page_of, text_pair
from redline.services.peers import PeerDirectory
from redline.services.ports import StationStore

log = logging.getLogger(__name__)
CALLS = Listing("calls", (str, str))  # (requested_at, call_id), newest first
SCAN_SECONDS = 5.0
_PENDING = [s.value for s in CallState if s.pending]


def entry_json(entry: Entry) -> dict[str, Any]:
    return {
        "at": entry.at,
        "action": entry.action.value,
        "station": entry.station,
        "by": entry.by,
        "message_id": entry.message_id,
        "state": None if entry.state is None else entry.state.value,
        "void": entry.void,
        **entry.detail,
    }


def call_json(
    call: Call, me: str, peer_id: str, escalated_at: str | None, now: datetime | None = None
) -> dict[str, Any]:
    """A call as the API shows it, from this station's side."""
    return {
        "call_id": call.call_id,
        "peer": peer_id,
        "direction": "outbound" if call.caller == me else "inbound",
        "caller": call.caller,
        "callee": call.callee,
        "state": call.state.value,
        "purpose": call.purpose,
        "urgency": call.urgency.value,
        "asked_for": call.asked_for,
        "window": call.window,
        "agreed": call.agreed,
        "agreed_at": call.agreed_at,
        "requested_at": call.requested_at,
        "awaiting": call.awaiting,
        "reply_by": call.reply_by,
        "overdue": call.overdue,
        "escalated_at": escalated_at,
        "reason": call.reason,
        "moves": [a.value for a in allowed_moves(call, me, now)],
        "timeline": [entry_json(e) for e in call.timeline],
    }


class CallService:
    def __init__(
        self,
        store: StationStore,
        outbox: Outbox,
        peers: PeerDirectory,
        me: str,
        deadlines: dict[Urgency, timedelta] | None = None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._peers = peers
        self._me = me
        self._deadlines = deadlines or DEFAULT_REPLY_DEADLINES
        self._clock = clock

    async def request(
        self,
        operator: OperatorRecord,
        to: object,
        purpose: object,
        urgency: object,
        asked_for: object,
        window: object,
    ) -> str:
        """Ask ``to`` for a call; returns the new call's id."""
        operator.role.require_send(_t("request calls"))
        peer = await self._peers.recipient(to)
        call_id = uuid.uuid4().hex
        if urgency not in [u.value for u in Urgency]:
            raise InputError(
                _t(
                    "{field}: {value!r} is not one of {choices}",
                    field="urgency",
                    value=urgency,
                    choices=", ".join(u.value for u in Urgency),
                )
            )
        level = Urgency(str(urgency))
        body = {
            "call_id": call_id,
            "action": Action.REQUEST.value,
            "by": operator.name,
            "purpose": purpose,
            "urgency": level.value,
            "asked_for": asked_for,
            "window": window,
            "reply_by": format_ts(self._clock.now() + self._deadlines[level]),
        }
        body = check_call(body)
        await self._outbox.submit(move(peer, self._me, level, body, operator.name))
        return call_id

    async def answer(
        self, operator: OperatorRecord, call_id: str, action: object, fields: dict[str, Any]
    ) -> str:
        """Make a move in a call (acknowledge, accept, decline, counter, cancel, held); returns
        the id of the envelope that carries it."""
        operator.role.require_send(_t("answer calls"))
        if action not in [a.value for a in OPERATOR_ACTIONS]:
            raise InputError(
                _t(
                    "{field}: {value!r} is not one of {choices}",
                    field="action",
                    value=action,
                    choices=", ".join(a.value for a in OPERATOR_ACTIONS),
                )
            )
        record = await self._record(call_id)
        call = record.at(self._clock.now())
        body: dict[str, Any] = {"call_id": call.call_id, "action": action, "by": operator.name, **fields}
        if action == Action.COUNTER.value:
            body["reply_by"] = format_ts(self._clock.now() + self._deadlines[call.urgency])
        body = check_call(body)
        peer = await self._peers.recipient(record.peer_id)
        return await self._outbox.submit(move(peer, self._me, call.urgency, body, operator.name))

    async def call(self, call_id: str) -> dict[str, Any]:
        record = await self._record(call_id)
        now = self._clock.now()
        return call_json(record.at(now), self._me, record.peer_id, record.escalated_at, now)

    async def calls(self, request: PageRequest, peer: str | None = None) -> Page[dict[str, Any]]:
        after = text_pair(request.after(CALLS))
        rows = await self._store.calls(request.limit + 1, after, peer)
        now = self._clock.now()
        page = page_of(rows, request, CALLS, lambda r: (r.at(now).requested_at, r.call_id))
        return page.map(lambda r: call_json(r.at(now), self._me, r.peer_id, r.escalated_at, now))

    async def awaiting_us(self, limit: int) -> list[dict[str, Any]]:
        """Calls whose answer is due from this station now (the console's needs-action panel),
        soonest deadline first."""
        now = self._clock.now()
        rows = await self._store.calls_awaiting(self._me, _PENDING, limit)
        shown = [(r.at(now), r) for r in rows]
        return [
            call_json(c, self._me, r.peer_id, r.escalated_at, now) for c, r in shown if c.awaiting == self._me
        ]

    async def _record(self, call_id: object) -> CallRecord:
        record = await self._store.call(call_id) if isinstance(call_id, str) and len(call_id) <= 64 else None
        if record is None:
            raise NotFound(_t("no call {call_id}", call_id=str(call_id)[:64]))
        return record


class CallEscalator:
    """Alerts supervisors once for each call awaiting our answer past its reply deadline."""

    def __init__(
        self,
        store: StationStore,
        me: str,
        on_escalated: Callable[[list[CallRecord]], None] = lambda _rows: None,
        clock: Clock = SYSTEM_CLOCK,
        scan_seconds: float = SCAN_SECONDS,
    ) -> None:
        self._store = store
        self._me = me
        self._on_escalated = on_escalated
        self._clock = clock
        self._scan_seconds = scan_seconds

    async def scan(self) -> list[CallRecord]:
        now = format_ts(self._clock.now())
        rows = await self._store.escalate_calls(self._me, now, _PENDING)
        for row in rows:
            call = row.at(self._clock.now())
            log.warning(
                "ALARM call %s from %s (%s, %s) awaits our answer since %s; escalated to supervisors",
                call.call_id,
                call.caller,
                call.urgency,
                call.purpose[:80],
                call.reply_by,
            )
        if rows:
            self._on_escalated(rows)
        return rows

    async def run(self) -> None:
        while True:
            try:
                await self.scan()
            except Exception:
                log.exception("call escalation scan failed")
            await self._clock.sleep(self._scan_seconds)
