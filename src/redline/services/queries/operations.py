"""Operating a station: the figures ``GET /metrics`` serves and what ``GET /api/v1/ready`` checks.

The gauges are computed at scrape time from the database (see ``services.metrics``); the
link states and duties come from the running station through :class:`StationDuties`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import generate_latest

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.link_health import LinkState
from redline.services.metrics import Snapshot, StationMetrics
from redline.services.ports import OperationsStore

log = logging.getLogger(__name__)
DATABASE_TIMEOUT = 5.0  # seconds a readiness query may take before the database counts as unreachable


class StationDuties(Protocol):
    """What the running station tells of its work (``runtime.adapters.StationDutyStatus``)."""

    def link_states(self) -> dict[str, str]:
        """Each verified peer's link state (``LinkState`` values)."""

    def duties(self) -> dict[str, bool]:
        """Each duty this site should hold, and whether the work doing it is running."""

    def index_loaded(self) -> bool:
        """The conflict index holds every notice in force."""


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    body: dict[str, Any]


class OperationsQueries:
    def __init__(
        self,
        store: OperationsStore,
        metrics: StationMetrics,
        duties: StationDuties,
        station_id: str,
        site: str,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._store = store
        self.metrics = metrics
        self._duties = duties
        self._station_id = station_id
        self.site = site
        self._clock = clock
        self._lock = asyncio.Lock()  # one scrape at a time: each replaces the gauges, then renders them

    async def scrape(self) -> bytes:
        """The Prometheus text exposition of this station, its gauges read from the database now."""
        async with self._lock:
            self.metrics.replace_gauges(await self._snapshot())
            return generate_latest(self.metrics.registry)

    async def _snapshot(self) -> Snapshot:
        snap = Snapshot()
        store = self._store
        info = snap.gauge("redline_station_info", "This station and the site serving it", ["station", "site"])
        info.append(([self._station_id, self.site], 1))
        messages = snap.gauge(
            "redline_messages",
            "Messages stored, by direction, kind, stored delivery state and precedence",
            ["direction", "kind", "state", "precedence"],
        )
        for direction, kind, state, precedence, n in await store.message_figures():
            messages.append(([direction, kind, state, precedence], n))
        overdue = snap.gauge(
            "redline_messages_overdue",
            "Messages past their acknowledgement deadline without one, by direction and precedence",
            ["direction", "precedence"],
        )
        for direction, precedence, n in await store.overdue_figures(format_ts(self._clock.now())):
            overdue.append(([direction, precedence], n))
        states = self._duties.link_states()
        depths = await store.queue_depths()
        queue = snap.gauge(
            "redline_queue_depth", "Outbound envelopes the peer has not receipted yet", ["peer"]
        )
        for peer in sorted(set(states) | set(depths)):
            queue.append(([peer], depths.get(peer, 0)))
        link = snap.gauge(
            "redline_link_state",
            "1 for the link's current state (from link tests), else 0",
            ["peer", "state"],
        )
        for peer, current in sorted(states.items()):
            for state in LinkState:
                link.append(([peer, state.value], 1 if state.value == current else 0))
        conflicts = snap.gauge("redline_conflicts_open", "Conflicts between notices still open", [])
        conflicts.append(([], await store.open_conflict_count()))
        owner = snap.gauge(
            "redline_duty_owner",
            "1 for each duty this site holds and whose work is running",
            ["duty", "site"],
        )
        for duty, running in sorted(self._duties.duties().items()):
            if running:
                owner.append(([duty, self.site], 1))
        return snap

    async def ready(self) -> Readiness:
        """Whether this site can do its work now, check by check."""
        checks: dict[str, dict[str, Any]] = {}
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT):
                await self._store.ping()
                migration = await self._store.migration_state()
        except Exception as exc:  # whatever the driver raises: the database does not answer
            detail = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
            log.warning("readiness: the database does not answer: %s", detail)
            # No token is needed here: name the kind of failure only; the log has the driver's words.
            checks["database"] = {
                "ok": False,
                "detail": f"the database does not answer ({type(exc).__name__})",
            }
            checks["migrations"] = {"ok": False, "detail": "unknown: the database does not answer"}
        else:
            checks["database"] = {"ok": True}
            checks["migrations"] = {
                "ok": migration["current"],
                "database": migration["database"],
                "code": migration["code"],
                **(
                    {} if migration["current"] else {"detail": "the database is not at this code's migration"}
                ),
            }
        loaded = self._duties.index_loaded()
        checks["conflict_index"] = {"ok": loaded, **({} if loaded else {"detail": "still loading"})}
        duties = self._duties.duties()
        missing = sorted(d for d, running in duties.items() if not running)
        checks["duties"] = {
            "ok": not missing,
            "held": sorted(d for d, running in duties.items() if running),
            **({"detail": f"not running: {', '.join(missing)}"} if missing else {}),
        }
        ready = all(c["ok"] for c in checks.values())
        body = {
            "status": "ready" if ready else "not ready",
            "station": self._station_id,
            "site": self.site,
            "checks": checks,
        }
        return Readiness(ready, body)
