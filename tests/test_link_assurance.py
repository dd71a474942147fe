"""Link assurance between two real stations on loopback: link tests, up/degraded/down with alarms,
shared scorecards, suspension by a supervisor, and suspensions that cross while one direction is
cut. Failover/failback between a peer's endpoints, and answers that overtake their receipts, are in
tests/test_link_paths.py; the running pair and HTTP helpers are in tests/support/links.py.

Stations here test every second (``two_stations(test_interval=1.0)``): an unanswered test is missed
after 1 s, one miss makes the link degraded, three make it down. The same for a silent peer, on a mock
clock and in one process, is in tests/unit/test_inprocess_time.py.
"""

from __future__ import annotations

import itertools
import statistics
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.support.forwarder import TcpForwarder
from tests.support.links import (
    INTERVAL,
    SUPERVISOR,
    add_supervisor,
    delivered,
    get,
    link,
    post,
    running_pair,
    send_ok,
    send_text,
    state,
    wait_for_receipts,
    wait_up,
)
from tests.support.stations import StationProcess, free_port, wait_for

TEST_KINDS = ("link_test", "link_test_reply")


# --- helpers ------------------------------------------------------------------------------------------

pytestmark = pytest.mark.slow  # real stations as subprocesses


def card(station: StationProcess, peer: str) -> dict[str, Any]:
    return dict(get(station, f"/links/{peer}/scorecard"))


def active_alarms(station: StationProcess, peer: str) -> list[dict[str, Any]]:
    answer = get(station, "/alarms", type="link_alarms", active="true", limit=1000)
    assert answer["next"] is None
    return [a for a in answer["alarms"] if a["peer_id"] == peer]


def error_message(r: httpx.Response) -> str:
    return str(r.json()["error"]["message"])


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
            # Both ends hold the same phrase catalogue, and each sees that the other does.
            assert view["phrase_catalogue"]["agreed"] is True
            assert view["phrase_catalogue"]["peers"] == view["phrase_catalogue"]["ours"]
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
            wait_for_receipts(station, [m["id"] for m in answered], peer)
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


# --- 2. a dead peer is visible -------------------------------------------------------------------------
# (A silent peer going degraded, then down with an alarm, and back up is checked on a mock clock in
# tests/unit/test_inprocess_time.py; here a real process is killed and restarted.)


@pytest.mark.faults  # kill -9
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


# --- 4. crossing suspensions ---------------------------------------------------------------------------


@pytest.mark.faults  # TCP forwarders cut to make the suspensions cross
def test_crossing_suspensions_leave_both_sides_in_the_same_state(tmp_path):
    """While washington cannot reach beijing, washington's supervisor suspends and resumes the link and
    beijing's supervisor suspends it. Once both directions are back and every service message has
    arrived, the two sides must agree on whether the link is suspended."""
    fport, real_port = free_port(), free_port()
    endpoints = [f"https://127.0.0.1:{fport}"]
    with running_pair(
        tmp_path, beijing_endpoints=endpoints, beijing_link_port=real_port, beijing_first=True
    ) as (w, b, chief):
        b_chief = add_supervisor(b)
        with TcpForwarder(fport, real_port):
            wait_up(w, "beijing")
            wait_up(b, "washington")
        # washington -> beijing is cut; beijing -> washington still works.
        assert post(w, "/links/beijing/suspend", chief, reason="w: review").status_code == 201
        assert post(w, "/links/beijing/resume", chief, reason="w: review done").status_code == 201
        r = post(b, "/links/washington/suspend", b_chief, reason="b: review")
        assert r.status_code in (201, 409), r.text  # refusing to cross would be a fair design too
        if r.status_code == 201:
            wait_for(lambda: link(w, "beijing")["suspended"], 10.0, 0.1, "washington to hear beijing")
        with TcpForwarder(fport, real_port):
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
