"""The Merkle log over a real store (SQLite and PostgreSQL): heads and proofs from the stored
digests, a direction with a gap refused, and a rewritten row seen in the root and refused by a
consistency proof from the head before it."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import update

from redline.domain.merkle import MerkleLog, digest_leaf, verify_consistency, verify_inclusion
from redline.domain.messages import Direction
from redline.domain.stations import PeerRecord
from redline.errors import Conflict, InputError, NotFound
from redline.services.queries.logs import LogQueries
from redline.store import schema as t
from redline.store.station import Store
from tests.test_store import PEER, T0, insert, record, run

OUT, IN = Direction.OUTBOUND, Direction.INBOUND
ME = "washington"


def digest(seq: int, direction: Direction) -> str:
    return hashlib.sha256(f"{direction.value} {seq}".encode()).hexdigest()


def mid(seq: int, direction: Direction) -> str:
    """A message id (32 hex digits) per direction and seq."""
    return f"{1 if direction is OUT else 2}{seq:031x}"


async def fill(store: Store, outbound: int, inbound: int, skip: int | None = None) -> None:
    await store.add_peer(
        PeerRecord(
            station_id=PEER,
            name="Beijing",
            signing_key="k" * 64,
            encryption_key="e" * 64,
            tls_fingerprint="f" * 64,
            tls_certificate="CERT",
            endpoints=("https://a:1",),
            card="{}",
            added_at=T0,
            verified_at=T0,
        )
    )
    rows = [record(s, OUT, id=mid(s, OUT), digest=digest(s, OUT)) for s in range(1, outbound + 1)]
    rows += [record(s, IN, id=mid(s, IN), digest=digest(s, IN)) for s in range(1, inbound + 1) if s != skip]
    await insert(store, *rows)


def test_heads_and_proofs_come_from_the_stored_digests(url: str) -> None:
    async def scenario(store: Store) -> None:
        await fill(store, 13, 5)
        logs = LogQueries(store, ME)
        expected = MerkleLog(digest_leaf(digest(s, OUT)) for s in range(1, 14))
        head = await logs.head(PEER, OUT)
        assert (head.origin, head.size, head.root) == ("redline/washington->beijing", 13, expected.root())
        assert (await logs.head(PEER, IN)).origin == "redline/beijing->washington"
        assert (await logs.head(PEER, OUT, 0)).root == hashlib.sha256(b"").digest()
        for seq in range(1, 14):
            proof = await logs.inclusion(mid(seq, OUT))
            assert proof.leaf_index == seq - 1 and proof.head == head
            assert verify_inclusion(proof.leaf_index, 13, proof.leaf_hash, proof.audit_path, head.root)
            older = await logs.inclusion(mid(seq, OUT), size=seq)
            assert older.head.size == seq and older.head.root == expected.root(seq)
            assert verify_inclusion(seq - 1, seq, older.leaf_hash, older.audit_path, older.head.root)
        consistency = await logs.consistency(PEER, OUT, 5)
        assert consistency.first.root == expected.root(5) and consistency.second == head
        assert verify_consistency(5, 13, expected.root(5), head.root, consistency.proof)
        for bad in (
            lambda: logs.head(PEER, OUT, 14),
            lambda: logs.inclusion(mid(4, OUT), size=3),
            lambda: logs.consistency(PEER, OUT, 0),
            lambda: logs.consistency(PEER, OUT, 14),
            lambda: logs.consistency(PEER, OUT, 6, 5),
        ):
            with pytest.raises(InputError):
                await bad()
        with pytest.raises(NotFound):
            await logs.head("nobody", OUT)
        with pytest.raises(NotFound):
            await logs.inclusion("0" * 32)

    run(url, scenario)


def test_a_direction_with_a_gap_has_no_tree(url: str) -> None:
    async def scenario(store: Store) -> None:
        await fill(store, 3, 6, skip=4)
        logs = LogQueries(store, ME)
        with pytest.raises(Conflict, match="seq 4 is missing"):
            await logs.head(PEER, IN)
        with pytest.raises(Conflict, match="seq 4 is missing"):
            await logs.inclusion(mid(2, IN))
        assert (await logs.head(PEER, IN, 3)).size == 3  # the part before the gap still has one
        assert (await logs.head(PEER, OUT)).size == 3

    run(url, scenario)


def test_a_rewritten_row_changes_the_root_and_breaks_consistency(url: str) -> None:
    async def scenario(store: Store) -> None:
        await fill(store, 9, 0)
        logs = LogQueries(store, ME)
        early = await logs.head(PEER, OUT, 4)
        two = await logs.head(PEER, OUT, 2)
        before = await logs.head(PEER, OUT)
        async with store.database.transaction() as conn:  # someone with the database rewrites seq 3
            m = t.messages.c
            await conn.execute(
                update(t.messages)
                .where(m.peer_id == PEER, m.direction == OUT.value, m.seq == 3)
                .values(digest=hashlib.sha256(b"forged").hexdigest())
            )
        after = await logs.head(PEER, OUT)
        assert after.size == before.size and after.root != before.root
        rewritten = await logs.consistency(PEER, OUT, 4)
        assert not verify_consistency(4, 9, early.root, after.root, rewritten.proof)
        assert await logs.head(PEER, OUT, 2) == two  # the leaves before it still hash alike
        proof = await logs.inclusion(mid(3, OUT))
        assert verify_inclusion(2, 9, proof.leaf_hash, proof.audit_path, after.root)
        assert not verify_inclusion(2, 9, proof.leaf_hash, proof.audit_path, before.root)

    run(url, scenario)
