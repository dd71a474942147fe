"""Receiving side of one chain: what to do with each arriving envelope header."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

GENESIS_DIGEST = "0" * 64


@dataclass(frozen=True, slots=True)
class EnvelopeHeader:
    """The part of an envelope the protocol reasons about (already signature-checked)."""

    seq: int
    prev: str
    digest: str


@dataclass(frozen=True, slots=True)
class Accept:
    header: EnvelopeHeader


@dataclass(frozen=True, slots=True)
class Duplicate:
    """Seen before with the same digest: answer with the original receipt, change nothing."""

    header: EnvelopeHeader


@dataclass(frozen=True, slots=True)
class Gap:
    """Arrived ahead of the chain: ask the sender to resend from ``expected_seq``."""

    header: EnvelopeHeader
    expected_seq: int


@dataclass(frozen=True, slots=True)
class Equivocation:
    """A different envelope for a place already filled, or a fork off the chain."""

    header: EnvelopeHeader
    known_digest: str
    reason: str


Decision = Accept | Duplicate | Gap | Equivocation


@dataclass(slots=True)
class InboundChain:
    """Where the receiver stands on one sender's chain."""

    next_seq: int = 1
    last_digest: str = GENESIS_DIGEST

    def classify(self, header: EnvelopeHeader, known_digest: str | None) -> Decision:
        """Decide about ``header``; ``known_digest`` is the digest stored at its seq, if any."""
        if header.seq < self.next_seq:
            if known_digest is None:
                # The caller must look up every seq below next_seq; a missing one is our bug.
                raise LookupError(f"no stored digest for seq {header.seq} below next_seq {self.next_seq}")
            if known_digest == header.digest:
                return Duplicate(header)
            return Equivocation(header, known_digest, f"seq {header.seq} already holds another envelope")
        if header.seq > self.next_seq:
            return Gap(header, self.next_seq)
        if header.prev != self.last_digest:
            return Equivocation(
                header,
                self.last_digest,
                f"seq {header.seq} does not follow the envelope at seq {header.seq - 1}",
            )
        return Accept(header)

    def accept(self, header: EnvelopeHeader) -> None:
        if header.seq != self.next_seq or header.prev != self.last_digest:
            raise ValueError(f"seq {header.seq} cannot be accepted at next_seq {self.next_seq}")
        self.next_seq += 1
        self.last_digest = header.digest


@dataclass(slots=True)
class BatchPlan:
    """What one batch of envelopes does to the chain, decided before anything is stored."""

    accepted: list[EnvelopeHeader] = field(default_factory=list)
    duplicates: list[EnvelopeHeader] = field(default_factory=list)
    gap: Gap | None = None
    equivocation: Equivocation | None = None


def plan_batch(chain: InboundChain, headers: Sequence[EnvelopeHeader], known: Mapping[int, str]) -> BatchPlan:
    """Classify a batch in order; advance ``chain`` over what is accepted.

    ``known`` maps each seq below ``chain.next_seq`` that appears in the batch to
    the digest stored there. Processing stops at the first gap or equivocation:
    whatever follows depends on it.
    """
    plan = BatchPlan()
    seen = dict(known)  # a batch may repeat a seq it has just accepted
    for header in headers:
        decision = chain.classify(header, seen.get(header.seq))
        if isinstance(decision, Accept):
            chain.accept(header)
            seen[header.seq] = header.digest
            plan.accepted.append(header)
        elif isinstance(decision, Duplicate):
            plan.duplicates.append(header)
        elif isinstance(decision, Gap):
            plan.gap = decision
            break
        else:
            plan.equivocation = decision
            break
    return plan
