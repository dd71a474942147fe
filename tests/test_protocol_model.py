"""The link protocol's state machines, driven through a network that loses, duplicates and reorders.

Both ends run the real protocol code: the sender is the real :class:`OutboundCursor`
moved by :func:`read_answer` / :func:`misreceipted` / :func:`is_fresh` /
:func:`apply_answer`; the receiver is the real :class:`InboundChain` fed through
:func:`plan_batch`, answering with :func:`plan_answer` and :func:`answer_body` (the
same calls ``services.inbound`` and ``services.delivery`` make), with dicts standing
in for both databases and receipts reduced to (id, entries) because signatures are
not the protocol's business. Answers cross the network as JSON text. Requests and
answers may be delivered in any order, any number of times, or never. Honest traffic
must never look like equivocation, a duplicate must be answered with its original
receipt, the receiver must hold exactly 1..n in order, and once the network heals
everything queued must be receipted exactly once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from redline.protocol import (
    GENESIS_DIGEST,
    Accept,
    Duplicate,
    EnvelopeHeader,
    Equivocation,
    Gap,
    InboundChain,
    OutboundCursor,
    answer_body,
    apply_answer,
    is_fresh,
    misreceipted,
    plan_answer,
    plan_batch,
    read_answer,
)


def digest_of(seq: int) -> str:
    return hashlib.sha256(f"{seq}".encode()).hexdigest()


def header(seq: int) -> EnvelopeHeader:
    """The honest sender's envelope ``seq``: linked to the digest of ``seq - 1``."""
    return EnvelopeHeader(
        seq=seq, prev=digest_of(seq - 1) if seq > 1 else GENESIS_DIGEST, digest=digest_of(seq)
    )


@dataclass(frozen=True)
class Request:
    headers: tuple[EnvelopeHeader, ...]


Response = str  # the answer's JSON text, as it crosses the network


def entries_of(receipt: dict[str, Any]) -> list[tuple[int, str]]:
    return [(int(seq), str(digest)) for seq, digest in receipt["entries"]]


class Receiver:
    """The receiving station: the real InboundChain and answer assembly, dicts for its tables."""

    def __init__(self) -> None:
        self.chain = InboundChain()
        self.stored: dict[int, tuple[str, str]] = {}  # seq -> (digest, receipt id), the message table
        self.stored_order: list[int] = []
        self.receipts: dict[str, dict[str, Any]] = {}  # the receipt table

    def digests(self) -> dict[int, str]:
        return {seq: digest for seq, (digest, _) in self.stored.items()}

    def handle(self, request: Request) -> Response:
        # As redline.services.inbound does: look up every seq below next_seq before planning.
        positions = {h.seq: self.stored[h.seq] for h in request.headers if h.seq < self.chain.next_seq}
        before = self.chain.next_seq
        plan = plan_batch(self.chain, request.headers, {s: d for s, (d, _) in positions.items()})
        answer = plan_answer(plan, positions)
        assert answer.equivocation is None, f"honest traffic classified as equivocation: {answer}"
        receipts: list[dict[str, Any]] = []
        if answer.new_entries:
            receipt_id = f"r{len(self.receipts) + 1}"
            receipt = {"id": receipt_id, "entries": [list(e) for e in answer.new_entries]}
            self.receipts[receipt_id] = receipt
            receipts.append(receipt)
            for seq, digest in answer.new_entries:
                assert seq not in self.stored, f"seq {seq} accepted twice"
                self.stored[seq] = (digest, receipt_id)
                self.stored_order.append(seq)
        assert [s for s, _ in answer.new_entries] == [h.seq for h in plan.accepted]
        receipts.extend(self.receipts[r] for r in answer.earlier_receipts)
        assert self.chain.next_seq == before + len(plan.accepted)
        covered = {e for r in receipts for e in entries_of(r)}
        for h in [*plan.accepted, *plan.duplicates]:
            assert (h.seq, h.digest) in covered, f"seq {h.seq} answered without its receipt"
        assert all(self.stored[s][0] == d for s, d in covered), "a receipt names what is not stored"
        if answer.gap is not None:
            assert answer.gap == self.chain.next_seq, answer
            event("receiver: gap")
        if plan.duplicates:
            event("receiver: duplicates")
        return json.dumps(answer_body(answer, receipts))


class LinkMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.cursor = OutboundCursor()
        self.queued: list[EnvelopeHeader] = []
        self.receipted: set[int] = set()  # the sender's durable receipts (what a restart reloads)
        self.receiver = Receiver()
        self.requests: list[Request] = []
        self.responses: list[Response] = []
        self.restarted = False
        self._failed = False

    @contextmanager
    def _step(self) -> Iterator[None]:
        """Mark the run as failed if a step raises, so teardown does not bury the first failure."""
        self._failed = True
        yield
        self._failed = False

    # -- sender ------------------------------------------------------------------------------

    @rule(n=st.integers(1, 3))
    def queue(self, n: int) -> None:
        with self._step():
            for _ in range(n):
                seq = len(self.queued) + 1
                self.cursor.on_queued(seq)
                self.queued.append(header(seq))

    @rule(k=st.integers(1, 4))
    def send(self, k: int) -> None:
        with self._step():
            self._send(k)

    def _send(self, k: int) -> Request | None:
        batch = self.cursor.next_batch(k)
        if not batch:
            assert self.cursor.pending == 0, "next_batch is empty while envelopes await receipts"
            return None
        assert batch.start >= 1 and batch.stop - 1 <= len(self.queued) and len(batch) <= k, batch
        assert batch.start <= self.cursor.receipted_through + 1, "a batch skipped an unreceipted envelope"
        request = Request(tuple(self.queued[s - 1] for s in batch))
        self.requests.append(request)
        return request

    @precondition(lambda self: self.queued)
    @rule(start=st.integers(0, 10**6), k=st.integers(1, 4))
    def send_window(self, start: int, k: int) -> None:
        """An honest but out-of-window batch (e.g. a stale retransmission): may open a gap."""
        with self._step():
            first = 1 + start % len(self.queued)
            last = min(len(self.queued), first + k - 1)
            self.requests.append(Request(tuple(self.queued[s - 1] for s in range(first, last + 1))))

    @rule()
    def restart_sender(self) -> None:
        """kill -9: the cursor is rebuilt from durable receipts, as DeliveryWorker._load_cursor does."""
        with self._step():
            high = len(self.queued)
            low = next((s for s in range(1, high + 1) if s not in self.receipted), None)
            self.cursor = OutboundCursor(receipted_through=(low - 1) if low else high, highest_queued=high)
            self.restarted = True

    # -- network ----------------------------------------------------------------------------

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 10**6), keep_copy=st.booleans())
    def deliver_request(self, i: int, keep_copy: bool) -> None:
        with self._step():
            request = self.requests[i % len(self.requests)]
            if not keep_copy:
                self.requests.remove(request)
            self.responses.append(self.receiver.handle(request))

    @precondition(lambda self: self.responses)
    @rule(i=st.integers(0, 10**6), keep_copy=st.booleans())
    def deliver_response(self, i: int, keep_copy: bool) -> None:
        with self._step():
            response = self.responses[i % len(self.responses)]
            if not keep_copy:
                self.responses.remove(response)
            self._on_response(response)

    def _on_response(self, response: Response) -> None:
        # As DeliveryWorker does: read the answer, check every receipted digest is what we sent,
        # record the receipts that are new (durably), then move the cursor.
        answer = read_answer(json.loads(response))
        sent = {h.seq: h.digest for h in self.queued}
        receipts = [entries_of(r) for r in answer.receipts]
        assert misreceipted((e for r in receipts for e in r), sent) is None, (
            "a receipt names another envelope"
        )
        for entries in receipts:
            if is_fresh(entries, self.cursor):
                self.receipted.update(seq for seq, _ in entries)
            else:
                assert all(seq in self.receipted for seq, _ in entries), "a stale receipt was never recorded"
        if answer.gap is not None and answer.gap <= self.cursor.receipted_through:
            event("sender: stale gap")
        halt = apply_answer(self.cursor, (seq for r in receipts for seq, _ in r), answer)
        assert halt is None, f"honest traffic halted the link: {halt}"

    @precondition(lambda self: self.requests)
    @rule(i=st.integers(0, 10**6))
    def drop_request(self, i: int) -> None:
        with self._step():
            del self.requests[i % len(self.requests)]

    @precondition(lambda self: self.responses)
    @rule(i=st.integers(0, 10**6))
    def drop_response(self, i: int) -> None:
        with self._step():
            del self.responses[i % len(self.responses)]

    @rule(now=st.integers(0, 3))
    def heal(self, now: int) -> None:
        """Sometimes mid-run (then the chaos resumes); always at teardown."""
        if now == 0:
            with self._step():
                self._heal()

    def _heal(self) -> None:
        """Stale traffic lands first; then the network is reliable until everything is receipted."""
        while self.requests:
            self.responses.append(self.receiver.handle(self.requests.pop()))
        while self.responses:
            self._on_response(self.responses.pop(0))
        rounds = 0
        while (request := self._send(3)) is not None:
            self.requests.clear()
            self._on_response(self.receiver.handle(request))
            rounds += 1
            assert rounds <= 2 * len(self.queued) + 2, "the link does not converge on a reliable network"
        n = len(self.queued)
        assert self.receiver.stored_order == list(range(1, n + 1)), "not exactly-once, in-order delivery"
        assert self.receiver.digests() == {s: digest_of(s) for s in range(1, n + 1)}
        assert self.cursor.receipted_through == n and self.cursor.pending == 0
        assert self.receipted == set(range(1, n + 1))
        self._check_all()

    # -- invariants --------------------------------------------------------------------------

    @invariant()
    def invariants(self) -> None:
        with self._step():
            self._check_all()

    def _check_all(self) -> None:
        receiver = self.receiver
        held = receiver.chain.next_seq - 1
        assert receiver.stored_order == list(range(1, held + 1)), (
            f"receiver holds {receiver.stored_order}: duplicates, holes or disorder"
        )
        assert receiver.digests() == {s: digest_of(s) for s in range(1, held + 1)}
        assert receiver.chain.last_digest == (digest_of(held) if held else GENESIS_DIGEST)
        assert self.cursor.receipted_through <= held, (
            f"sender believes 1..{self.cursor.receipted_through} receipted; receiver holds 1..{held}"
        )
        assert self.cursor.highest_queued == len(self.queued)
        prefix = 0
        while prefix + 1 in self.receipted:
            prefix += 1
        assert self.cursor.receipted_through <= prefix, (
            f"cursor at {self.cursor.receipted_through} but receipts held only for 1..{prefix}"
        )
        if not self.restarted:
            # A restart forgets receipts held ahead of a hole (they are re-earned by one resend);
            # short of that, the cursor counts every receipt it was given.
            assert self.cursor.receipted_through == prefix, (
                f"cursor at {self.cursor.receipted_through} though receipts are held for 1..{prefix}"
            )

    def teardown(self) -> None:
        if not self._failed:
            self._heal()


