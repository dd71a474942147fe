"""Link assurance between two real stations on loopback: link tests, up/degraded/down with alarms,
shared scorecards, suspension by a supervisor, failover/failback between a peer's endpoints, answers
that overtake their receipts, and suspensions that cross while one direction is cut.

Stations here test every second (``make_pair(test_interval=1.0)``): an unanswered test is missed
after 1 s, one miss makes the link degraded, three make it down.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import itertools
import os
import signal
import statistics
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from redline.domain.stations import Role
from redline.services import operators
from redline.services.station import init_station
from redline.store.sql import Store
from tests.support import stations as support
from tests.support.stations import (
    StationProcess,
    create_pg_database,
    drop_pg_database,
    free_port,
    make_pair,
    wait_for,
)

INTERVAL = 1.0
SUPERVISOR = "chief"
TEST_KINDS = ("link_test", "link_test_reply")


# --- helpers ------------------------------------------------------------------------------------------


def _urls(backend: str, root: Path) -> tuple[str, str]:
    if backend == "sqlite":
        return (f"sqlite:///{root}/washington.db", f"sqlite:///{root}/beijing.db")
    return (create_pg_database(), create_pg_database())


def _add_supervisor(station: StationProcess) -> str:
    async def go() -> str:
        store = await Store.open(station.database_url)
        try:
            return await operators.add_operator(store, SUPERVISOR, Role.SUPERVISOR)
        finally:
            await store.close()

    return asyncio.run(go())


def _pair_with_endpoints(
    root: Path, urls: tuple[str, str], beijing_endpoints: list[str], beijing_link_port: int
) -> tuple[StationProcess, StationProcess]:
    """Like make_pair, but beijing's card advertises ``beijing_endpoints`` (in order of preference)."""

    async def go() -> tuple[StationProcess, StationProcess]:
        wa, wl, ba = free_port(), free_port(), free_port()
        w = await init_station(
            root / "washington",
            "washington",
            "Washington",
            urls[0],
            api_port=wa,
            link_port=wl,
            link_test_interval=INTERVAL,
        )
        b = await init_station(
            root / "beijing",
            "beijing",
            "Beijing",
            urls[1],
            api_port=ba,
            link_port=beijing_link_port,
            endpoints=beijing_endpoints,
            link_test_interval=INTERVAL,
        )
        wt = await support._pair(w, b, True)
        bt = await support._pair(b, w, True)
        return (
            StationProcess("washington", w.files.root, urls[0], wa, wl, wt),
            StationProcess("beijing", b.files.root, urls[1], ba, beijing_link_port, bt),
        )

    return asyncio.run(go())


@contextlib.contextmanager
def running_pair(
    root: Path,
    backend: str = "sqlite",
    *,
    beijing_endpoints: list[str] | None = None,
    beijing_link_port: int | None = None,
    beijing_first: bool = False,
) -> Iterator[tuple[StationProcess, StationProcess, str]]:
    """washington and beijing testing every second, running; yields them and a supervisor token
    for washington."""
    urls = _urls(backend, root)
    try:
        if beijing_endpoints is None:
            w, b = make_pair(root, urls, test_interval=INTERVAL)
        else:
            assert beijing_link_port is not None
            w, b = _pair_with_endpoints(root, urls, beijing_endpoints, beijing_link_port)
        chief = _add_supervisor(w)
        try:
            for s in (b, w) if beijing_first else (w, b):
                s.start()
            yield w, b, chief
        finally:
            for s in (w, b):
                if s.proc is not None and s.proc.poll() is None:
                    os.kill(s.proc.pid, signal.SIGCONT)  # never leave a stopped process behind
                s.stop()
    finally:
        if backend == "postgres":
            for url in urls:
                drop_pg_database(url)


def get(station: StationProcess, path: str, token: str | None = None, **params: Any) -> Any:
    with station.client(token) as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, f"GET {path}: {r.status_code} {r.text}"
    return r.json()


def status(station: StationProcess, path: str) -> int:
    with station.client() as c:
        return c.get(path).status_code


