"""Link assurance: authenticated link tests, link state, scorecards, suspension.

Every verified link runs a :class:`LinkTester`. At the agreed interval it
sends a ``link_test`` envelope on the ordinary chain (signed, sealed,
receipted like any message) carrying this station's scorecard; the peer
answers automatically with a ``link_test_reply``. The round trip is measured
from the outbox commit to the reply's arrival. Unanswered tests move the link
through :mod:`redline.domain.link_health`; each move to degraded or down
raises an alarm, and an answer clears it. Each answer also measures the peer's
clock offset (:class:`redline.domain.link_clock.ClockOffset`: the reply's signed
timestamp against the midpoint of our test's departure and the reply's arrival);
an offset beyond ``clock_alarm_seconds`` (less the measurement's uncertainty)
raises a ``clock`` alarm, and one back in range clears it. The two sides alternate: the
station whose id sorts first tests on the interval, the other half an
interval later. Each station also tests every link once as it starts, which
tells a peer at once that it is back.

A suspended link carries only link tests, their replies, acknowledgements and
service messages; the suspension itself travels as a ``service`` envelope so
both sides hold the same state. Each side's suspension is kept apart (the link
is suspended while either holds one, and only the side that suspended can
resume), so suspensions that cross on the wire cannot leave the sides
disagreeing.
"""

from __future__ import annotations

import logging
import math
import secrets
import statistics
from collections.abc import Callable
from typing import Any

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts, parse_ts
from redline.domain.link_clock import ClockOffset
from redline.domain.link_health import LinkHealth, LinkState, Transition, answer_timeout
from redline.domain.messages import Direction, MessageKind, Precedence
from redline.domain.phrases import load_catalogue
from redline.domain.records import LinkRecord
from redline.domain.stations import OperatorRecord, PeerRecord, Role
from redline.errors import Conflict, Forbidden, InputError, _t
from redline.services.metrics import StationMetrics
from redline.services.outbox import OutboundDraft, Outbox
from redline.services.ports import StationStore

log = logging.getLogger(__name__)
SYSTEM_ACTOR = "system"
HISTORY = 1000
RETRY_UNQUEUED_SECONDS = 5.0  # a test the outbox could not store is tried again this soon
SENT_TIMES_KEPT = 64  # departure times of unanswered tests kept for measuring the clock offset

# Told of each clock measurement: the peer, the reading, and True/False when the alarm must be
# raised/cleared (None: no change).
ClockReport = Callable[[str, ClockOffset, bool | None], None]


def _ms_between(start: str, end: str) -> float:
    return (parse_ts(end, "end") - parse_ts(start, "start")).total_seconds() * 1000


async def scorecard(
    store: StationStore, peer_id: str, ack_deadlines: dict[str, float], clock: Clock = SYSTEM_CLOCK
) -> dict[str, Any]:
    """This station's view of one link: tests sent and answered, round trips, time to acknowledge,
    and the acknowledgement deadlines it applies (which both sides must agree on)."""
    sent, answered = await store.kind_counts(peer_id, MessageKind.LINK_TEST, Direction.OUTBOUND)
    received, _ = await store.kind_counts(peer_id, MessageKind.LINK_TEST, Direction.INBOUND)
    tests = await store.answered_history(peer_id, MessageKind.LINK_TEST, HISTORY)
    rtts = [_ms_between(r.ts, r.acked_at) for r in tests if r.acked_at]
    texts = await store.answered_history(peer_id, MessageKind.TEXT, HISTORY)
    now = format_ts(clock.now())
    by_precedence: dict[str, Any] = {}
    for precedence in Precedence:
        rows = [r for r in texts if r.precedence is precedence]
        acked = [_ms_between(r.ts, r.acked_at) / 1000 for r in rows if r.acked_at]
        by_precedence[precedence.value] = {
            "messages": len(rows),
            "acknowledged": len(acked),
            "median_seconds_to_ack": round(statistics.median(acked), 3) if acked else None,
            "overdue": sum(1 for r in rows if not r.acked_at and r.deadline and r.deadline < now),
        }
    return {
        "tests_sent": sent,
        "tests_answered": answered,
        "tests_received": received,
        "median_rtt_ms": round(statistics.median(rtts), 3) if rtts else None,
        "last_test_at": tests[0].ts if tests else None,
        "last_rtt_ms": round(rtts[0], 3) if rtts and tests[0].acked_at else None,
        "time_to_acknowledge": by_precedence,
        "ack_deadlines": ack_deadlines,
        "phrase_catalogue": load_catalogue().version,  # both sides must render phrases alike
        "computed_at": now,
    }


