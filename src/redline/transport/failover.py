"""Failover and failback across a peer's paths, above the per-scheme path transports.

:class:`FailoverTransport` is what the services' ``LinkTransport`` port gets. A
delivery goes to the most preferred path (card order) that is not held down,
through the path transport mounted for its scheme. A path that fails is held
down (2 s, doubling to 30 s while it keeps failing, see ``paths.PathState``) and
the next path is tried at once: that is failover. When the hold-down of a more
preferred path expires, the next delivery tries it first again: that is
failback. When every path is held down, all are still tried, the one whose
hold-down ends first first, and a retry inside a hold-down does not lengthen
it. A refusal by the peer (``RemoteProtocolError``) means the path works: it
is marked up and the refusal goes to the caller.

Time is the injected :class:`~redline.domain.clock.Clock`'s ``monotonic()``, so
the state machine runs on a ``MockClock`` in tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from redline.domain.clock import SYSTEM_CLOCK, Clock, format_ts
from redline.domain.stations import PeerRecord
from redline.errors import RemoteProtocolError, TransportError, _t
from redline.transport.mounts import Mounts
from redline.transport.paths import HOLD_DOWN_FIRST, AnswerHandler, Inbox, PathState, Spawner


class FailoverTransport:
    """Implements ``redline.services.ports.LinkTransport``: one delivery, tried path by path."""

    def __init__(self, mounts: Mounts, clock: Clock = SYSTEM_CLOCK) -> None:
        self.mounts = mounts
        self._clock = clock
        self._paths: dict[str, list[PathState]] = {}

    def paths(self, peer: PeerRecord) -> list[PathState]:
        known = self._paths.get(peer.station_id)
        if known is None or [p.url for p in known] != list(peer.endpoints):
            known = [PathState(url) for url in peer.endpoints]
            self._paths[peer.station_id] = known
        return known

    def avoid_current_path(self, peer: PeerRecord) -> None:
        """Send the next request over another path, if there is one (the current one may work
        for the machines and still fail the people: an escalation tries another way)."""
        now = self._clock.monotonic()
        usable = [p for p in self.paths(peer) if p.held_until <= now]
        if len(usable) > 1:
            usable[0].held_until = now + HOLD_DOWN_FIRST

    def path_status(self, peer: PeerRecord) -> list[dict[str, Any]]:
        """Each path's view, its last error dated in UTC (``last_error_at``) for people to read."""
        now, wall = self._clock.monotonic(), self._clock.now()
        views = [p.view(now) for p in self.paths(peer)]
        for view in views:
            since = view["seconds_since_error"]
            view["last_error_at"] = None if since is None else format_ts(wall - timedelta(seconds=since))
        return views

    async def deliver(self, peer: PeerRecord, body: bytes) -> bytes:
        paths = self.paths(peer)
        now = self._clock.monotonic()
        order = [p for p in paths if p.held_until <= now] or sorted(paths, key=lambda p: p.held_until)
        failures: list[str] = []
        for path in order:
            held = path.held_until > now  # tried only because every path is held down
            try:
                answer = await self.mounts.transport_for(path.url).send(peer, path.url, body)
            except TransportError as exc:
                if held:
                    path.erred(self._clock.monotonic(), exc.message)  # not lengthening the hold-down
                else:
                    path.failed(self._clock.monotonic(), exc.message)
                failures.append(f"{path.url}: {exc.message}")
                continue
            except RemoteProtocolError:
                path.succeeded(self._clock.monotonic())  # the path works; the peer refused
                raise
            path.succeeded(self._clock.monotonic())
            return answer
        if not failures:
            raise TransportError(
                _t("no path to {station_id}: its card lists no endpoints", station_id=peer.station_id)
            )
        raise TransportError(
            _t(
                "no path to {station_id} answered: {choices}",
                station_id=peer.station_id,
                choices="; ".join(failures),
            )
        )

    def inboxes(self, own_endpoints: Iterable[str]) -> list[Inbox]:
        """The inboxes this station must run for its own endpoints (relays it takes batches from)."""
        return self.mounts.inboxes(own_endpoints)

    def route_late_answers(self, handler: AnswerHandler, spawn: Spawner) -> None:
        """Answers that arrive after their delivery stopped waiting (through a relay) go to ``handler``;
        the consumers that take them run in the station's task group through ``spawn``."""
        self.mounts.route_late_answers(handler, spawn)

    async def close(self) -> None:
        await self.mounts.close()
