"""The Merkle log of each direction of each link: tree heads, inclusion and consistency proofs.

Each direction's envelopes, in ``seq`` order, are the leaves of one RFC 9162 log
(:mod:`redline.domain.merkle`): leaf ``seq - 1`` is the 32 raw bytes of the envelope's digest.
The log's origin, ``redline/<sender>-><receiver>``, names the same log on both stations:
our outbound log to a peer is that peer's inbound log from us, with the same leaves, so the
same size gives the same root on both sides while neither has lost or changed an envelope.

Every answer is computed from the digests stored now, read in one query: ``O(n)`` hashes for
a log of ``n`` envelopes (bench/merkle.py measures it), then ``O(log n)`` per root or proof.
Nothing is cached between requests, so an answer always shows what the database holds; the
signed, cosigned checkpoints a proof will later be checked against are not there yet (see
docs/protocol.md, "Merkle log").
"""

from __future__ import annotations

from dataclasses import dataclass

from redline.domain.merkle import MerkleLog, digest_leaf, log_origin
from redline.domain.messages import Direction
from redline.domain.names import check_message_id
from redline.errors import Conflict, InputError, NotFound, _t
from redline.services.ports import StationStore


@dataclass(frozen=True, slots=True)
class TreeHead:
    """The root of the first ``size`` leaves of the log named ``origin``."""

    origin: str
    direction: Direction  # as this station sees the log
    size: int
    root: bytes

    def fields(self) -> dict[str, object]:
        return {
            "origin": self.origin,
            "direction": self.direction.value,
            "size": self.size,
            "root": self.root.hex(),
        }


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """That the envelope ``message_id`` with ``digest`` is leaf ``leaf_index`` of ``head``."""

    head: TreeHead
    message_id: str
    seq: int
    digest: str
    leaf_index: int
    leaf_hash: bytes
    audit_path: list[bytes]

    def fields(self) -> dict[str, object]:
        return {
            "message_id": self.message_id,
            "origin": self.head.origin,
            "direction": self.head.direction.value,
            "seq": self.seq,
            "digest": self.digest,
            "leaf_index": self.leaf_index,
            "leaf_hash": self.leaf_hash.hex(),
            "tree_size": self.head.size,
            "root": self.head.root.hex(),
            "audit_path": [p.hex() for p in self.audit_path],
        }


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """That the log's first ``first.size`` leaves are the first of its ``second.size``."""

    first: TreeHead
    second: TreeHead
    proof: list[bytes]

    def fields(self) -> dict[str, object]:
        return {
            "origin": self.second.origin,
            "direction": self.second.direction.value,
            "first": self.first.size,
            "second": self.second.size,
            "first_root": self.first.root.hex(),
            "second_root": self.second.root.hex(),
            "proof": [p.hex() for p in self.proof],
        }


def parse_size(raw: str | None, name: str) -> int | None:
    """A tree size from a query parameter: ASCII digits, None when absent."""
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise InputError(f"{name}: expected a whole number of envelopes (ASCII digits), not {raw[:40]!r}")
    return int(raw)


class LogQueries:
    def __init__(self, store: StationStore, me_id: str) -> None:
        self._store = store
        self._me_id = me_id

    def origin(self, peer: str, direction: Direction) -> str:
        if direction is Direction.OUTBOUND:
            return log_origin(self._me_id, peer)
        return log_origin(peer, self._me_id)

    async def _log(self, peer: str, direction: Direction, size: int | None) -> MerkleLog:
        """The log of ``direction`` on the link with ``peer``, its first ``size`` leaves (all by
        default); a log whose stored seqs do not run 1, 2, 3, … has no tree and is refused."""
        rows = await self._store.log_digests(peer, direction, size)
        log = MerkleLog()
        for seq, digest in rows:
            if seq != log.size + 1:
                raise Conflict(
                    f"the {direction.value} log with {peer} is broken: seq {log.size + 1} is missing "
                    f"(next stored: {seq}); no tree head covers it"
                )
            log.append(digest_leaf(digest))
        if size is not None and size > log.size:
            raise InputError(
                f"size: the {direction.value} log with {peer} holds {log.size} envelopes, not {size}"
            )
        return log

    async def _check_peer(self, peer: str) -> None:
        if await self._store.peer(peer) is None:
            raise NotFound(_t("no peer {peer_id!r}", peer_id=peer))

    def _head(self, peer: str, direction: Direction, log: MerkleLog, size: int) -> TreeHead:
        return TreeHead(self.origin(peer, direction), direction, size, log.root(size))

    async def head(self, peer: str, direction: Direction, size: int | None = None) -> TreeHead:
        """The tree head of one direction now, or of its first ``size`` envelopes."""
        await self._check_peer(peer)
        log = await self._log(peer, direction, size)
        return self._head(peer, direction, log, log.size)

    async def inclusion(self, message_id: str, size: int | None = None) -> InclusionProof:
        """The audit path of a stored message in its direction's log, of all of it or its first
        ``size`` envelopes (which must include the message)."""
        row = await self._store.message(check_message_id(message_id))
        if row is None:
            raise NotFound(_t("no message {message_id}", message_id=message_id))
        if size is not None and size < row.seq:
            raise InputError(f"size: message {row.id} is seq {row.seq}; a tree of {size} does not hold it")
        log = await self._log(row.peer_id, row.direction, size)
        index = row.seq - 1
        return InclusionProof(
            head=self._head(row.peer_id, row.direction, log, log.size),
            message_id=row.id,
            seq=row.seq,
            digest=row.digest,
            leaf_index=index,
            leaf_hash=log.leaf_hash(index),
            audit_path=log.inclusion_proof(index),
        )

    async def consistency(
        self, peer: str, direction: Direction, first: int, second: int | None = None
    ) -> ConsistencyProof:
        """That the log's first ``first`` envelopes are the start of its first ``second`` (all of
        it by default): RFC 9162's consistency proof, ``1 <= first <= second``."""
        await self._check_peer(peer)
        if first < 1 or (second is not None and first > second):
            raise InputError(f"first: expected 1 <= first <= second, not first={first}, second={second}")
        log = await self._log(peer, direction, second)
        if first > log.size:
            raise InputError(
                f"first: the {direction.value} log with {peer} holds {log.size} envelopes, not {first}"
            )
        return ConsistencyProof(
            self._head(peer, direction, log, first),
            self._head(peer, direction, log, log.size),
            log.consistency_proof(first, log.size),
        )
