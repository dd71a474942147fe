"""Pure units of link assurance: the up/degraded/down state machine and slot alternation.

The hold-down, failover and failback of paths are tested in test_transport_failover.py.
"""

from __future__ import annotations

import pytest

from redline.domain.link_health import (
    DOWN_AFTER,
    MAX_ANSWER_TIMEOUT,
    LinkHealth,
    LinkState,
    Transition,
    answer_timeout,
)
from redline.services.assurance import LinkTester
from tests.support.records import peer_record

# --- LinkHealth ---------------------------------------------------------------------------------------


def test_a_new_link_is_unknown_and_an_answer_brings_it_up():
    h = LinkHealth(interval=1.0)
    assert h.state is LinkState.UNKNOWN and h.consecutive_missed == 0 and h.last_rtt is None
    h.test_sent("t1", 100.0)
    t = h.test_answered("t1", 100.25)
    assert t == Transition(LinkState.UNKNOWN, LinkState.UP, t.reason)
    assert h.state is LinkState.UP
    assert h.last_rtt == pytest.approx(0.25)
    assert h.last_answered_at == 100.25
    # A second answer while up is no transition.
    h.test_sent("t2", 101.0)
    assert h.test_answered("t2", 101.1) is None
    assert h.last_rtt == pytest.approx(0.1)


def test_ticks_before_the_timeout_change_nothing():
    h = LinkHealth(interval=1.0)
    h.test_sent("t1", 0.0)
    h.test_answered("t1", 0.1)
    h.test_sent("t2", 10.0)
    for now in (10.0, 10.25, 10.5, 10.99, 11.0):  # exactly the timeout is not yet a miss
        assert h.tick(now) is None
    assert h.state is LinkState.UP and h.consecutive_missed == 0
    assert h.tick(11.01) is not None


def test_one_miss_degrades_three_take_the_link_down_and_an_answer_brings_it_back():
    h = LinkHealth(interval=1.0)
    h.test_sent("t0", 0.0)
    h.test_answered("t0", 0.1)

    h.test_sent("t1", 1.0)
    t = h.tick(2.5)
    assert t is not None and (t.before, t.after) == (LinkState.UP, LinkState.DEGRADED)
    assert h.consecutive_missed == 1 and "1 link test" in t.reason

    h.test_sent("t2", 3.0)
    assert h.tick(4.5) is None  # still degraded: no new transition
    assert h.state is LinkState.DEGRADED and h.consecutive_missed == 2

    h.test_sent("t3", 5.0)
    t = h.tick(6.5)
    assert t is not None and (t.before, t.after) == (LinkState.DEGRADED, LinkState.DOWN)
    assert h.consecutive_missed == DOWN_AFTER == 3

    h.test_sent("t4", 7.0)
    assert h.tick(8.5) is None  # down stays down
    assert h.consecutive_missed == 4

    rtt_before = h.last_rtt
    # A late answer to a test already counted as missed still proves the link works.
    t = h.test_answered("t1", 9.0)
    assert t is not None and (t.before, t.after) == (LinkState.DOWN, LinkState.UP)
    assert h.consecutive_missed == 0
    assert h.last_rtt == rtt_before  # no round trip is measured for a test no longer outstanding


def test_an_answer_after_one_miss_brings_a_degraded_link_up():
    h = LinkHealth(interval=2.0)
    h.test_sent("a", 0.0)
    t = h.tick(2.1)
    assert t is not None and (t.before, t.after) == (LinkState.UNKNOWN, LinkState.DEGRADED)
    h.test_sent("b", 3.0)
    t = h.test_answered("b", 3.5)
    assert t is not None and (t.before, t.after) == (LinkState.DEGRADED, LinkState.UP)
    assert h.last_rtt == pytest.approx(0.5)


def test_several_overdue_tests_in_one_tick_count_each():
    h = LinkHealth(interval=1.0)
    for i in range(3):
        h.test_sent(f"t{i}", float(i) * 0.1)
    t = h.tick(5.0)
    assert t is not None and t.after is LinkState.DOWN and h.consecutive_missed == 3
    assert h.tick(6.0) is None  # each test is counted once only


def test_answer_timeout_is_the_interval_capped_at_sixty_seconds():
    assert answer_timeout(1.0) == 1.0
    assert answer_timeout(30.0) == 30.0
    assert answer_timeout(60.0) == 60.0
    assert answer_timeout(3600.0) == MAX_ANSWER_TIMEOUT == 60.0
    h = LinkHealth(interval=3600.0)
    h.test_sent("t", 0.0)
    assert h.tick(59.0) is None and h.tick(60.0) is None
    t = h.tick(60.5)
    assert t is not None and t.after is LinkState.DEGRADED and "60 s" in t.reason


# --- alternation of the two sides' test slots -----------------------------------------------------------


@pytest.mark.parametrize(
    ("me", "peer", "now", "expected"),
    [
        ("beijing", "washington", 103.0, 110.0),  # sorts first: on the interval
        ("beijing", "washington", 110.0, 120.0),
        ("washington", "beijing", 103.0, 105.0),  # sorts second: half an interval later
        ("washington", "beijing", 105.0, 115.0),
        ("washington", "beijing", 106.0, 115.0),
    ],
)
def test_the_two_sides_test_half_an_interval_apart(me, peer, now, expected):
    # The slot depends only on the two ids and the interval: no store, outbox or callbacks needed.
    tester = object.__new__(LinkTester)
    tester._me_id, tester.peer, tester.interval = me, peer_record(peer), 10.0
    assert tester._next_slot(now) == expected