LinkMachine.TestCase.settings = settings(
    max_examples=300, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestLink = LinkMachine.TestCase


# -- plain unit tests ---------------------------------------------------------------------------------


def chain_holding(n: int) -> tuple[InboundChain, dict[int, str]]:
    chain, known = InboundChain(), {}
    for seq in range(1, n + 1):
        chain.accept(header(seq))
        known[seq] = digest_of(seq)
    return chain, known


def test_same_seq_with_another_digest_is_equivocation() -> None:
    chain, known = chain_holding(3)
    forged = EnvelopeHeader(seq=2, prev=digest_of(1), digest="f" * 64)
    decision = chain.classify(forged, known[2])
    assert isinstance(decision, Equivocation)
    assert decision.known_digest == digest_of(2) and decision.header == forged
    plan = plan_batch(chain, [header(2), forged, header(4)], {2: known[2]})
    assert plan.duplicates == [header(2)] and plan.accepted == []
    assert plan.equivocation == decision, "processing stops at the equivocation"
    assert (chain.next_seq, chain.last_digest) == (4, digest_of(3))


def test_fork_off_the_chain_is_equivocation() -> None:
    chain, _ = chain_holding(3)
    fork = EnvelopeHeader(seq=4, prev="e" * 64, digest=digest_of(4))
    decision = chain.classify(fork, None)
    assert isinstance(decision, Equivocation) and decision.known_digest == digest_of(3)
    plan = plan_batch(chain, [fork, header(5)], {})
    assert isinstance(plan.equivocation, Equivocation) and plan.accepted == []
    assert chain.next_seq == 4, "a fork must not advance the chain"


def test_fork_at_genesis_is_equivocation() -> None:
    decision = InboundChain().classify(EnvelopeHeader(seq=1, prev="a" * 64, digest=digest_of(1)), None)
    assert isinstance(decision, Equivocation) and decision.known_digest == GENESIS_DIGEST


def test_seq_ahead_is_a_gap_with_the_expected_seq() -> None:
    chain, _ = chain_holding(2)
    assert chain.classify(header(5), None) == Gap(header(5), expected_seq=3)
    plan = plan_batch(chain, [header(3), header(5), header(6)], {})
    assert plan.accepted == [header(3)]
    assert plan.gap == Gap(header(5), expected_seq=4), "the gap is reported after what was accepted"
    assert chain.next_seq == 4


def test_in_order_and_duplicate_decisions() -> None:
    chain, known = chain_holding(2)
    assert chain.classify(header(3), None) == Accept(header(3))
    assert chain.classify(header(1), known[1]) == Duplicate(header(1))
    with pytest.raises(LookupError):
        chain.classify(header(1), None)


def test_accept_refuses_an_out_of_order_header() -> None:
    chain, _ = chain_holding(2)
    for bad in (header(2), header(4), EnvelopeHeader(seq=3, prev="0" * 64, digest=digest_of(3))):
        with pytest.raises(ValueError):
            chain.accept(bad)
        assert (chain.next_seq, chain.last_digest) == (3, digest_of(2)), "a refused header changed the chain"
    chain.accept(header(3))
    assert (chain.next_seq, chain.last_digest) == (4, digest_of(3))


def test_a_repeated_header_within_one_batch_is_a_duplicate_not_a_crash() -> None:
    """A peer may put the same envelope twice in one batch; plan_batch must classify, not raise.

    The service looks up stored digests only for seqs below next_seq *before* planning, so a
    repeat of an envelope accepted earlier in the same batch reaches classify() with no known digest.
    """
    chain, _ = chain_holding(0)
    try:
        plan = plan_batch(chain, [header(1), header(1)], {})
    except LookupError as exc:
        raise AssertionError(
            f"BUG: plan_batch raised LookupError ({exc}) on a batch that repeats an envelope; it should "
            "remember the digests it accepts earlier in the batch (e.g. classify against "
            "{**known, **{h.seq: h.digest for h in plan.accepted}}) and report a Duplicate."
        ) from exc
    assert plan.accepted == [header(1)] and plan.duplicates == [header(1)]
    forged = EnvelopeHeader(seq=1, prev=GENESIS_DIGEST, digest="f" * 64)
    plan = plan_batch(InboundChain(), [header(1), forged], {})
    assert isinstance(plan.equivocation, Equivocation), "a different envelope at a seq just accepted"


def test_outbound_cursor_basics() -> None:
    cursor = OutboundCursor()
    assert cursor.next_batch(10) == range(1, 1)
    for seq in (1, 2, 3, 4):
        cursor.on_queued(seq)
    with pytest.raises(ValueError):
        cursor.on_queued(4)
    with pytest.raises(ValueError):
        cursor.next_batch(0)
    assert cursor.next_batch(3) == range(1, 4)
    cursor.on_receipted([2, 3])
    assert cursor.receipted_through == 0, "receipts ahead of a hole are held, not counted"
    cursor.on_receipted([1])
    assert cursor.receipted_through == 3 and cursor.pending == 1
    assert cursor.next_batch(3) == range(4, 5)
    with pytest.raises(ValueError):
        cursor.on_receipted([5])
    cursor.on_gap(2)
    assert cursor.next_batch(2) == range(2, 4), "a gap rewinds the next batch once"
    assert cursor.next_batch(2) == range(4, 5)
    cursor.on_gap(9)
    assert cursor.next_batch(2) == range(4, 5), "a gap beyond what was queued is ignored"


# -- answers ------------------------------------------------------------------------------------------


def test_answer_to_a_batch_with_duplicates_and_a_gap() -> None:
    chain, known = chain_holding(2)
    positions = {1: (known[1], "r1"), 2: (known[2], "r2")}
    plan = plan_batch(chain, [header(1), header(2), header(3), header(5)], known)
    answer = plan_answer(plan, positions)
    assert answer.new_entries == ((3, digest_of(3)),)
    assert answer.earlier_receipts == ("r1", "r2"), "duplicates are answered with their original receipts"
    assert answer.gap == 4 and answer.equivocation is None
    body = answer_body(answer, [{"id": "r3"}, {"id": "r1"}, {"id": "r2"}])
    assert body == {
        "receipts": [{"id": "r3"}, {"id": "r1"}, {"id": "r2"}],
        "gap": {"expected_seq": 4},
        "equivocation": None,
    }
    read = read_answer(json.loads(json.dumps(body)))
    assert read.gap == 4 and read.equivocation is None and len(read.receipts) == 3


def test_one_receipt_for_many_duplicates_is_sent_once() -> None:
    chain, known = chain_holding(3)
    positions = {s: (known[s], "r1") for s in (1, 2, 3)}
    answer = plan_answer(plan_batch(chain, [header(1), header(2), header(3)], known), positions)
    assert answer.earlier_receipts == ("r1",) and answer.new_entries == ()


def test_an_equivocation_is_answered_and_halts_the_sender() -> None:
    chain, known = chain_holding(2)
    forged = EnvelopeHeader(seq=2, prev=digest_of(1), digest="f" * 64)
    answer = plan_answer(plan_batch(chain, [forged], known), {2: (known[2], "r1")})
    assert answer.equivocation == (2, "seq 2 already holds another envelope")
    body = answer_body(answer, [])
    assert body["equivocation"] == {"seq": 2, "reason": "seq 2 already holds another envelope"}
    cursor = OutboundCursor(highest_queued=2)
    halt = apply_answer(cursor, [], read_answer(body))
    assert halt is not None and "equivocation" in halt


def test_the_sender_checks_what_an_answer_claims() -> None:
    bad: object
    for bad in ([], {"gap": None}, {"receipts": {}}):
        with pytest.raises(ValueError):
            read_answer(bad)
    assert read_answer({"receipts": [], "gap": {"expected_seq": True}}).gap is None
    assert read_answer({"receipts": [], "gap": "soon"}).gap is None
    sent = {1: digest_of(1), 2: digest_of(2)}
    assert misreceipted([(1, digest_of(1)), (2, digest_of(2))], sent) is None
    assert misreceipted([(1, digest_of(1)), (2, "e" * 64)], sent) == (2, "e" * 64)
    assert misreceipted([(3, digest_of(3))], sent) == (3, digest_of(3)), "a seq we never sent"
    cursor = OutboundCursor(highest_queued=4)
    assert is_fresh([(1, digest_of(1))], cursor)
    assert apply_answer(cursor, [1, 2], read_answer({"receipts": [], "gap": {"expected_seq": 2}})) is None
    assert cursor.receipted_through == 2 and not is_fresh([(2, digest_of(2))], cursor)
    assert cursor.next_batch(4) == range(2, 5), "the gap rewinds the next batch"
