"""Answers to a batch: what the receiver says back, and what the sender makes of it.

The receiver classifies a batch with :func:`~redline.protocol.inbound.plan_batch`,
then :func:`plan_answer` decides the answer from that plan and the positions it
already held: one new receipt for everything the batch stored, the receipts it
issued before for every duplicate (a retransmission is answered with the original
receipt, so the sender can always complete its record), the seq it expects after a
gap, and the equivocation if there was one. :func:`answer_body` lays that out as the
JSON object on the wire, given the receipts as signed objects (signing is
``redline.wire``'s job).

The sender reads an answer with :func:`read_answer`, checks every receipted digest
is the envelope it sent at that seq (:func:`misreceipted`) and, once the receipts'
signatures are verified and recorded, moves its cursor with :func:`apply_answer`,
which also says whether the link must halt: a peer that reports an equivocation on
our chain means our own chain forked (a database restored from an old backup), and
sending more would only repeat the fork.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redline.protocol.inbound import BatchPlan
from redline.protocol.outbound import OutboundCursor

Entry = tuple[int, str]  # (seq, digest) as a receipt lists it


@dataclass(frozen=True, slots=True)
class AnswerPlan:
    """What the receiver answers one batch with."""

    new_entries: tuple[Entry, ...]  # stored by this batch: covered by one new receipt
    earlier_receipts: tuple[str, ...]  # ids of receipts issued before, for the duplicates
    gap: int | None  # the seq the receiver expects next, when the batch ran ahead of it
    equivocation: tuple[int, str] | None  # (seq, reason)


def plan_answer(plan: BatchPlan, positions: Mapping[int, tuple[str, str | None]]) -> AnswerPlan:
    """The answer to a planned batch; ``positions`` maps stored seqs to (digest, receipt id)."""
    earlier = (positions.get(h.seq, ("", None))[1] for h in plan.duplicates)
    return AnswerPlan(
        new_entries=tuple((h.seq, h.digest) for h in plan.accepted),
        # A duplicate of an envelope accepted earlier in this very batch is covered by the new receipt.
        earlier_receipts=tuple(dict.fromkeys(r for r in earlier if r)),
        gap=plan.gap.expected_seq if plan.gap else None,
        equivocation=(plan.equivocation.header.seq, plan.equivocation.reason) if plan.equivocation else None,
    )


def answer_body(answer: AnswerPlan, receipts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The answer as sent: ``receipts`` are the signed receipts (the new one first, then the earlier)."""
    return {
        "receipts": list(receipts),
        "gap": {"expected_seq": answer.gap} if answer.gap is not None else None,
        "equivocation": (
            {"seq": answer.equivocation[0], "reason": answer.equivocation[1]} if answer.equivocation else None
        ),
    }


@dataclass(frozen=True, slots=True)
class ReadAnswer:
    """An answer as the sender reads it, before the receipts' signatures are checked."""

    receipts: list[Any]  # receipt objects, for redline.wire.receipt to parse and verify
    gap: int | None
    equivocation: object | None  # the peer's report, as it sent it


def read_answer(answer: object) -> ReadAnswer:
    """Pick an answer object apart; raises ``ValueError`` if it is not a batch answer."""
    if not isinstance(answer, dict) or not isinstance(answer.get("receipts"), list):
        raise ValueError("expected an object with a list of receipts")
    gap = answer.get("gap")
    expected = gap.get("expected_seq") if isinstance(gap, dict) else None
    return ReadAnswer(
        receipts=answer["receipts"],
        # An unreadable gap is ignored: the next batch resends from the first unreceipted seq anyway.
        gap=expected if isinstance(expected, int) and not isinstance(expected, bool) else None,
        equivocation=answer.get("equivocation") or None,
    )


def misreceipted(entries: Iterable[Entry], sent: Mapping[int, str]) -> Entry | None:
    """The first receipted (seq, digest) that is not the envelope we sent at that seq, if any."""
    return next(((seq, digest) for seq, digest in entries if sent.get(seq) != digest), None)


def is_fresh(entries: Iterable[Entry], cursor: OutboundCursor) -> bool:
    """Whether a receipt covers anything beyond what is already recorded as receipted."""
    return any(seq > cursor.receipted_through for seq, _ in entries)


def apply_answer(cursor: OutboundCursor, receipted: Iterable[int], answer: ReadAnswer) -> str | None:
    """Move ``cursor`` over verified receipts and any gap; return why the link must halt, if it must."""
    cursor.on_receipted(receipted)
    if answer.gap is not None:
        cursor.on_gap(answer.gap)
    if answer.equivocation is not None:
        return f"reports an equivocation on our chain: {answer.equivocation}"
    return None
