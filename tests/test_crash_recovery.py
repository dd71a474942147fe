"""kill -9 of either station while messages stream: nothing lost, nothing doubled, chains agree.

Each test runs real ``redline serve`` processes (on SQLite and on PostgreSQL),
streams messages from background threads through the operator API, SIGKILLs a
station in the middle of it, restarts it, and then checks both databases
through the API:

* every message the sender answered 201 for is delivered, exactly once, and the
  receiver's inbox holds exactly the sender's outbox, in the sender's order;
* both stations show the same transcript for both directions, seqs 1..n
  contiguous and each ``prev`` the digest before it;
* every outbound message has a receipt whose signature (checked here, with the
  receiver's public key) covers that message's seq and digest.

A POST that got no answer because its station was killed may or may not have
been committed; it is not "accepted", but if it is in the outbox it must be
delivered like any other.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from redline.protocol import GENESIS_DIGEST
from redline.services.station import load_identity
from redline.wire.receipt import parse_receipt, verify_receipt
from tests.support.stations import StationProcess, wait_for

pytestmark = pytest.mark.slow

MAX_LIST = 1000  # the API's largest page
DELIVERY_TIMEOUT = 60.0


# -- streaming senders ---------------------------------------------------------------------------


@dataclass
class Sender:
    """A thread that POSTs messages one after another until it has ``quota`` accepted.

    A sequential client: each 201 arrives before the next POST leaves, so the
    ids it records must carry strictly increasing seqs at the sending station.
    Failed POSTs (connection refused or reset while the station is down) are
    counted, not retried as the same message: the next attempt is a new text.
    """

    station: StationProcess
    to: str
    tag: str
    quota: int
    deadline: float
    accepted: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    attempts: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> Sender:
        self.thread = threading.Thread(target=self._run, name=f"sender-{self.tag}", daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.station.token}"}
        timeout = httpx.Timeout(20.0, connect=2.0)
        with httpx.Client(base_url=self.station.api_url, headers=headers, timeout=timeout) as client:
            while len(self.accepted) < self.quota and not self.stop.is_set():
                if time.monotonic() > self.deadline:
                    self.failures.append("deadline passed")
                    return
                text = f"{self.tag}-{self.attempts}"
                self.attempts += 1
                try:
                    r = client.post(
                        "/messages", json={"to": self.to, "precedence": "ROUTINE", "text": text, "lang": "en"}
                    )
                except httpx.HTTPError as exc:
                    self.failures.append(f"{text}: {type(exc).__name__}: {exc}")
                    time.sleep(0.02)
                    continue
                if r.status_code == 201:
                    self.accepted.append(str(r.json()["id"]))
                else:
                    self.failures.append(f"{text}: HTTP {r.status_code} {r.text[:200]}")
                    time.sleep(0.02)

    def join(self, timeout: float) -> None:
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"sender {self.tag} still running after {timeout}s"

    @property
    def done(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()


def accepted_count(senders: list[Sender]) -> int:
    return sum(len(s.accepted) for s in senders)


@contextlib.contextmanager
def running(senders: list[Sender]) -> Iterator[list[Sender]]:
    """Start the senders; whatever happens, stop and join them before leaving."""
    for s in senders:
        s.start()
    try:
        yield senders
    finally:
        for s in senders:
            s.stop.set()
        for s in senders:
            if s.thread is not None:
                s.thread.join(30)


def more_accepted(senders: list[Sender], than: int, more: int) -> bool:
    """``more`` accepted since the count was ``than``, or the senders ran out of quota first."""
    quota = sum(s.quota for s in senders)
    return accepted_count(senders) >= min(than + more, quota) or all(s.done for s in senders)


def wait_senders_finished(senders: list[Sender], timeout: float) -> None:
    wait_for(lambda: all(s.done for s in senders), timeout=timeout, interval=0.1, what="senders to finish")
    for s in senders:
        got = len(s.accepted)
        assert got == s.quota, f"sender {s.tag}: {got}/{s.quota} accepted; last failures {s.failures[-5:]}"
        refused = [f for f in s.failures if ": HTTP " in f]
        assert not refused, f"sender {s.tag}: the station answered with an error: {refused[:5]}"


# -- reading a station through its API -----------------------------------------------------------


def api_get(station: StationProcess, path: str, **params: Any) -> Any:
    with station.client(timeout=20.0) as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, f"{station.station_id} GET {path}: HTTP {r.status_code} {r.text[:300]}"
    return r.json()


def box(station: StationProcess, which: str, peer: str) -> list[dict[str, Any]]:
    """Every message in one box for one peer, sorted by seq; fails if the page could be truncated."""
    rows = api_get(station, "/messages", box=which, limit=MAX_LIST, peer=peer)["messages"]
    assert len(rows) < MAX_LIST, f"{station.station_id} {which}: {len(rows)} rows, the page may be truncated"
    return sorted(rows, key=lambda m: m["seq"])


def all_delivered(station: StationProcess, peer: str, must_hold: set[str]) -> bool:
    try:
        rows = box(station, "outbox", peer)
    except httpx.HTTPError:
        return False
    states = {m["id"]: m["state"] for m in rows}
    return must_hold <= states.keys() and all(s == "delivered" for s in states.values())


def wait_delivered(sender: StationProcess, peer: str, accepted: set[str]) -> None:
    wait_for(
        lambda: all_delivered(sender, peer, accepted),
        timeout=DELIVERY_TIMEOUT,
        interval=0.25,
        what=f"{sender.station_id}'s outbox to {peer} all delivered ({len(accepted)} accepted)",
    )


@contextlib.contextmanager
def logs_on_failure(*stations: StationProcess) -> Iterator[None]:
    """Attach the tail of every station's log to an assertion that fails inside."""
    try:
        yield
    except Exception as exc:  # an assertion, or e.g. BadReceipt from a receipt that does not verify
        tails = []
        for s in stations:
            text = s.log_path.read_text(errors="replace") if s.log_path.exists() else "(no log)"
            tails.append(f"----- {s.station_id} log ({s.log_path}) -----\n{text[-6000:]}")
        raise AssertionError(f"{type(exc).__name__}: {exc}\n\n" + "\n".join(tails)) from exc


