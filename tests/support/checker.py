"""A Jepsen-style workload and checker for one Redline link (washington <-> beijing).

The *workload* is a set of sequential clients (:class:`Sender`), each POSTing messages
through a station's operator API one after another and recording the id of every
message the station accepted (201). A client never retries a message: a POST that
fails is counted and the next attempt is a new text.

The *checker* (:func:`check_link`) runs once the faults are over and the link is
quiet, and reads both stations completely: the message rows and receipts from each
station's database (the API lists at most 1000 messages, and the fault tests send
more), the transcripts and the alarms through each station's API. For each direction
``src -> dst`` it verifies:

* **nothing lost** -- every accepted id is in ``src``'s outbox, delivered (receipted), and
  in ``dst``'s inbox;
* **nothing duplicated, nothing invented** -- every id once in each box; ``dst``'s inbox is
  exactly ``src``'s outbox (same ids, seqs, digests, bodies); when ``src`` was never killed
  its outbox holds no text message that was not accepted (a POST cut off by ``kill -9``
  may have committed without its 201: it must then be delivered like any other);
  every seq is covered by exactly one of ``dst``'s receipts;
* **per-link order** -- seqs 1..n on both sides, and each client's accepted ids carry
  strictly increasing seqs (acceptance order is chain order);
* **identical transcripts** -- ``GET /api/v1/transcript/{peer}`` on both stations returns the
  same two chains; each chain is contiguous, starts at the genesis digest, every ``prev``
  is the digest before it, and the digests are those of the stored envelopes;
* **valid envelopes and receipts** -- every inbox envelope re-parses to its stored digest
  and its Ed25519 signature checks with ``src``'s key from its card; every receipt, as
  held by ``src`` (received) and by ``dst`` (issued), is the same receipt, its signature
  checks with ``dst``'s key from its card, it is by ``dst`` for ``src``, and it covers the
  message's ``[seq, digest]``;
* **no equivocation** alarm on either station.

Messages the stations create themselves (link tests and their replies) may be on
the chains too; they must obey the same rules, except that no client accepted them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from redline.crypto.keys import parse_signing_key
from redline.domain.messages import Direction
from redline.protocol import GENESIS_DIGEST
from redline.services.station import load_identity
from redline.wire.envelope import parse_envelope, verify_envelope
from redline.wire.receipt import parse_receipt, verify_receipt
from tests.support.stations import StationProcess, wait_for

# What a station that Senders load must allow: these workloads measure delivery, not the operator
# API's rate limit (50 requests a second per token by default, its own tests in test_limits*.py),
# which would otherwise answer most of their POSTs with 429.
BULK_SENDING = {"api_rate_limit": 0}
DONE_STATES = ("delivered", "acknowledged")  # acknowledged implies delivered (link tests get answered)
ALL_ROWS = 10**9

# -- the workload: sequential clients ------------------------------------------------------------


@dataclass
class Sender:
    """A thread that POSTs messages one after another until it has ``quota`` accepted.

    A sequential client: each 201 arrives before the next POST leaves, so the ids it
    records must carry strictly increasing seqs at the sending station. Failed POSTs
    (connection refused or reset while the station is down) are counted, not retried
    as the same message: the next attempt is a new text. A 429 is obeyed as any well-behaved
    client would: it waits ``Retry-After`` seconds (counted in ``throttled``), then goes on.
    With ``hold_at``, it stops after that many accepted until ``resume`` is set, so a test can
    put a fault in place while every sender still has messages to send.
    """

    station: StationProcess
    to: str
    tag: str
    quota: int
    deadline: float
    pad: int = 0  # characters of filler after the tag, for longer texts
    accepted: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    attempts: int = 0
    throttled: int = 0
    hold_at: int | None = None
    resume: threading.Event = field(default_factory=threading.Event)
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
                held = self.hold_at is not None and len(self.accepted) >= self.hold_at
                if held and not self.resume.is_set():
                    self.resume.wait(0.05)
                    continue
                text = f"{self.tag}-{self.attempts}" + "." * self.pad
                self.attempts += 1
                try:
                    r = client.post(
                        "/messages", json={"to": self.to, "precedence": "ROUTINE", "text": text, "lang": "en"}
                    )
                except httpx.HTTPError as exc:
                    self.failures.append(f"{text}: {type(exc).__name__}: {exc}")
                    time.sleep(0.02)  # a client's pause before retrying: part of the load, not a wait
                    continue
                if r.status_code == 201:
                    message_id = str(r.json()["id"])
                    self.accepted.append(message_id)
                    self.texts[message_id] = text
                elif r.status_code == 429:
                    self.throttled += 1
                    self.stop.wait(min(float(r.headers.get("retry-after", "1")), 5.0))
                else:
                    self.failures.append(f"{text}: HTTP {r.status_code} {r.text[:200]}")
                    time.sleep(0.02)  # as above

    def join(self, timeout: float) -> None:
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"sender {self.tag} still running after {timeout}s"

    @property
    def done(self) -> bool:
        return self.thread is not None and not self.thread.is_alive()


def senders_for(
    station: StationProcess, to: str, count: int, quota: int, budget: float, pad: int = 0
) -> list[Sender]:
    deadline = time.monotonic() + budget
    return [Sender(station, to, f"{station.station_id[0]}{k}", quota, deadline, pad) for k in range(count)]


def accepted_count(senders: Sequence[Sender]) -> int:
    return sum(len(s.accepted) for s in senders)


def accepted_ids(senders: Sequence[Sender]) -> list[list[str]]:
    return [list(s.accepted) for s in senders]


def texts_of(senders: Sequence[Sender]) -> dict[str, str]:
    return {i: t for s in senders for i, t in s.texts.items()}


@contextlib.contextmanager
def running(senders: Sequence[Sender]) -> Iterator[Sequence[Sender]]:
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


def more_accepted(senders: Sequence[Sender], than: int, more: int) -> bool:
    """``more`` accepted since the count was ``than``, or the senders ran out of quota first."""
    quota = sum(s.quota for s in senders)
    return accepted_count(senders) >= min(than + more, quota) or all(s.done for s in senders)


def wait_senders_finished(senders: Sequence[Sender], timeout: float, clean: bool = False) -> None:
    """All senders reached their quota; ``clean``: not one POST failed on the way."""
    wait_for(lambda: all(s.done for s in senders), timeout=timeout, interval=0.1, what="senders to finish")
    for s in senders:
        got = len(s.accepted)
        assert got == s.quota, f"sender {s.tag}: {got}/{s.quota} accepted; last failures {s.failures[-5:]}"
        refused = [f for f in s.failures if ": HTTP " in f]
        assert not refused, f"sender {s.tag}: the station answered with an error: {refused[:5]}"
        if clean:
            assert not s.failures, f"sender {s.tag}: POSTs failed with no station down: {s.failures[:5]}"


# -- reading a station -----------------------------------------------------------------------------


def api_get(station: StationProcess, path: str, **params: Any) -> Any:
    with station.client(timeout=30.0) as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, f"{station.station_id} GET {path}: HTTP {r.status_code} {r.text[:300]}"
    return r.json()


@dataclass
class LinkRows:
    """Everything one station holds about one direction of its link with ``peer``."""

    rows: list[dict[str, Any]]  # message rows, sorted by seq
    receipts: dict[str, str]  # receipt id -> signed receipt JSON, for the receipts those rows reference


async def _read(station: StationProcess, direction: str, peer: str) -> LinkRows:
    store = await station.open_store()
    try:
        # Plain dicts, so the checks below compare database rows and API answers alike.
        rows = [asdict(r) for r in await store.messages(Direction(direction), ALL_ROWS, peer)]
        receipts: dict[str, str] = {}
        for rid in sorted({r["receipt_id"] for r in rows if r["receipt_id"]}):
            body = await store.receipt(rid)
            if body is not None:
                receipts[rid] = body
        return LinkRows(sorted(rows, key=lambda r: r["seq"]), receipts)
    finally:
        await store.close()


def read_rows(station: StationProcess, direction: str, peer: str) -> LinkRows:
    """Every message row of one direction, straight from the station's database (no page limit)."""
    return asyncio.run(_read(station, direction, peer))


