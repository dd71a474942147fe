"""Escalation: a message that needs a human acknowledgement and misses its deadline.

Both stations watch both directions: the sender sees the peer's silence, the
receiver sees its own. Each overdue message is escalated once: marked in the
store, written to the audit log, logged as an ALARM, and listed for
supervisors at ``GET /api/v1/alarms`` (``escalations``). The API shows it as
``overdue`` on both sides from the moment its deadline passes. For a message
the peer has not acknowledged, the sender also sends a ``service`` reminder
naming it, at the message's precedence, over another path than the one in
use when there is one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.messages import Direction
from redline.domain.records import MessageRecord
from redline.services.ports import StationStore

log = logging.getLogger(__name__)
SCAN_SECONDS = 2.0


class Escalator:
    def __init__(
        self,
        store: StationStore,
        on_escalated: Callable[[list[MessageRecord]], None] = lambda _rows: None,
        scan_seconds: float = SCAN_SECONDS,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self._on_escalated = on_escalated
        self._scan_seconds = scan_seconds
        self._clock = clock

    async def scan(self) -> int:
        rows = await self._store.escalate_overdue(format_ts(self._clock.now()))
        for row in rows:
            whose = "the peer has" if row.direction is Direction.OUTBOUND else "this station has"
            log.warning(
                "ALARM %s %s message %s (%s) is overdue: %s not acknowledged it by %s; escalated",
                row.precedence,
                row.direction,
                row.id,
                row.peer_id,
                whose,
                row.deadline,
            )
        if rows:
            self._on_escalated(rows)
        return len(rows)

    async def run(self) -> None:
        while True:
            try:
                await self.scan()
            except Exception:
                log.exception("escalation scan failed")
            await self._clock.sleep(self._scan_seconds)