# -- the properties ------------------------------------------------------------------------------


def check_chain(chain: list[dict[str, Any]], n: int, what: str) -> None:
    assert [e["seq"] for e in chain] == list(range(1, n + 1)), f"{what}: seqs are not 1..{n}"
    if chain:
        assert chain[0]["prev"] == GENESIS_DIGEST, f"{what}: seq 1 does not start at the genesis digest"
    for i in range(1, len(chain)):
        assert chain[i]["prev"] == chain[i - 1]["digest"], f"{what}: seq {i + 1} does not follow seq {i}"


def check_direction(src: StationProcess, dst: StationProcess, senders: list[Sender], exact: bool) -> None:
    """``src`` -> ``dst`` after recovery: outbox and inbox agree one for one, in order, all receipted.

    ``exact``: ``src`` was never killed, so every envelope in its outbox was answered 201.
    """
    outbox = box(src, "outbox", dst.station_id)
    inbox = box(dst, "inbox", src.station_id)
    out_ids = [m["id"] for m in outbox]
    in_ids = [m["id"] for m in inbox]
    accepted = [i for s in senders for i in s.accepted]
    link = f"{src.station_id}->{dst.station_id}"

    # The sender's outbox: every accepted id exactly once; seqs 1..n; everything delivered.
    assert len(set(accepted)) == len(accepted), f"{link}: the API returned one id twice"
    missing = set(accepted) - set(out_ids)
    assert not missing, f"{link}: {len(missing)} accepted messages not in the outbox: {sorted(missing)[:5]}"
    if exact:
        extra = set(out_ids) - set(accepted)
        assert not extra, f"{link}: {len(extra)} outbox messages were never accepted: {sorted(extra)[:5]}"
    assert [m["seq"] for m in outbox] == list(range(1, len(outbox) + 1)), f"{link}: outbox seqs not 1..n"
    undelivered = [(m["seq"], m["state"]) for m in outbox if m["state"] != "delivered"]
    assert not undelivered, f"{link}: not delivered: {undelivered[:10]}"

    # Each sequential client's accepted messages got increasing seqs: acceptance order is chain order.
    seq_of = {m["id"]: m["seq"] for m in outbox}
    for s in senders:
        seqs = [seq_of[i] for i in s.accepted]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"{link}: {s.tag} out of order"

    # The receiver's inbox: exactly the outbox, once each, in the same order, same content.
    assert len(set(in_ids)) == len(in_ids), f"{link}: an id is twice in the inbox"
    assert [m["seq"] for m in inbox] == list(range(1, len(inbox) + 1)), f"{link}: inbox seqs not 1..n"
    lost = [seq_of[i] for i in set(out_ids) - set(in_ids)]
    foreign = set(in_ids) - set(out_ids)
    assert not lost, f"{link}: {len(lost)} delivered messages not in the inbox, seqs {sorted(lost)[:10]}"
    assert not foreign, f"{link}: {len(foreign)} inbox messages not in the outbox: {sorted(foreign)[:3]}"
    assert in_ids == out_ids, f"{link}: inbox order differs from the sender's order"
    for o, i in zip(outbox, inbox, strict=True):
        assert (i["seq"], i["digest"], i["text"]) == (o["seq"], o["digest"], o["text"]), f"{link}: {o['id']}"
        assert i["direction"] == "inbound" and i["peer"] == src.station_id

    # Receipts: present on every outbound message, and their signatures really check out.
    dst_key = load_identity(dst.data_dir).keys.signing.public_key()
    by_receipt: dict[str, list[dict[str, Any]]] = {}
    for m in outbox:
        r = m["receipt"]
        assert r is not None, f"{link}: seq {m['seq']} delivered without a receipt"
        assert r["signature_verified"] is True and r["by"] == dst.station_id, f"{link}: seq {m['seq']}: {r}"
        by_receipt.setdefault(r["id"], []).append(m)
    for receipt_id, messages in by_receipt.items():
        signed = api_get(src, f"/messages/{messages[0]['id']}")["receipt"]["signed"]
        receipt = parse_receipt(signed)
        verify_receipt(receipt, dst_key)  # raises BadReceipt if the signature does not check out
        assert receipt.id == receipt_id and receipt.by == dst.station_id
        assert receipt.for_station == src.station_id
        covered = set(receipt.entries)
        for m in messages:
            assert (m["seq"], m["digest"]) in covered, f"{link}: receipt {receipt_id} misses {m['seq']}"


