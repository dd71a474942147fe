"""Network faults between two real stations, each in its own network namespace, checked Jepsen-style.

washington and beijing run as ``redline serve`` inside two namespaces joined by one
veth pair (``tests/support/netns.py``); the test process reaches their operator APIs
through forwarders, never across that veth. Faults go on the veth -- nftables drops
some or all packets, ``tc tbf`` limits the bandwidth -- or come from a fault-injecting
HTTP proxy in front of each station's link (``tests/support/fault_proxy.py``), which
delays, duplicates, holds back (reorders) and refuses whole requests. The stations are
killed with SIGKILL in the middle of a burst of 2,000 messages each way.

Sequential clients post through both APIs during the fault; afterwards
``tests/support/checker.py`` verifies, for both directions: nothing lost, nothing
duplicated, per-link order, identical transcripts on both stations, every envelope
and receipt signature valid, no equivocation.

These tests need root, ``ip netns``, nftables and tc: where those are missing they
FAIL with the reason (``make netfaults`` installs nftables); they never skip.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.checker import (
    BULK_SENDING,
    Sender,
    accepted_count,
    accepted_ids,
    check_link,
    logs_on_failure,
    more_accepted,
    outbox_progress,
    running,
    senders_for,
    texts_of,
    wait_delivered,
    wait_senders_finished,
)
from tests.support.fault_proxy import NO_FAULTS, FaultProxy, Faults
from tests.support.netns import LINK_PORT, PROXY_PORT, LinkNet, NetnsStation, NetnsUnavailable, netns_pair
from tests.support.stations import wait_for

pytestmark = [pytest.mark.slow, pytest.mark.faults]

DELIVERY_TIMEOUT = 90.0  # after a fault ends: backoff cap 5 s, HTTP timeout 10 s, TCP retransmission


@contextlib.contextmanager
def namespaced_stations(
    root: Path, proxied: bool = False, start: bool = True
) -> Iterator[tuple[LinkNet, NetnsStation, NetnsStation]]:
    """Both stations (running, unless ``start`` is false) in their namespaces; torn down afterwards.

    Used inside each test rather than as a fixture, so that missing root, ``ip netns``,
    nftables or tc makes the test FAIL with the reason, never skip or error out in setup.
    """
    try:
        with netns_pair(root, proxied) as (net, w, b):
            w.configure(**BULK_SENDING)
            b.configure(**BULK_SENDING)
            if start:
                w.start()
                b.start()
            yield net, w, b
    except NetnsUnavailable as exc:
        pytest.fail(f"network fault suite unavailable: {exc}", pytrace=False)


def both_ways(
    w: NetnsStation, b: NetnsStation, clients: int, quota: int, budget: float, pad: int = 0
) -> tuple[list[Sender], list[Sender]]:
    return (
        senders_for(w, "beijing", clients, quota, budget, pad),
        senders_for(b, "washington", clients, quota, budget, pad),
    )


def settle_and_check(
    w: NetnsStation,
    b: NetnsStation,
    from_w: list[Sender],
    from_b: list[Sender],
    *,
    exact: bool = True,
) -> None:
    wait_delivered(w, "beijing", {i for s in from_w for i in s.accepted}, DELIVERY_TIMEOUT)
    wait_delivered(b, "washington", {i for s in from_b for i in s.accepted}, DELIVERY_TIMEOUT)
    wb, bw = check_link(
        w,
        b,
        accepted_ids(from_w),
        accepted_ids(from_b),
        exact_wb=exact,
        exact_bw=exact,
        texts=texts_of(from_w + from_b),
    )
    assert wb.accepted == sum(s.quota for s in from_w) and bw.accepted == sum(s.quota for s in from_b)


def undelivered(station: NetnsStation, peer: str) -> int:
    return outbox_progress(station, peer)[1]


# -- the tests -----------------------------------------------------------------------------------


def test_thirty_percent_packet_loss(tmp_path: Path):
    """30% of the packets on the veth dropped, both ways, during a burst of 400 messages each way."""
    with namespaced_stations(tmp_path) as (net, w, b):
        from_w, from_b = both_ways(w, b, clients=2, quota=200, budget=60)
        with logs_on_failure(w, b, extra=lambda: f"nft drops: {net.dropped()}"):
            net.loss(30)
            with running(from_w + from_b):
                wait_senders_finished(from_w + from_b, timeout=60, clean=True)
            # Everything gets through the loss itself, not only once it is lifted.
            wait_delivered(w, "beijing", {i for s in from_w for i in s.accepted}, DELIVERY_TIMEOUT)
            wait_delivered(b, "washington", {i for s in from_b for i in s.accepted}, DELIVERY_TIMEOUT)
            assert net.dropped() > 0, "the nftables loss rule dropped nothing: the fault was not in place"
            net.clear()
            settle_and_check(w, b, from_w, from_b)


def test_partition_that_heals(tmp_path: Path):
    """Every packet dropped both ways while both sides keep accepting; after healing, all is delivered."""
    with namespaced_stations(tmp_path) as (net, w, b):
        from_w, from_b = both_ways(w, b, clients=2, quota=150, budget=60)
        everyone = from_w + from_b
        for sender in everyone:  # each holds at 30 until the cut: no side can finish before it
            sender.hold_at = 30
        with logs_on_failure(w, b, extra=lambda: f"nft drops: {net.dropped()}"), running(everyone):
            wait_for(
                lambda: accepted_count(from_w) >= 60 and accepted_count(from_b) >= 60,
                timeout=30,
                what="60 accepted each way before the partition",
            )
            net.partition()
            cut_at = time.monotonic()
            for sender in everyone:
                sender.resume.set()
            wait_senders_finished(from_w + from_b, timeout=60, clean=True)
            # Apart for longer than the delivery backoff cap (5 s): messages wait, none leaks through.
            time.sleep(max(0.0, 8.0 - (time.monotonic() - cut_at)))
            pending = (undelivered(w, "beijing"), undelivered(b, "washington"))
            assert all(p > 0 for p in pending), f"messages got through the partition: undelivered {pending}"
            assert net.dropped() > 0, "the partition dropped no packet: the fault was not in place"
            net.heal()
            settle_and_check(w, b, from_w, from_b)


def test_slow_path(tmp_path: Path):
    """The veth limited to 256 kbit/s each way (tc tbf) during a burst of 400 messages each way.

    Texts of 400 characters make each envelope about 1 KB: the burst is some 13 s of wire
    time each way, the backlog's batches take seconds, and the biggest can outlast the
    sender's 10 s HTTP timeout (it then resends, and the receiver answers with its receipt).
    """
    with namespaced_stations(tmp_path) as (net, w, b):
        from_w, from_b = both_ways(w, b, clients=2, quota=200, budget=60, pad=400)
        with logs_on_failure(w, b, extra=lambda: f"tbf: {net.shaped()}"):
            net.slow("256kbit", burst="16kb", latency="400ms")
            with running(from_w + from_b):
                wait_senders_finished(from_w + from_b, timeout=60, clean=True)
            # Delivered while the path is still slow.
            wait_delivered(w, "beijing", {i for s in from_w for i in s.accepted}, DELIVERY_TIMEOUT)
            wait_delivered(b, "washington", {i for s in from_b for i in s.accepted}, DELIVERY_TIMEOUT)
            shaped = net.shaped()
            assert shaped["overlimits"] > 0, f"tbf never had to hold a packet back: {shaped}"
            net.clear()
            settle_and_check(w, b, from_w, from_b)


def test_reordered_and_duplicated_deliveries(tmp_path: Path):
    """A proxy in front of each link delays, duplicates, holds back and refuses whole requests."""
    faults = Faults(delay=0.15, duplicate=0.2, hold=0.15, reject=0.1, lose=0.1)
    proxies: list[FaultProxy] = []
    with namespaced_stations(tmp_path, proxied=True, start=False) as (net, w, b):
        try:
            for receiver, sender, seed in ((b, w, 11), (w, b, 12)):
                side = net.side(receiver.station_id)
                proxy = FaultProxy(
                    listen_host=side.addr,
                    listen_port=PROXY_PORT,
                    upstream=f"https://{side.addr}:{LINK_PORT}",
                    receiver_dir=receiver.data_dir,
                    sender_dir=sender.data_dir,
                    faults=faults,
                    seed=seed,
                    netns=side.ns,
                    name=f"proxy-to-{receiver.station_id}",
                )
                proxies.append(proxy.start())
            w.start()
            b.start()
            from_w, from_b = both_ways(w, b, clients=2, quota=250, budget=60)

            def stats() -> str:
                return "\n".join(
                    f"{p.name}: {dict(p.stats)} upstream {dict(p.upstream_status)}" for p in proxies
                )

            with logs_on_failure(w, b, extra=stats):
                with running(from_w + from_b):
                    wait_senders_finished(from_w + from_b, timeout=60, clean=True)
                # Everything gets through the faults...
                wait_delivered(w, "beijing", {i for s in from_w for i in s.accepted}, DELIVERY_TIMEOUT)
                wait_delivered(b, "washington", {i for s in from_b for i in s.accepted}, DELIVERY_TIMEOUT)
                # ...and the requests still held arrive late, as stale duplicates, before the check.
                for p in proxies:
                    p.set_faults(NO_FAULTS)
                    p.wait_idle(timeout=15)
                settle_and_check(w, b, from_w, from_b)
                for p in proxies:
                    st = p.stats
                    assert st["duplicates_sent"] > 0, f"{p.name} duplicated nothing: {dict(st)}"
                    assert st["reordered"] > 0, f"{p.name} reordered nothing: {dict(st)}"
                    assert st["reject"] > 0 and st["lose"] > 0 and st["delay"] > 0, f"{p.name}: {dict(st)}"
                    # Connection errors are fine (a station not up yet); an HTTP refusal is not.
                    refused = {k: v for k, v in p.upstream_status.items() if isinstance(k, int) and k != 200}
                    assert not refused, f"{p.name}: the receiver refused batches: {refused}"
                print(stats())  # shown with -s: how many faults the run really injected
        finally:
            for p in proxies:
                p.stop()


def test_kill_9_each_side_during_a_burst_of_2000_each_way(tmp_path: Path):
    """SIGKILL washington, then beijing, then both, while 2,000 messages stream each way over the veth."""
    with namespaced_stations(tmp_path) as (_net, w, b):
        from_w, from_b = both_ways(w, b, clients=4, quota=500, budget=150)
        everyone = from_w + from_b

        in_flight: list[int] = []  # messages not yet receipted, both ways, at each kill

        def reached(n: int) -> bool:
            return accepted_count(from_w) >= n and accepted_count(from_b) >= n

        def backlog() -> None:
            in_flight.append(undelivered(w, "beijing") + undelivered(b, "washington"))

        with logs_on_failure(w, b), running(everyone):
            wait_for(lambda: reached(500), timeout=40, what="500 accepted each way")
            backlog()
            w.kill9()
            at_kill = accepted_count(from_b)
            # beijing keeps accepting (into its outbox) while washington is gone.
            wait_for(lambda: more_accepted(from_b, at_kill, 100), timeout=20, what="beijing accepting")
            w.start()
            wait_for(lambda: reached(1000), timeout=40, what="1000 accepted each way after the restart")
            backlog()
            b.kill9()
            at_kill = accepted_count(from_w)
            wait_for(lambda: more_accepted(from_w, at_kill, 100), timeout=20, what="washington accepting")
            b.start()
            wait_for(lambda: reached(1500), timeout=40, what="1500 accepted each way after the restart")
            backlog()
            w.kill9()
            b.kill9()
            time.sleep(0.5)  # the scenario: both sides stay down a moment before the restart
            w.start()
            b.start()
            wait_senders_finished(everyone, timeout=90)
            failed = sum(len(s.failures) for s in everyone)
            assert failed > 0, "no POST failed: the kills happened after the burst, not during it"
            assert any(in_flight), f"no delivery was under way at any kill: backlogs {in_flight}"
            print(f"POST failures during the kills: {failed}; undelivered at each kill: {in_flight}")
            settle_and_check(w, b, from_w, from_b, exact=False)