def post(station: StationProcess, path: str, token: str | None = None, **body: Any) -> httpx.Response:
    with station.client(token) as c:
        return c.post(path, json=body)


def send_text(station: StationProcess, to: str, text: str) -> httpx.Response:
    return post(station, "/messages", to=to, precedence="ROUTINE", text=text, lang="en")


def send_ok(station: StationProcess, to: str, text: str) -> str:
    r = send_text(station, to, text)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def link(station: StationProcess, peer: str) -> dict[str, Any]:
    return dict(get(station, f"/links/{peer}"))


def card(station: StationProcess, peer: str) -> dict[str, Any]:
    return dict(get(station, f"/links/{peer}/scorecard"))


def state(station: StationProcess, peer: str) -> str:
    return str(link(station, peer)["state"])


def active_alarms(station: StationProcess, peer: str) -> list[dict[str, Any]]:
    return [a for a in get(station, "/alarms")["active_link_alarms"] if a["peer_id"] == peer]


def wait_up(station: StationProcess, peer: str, timeout: float = 20.0) -> None:
    wait_for(lambda: state(station, peer) == "up", timeout, 0.1, f"{station.station_id}'s link to {peer} up")


def delivered(station: StationProcess, message_id: str) -> bool:
    return get(station, f"/messages/{message_id}")["state"] in ("delivered", "acknowledged")


def error_message(r: httpx.Response) -> str:
    return str(r.json()["error"]["message"])


def _wait_for_receipts(station: StationProcess, message_ids: list[str], peer: str) -> None:
    def missing() -> list[str]:
        return [m for m in message_ids if get(station, f"/messages/{m}")["receipt"] is None]

    left: list[str] = []

    def all_receipted() -> bool:
        left[:] = missing()
        return not left

    with contextlib.suppress(AssertionError):
        wait_for(all_receipted, 8.0, 0.2, "receipts")
    rows = [get(station, f"/messages/{m}") for m in left]
    assert not left, f"{station.station_id} never recorded {peer}'s receipt for: " + "; ".join(
        f"{r['kind']} seq {r['seq']} state {r['state']} delivered_at {r['delivered_at']}" for r in rows
    )
    for m in message_ids:
        receipt = get(station, f"/messages/{m}")["receipt"]
        assert receipt["by"] == peer and receipt["signature_verified"] is True


def epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


# --- 1. link tests flow both ways ---------------------------------------------------------------------


