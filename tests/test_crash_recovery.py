"""kill -9 of either station while messages stream: nothing lost, nothing doubled, chains agree.

Each test runs real ``redline serve`` processes (on SQLite and on PostgreSQL),
streams messages from background threads through the operator API, SIGKILLs a
station in the middle of it, restarts it, and then checks both stations with
``tests/support/checker.py`` (their databases, transcripts and alarms):

* every message the sender answered 201 for is delivered, exactly once, and the
  receiver's inbox holds exactly the sender's outbox, in the sender's order;
* both stations show the same transcript for both directions, seqs 1..n
  contiguous and each ``prev`` the digest before it;
* every outbound message has a receipt, the same one the receiver issued, whose
  signature (checked here, with the receiver's public key) covers that
  message's seq and digest; every inbox envelope's signature checks too;
* no equivocation alarm on either side.

A POST that got no answer because its station was killed may or may not have
been committed; it is not "accepted", but if it is in the outbox it must be
delivered like any other.
"""

from __future__ import annotations

import time

import pytest

from tests.support.checker import (
    BULK_SENDING,
    accepted_count,
    accepted_ids,
    check_link,
    logs_on_failure,
    more_accepted,
    running,
    senders_for,
    texts_of,
    wait_delivered,
    wait_senders_finished,
)
from tests.support.stations import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.faults]

DELIVERY_TIMEOUT = 60.0


# -- the tests -----------------------------------------------------------------------------------


def test_receiver_killed_mid_stream_loses_and_duplicates_nothing(unstarted_pair):
    w, b = unstarted_pair
    for station in (w, b):
        station.configure(**BULK_SENDING)
        station.start()
    with logs_on_failure(w, b), running(senders_for(w, "beijing", 2, 200, budget=45)) as senders:
        wait_for(lambda: accepted_count(senders) >= 100, timeout=30, what="100 messages accepted")
        b.kill9()
        at_kill = accepted_count(senders)
        # Washington keeps taking messages into its outbox while beijing is gone.
        wait_for(
            lambda: more_accepted(senders, at_kill, 50), timeout=20, what="washington accepting, beijing down"
        )
        assert accepted_count(senders) > at_kill, "washington accepted nothing while beijing was down"
        b.start()
        wait_senders_finished(senders, timeout=45)
        for s in senders:
            assert not s.failures, f"washington refused or dropped POSTs: {s.failures[:5]}"

        accepted = {i for s in senders for i in s.accepted}
        wait_delivered(w, "beijing", accepted, DELIVERY_TIMEOUT)
        wb, _ = check_link(w, b, accepted_ids(senders), [], exact_wb=True, texts=texts_of(senders))
        assert wb.texts == len(accepted)


def test_sender_killed_mid_stream_loses_and_duplicates_nothing(unstarted_pair):
    w, b = unstarted_pair
    for station in (w, b):
        station.configure(**BULK_SENDING)
        station.start()
    with logs_on_failure(w, b), running(senders_for(w, "beijing", 2, 200, budget=45)) as senders:
        wait_for(lambda: accepted_count(senders) >= 100, timeout=30, what="100 messages accepted")
        w.kill9()
        at_kill = accepted_count(senders)
        time.sleep(0.5)  # the scenario: washington stays down a while, and the senders' POSTs fail
        w.start()
        wait_for(lambda: accepted_count(senders) > at_kill, timeout=20, what="washington accepting again")
        wait_senders_finished(senders, timeout=45)

        accepted = {i for s in senders for i in s.accepted}
        wait_delivered(w, "beijing", accepted, DELIVERY_TIMEOUT)
        check_link(w, b, accepted_ids(senders), [], exact_wb=False, texts=texts_of(senders))


def test_both_directions_with_each_side_killed_in_turn(unstarted_pair):
    w, b = unstarted_pair
    for station in (w, b):
        station.configure(**BULK_SENDING)
        station.start()
    from_w = senders_for(w, "beijing", 1, 250, budget=50)
    from_b = senders_for(b, "washington", 1, 250, budget=50)
    with logs_on_failure(w, b), running(from_w + from_b):
        wait_for(
            lambda: accepted_count(from_w) >= 60 and accepted_count(from_b) >= 60,
            timeout=30,
            what="60 messages accepted each way",
        )
        b.kill9()
        at_kill = accepted_count(from_w)
        wait_for(lambda: more_accepted(from_w, at_kill, 20), timeout=20, what="washington accepting")
        b.start()
        wait_for(
            lambda: accepted_count(from_w) >= 150 and accepted_count(from_b) >= 130,
            timeout=30,
            what="both accepting after beijing's restart",
        )
        w.kill9()
        at_kill = accepted_count(from_b)
        wait_for(lambda: more_accepted(from_b, at_kill, 20), timeout=20, what="beijing accepting")
        w.start()
        wait_senders_finished(from_w + from_b, timeout=45)

        wait_delivered(w, "beijing", {i for s in from_w for i in s.accepted}, DELIVERY_TIMEOUT)
        wait_delivered(b, "washington", {i for s in from_b for i in s.accepted}, DELIVERY_TIMEOUT)
        check_link(
            w,
            b,
            accepted_ids(from_w),
            accepted_ids(from_b),
            exact_wb=False,
            exact_bw=False,
            texts=texts_of(from_w + from_b),
        )
