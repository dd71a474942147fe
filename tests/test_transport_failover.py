"""Pure units of the transport package: path hold-down, failover and failback above fake path
transports on a MockClock, the mount table, and the relay inbox's retry. No sockets."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from redline.domain.clock import MockClock, format_ts, settle
from redline.domain.stations import PeerRecord
from redline.errors import RemoteProtocolError, TransportError
from redline.transport.failover import FailoverTransport
from redline.transport.mounts import Mounts, station_mounts
from redline.transport.paths import (
    HOLD_DOWN_FIRST,
    HOLD_DOWN_MAX,
    AnswerHandler,
    BatchHandler,
    PathState,
    Spawner,
)
from redline.transport.relay import INBOX_RETRY_SECONDS, NatsRelayTransport, RelayInbox
from redline.wire.card import ENDPOINT_SCHEMES
from tests.support.records import peer_record

PRIMARY, SECONDARY, RELAY = "https://127.0.0.1:1001", "https://127.0.0.1:1002", "nats://127.0.0.1:4222"
ANSWER = b'{"receipts": []}'


class FakePaths:
    """A path transport whose paths answer, fail or refuse as the test says, and that records calls."""

    def __init__(self) -> None:
        self.alive: set[str] = set()
        self.refusing: set[str] = set()
        self.calls: list[str] = []
        self.closed = False

    async def send(self, peer: PeerRecord, url: str, body: bytes) -> bytes:
        self.calls.append(url)
        if url in self.refusing:
            raise RemoteProtocolError(f"{peer.station_id} refused the batch: HTTP 400 bad")
        if url not in self.alive:
            raise TransportError(f"ConnectError: {url} refused")
        return ANSWER

    async def close(self) -> None:
        self.closed = True


class FakeRelay(FakePaths):
    """A store-and-forward path transport: hands out inboxes and takes a late-answer handler."""

    def __init__(self) -> None:
        super().__init__()
        self.late: AnswerHandler | None = None
        self.spawn: Spawner | None = None

    def inbox(self, url: str) -> Any:
        return ("inbox", url)

    def route_late_answers(self, handler: AnswerHandler, spawn: Spawner) -> None:
        self.late, self.spawn = handler, spawn


def _failover(*schemes: str) -> tuple[FailoverTransport, FakePaths, MockClock]:
    fake, clock = FakePaths(), MockClock()
    return FailoverTransport(Mounts({s: fake for s in schemes or ("https",)}), clock), fake, clock


def _deliver(transport: FailoverTransport, peer: PeerRecord) -> bytes:
    return asyncio.run(transport.deliver(peer, b"{}"))


# --- PathState -----------------------------------------------------------------------------------------


def test_a_failed_path_is_down_and_held_down_doubling_to_the_cap():
    p = PathState("https://127.0.0.1:1")
    assert p.state == "unknown" and p.failures == 0 and p.held_until == 0.0
    p.failed(100.0, "ConnectError: refused")
    assert p.state == "down" and p.failures == 1 and p.last_error == "ConnectError: refused"
    assert p.held_until == 100.0 + HOLD_DOWN_FIRST == 102.0
    assert p.changed_at == 100.0
    holds = []
    now = 102.0
    for _ in range(6):
        p.failed(now, "again")
        holds.append(p.held_until - now)
        now = p.held_until
    assert holds == [4.0, 8.0, 16.0, HOLD_DOWN_MAX, HOLD_DOWN_MAX, HOLD_DOWN_MAX]
    assert p.failures == 7
    assert p.changed_at == 100.0  # still down since the first failure
    view = p.view(now - 10.0)
    assert view["state"] == "down" and view["consecutive_failures"] == 7
    assert view["held_down_for_s"] == 10.0 and view["seconds_since_ok"] is None


def test_a_path_that_succeeds_is_up_and_its_failures_are_forgotten():
    p = PathState("https://127.0.0.1:1")
    p.failed(10.0, "refused")
    p.failed(12.0, "refused")
    assert p.view(14.0)["seconds_since_error"] == 2.0  # the error carries its time
    p.succeeded(15.0)
    assert p.state == "up" and p.failures == 0 and p.held_until == 0.0
    assert p.last_error is None and p.view(15.0)["seconds_since_error"] is None  # recovered: cleared
    assert p.last_ok == 15.0 and p.changed_at == 15.0
    p.succeeded(16.0)
    assert p.changed_at == 15.0 and p.last_ok == 16.0  # up stays up: no change
    view = p.view(20.0)
    assert view["seconds_since_ok"] == 4.0 and view["seconds_since_change"] == 5.0
    assert view["held_down_for_s"] == 0.0
    p.failed(21.0, "timeout")
    assert p.failures == 1 and p.held_until == 21.0 + HOLD_DOWN_FIRST  # the doubling starts over


# --- failover and failback -----------------------------------------------------------------------------


def test_fails_over_at_once_and_fails_back_when_the_hold_down_ends():
    transport, fake, clock = _failover()
    peer = peer_record("beijing", (PRIMARY, SECONDARY))

    fake.alive = {SECONDARY}
    assert _deliver(transport, peer) == ANSWER
    assert fake.calls == [PRIMARY, SECONDARY]  # failover within one delivery
    paths = transport.path_status(peer)
    assert [p["state"] for p in paths] == ["down", "up"]
    assert paths[0]["held_down_for_s"] == HOLD_DOWN_FIRST
    assert paths[0]["last_error"] == f"ConnectError: {PRIMARY} refused"
    assert paths[0]["last_error_at"] == format_ts(clock.now()) and paths[1]["last_error_at"] is None

    fake.calls.clear()
    asyncio.run(clock.advance(1.0))
    _deliver(transport, peer)
    assert fake.calls == [SECONDARY]  # the primary is held down: not tried
    assert transport.path_status(peer)[0]["held_down_for_s"] == HOLD_DOWN_FIRST - 1.0

    fake.alive = {PRIMARY, SECONDARY}
    fake.calls.clear()
    asyncio.run(clock.advance(1.5))  # the hold-down has ended
    _deliver(transport, peer)
    assert fake.calls == [PRIMARY]  # failback
    assert [p["state"] for p in transport.path_status(peer)] == ["up", "up"]


def test_the_hold_down_doubles_while_a_path_keeps_failing_and_stops_at_the_cap():
    transport, fake, clock = _failover()
    peer = peer_record("beijing", (PRIMARY, SECONDARY))
    fake.alive = {SECONDARY}
    holds = []
    for _ in range(6):
        _deliver(transport, peer)
        hold = transport.path_status(peer)[0]["held_down_for_s"]
        holds.append(hold)
        asyncio.run(clock.advance(hold))  # just when the primary may be tried again
    assert holds == [2.0, 4.0, 8.0, 16.0, HOLD_DOWN_MAX, HOLD_DOWN_MAX]
    assert transport.path_status(peer)[0]["consecutive_failures"] == 6


def test_with_every_path_down_each_error_is_named_and_the_soonest_is_tried_first():
    transport, fake, clock = _failover()
    peer = peer_record("beijing", (PRIMARY, SECONDARY))
    with pytest.raises(TransportError) as raised:
        _deliver(transport, peer)
    assert raised.value.message == (
        f"no path to beijing answered: {PRIMARY}: ConnectError: {PRIMARY} refused; "
        f"{SECONDARY}: ConnectError: {SECONDARY} refused"
    )
    assert fake.calls == [PRIMARY, SECONDARY]
    assert [p["state"] for p in transport.path_status(peer)] == ["down", "down"]

    # Both held down: still both tried, and a retry inside a hold-down does not lengthen it.
    asyncio.run(clock.advance(0.5))
    fake.calls.clear()
    fake.alive = {SECONDARY}
    assert _deliver(transport, peer) == ANSWER
    assert fake.calls == [PRIMARY, SECONDARY]
    primary = transport.path_status(peer)[0]
    assert primary["consecutive_failures"] == 1 and primary["held_down_for_s"] == 1.5


def test_a_refusal_means_the_path_works_and_goes_to_the_caller():
    transport, fake, _clock = _failover()
    peer = peer_record("beijing", (PRIMARY, SECONDARY))
    fake.refusing = {PRIMARY}
    with pytest.raises(RemoteProtocolError, match="refused the batch"):
        _deliver(transport, peer)
    assert fake.calls == [PRIMARY]  # not tried elsewhere: the peer said no
    assert [p["state"] for p in transport.path_status(peer)] == ["up", "unknown"]


def test_avoid_current_path_sends_the_next_request_another_way_if_there_is_one():
    transport, fake, clock = _failover()
    fake.alive = {PRIMARY, SECONDARY}
    peer = peer_record("beijing", (PRIMARY, SECONDARY))
    transport.avoid_current_path(peer)
    _deliver(transport, peer)
    assert fake.calls == [SECONDARY]
    asyncio.run(clock.advance(HOLD_DOWN_FIRST))
    fake.calls.clear()
    _deliver(transport, peer)
    assert fake.calls == [PRIMARY]

    lone = peer_record("moscow", (PRIMARY,))
    transport.avoid_current_path(lone)  # nowhere else to go: nothing held down
    assert transport.path_status(lone)[0]["held_down_for_s"] == 0.0


def test_paths_start_over_when_the_peers_card_changes_its_endpoints():
    transport, _fake, _clock = _failover()
    before = peer_record("beijing", (PRIMARY,))
    with pytest.raises(TransportError):
        _deliver(transport, before)
    moved = peer_record("beijing", (SECONDARY, PRIMARY))
    assert [p["url"] for p in transport.path_status(moved)] == [SECONDARY, PRIMARY]
    assert {p["state"] for p in transport.path_status(moved)} == {"unknown"}


def test_a_peer_without_endpoints_is_a_transport_error():
    transport, _fake, _clock = _failover()
    with pytest.raises(TransportError, match="no path to beijing: its card lists no endpoints"):
        _deliver(transport, peer_record("beijing", ()))


def test_the_path_status_view_keeps_its_shape():
    transport, fake, clock = _failover()
    peer = peer_record("beijing", (PRIMARY,))
    fake.alive = {PRIMARY}
    _deliver(transport, peer)
    asyncio.run(clock.advance(3.25))
    assert transport.path_status(peer) == [
        {
            "url": PRIMARY,
            "state": "up",
            "consecutive_failures": 0,
            "seconds_since_ok": 3.25,
            "seconds_since_change": 3.25,
            "last_error": None,
            "seconds_since_error": None,
            "held_down_for_s": 0.0,
            "last_error_at": None,
        }
    ]


# --- the mount table -----------------------------------------------------------------------------------


def test_each_path_goes_to_the_transport_mounted_for_its_scheme():
    web, relay, clock = FakePaths(), FakeRelay(), MockClock()
    transport = FailoverTransport(Mounts({"https": web, "nats": relay}), clock)
    relay.alive = {RELAY}
    peer = peer_record("beijing", (PRIMARY, RELAY))
    assert _deliver(transport, peer) == ANSWER
    assert web.calls == [PRIMARY] and relay.calls == [RELAY]
    asyncio.run(transport.close())
    assert web.closed and relay.closed


def test_an_unknown_scheme_is_a_clear_error_and_the_other_paths_still_work():
    transport, fake, _clock = _failover("https")
    fake.alive = {PRIMARY}
    peer = peer_record("beijing", ("gopher://127.0.0.1:70", PRIMARY))
    assert _deliver(transport, peer) == ANSWER
    assert transport.path_status(peer)[0]["last_error"] == (
        "gopher://127.0.0.1:70: no transport for gopher URLs (mounted: https://)"
    )
    with pytest.raises(TransportError, match="no transport for gopher URLs"):
        Mounts({"https": fake}).transport_for("gopher://127.0.0.1:70")


def test_schemes_are_mounted_by_their_bare_name():
    with pytest.raises(ValueError, match="bare lower-case name"):
        Mounts({"https://": FakePaths()})


def test_a_station_mounts_exactly_the_schemes_a_card_may_list():
    mounts = station_mounts("unused.pem", "unused.key", "washington", "signing-key")
    assert set(mounts.schemes) == set(ENDPOINT_SCHEMES)


def test_only_a_relay_among_a_stations_own_endpoints_needs_an_inbox_and_gets_late_answers():
    web, relay = FakePaths(), FakeRelay()
    transport = FailoverTransport(Mounts({"https": web, "nats": relay}), MockClock())
    assert transport.inboxes([PRIMARY, RELAY]) == [("inbox", RELAY)]
    assert transport.inboxes([PRIMARY]) == []

    async def late(peer_id: str, answer: bytes) -> None:
        pass

    def spawn(work: Any, what: str) -> None:
        work.close()

    transport.route_late_answers(late, spawn)
    assert relay.late is late and relay.spawn is spawn


def test_a_relay_starts_no_task_of_its_own():
    """Its answer consumer goes to the station's task group; unwired, delivery fails clearly."""
    relay = NatsRelayTransport("washington", "f" * 40)
    started: list[str] = []

    def spawn(work: Any, what: str) -> None:
        work.close()
        started.append(what)

    with pytest.raises(TransportError, match="not wired to a running station"):
        relay._spawn(_idle(), "answers from relay nats://x")
    relay.route_late_answers(_late_answer, spawn)
    relay._spawn(_idle(), "answers from relay nats://x")
    assert started == ["answers from relay nats://x"]