def check_transcripts(w: StationProcess, b: StationProcess, n_wb: int, n_bw: int) -> None:
    tw = api_get(w, "/transcript/beijing")
    tb = api_get(b, "/transcript/washington")
    for direction, n in (("washington->beijing", n_wb), ("beijing->washington", n_bw)):
        assert tw[direction] == tb[direction], f"{direction}: the two stations hold different chains"
        check_chain(tw[direction], n, direction)


def senders_for(station: StationProcess, to: str, count: int, quota: int, budget: float) -> list[Sender]:
    deadline = time.monotonic() + budget
    return [Sender(station, to, f"{station.station_id[0]}{k}", quota, deadline) for k in range(count)]


# -- the tests -----------------------------------------------------------------------------------


def test_receiver_killed_mid_stream_loses_and_duplicates_nothing(unstarted_pair):
    w, b = unstarted_pair
    w.start()
    b.start()
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
        wait_delivered(w, "beijing", accepted)
        check_direction(w, b, senders, exact=True)
        check_transcripts(w, b, n_wb=len(accepted), n_bw=0)


def test_sender_killed_mid_stream_loses_and_duplicates_nothing(unstarted_pair):
    w, b = unstarted_pair
    w.start()
    b.start()
    with logs_on_failure(w, b), running(senders_for(w, "beijing", 2, 200, budget=45)) as senders:
        wait_for(lambda: accepted_count(senders) >= 100, timeout=30, what="100 messages accepted")
        w.kill9()
        at_kill = accepted_count(senders)
        time.sleep(0.5)  # the senders' POSTs fail while washington is down
        w.start()
        wait_for(lambda: accepted_count(senders) > at_kill, timeout=20, what="washington accepting again")
        wait_senders_finished(senders, timeout=45)

        accepted = {i for s in senders for i in s.accepted}
        wait_delivered(w, "beijing", accepted)
        check_direction(w, b, senders, exact=False)
        n = len(box(w, "outbox", "beijing"))
        check_transcripts(w, b, n_wb=n, n_bw=0)


def test_both_directions_with_each_side_killed_in_turn(unstarted_pair):
    w, b = unstarted_pair
    w.start()
    b.start()
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

        wait_delivered(w, "beijing", {i for s in from_w for i in s.accepted})
        wait_delivered(b, "washington", {i for s in from_b for i in s.accepted})
        check_direction(w, b, from_w, exact=False)
        check_direction(b, w, from_b, exact=False)
        n_wb = len(box(w, "outbox", "beijing"))
        n_bw = len(box(b, "outbox", "washington"))
        check_transcripts(w, b, n_wb=n_wb, n_bw=n_bw)