def outbox_progress(station: StationProcess, peer: str) -> tuple[set[str], int]:
    """(ids in the outbox to ``peer``, how many of them are not yet delivered)."""

    async def go() -> tuple[set[str], int]:
        store = await station.open_store()
        try:
            rows = await store.messages(Direction.OUTBOUND, ALL_ROWS, peer)
        finally:
            await store.close()
        return {r.id for r in rows}, sum(1 for r in rows if r.state not in DONE_STATES)

    return asyncio.run(go())


def wait_delivered(src: StationProcess, peer: str, accepted: set[str], timeout: float) -> None:
    """Until every message in ``src``'s outbox to ``peer`` (which holds ``accepted``) has its receipt."""
    last: list[str] = []

    def settled() -> bool:
        ids, pending = outbox_progress(src, peer)
        last[:] = [f"{len(ids)} in the outbox, {pending} undelivered, {len(accepted - ids)} accepted missing"]
        return accepted <= ids and pending == 0

    try:
        what = f"{src.station_id}'s outbox to {peer} delivered"
        wait_for(settled, timeout=timeout, interval=0.25, what=what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: {last[0] if last else ''}") from None


@contextlib.contextmanager
def logs_on_failure(*stations: StationProcess, extra: Any = None) -> Iterator[None]:
    """Attach the tail of every station's log (and ``extra()``) to a failure raised inside."""
    try:
        yield
    except Exception as exc:  # an assertion, or e.g. BadReceipt from a receipt that does not verify
        tails = []
        for s in stations:
            text = s.log_path.read_text(errors="replace") if s.log_path.exists() else "(no log)"
            tails.append(f"----- {s.station_id} log ({s.log_path}) -----\n{text[-6000:]}")
        if extra is not None:
            with contextlib.suppress(Exception):
                tails.append(f"----- context -----\n{extra()}")
        raise AssertionError(f"{type(exc).__name__}: {exc}\n\n" + "\n".join(tails)) from exc


# -- the properties ------------------------------------------------------------------------------


def check_chain(chain: Sequence[dict[str, Any]], n: int, what: str) -> None:
    """seqs 1..n, starting at the genesis digest, each ``prev`` the digest before it."""
    assert [e["seq"] for e in chain] == list(range(1, n + 1)), f"{what}: seqs are not 1..{n}"
    if chain:
        assert chain[0]["prev"] == GENESIS_DIGEST, f"{what}: seq 1 does not start at the genesis digest"
    for i in range(1, len(chain)):
        assert chain[i]["prev"] == chain[i - 1]["digest"], f"{what}: seq {i + 1} does not follow seq {i}"


def signing_key_of(station: StationProcess) -> Any:
    """The station's Ed25519 public key as its peer knows it: from its contact card."""
    return parse_signing_key(load_identity(station.data_dir).card().signing_key)


@dataclass
class Snapshot:
    """Both stations read while nothing changed on either: rows, receipts, transcripts, API pages."""

    rows: dict[tuple[str, str], LinkRows]  # (station id, "outbound"/"inbound") -> rows with the peer
    transcripts: dict[str, dict[str, Any]]  # station id -> GET /transcript/{peer}
    pages: dict[str, list[dict[str, Any]]]  # station id -> GET /messages?box=outbox (newest 1000)


def _total_messages(station: StationProcess) -> int:
    return station.counts()["messages"]


def take_snapshot(w: StationProcess, b: StationProcess, attempts: int = 5) -> Snapshot:
    """Read everything, and again if either station stored a message meanwhile (e.g. a link test)."""
    pairs = ((w, b), (b, w))

    def quiet_snapshot() -> Snapshot | None:
        before = [_total_messages(s) for s in (w, b)]
        rows = {
            (s.station_id, d): read_rows(s, d, peer.station_id)
            for s, peer in pairs
            for d in ("outbound", "inbound")
        }
        transcripts = {s.station_id: api_get(s, f"/transcript/{peer.station_id}") for s, peer in pairs}
        pages = {
            s.station_id: api_get(s, "/messages", box="outbox", peer=peer.station_id, limit=1000)["messages"]
            for s, peer in pairs
        }
        quiet = [_total_messages(s) for s in (w, b)] == before
        return Snapshot(rows, transcripts, pages) if quiet else None

    return wait_for(quiet_snapshot, 2.0 * attempts, interval=1.0, what="a quiet link to snapshot")


@dataclass
class DirectionReport:
    link: str
    messages: int  # on the chain, including the stations' own link tests
    texts: int
    accepted: int
    receipts: int


def check_direction(
    snap: Snapshot,
    src: StationProcess,
    dst: StationProcess,
    accepted: Sequence[Sequence[str]],
    exact: bool,
    texts: dict[str, str] | None = None,
) -> DirectionReport:
    """``src -> dst``; ``accepted`` holds each sequential client's accepted ids in order.

    ``exact``: ``src`` was never killed, so every text message in its outbox was answered 201.
    """
    link = f"{src.station_id}->{dst.station_id}"
    out = snap.rows[(src.station_id, "outbound")]
    inn = snap.rows[(dst.station_id, "inbound")]
    outbox, inbox = out.rows, inn.rows
    out_ids = [m["id"] for m in outbox]
    in_ids = [m["id"] for m in inbox]
    all_accepted = [i for ids in accepted for i in ids]

    # The sender's outbox: every accepted id exactly once; seqs 1..n; everything receipted.
    assert len(set(all_accepted)) == len(all_accepted), f"{link}: the API returned one id twice"
    assert len(set(out_ids)) == len(out_ids), f"{link}: an id is twice in the outbox"
    missing = set(all_accepted) - set(out_ids)
    assert not missing, f"{link}: {len(missing)} accepted messages not in the outbox: {sorted(missing)[:5]}"
    if exact:
        extra = {m["id"] for m in outbox if m["kind"] == "text"} - set(all_accepted)
        assert not extra, f"{link}: {len(extra)} outbox texts were never accepted: {sorted(extra)[:5]}"
    assert [m["seq"] for m in outbox] == list(range(1, len(outbox) + 1)), f"{link}: outbox seqs not 1..n"
    undelivered = [(m["seq"], m["state"]) for m in outbox if m["state"] not in DONE_STATES]
    assert not undelivered, f"{link}: {len(undelivered)} not delivered: {undelivered[:10]}"
    if texts:
        for m in outbox:
            if m["id"] in texts:
                body = json.loads(m["body"])
                assert body.get("text") == texts[m["id"]], f"{link}: {m['id']} holds {body}, not its text"

    # Each sequential client's accepted messages got increasing seqs: acceptance order is chain order.
    seq_of = {m["id"]: m["seq"] for m in outbox}
    for k, ids in enumerate(accepted):
        seqs = [seq_of[i] for i in ids]
        assert all(a < b for a, b in itertools.pairwise(seqs)), (
            f"{link}: client {k}'s accepted messages are not in acceptance order on the chain"
        )

    # The receiver's inbox: exactly the outbox, once each, in the same order, same content.
    assert len(set(in_ids)) == len(in_ids), f"{link}: an id is twice in the inbox"
    assert [m["seq"] for m in inbox] == list(range(1, len(inbox) + 1)), f"{link}: inbox seqs not 1..n"
    lost = sorted(seq_of[i] for i in set(out_ids) - set(in_ids))
    foreign = set(in_ids) - set(out_ids)
    assert not lost, f"{link}: {len(lost)} delivered messages not in the inbox, seqs {lost[:10]}"
    assert not foreign, f"{link}: {len(foreign)} inbox messages not in the outbox: {sorted(foreign)[:3]}"
    assert in_ids == out_ids, f"{link}: inbox order differs from the sender's order"
    src_key = signing_key_of(src)
    prev = GENESIS_DIGEST
    for o, i in zip(outbox, inbox, strict=True):
        what = f"{link} seq {o['seq']}"
        assert (i["seq"], i["digest"], i["kind"]) == (o["seq"], o["digest"], o["kind"]), what
        assert json.loads(i["body"]) == json.loads(o["body"]), f"{what}: bodies differ"
        assert i["direction"] == "inbound" and i["peer_id"] == src.station_id, what
        env = parse_envelope(json.loads(i["envelope"]))
        verify_envelope(env, src_key)  # raises BadSignature if it does not check out
        assert (env.id, env.seq, env.digest, env.prev) == (i["id"], i["seq"], i["digest"], prev), what
        assert (env.sender, env.recipient) == (src.station_id, dst.station_id), what
        prev = env.digest

    # Receipts: src holds one for every message, dst issued that same one, and it checks out.
    dst_key = signing_key_of(dst)
    covered_by: dict[int, str] = {}
    verified: set[str] = set()
    for o, i in zip(outbox, inbox, strict=True):
        what = f"{link} seq {o['seq']}"
        rid = o["receipt_id"]
        assert rid is not None, (
            f"{what} ({o['kind']}, {o['state']}): {src.station_id} recorded no receipt for it"
        )
        assert i["receipt_id"] == rid, (
            f"{what}: {src.station_id} recorded receipt {rid} but {dst.station_id} stored the "
            f"envelope under receipt {i['receipt_id']}"
        )
        if rid not in verified:
            held, issued = out.receipts.get(rid), inn.receipts.get(rid)
            assert held is not None, f"{what}: {src.station_id} has no receipt {rid}"
            assert issued is not None, f"{what}: {dst.station_id} never issued receipt {rid}"
            receipts = [parse_receipt(json.loads(body)) for body in (held, issued)]
            for holder, receipt in zip((src.station_id, dst.station_id), receipts, strict=True):
                verify_receipt(receipt, dst_key)  # raises BadReceipt if the signature does not check out
                signers = (receipt.id, receipt.by, receipt.for_station)
                assert signers == (rid, dst.station_id, src.station_id), (
                    f"{what}: receipt {rid} held by {holder} is {receipt.by}->{receipt.for_station}"
                )
            assert receipts[0] == receipts[1], f"{what}: receipt {rid} differs between the two stations"
            for seq, digest in receipts[0].entries:
                assert seq not in covered_by, f"{link}: seq {seq} receipted twice ({covered_by[seq]}, {rid})"
                covered_by[seq] = rid
                assert seq <= len(outbox) and outbox[seq - 1]["digest"] == digest, (
                    f"{link}: receipt {rid} covers seq {seq} with a digest that is not the envelope's"
                )
            verified.add(rid)
        assert covered_by.get(o["seq"]) == rid, f"{what}: receipt {rid} does not cover it"
    assert sorted(covered_by) == list(range(1, len(outbox) + 1)), f"{link}: receipts do not cover 1..n"

    # The API shows what the database holds: each message it lists (its newest page of at most 1000,
    # of the kinds it lists by default), and every text message while there are fewer than 1000.
    page = snap.pages[src.station_id]
    by_id = {m["id"]: m for m in outbox}
    for m in page:
        row = by_id.get(m["id"])
        assert row is not None, f"{link}: the API shows {m['id']}, the database does not hold it"
        assert (m["seq"], m["digest"], m["kind"]) == (row["seq"], row["digest"], row["kind"]), (
            f"{link}: the API and the database differ on {m['id']}"
        )
        assert m["receipt"] is not None and m["receipt"]["id"] == row["receipt_id"], f"{link}: {m['id']}"
    text_ids = {m["id"] for m in outbox if m["kind"] == "text"}
    if len(text_ids) < 1000:
        unlisted = text_ids - {m["id"] for m in page}
        assert not unlisted, f"{link}: the API does not list {len(unlisted)} of the outbox's texts"
    else:
        assert len(page) == 1000, f"{link}: the API lists {len(page)} of {len(outbox)} messages"

    # The transcript (through the API) of this direction is the chain of the stored envelopes.
    chain = snap.transcripts[src.station_id][link]
    check_chain(chain, len(outbox), f"{link} transcript")
    assert [e["digest"] for e in chain] == [m["digest"] for m in outbox], f"{link}: transcript digests"

    return DirectionReport(link, len(outbox), len(text_ids), len(all_accepted), len(verified))


def check_transcripts(snap: Snapshot, w: StationProcess, b: StationProcess) -> None:
    """Both stations show the same two chains of their link, each contiguous."""
    tw, tb = snap.transcripts[w.station_id], snap.transcripts[b.station_id]
    for direction in (f"{w.station_id}->{b.station_id}", f"{b.station_id}->{w.station_id}"):
        assert tw[direction] == tb[direction], f"{direction}: the two stations hold different chains"
        check_chain(tw[direction], len(tw[direction]), direction)


def check_no_equivocation(*stations: StationProcess) -> None:
    for s in stations:
        found = api_get(s, "/alarms", type="equivocations")["alarms"]
        assert found == [], f"{s.station_id} raised equivocation alarms: {found[:3]}"


def check_link(
    w: StationProcess,
    b: StationProcess,
    accepted_wb: Sequence[Sequence[str]],
    accepted_bw: Sequence[Sequence[str]],
    *,
    exact_wb: bool = True,
    exact_bw: bool = True,
    texts: dict[str, str] | None = None,
) -> tuple[DirectionReport, DirectionReport]:
    """Every property above, both directions, on one quiet snapshot of both stations.

    ``accepted_*``: per sequential client, the ids its station answered 201 for, in order.
    ``exact_*``: that direction's sender was never killed. Both stations must be running.
    """
    snap = take_snapshot(w, b)
    wb = check_direction(snap, w, b, accepted_wb, exact_wb, texts)
    bw = check_direction(snap, b, w, accepted_bw, exact_bw, texts)
    check_transcripts(snap, w, b)
    check_no_equivocation(w, b)
    return wb, bw