async def _idle() -> None:
    pass


async def _late_answer(peer_id: str, answer: bytes) -> None:
    pass


# --- the relay inbox -----------------------------------------------------------------------------------


class FlakyRelay:
    """Stands in for a NatsRelay: away for the first ``away`` attempts, then serving until cancelled."""

    def __init__(self, away: int) -> None:
        self.url = RELAY
        self.away = away
        self.attempts = 0
        self.serving = asyncio.Event()

    async def serve_inbox(self, handle_batch: BatchHandler) -> None:
        self.attempts += 1
        if self.attempts <= self.away:
            raise TransportError(f"relay {self.url}: cannot connect (refused)")
        if self.attempts == self.away + 1 and self.away > 1:
            raise RuntimeError("a fault the inbox must survive")
        self.serving.set()
        await asyncio.Event().wait()


def _run_inbox(relay: FlakyRelay, steps: Callable[[MockClock], Awaitable[None]]) -> None:
    clock = MockClock()

    async def handle(sender: str, body: bytes) -> bytes:
        return body

    async def main() -> None:
        task = asyncio.create_task(RelayInbox(relay, clock).run(handle))  # type: ignore[arg-type]
        try:
            await settle()
            await steps(clock)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())


def test_the_relay_inbox_retries_every_five_seconds_while_the_relay_is_away():
    relay = FlakyRelay(away=2)

    async def steps(clock: MockClock) -> None:
        assert relay.attempts == 1
        await clock.advance(INBOX_RETRY_SECONDS - 0.5)
        assert relay.attempts == 1  # not before the retry is due
        await clock.advance(0.5)
        assert relay.attempts == 2
        await clock.advance(INBOX_RETRY_SECONDS)
        assert relay.attempts == 3 and not relay.serving.is_set()  # an unexpected fault: retried too
        await clock.advance(INBOX_RETRY_SECONDS)
        assert relay.attempts == 4 and relay.serving.is_set()
        await clock.advance(10 * INBOX_RETRY_SECONDS)
        assert relay.attempts == 4  # serving: no more attempts

    assert INBOX_RETRY_SECONDS == 5.0
    _run_inbox(relay, steps)