def test_link_tests_flow_both_ways_with_scorecards_shared_and_out_of_the_operator_boxes(tmp_path):
    with running_pair(tmp_path) as (w, b, _):
        sides = ((w, "beijing"), (b, "washington"))

        def scored() -> list[dict[str, Any]] | None:
            cards = [card(s, p) for s, p in sides]
            for c in cards:
                ours = c["ours"]
                if not (
                    ours["tests_sent"] >= 2
                    and ours["tests_answered"] >= 2
                    and ours["tests_received"] >= 2
                    and c["peers"] is not None
                ):
                    return None
            return cards

        cards = wait_for(scored, 20.0, 0.2, "two answered link tests each way and shared scorecards")
        for (station, peer), c in zip(sides, cards, strict=True):
            me = station.station_id
            assert c["link"] == f"{me}<->{peer}"
            assert c["ours"]["median_rtt_ms"] > 0 and c["ours"]["last_rtt_ms"] > 0
            assert c["ours"]["last_test_at"] is not None
            # What the peer shared is its own view of the link, as of its last test.
            peers = c["peers"]
            assert set(peers) >= {"tests_sent", "tests_answered", "tests_received", "median_rtt_ms"}
            assert 1 <= peers["tests_sent"] <= card(w if station is b else b, me)["ours"]["tests_sent"]

            (view,) = get(station, "/links")["links"]
            assert view["peer"] == peer and view["state"] == "up"
            assert view["tests"]["state"] == "up" and view["tests"]["interval_s"] == INTERVAL
            assert view["tests"]["last_rtt_ms"] > 0 and view["tests"]["consecutive_missed"] == 0
            assert view["suspended"] is False
            assert view["peer_scorecard"] is not None
            assert [p["state"] for p in view["paths"]] == ["up"]
            assert active_alarms(station, peer) == []

        # Link tests are ordinary signed envelopes on the chain, receipted and answered.
        for station, peer in sides:
            me = station.station_id
            tests = get(station, "/messages", box="outbox", kind="link_test", limit=1000)["messages"]
            assert len(tests) >= 2
            transcript = get(station, f"/transcript/{peer}")
            chain = transcript[f"{me}->{peer}"]
            assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
            assert all(chain[i]["prev"] == chain[i - 1]["digest"] for i in range(1, len(chain)))
            on_chain = {(e["seq"], e["digest"]) for e in chain}
            answered = [m for m in tests if m["acknowledgement"] is not None]
            assert len(answered) >= 2
            for m in tests:
                assert m["kind"] == "link_test" and m["created_by"] == "system"
                assert (m["seq"], m["digest"]) in on_chain
            for m in answered:
                assert m["acknowledgement"]["by"] == peer
            # Each carries the peer's signed receipt (given a moment for one still in flight).
            _wait_for_receipts(station, [m["id"] for m in answered], peer)
            replies = get(station, "/messages", box="inbox", kind="link_test_reply", limit=1000)["messages"]
            assert {m["id"] for m in answered} <= {r["answers"] for r in replies}

        # The chain keeps growing, and both sides hold the same transcript.
        before = len(get(w, "/transcript/beijing")["washington->beijing"])
        wait_for(
            lambda: len(get(w, "/transcript/beijing")["washington->beijing"]) >= before + 2,
            10.0,
            0.2,
            "washington's chain to grow with link tests",
        )
        tw, tb = get(w, "/transcript/beijing"), get(b, "/transcript/washington")
        for direction in ("washington->beijing", "beijing->washington"):
            common = min(len(tw[direction]), len(tb[direction]))
            assert common >= 2 and tw[direction][:common] == tb[direction][:common]

        # No operator clutter: the default boxes hold text and service messages only.
        for station, _ in sides:
            for box in ("inbox", "outbox"):
                assert get(station, "/messages", box=box)["messages"] == []
                everything = get(station, "/messages", box=box, kind="all", limit=1000)["messages"]
                assert {m["kind"] for m in everything} == set(TEST_KINDS)

        # The two sides alternate: beijing (sorting first) tests on the second, washington half a
        # second later. The first test of each side, sent as it starts, is off the schedule.
        def phases(station: StationProcess) -> list[float]:
            rows = get(station, "/messages", box="outbox", kind="link_test", limit=1000)["messages"]
            stamps = sorted(epoch(m["ts"]) for m in rows)[1:]
            assert len(stamps) >= 2
            gaps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
            assert all(0.5 < g < 1.6 for g in gaps), gaps  # one test per interval
            return [s % INTERVAL for s in stamps]

        offset = (statistics.median(phases(w)) - statistics.median(phases(b))) % INTERVAL
        assert 0.3 < offset < 0.7, f"washington tests {offset:.3f} s after beijing, not half an interval"

        # An operator can ask for a test at once.
        r = post(w, "/links/beijing/test")
        assert r.status_code == 201, r.text
        test_id = r.json()["test_id"]
        answered_now = wait_for(
            lambda: (m := get(w, f"/messages/{test_id}"))["acknowledgement"] is not None and m,
            10.0,
            0.1,
            "the requested test to be answered",
        )
        assert answered_now["kind"] == "link_test" and answered_now["acknowledgement"]["by"] == "beijing"


# --- 2. silence is visible ----------------------------------------------------------------------------


