"""The link protocol as state machines with no I/O (in the manner of h11).

A link carries two independent chains, one per direction. The *sender* of a
chain numbers its envelopes 1, 2, 3, ... and links each to the digest of the one
before; it keeps an :class:`~redline.protocol.outbound.OutboundCursor` saying
which envelopes the peer has receipted and what to (re)send next. The
*receiver* keeps an :class:`~redline.protocol.inbound.InboundChain` and
classifies every arriving header as accepted, duplicate, gap or equivocation.

Bytes, signatures, sockets and databases are someone else's job: callers feed
headers and digests in and act on the decisions that come out. This is what
lets ``tests/test_protocol_model.py`` drive both ends through loss,
duplication and reordering without a socket. Standard library only.
"""

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
    "BatchPlan",
    "Duplicate",
    "EnvelopeHeader",
    "Equivocation",
    "Gap",
    "InboundChain",
    "OutboundCursor",
    "plan_batch",
]