class LinkTester:
    """Sends this side's link tests to one peer and tracks the link's state."""

    def __init__(
        self,
        store: StationStore,
        outbox: Outbox,
        me_id: str,
        peer: PeerRecord,
        interval: float,
        on_transition: Callable[[str, Transition], None],
        ack_deadlines: dict[str, float],
        clock: Clock = SYSTEM_CLOCK,
        *,
        clock_alarm_seconds: float = 5.0,
        on_clock: ClockReport | None = None,
        metrics: StationMetrics | None = None,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self._outbox = outbox
        self._clock_alarm_seconds = clock_alarm_seconds
        self._on_clock = on_clock
        self._sent_at: dict[str, str] = {}  # test id -> our wall clock just before it was signed
        self.clock_offset: ClockOffset | None = None
        self.clock_alarm: bool | None = None  # unknown until measured: a restart may find one open
        self._me_id = me_id
        self.peer = peer
        self.interval = interval
        self.health = LinkHealth(interval)
        self._on_transition = on_transition
        self._ack_deadlines = ack_deadlines
        self.last_sent_at: str | None = None  # wall-clock times, for people reading the link panel
        self.last_answered_at: str | None = None

    def _next_slot(self, now: float) -> float:
        offset = 0.0 if self._me_id < self.peer.station_id else self.interval / 2
        return math.floor((now - offset) / self.interval) * self.interval + offset + self.interval

    async def send_test(self) -> str:
        before = format_ts(self._clock.now())  # the envelope's ts is at least this
        body = {
            "nonce": secrets.token_hex(16),
            "interval": max(1, round(self.interval)),
            "scorecard": await scorecard(self._store, self.peer.station_id, self._ack_deadlines, self._clock),
        }
        test_id = await self._outbox.submit(
            OutboundDraft(
                peer=self.peer,
                kind=MessageKind.LINK_TEST,
                precedence=Precedence.ROUTINE,
                body=body,
                created_by=SYSTEM_ACTOR,
            )
        )
        self.health.test_sent(test_id, self._clock.monotonic())
        self.last_sent_at = format_ts(self._clock.now())
        self._sent_at[test_id] = before
        while len(self._sent_at) > SENT_TIMES_KEPT:
            del self._sent_at[next(iter(self._sent_at))]
        return test_id

    def on_reply(self, test_id: str, reply_ts: str, arrived: str) -> None:
        self.last_answered_at = format_ts(self._clock.now())
        timed = self.health.awaits(test_id)
        self._report(self.health.test_answered(test_id, self._clock.monotonic()))
        if self._metrics is not None and timed and self.health.last_rtt is not None:
            self._metrics.link_test_rtt.labels(self.peer.station_id).observe(self.health.last_rtt)
        sent = self._sent_at.pop(test_id, None)
        if sent is not None:  # a test sent before a restart has no departure time: no measurement
            self._measured(
                ClockOffset.measure(parse_ts(sent, "sent"), parse_ts(reply_ts, "ts"), parse_ts(arrived, "at"))
            )

    def _measured(self, reading: ClockOffset) -> None:
        self.clock_offset = reading
        beyond = reading.beyond(self._clock_alarm_seconds)
        change = beyond if beyond != self.clock_alarm else None
        self.clock_alarm = beyond
        if change is not None or beyond:
            log.log(
                logging.WARNING if beyond else logging.INFO,
                "link %s: %s",
                self.peer.station_id,
                reading.describe(),
            )
        if self._on_clock is not None:
            self._on_clock(self.peer.station_id, reading, change)

    def clock_status(self) -> dict[str, Any]:
        """The peer's clock offset as last measured, and whether it is alarmed."""
        return {
            **(
                self.clock_offset.to_json()
                if self.clock_offset
                else {"offset_s": None, "uncertainty_s": None, "measured_at": None}
            ),
            "alarm_above_s": self._clock_alarm_seconds,
            "alarm": bool(self.clock_alarm),
        }

    def _report(self, transition: Transition | None) -> None:
        if transition is not None:
            self._on_transition(self.peer.station_id, transition)

    async def run(self) -> None:
        # A test at start-up tells the peer at once that we are back (it cuts its backoff short).
        # Slots are aligned to wall-clock time, so both sides agree on them without talking.
        next_test = self._clock.now().timestamp()
        tick = min(1.0, answer_timeout(self.interval) / 4)
        while True:
            now = self._clock.now().timestamp()
            if now >= next_test:
                next_test = self._next_slot(now)
                try:
                    await self.send_test()
                except Exception:  # a failed test is a missed test, never a dead tester
                    log.exception("link test to %s could not be queued", self.peer.station_id)
                    # Not stored, so not sent: try again soon rather than a whole interval later.
                    next_test = min(next_test, now + RETRY_UNQUEUED_SECONDS)
            self._report(self.health.tick(self._clock.monotonic()))
            await self._clock.sleep(min(tick, max(0.0, next_test - self._clock.now().timestamp())))

    def status(self) -> dict[str, Any]:
        health = self.health
        return {
            "state": health.state.value,
            "interval_s": self.interval,
            "consecutive_missed": health.consecutive_missed,
            "last_rtt_ms": round(health.last_rtt * 1000, 3) if health.last_rtt is not None else None,
            "last_sent_at": self.last_sent_at,
            "last_answered_at": self.last_answered_at,
        }


def suspension_of(row: LinkRecord | None) -> dict[str, Any] | None:
    """The link is suspended while either side has it suspended; ours is reported first."""
    if row and row.suspended_at:
        return {"at": row.suspended_at, "by": row.suspended_by, "side": "ours"}
    if row and row.peer_suspended_at:
        return {"at": row.peer_suspended_at, "by": row.peer_suspended_by, "side": "peers"}
    return None


async def change_suspension(
    outbox: Outbox,
    store: StationStore,
    operator: OperatorRecord,
    peer: PeerRecord,
    suspend: bool,
    reason: str,
) -> str:
    """Suspend or resume a link; the peer hears of it in a signed service envelope."""
    if operator.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden(_t("only a supervisor or an administrator may suspend or resume a link"))
    if not isinstance(reason, str) or len(reason) > 500:
        raise InputError(_t("reason: expected text of at most 500 characters"))
    row = await store.link_row(peer.station_id)
    ours = bool(row and row.suspended_at)
    if suspend and ours:
        raise Conflict(
            _t("this station has already suspended the link to {station_id}", station_id=peer.station_id)
        )
    if not suspend and not ours:
        theirs = bool(row and row.peer_suspended_at)
        raise Conflict(
            _t(
                "this station has not suspended the link to {station_id}; it is suspended by the peer, "
                "which alone can resume its suspension",
                station_id=peer.station_id,
            )
            if theirs
            else _t("this station has not suspended the link to {station_id}", station_id=peer.station_id)
        )
    return await outbox.submit(
        OutboundDraft(
            peer=peer,
            kind=MessageKind.SERVICE,
            precedence=Precedence.IMMEDIATE,
            body={"action": "suspend" if suspend else "resume", "by": operator.name, "reason": reason},
            created_by=operator.name,
        )
    )


__all__ = ["LinkState", "LinkTester", "change_suspension", "scorecard"]
