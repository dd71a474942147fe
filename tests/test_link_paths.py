"""Paths between two real stations on loopback: failover from a peer's dead first endpoint to its
second and failback once the first comes back, and answers that overtake their receipts on a slow
return path. Paths are made with tests/support/forwarder.py's TcpForwarder.

Stations here test every second (``two_stations(test_interval=1.0)``): an unanswered test is missed
after 1 s, one miss makes the link degraded, three make it down.
"""

from __future__ import annotations

import collections
import time
from typing import Any

import pytest

from tests.support.forwarder import TcpForwarder
from tests.support.links import (
    delivered,
    get,
    link,
    post,
    running_pair,
    send_ok,
    status,
    wait_for_receipts,
    wait_up,
)
from tests.support.stations import free_port, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.faults]  # real stations; TCP forwarders cut their paths

# --- 1. failover and failback -------------------------------------------------------------------------


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

        with TcpForwarder(primary_port, real_port) as fwd:
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


# --- 2. an answer that overtakes its receipt -------------------------------------------------------------


def test_an_answer_that_overtakes_its_receipt_does_not_lose_the_receipt(tmp_path):
    """Beijing's receipts reach washington a second late (a slow return path), while beijing's answers,
    sent on its own connection, arrive at once: link test replies and a quick human acknowledgement
    overtake the receipts. Washington must still record every receipt."""
    fport, real_port = free_port(), free_port()
    endpoints = [f"https://127.0.0.1:{fport}"]
    with (
        TcpForwarder(fport, real_port, delay_back=1.0),
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
        wait_for_receipts(w, [mid, *answered], "beijing")
        text = get(w, f"/messages/{mid}")
        assert text["delivered_at"] is not None and text["acknowledgement"]["by"] == "beijing/duty"