def _silence_is_seen(observer: StationProcess, silent: StationProcess) -> None:
    """SIGSTOP ``silent``: ``observer`` sees its link go degraded, then down, with an alarm; SIGCONT:
    up again and the alarm cleared."""
    peer = silent.station_id
    assert silent.proc is not None
    seen: list[str] = []

    def observe() -> str:
        now = state(observer, peer)
        if not seen or seen[-1] != now:
            seen.append(now)
        return now

    wait_up(observer, peer)
    os.kill(silent.proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        wait_for(lambda: observe() == "down", 15.0, 0.05, f"{observer.station_id} to see {peer} down")
        took = time.monotonic() - started
        assert seen.index("degraded") < seen.index("down"), seen
        assert took < 10.0  # three misses of 1 s tests: about 3-4 s

        view = link(observer, peer)
        assert view["tests"]["consecutive_missed"] >= 3
        alarms = get(observer, "/alarms")
        active = [a for a in alarms["active_link_alarms"] if a["peer_id"] == peer]
        assert len(active) == 1 and active[0]["state"] == "down", active
        assert active[0]["cleared_at"] is None and "unanswered" in active[0]["detail"]
        history = sorted((a for a in alarms["link_alarms"] if a["peer_id"] == peer), key=lambda a: a["id"])
        assert [a["state"] for a in history[-2:]] == ["degraded", "down"]
        assert history[-2]["cleared_at"] is not None  # the degraded alarm gave way to the down one
    finally:
        os.kill(silent.proc.pid, signal.SIGCONT)

    wait_for(lambda: observe() == "up", 20.0, 0.1, f"{observer.station_id} to see {peer} up again")
    wait_for(lambda: active_alarms(observer, peer) == [], 10.0, 0.1, "the link alarm to clear")
    assert link(observer, peer)["tests"]["consecutive_missed"] == 0
    # The stopped side recovers too (it may have counted its own unanswered tests while frozen).
    wait_up(silent, observer.station_id)
    wait_for(
        lambda: active_alarms(silent, observer.station_id) == [], 10.0, 0.1, "no alarm on the other side"
    )


def test_a_silent_peer_goes_degraded_then_down_with_an_alarm_and_comes_back_up(tmp_path):
    with running_pair(tmp_path) as (w, b, _):
        _silence_is_seen(observer=w, silent=b)
        _silence_is_seen(observer=b, silent=w)


def test_a_killed_peer_goes_down_and_comes_back_up_after_restart(tmp_path):
    with running_pair(tmp_path) as (w, b, _):
        wait_up(w, "beijing")
        wait_up(b, "washington")
        b.kill9()
        wait_for(lambda: state(w, "beijing") == "down", 15.0, 0.1, "washington to see beijing down")
        (alarm,) = active_alarms(w, "beijing")
        assert alarm["state"] == "down"
        view = link(w, "beijing")
        assert view["paths"][0]["state"] == "down" and view["queue_depth"] >= 1  # tests wait in the outbox

        b.start()
        wait_up(w, "beijing")
        wait_up(b, "washington")
        wait_for(lambda: active_alarms(w, "beijing") == [], 10.0, 0.1, "washington's alarm to clear")
        wait_for(lambda: link(w, "beijing")["queue_depth"] == 0, 15.0, 0.1, "the backlog to drain")
        mid = send_ok(w, "beijing", "after the restart")
        wait_for(lambda: delivered(w, mid), 15.0, 0.1, "a text after the restart")


# --- 3. suspension ------------------------------------------------------------------------------------


def test_a_supervisor_suspends_and_resumes_the_link(tmp_path, backend):
    with running_pair(tmp_path, backend) as (w, b, chief):
        wait_up(w, "beijing")
        wait_up(b, "washington")

        r = post(w, "/links/beijing/suspend", reason="operators may not")
        assert r.status_code == 403, r.text
        assert link(w, "beijing")["suspended"] is False

        r = post(w, "/links/beijing/suspend", chief, reason="exercise: link under review")
        assert r.status_code == 201, r.text
        suspend_id = r.json()["service_message_id"]
        here = r.json()["link"]
        assert here["suspended"] is True and here["suspended_by"] == SUPERVISOR and here["suspended_at"]
        there = wait_for(
            lambda: (v := link(b, "washington"))["suspended"] and v,
            15.0,
            0.1,
            "beijing to learn of the suspension",
        )
        assert there["suspended_by"] == f"washington/{SUPERVISOR}"

        # The suspension is a signed service envelope, visible in both operators' boxes.
        wait_for(lambda: delivered(w, suspend_id), 15.0, 0.1, "the service message delivered")
        (service_out,) = get(w, "/messages", box="outbox")["messages"]
        assert service_out["kind"] == "service" and service_out["id"] == suspend_id
        assert service_out["action"] == "suspend" and service_out["by"] == SUPERVISOR
        assert service_out["reason"] == "exercise: link under review"
        (service_in,) = get(b, "/messages", box="inbox")["messages"]
        assert service_in["id"] == suspend_id and service_in["action"] == "suspend"

        # No text either way while suspended.
        for station, peer in ((w, "beijing"), (b, "washington")):
            r = send_text(station, peer, "should not go")
            assert r.status_code == 409, r.text
            assert "suspended" in error_message(r)
        r = post(w, "/links/beijing/suspend", chief, reason="twice")
        assert r.status_code == 409 and "already suspended" in error_message(r)

        # Link tests keep flowing, and the link stays up.
        sent = {
            s.station_id: card(s, p)["ours"]["tests_sent"] for s, p in ((w, "beijing"), (b, "washington"))
        }
        wait_for(
            lambda: (
                card(w, "beijing")["ours"]["tests_sent"] >= sent["washington"] + 2
                and card(b, "washington")["ours"]["tests_sent"] >= sent["beijing"] + 2
            ),
            15.0,
            0.2,
            "link tests to keep flowing while suspended",
        )
        assert state(w, "beijing") == "up" and state(b, "washington") == "up"
        assert link(w, "beijing")["suspended"] and link(b, "washington")["suspended"]

        # An operator at beijing may not resume it either.
        r = post(b, "/links/washington/resume", reason="not mine")
        assert r.status_code == 403, r.text

        r = post(w, "/links/beijing/resume", chief, reason="review complete")
        assert r.status_code == 201, r.text
        resume_id = r.json()["service_message_id"]
        assert r.json()["link"]["suspended"] is False
        wait_for(
            lambda: not link(b, "washington")["suspended"], 15.0, 0.1, "beijing to learn of the resumption"
        )
        assert link(w, "beijing")["suspended_at"] is None
        r = post(w, "/links/beijing/resume", chief, reason="twice")
        assert r.status_code == 409 and "has not suspended" in error_message(r)

        to_b = send_ok(w, "beijing", "traffic resumed")
        to_w = send_ok(b, "washington", "copy, traffic resumed")
        wait_for(lambda: delivered(w, to_b) and delivered(b, to_w), 15.0, 0.1, "texts after resumption")
        assert [m["text"] for m in get(b, "/messages", box="inbox", kind="text")["messages"]] == [
            "traffic resumed"
        ]
        assert [m["text"] for m in get(w, "/messages", box="inbox", kind="text")["messages"]] == [
            "copy, traffic resumed"
        ]

        # The audit log (supervisors may read it, operators may not) records both service messages.
        with w.client() as c:
            assert c.get("/audit").status_code == 403
        events = get(w, "/audit", chief)["events"]
        by_chief = {e["detail"].get("message"): e for e in events if e["actor"] == SUPERVISOR}
        assert suspend_id in by_chief and resume_id in by_chief, events[:10]
        assert by_chief[suspend_id]["detail"]["peer"] == "beijing"


# --- 4. failover and failback -------------------------------------------------------------------------


class Forwarder:
    """A loopback TCP forwarder (listen_port -> target_port) in a background thread, counting
    connections and the bytes it carries towards the target; optionally slow on the way back."""

    def __init__(self, listen_port: int, target_port: int, delay_back: float = 0.0) -> None:
        self.listen_port, self.target_port = listen_port, target_port
        self.delay_back = delay_back  # latency added to every byte coming back from the target
        self.connections = 0
        self.bytes_forwarded = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="forwarder", daemon=True)

    def __enter__(self) -> Forwarder:
        self._thread.start()
        if not self._ready.wait(10.0) or self._error is not None:
            raise RuntimeError(f"forwarder did not start: {self._error!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10.0)
        assert not self._thread.is_alive(), "forwarder did not stop"

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported by __enter__
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        writers: set[asyncio.StreamWriter] = set()

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool) -> None:
            try:
                while data := await reader.read(65536):
                    if count:
                        self.bytes_forwarded += len(data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.close()

        async def slow_pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            """Like pipe, but every chunk arrives ``delay_back`` seconds after it was read."""
            chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

            async def read() -> None:
                try:
                    while data := await reader.read(65536):
                        chunks.put_nowait((time.monotonic() + self.delay_back, data))
                except (ConnectionError, OSError):
                    pass
                chunks.put_nowait((time.monotonic() + self.delay_back, b""))

            reading = asyncio.create_task(read())
            try:
                while True:
                    due, data = await chunks.get()
                    await asyncio.sleep(max(0.0, due - time.monotonic()))
                    if not data:
                        break
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                reading.cancel()
                writer.close()

        async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
            self.connections += 1
            writers.add(client_w)
            try:
                target_r, target_w = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                client_w.close()
                return
            writers.add(target_w)
            back = slow_pipe(target_r, client_w) if self.delay_back else pipe(target_r, client_w, False)
            await asyncio.gather(pipe(client_r, target_w, True), back)

        server = await asyncio.start_server(handle, "127.0.0.1", self.listen_port)
        self._ready.set()
        await self._stop.wait()
        server.close()
        for writer in writers:
            writer.transport.abort()  # cut connections in flight, as a dead router would
        await server.wait_closed()
        await asyncio.sleep(0.05)


def test_failover_to_the_second_endpoint_and_failback_to_the_first(tmp_path):
    primary_port, real_port = free_port(), free_port()
    primary = f"https://127.0.0.1:{primary_port}"  # nobody listens here at first
    real = f"https://127.0.0.1:{real_port}"
    # Beijing starts first, so that only the dead primary fails (were both paths down, every retry
    # would try both and push the primary's hold-down to its 30 s cap within a second).
    pair = running_pair(
        tmp_path, beijing_endpoints=[primary, real], beijing_link_port=real_port, beijing_first=True
    )
    with pair as (w, b, _):
        sent: list[str] = []

        def send_batch(n: int, label: str) -> list[str]:
            ids = []
            for i in range(n):
                text = f"{label} {i}"
                ids.append(send_ok(w, "beijing", text))
                sent.append(text)
            return ids

        def paths() -> list[dict[str, Any]]:
            return list(link(w, "beijing")["paths"])

        # The primary is dead: everything goes by the second path at once.
        ids = send_batch(3, "failover")
        wait_for(lambda: all(delivered(w, m) for m in ids), 15.0, 0.1, "delivery over the second path")
        p = paths()
        assert [x["url"] for x in p] == [primary, real]
        assert p[0]["state"] == "down" and p[0]["consecutive_failures"] >= 1 and p[0]["last_error"]
        assert p[1]["state"] == "up"
        wait_up(w, "beijing")

        with Forwarder(primary_port, real_port) as fwd:
            # The primary comes to life: once its hold-down ends, deliveries use it again.
            deadline = time.monotonic() + 45.0
            i = 0
            while paths()[0]["state"] != "up":
                assert time.monotonic() < deadline, f"no failback within 45 s: {paths()}"
                send_batch(1, f"waiting {i}")
                i += 1
                time.sleep(0.5)
            assert fwd.connections >= 1
            assert [x["state"] for x in paths()] == ["up", "up"]
            carried = fwd.bytes_forwarded
            ids = send_batch(3, "failback")
            wait_for(lambda: all(delivered(w, m) for m in ids), 15.0, 0.1, "delivery over the primary")
            assert fwd.bytes_forwarded > carried, "deliveries after failback did not use the primary"
            assert paths()[0]["state"] == "up"

        # The primary dies again: failover once more, nothing lost, nothing twice.
        ids = send_batch(5, "after")
        wait_for(lambda: all(delivered(w, m) for m in ids), 20.0, 0.1, "delivery after the primary died")
        wait_for(lambda: paths()[0]["state"] == "down", 15.0, 0.1, "the primary to be marked down")
        assert paths()[1]["state"] == "up"
        wait_up(w, "beijing")

        inbox = get(b, "/messages", box="inbox", kind="text", limit=1000)["messages"]
        counts = collections.Counter(m["text"] for m in inbox)
        assert counts == collections.Counter(sent), "each text delivered exactly once"
        assert all(n == 1 for n in counts.values())
        ordered = [m["text"] for m in sorted(inbox, key=lambda m: m["seq"])]
        assert ordered == sent
        tw, tb = get(w, "/transcript/beijing"), get(b, "/transcript/washington")
        chain = tw["washington->beijing"]
        assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
        common = min(len(chain), len(tb["washington->beijing"]))
        assert chain[:common] == tb["washington->beijing"][:common]


# --- 5. an answer that overtakes its receipt -------------------------------------------------------------


def test_an_answer_that_overtakes_its_receipt_does_not_lose_the_receipt(tmp_path):
    """Beijing's receipts reach washington a second late (a slow return path), while beijing's answers,
    sent on its own connection, arrive at once: link test replies and a quick human acknowledgement
    overtake the receipts. Washington must still record every receipt."""
    fport, real_port = free_port(), free_port()
    endpoints = [f"https://127.0.0.1:{fport}"]
    with (
        Forwarder(fport, real_port, delay_back=1.0),
        running_pair(
            tmp_path, beijing_endpoints=endpoints, beijing_link_port=real_port, beijing_first=True
        ) as (w, b, _),
    ):
        wait_up(w, "beijing")
        mid = send_ok(w, "beijing", "acknowledge at once, please")
        wait_for(lambda: status(b, f"/messages/{mid}") == 200, 10.0, 0.05, "arrival at beijing")
        r = post(b, f"/messages/{mid}/ack")
        assert r.status_code == 201, r.text
        wait_for(lambda: get(w, f"/messages/{mid}")["state"] == "acknowledged", 10.0, 0.05, "the ack")

        tests = get(w, "/messages", box="outbox", kind="link_test", limit=1000)["messages"]
        answered = [m["id"] for m in tests if m["acknowledgement"] is not None]
        assert len(answered) >= 1
        _wait_for_receipts(w, [mid, *answered], "beijing")
        text = get(w, f"/messages/{mid}")
        assert text["delivered_at"] is not None and text["acknowledgement"]["by"] == "beijing/duty"


# --- 6. crossing suspensions ---------------------------------------------------------------------------


def test_crossing_suspensions_leave_both_sides_in_the_same_state(tmp_path):
    """While washington cannot reach beijing, washington's supervisor suspends and resumes the link and
    beijing's supervisor suspends it. Once both directions are back and every service message has
    arrived, the two sides must agree on whether the link is suspended."""
    fport, real_port = free_port(), free_port()
    endpoints = [f"https://127.0.0.1:{fport}"]
    with running_pair(
        tmp_path, beijing_endpoints=endpoints, beijing_link_port=real_port, beijing_first=True
    ) as (w, b, chief):
        b_chief = _add_supervisor(b)
        with Forwarder(fport, real_port):
            wait_up(w, "beijing")
            wait_up(b, "washington")
        # washington -> beijing is cut; beijing -> washington still works.
        assert post(w, "/links/beijing/suspend", chief, reason="w: review").status_code == 201
        assert post(w, "/links/beijing/resume", chief, reason="w: review done").status_code == 201
        r = post(b, "/links/washington/suspend", b_chief, reason="b: review")
        assert r.status_code in (201, 409), r.text  # refusing to cross would be a fair design too
        if r.status_code == 201:
            wait_for(lambda: link(w, "beijing")["suspended"], 10.0, 0.1, "washington to hear beijing")
        with Forwarder(fport, real_port):
            wait_for(
                lambda: link(w, "beijing")["queue_depth"] == 0, 30.0, 0.2, "washington's backlog to drain"
            )
            wait_for(
                lambda: link(b, "washington")["queue_depth"] == 0, 10.0, 0.2, "beijing's backlog to drain"
            )
            here, there = link(w, "beijing"), link(b, "washington")
            assert here["suspended"] == there["suspended"], (
                f"split brain: washington suspended={here['suspended']} (by {here['suspended_by']}), "
                f"beijing suspended={there['suspended']} (by {there['suspended_by']})"
            )
