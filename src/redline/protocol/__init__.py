"""The link protocol as state machines with no I/O (in the manner of h11).

A link carries two independent chains, one per direction. The *sender* of a
chain numbers its envelopes 1, 2, 3, ... and links each to the digest of the one
before; it keeps an :class:`~redline.protocol.outbound.OutboundCursor` saying
which envelopes the peer has receipted and what to (re)send next. The
*receiver* keeps an :class:`~redline.protocol.inbound.InboundChain` and
classifies every arriving header as accepted, duplicate, gap or equivocation.
:mod:`~redline.protocol.answer` decides what the receiver answers a batch with
(receipts, gap, equivocation) and what the sender makes of that answer.

Bytes, signatures, sockets and databases are someone else's job: callers feed
headers and digests in and act on the decisions that come out. This is what
lets ``tests/test_protocol_model.py`` drive both ends through loss,
duplication and reordering without a socket. Standard library only.
"""

from redline.protocol.answer import (
    AnswerPlan,
    ReadAnswer,
    answer_body,
    apply_answer,
    is_fresh,
    misreceipted,
    plan_answer,
    read_answer,
)
from redline.protocol.inbound import (
    GENESIS_DIGEST,
    Accept,
    BatchPlan,
    Duplicate,
    EnvelopeHeader,
    Equivocation,
    Gap,
    InboundChain,
    plan_batch,
)
from redline.protocol.outbound import OutboundCursor

__all__ = [
    "GENESIS_DIGEST",
    "Accept",
    "AnswerPlan",
    "BatchPlan",
    "Duplicate",
    "EnvelopeHeader",
    "Equivocation",
    "Gap",
    "InboundChain",
    "OutboundCursor",
    "ReadAnswer",
    "answer_body",
    "apply_answer",
    "is_fresh",
    "misreceipted",
    "plan_answer",
    "plan_batch",
    "read_answer",
]
