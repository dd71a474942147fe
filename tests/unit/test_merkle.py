"""The Merkle log of redline.domain.merkle against RFC 9162 §2.1, pure (no station).

The references below are the RFC's recursive definitions written out as plainly as possible
(lists sliced, nothing kept); the module under test keeps complete subtrees and walks them, so
agreement between the two is evidence, and so are the known answers: trees of 1 to 8 and 13
leaves written node by node, and the roots of the RFC 6962 reference implementation's eight
test leaves, which every CT log implementation reproduces.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.domain.merkle import (
    EMPTY_ROOT,
    MerkleLog,
    digest_leaf,
    log_origin,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def L(leaf: bytes) -> bytes:
    return sha(b"\x00" + leaf)


def N(left: bytes, right: bytes) -> bytes:
    return sha(b"\x01" + left + right)


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as §2.1.1 defines it."""
    if not d:
        return sha(b"")
    if len(d) == 1:
        return L(d[0])
    k = k_of(len(d))
    return N(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) exactly as §2.1.3.1 defines it."""
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return [*path(m, d[:k]), mth(d[k:])]
    return [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) exactly as §2.1.4.1 defines it."""
    if m == len(d):
        return [] if whole else [mth(d)]
    k = k_of(len(d))
    if m <= k:
        return [*subproof(m, d[:k], whole), mth(d[k:])]
    return [*subproof(m - k, d[k:], False), mth(d[:k])]


def leaves(n: int, salt: bytes = b"") -> list[bytes]:
    """``n`` distinct 32-byte leaves, as envelope digests are."""
    return [sha(salt + i.to_bytes(4, "big")) for i in range(n)]


# -- Known answers -----------------------------------------------------------------------------


def by_hand(d: list[bytes]) -> bytes:
    """Trees of 1 to 8 and 13 leaves, node by node, as drawn in RFC 9162 §2.1.5's figures."""
    h = [L(x) for x in d]
    a, b, c, e, f, g, i, j = (h + [b""] * 8)[:8]
    n = len(d)
    if n == 1:
        return a
    if n == 2:
        return N(a, b)
    if n == 3:
        return N(N(a, b), c)
    if n == 4:
        return N(N(a, b), N(c, e))
    if n == 5:
        return N(N(N(a, b), N(c, e)), f)
    if n == 6:
        return N(N(N(a, b), N(c, e)), N(f, g))
    if n == 7:
        return N(N(N(a, b), N(c, e)), N(N(f, g), i))
    if n == 8:
        return N(N(N(a, b), N(c, e)), N(N(f, g), N(i, j)))
    assert n == 13
    first8 = N(N(N(h[0], h[1]), N(h[2], h[3])), N(N(h[4], h[5]), N(h[6], h[7])))
    next4 = N(N(h[8], h[9]), N(h[10], h[11]))
    return N(first8, N(next4, h[12]))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 8, 13])
def test_roots_match_trees_built_by_hand(n: int) -> None:
    d = leaves(n)
    log = MerkleLog(d)
    assert log.root() == by_hand(d) == mth(d)


# RFC 6962's reference test leaves and the roots of their first 1..8 (the CT test vectors).
RFC6962_LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]
RFC6962_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_the_rfc6962_test_vectors() -> None:
    log = MerkleLog(bytes.fromhex(x) for x in RFC6962_LEAVES)
    assert [log.root(n).hex() for n in range(1, 9)] == RFC6962_ROOTS
    assert log.root(0) == EMPTY_ROOT == sha(b"")
    assert MerkleLog().root() == sha(b"")


def test_a_13_leaf_audit_path_by_hand() -> None:
    """Leaf 10 of 13: its sibling 11, then the pair 8-9, then leaf 12, then the first eight."""
    d = leaves(13)
    h = [L(x) for x in d]
    first8 = MerkleLog(d).root(8)
    expected = [h[11], N(h[8], h[9]), h[12], first8]
    assert MerkleLog(d).inclusion_proof(10) == expected == path(10, d)
    assert verify_inclusion(10, 13, h[10], expected, by_hand(d))


def test_a_consistency_proof_by_hand() -> None:
    """3 in 7 (RFC 9162 §2.1.5's example): c, d, g, l in the RFC's letters."""
    d = leaves(7)
    h = [L(x) for x in d]
    expected = [h[2], h[3], N(h[0], h[1]), N(N(h[4], h[5]), h[6])]
    log = MerkleLog(d)
    assert log.consistency_proof(3, 7) == expected == subproof(3, d, True)
    assert verify_consistency(3, 7, log.root(3), log.root(7), expected)


def test_leaves_are_digest_bytes_and_origins_name_the_direction() -> None:
    digest = hashlib.sha256(b"an envelope").hexdigest()
    assert digest_leaf(digest) == bytes.fromhex(digest) and len(digest_leaf(digest)) == 32
    for bad in ("", digest.upper(), digest[:-1], digest + "0", "g" * 64):
        with pytest.raises(ValueError):
            digest_leaf(bad)
    assert log_origin("washington", "beijing") == "redline/washington->beijing"


def test_out_of_range_requests_are_refused() -> None:
    log = MerkleLog(leaves(5))
    for call in (
        lambda: log.root(6),
        lambda: log.root(-1),
        lambda: log.inclusion_proof(5),
        lambda: log.inclusion_proof(-1),
        lambda: log.inclusion_proof(3, 3),
        lambda: log.consistency_proof(0, 5),
        lambda: log.consistency_proof(4, 3),
        lambda: log.consistency_proof(2, 6),
    ):
        with pytest.raises(ValueError):
            call()
    assert not verify_inclusion(0, 0, L(b""), [], EMPTY_ROOT)
    assert root_from_inclusion(5, 5, L(b""), []) is None


# -- Properties --------------------------------------------------------------------------------


def _flip(value: bytes) -> bytes:
    return bytes([value[0] ^ 1]) + value[1:]


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=1, max_value=300), salt=st.binary(max_size=8))
def test_every_inclusion_proof_verifies_and_no_wrong_one_does(n: int, salt: bytes) -> None:
    d = leaves(n, salt)
    log = MerkleLog(d)
    root = log.root()
    assert root == mth(d)
    for i in range(n):
        proof = log.inclusion_proof(i)
        hashed = L(d[i])
        assert verify_inclusion(i, n, hashed, proof, root)
        assert not verify_inclusion(i, n, _flip(hashed), proof, root), "a wrong leaf"
        assert not verify_inclusion(i, n, hashed, proof, _flip(root)), "a wrong root"
        if n > 1:
            other = (i + 1) % n
            assert not verify_inclusion(other, n, hashed, proof, root), "a wrong index"
            assert not verify_inclusion(i, n, L(d[other]), proof, root), "another leaf"
            assert not verify_inclusion(i, n, hashed, proof[:-1], root), "a path cut short"
            assert not verify_inclusion(i, n, hashed, [*proof, root], root), "a path too long"
            assert not verify_inclusion(i, n, hashed, [_flip(proof[0]), *proof[1:]], root)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(min_value=1, max_value=300), data=st.data())
def test_proofs_for_earlier_sizes_match_the_definition(n: int, data: st.DataObject) -> None:
    d = leaves(n)
    log = MerkleLog(d)
    size = data.draw(st.integers(min_value=1, max_value=n))
    index = data.draw(st.integers(min_value=0, max_value=size - 1))
    assert log.root(size) == mth(d[:size])
    assert log.inclusion_proof(index, size) == path(index, d[:size])
    assert verify_inclusion(index, size, L(d[index]), log.inclusion_proof(index, size), log.root(size))


def test_consistency_proofs_for_every_pair_up_to_64() -> None:
    d = leaves(64)
    log = MerkleLog(d)
    roots = [log.root(n) for n in range(65)]
    for n in range(1, 65):
        for m in range(1, n + 1):
            proof = log.consistency_proof(m, n)
            assert proof == subproof(m, d[:n], True), (m, n)
            assert verify_consistency(m, n, roots[m], roots[n], proof), (m, n)
            if m < n:
                assert not verify_consistency(m, n, _flip(roots[m]), roots[n], proof), (m, n)
                assert not verify_consistency(m, n, roots[m], _flip(roots[n]), proof), (m, n)
                assert not verify_consistency(m, n, roots[m], roots[n], proof[:-1]), (m, n)
                assert not verify_consistency(m, n, roots[m], roots[n], [_flip(proof[0]), *proof[1:]]), (m, n)
            else:
                assert proof == []
                assert not verify_consistency(m, n, roots[m], roots[n], [roots[m]])


def check_changed_leaf(m: int, n: int, changed: int) -> None:
    """Rewrite one leaf of the newer tree: no proof links it to the older root when the leaf lies
    in the older tree; beyond it, the change is an append, consistent, but not the honest head."""
    d = leaves(n)
    honest = MerkleLog(d)
    forged_leaves = list(d)
    forged_leaves[changed] = sha(b"forged" + d[changed])
    forged = MerkleLog(forged_leaves)
    proof = forged.consistency_proof(m, n)
    if changed < m:
        # The old tree as both sides saw it, against the new one with history rewritten.
        assert not verify_consistency(m, n, honest.root(m), forged.root(n), proof)
        assert not verify_consistency(m, n, honest.root(m), forged.root(n), honest.consistency_proof(m, n))
    else:
        # An append-only change is consistent, but the forged head is not the honest one.
        assert verify_consistency(m, n, honest.root(m), forged.root(n), proof)
        assert forged.root(n) != honest.root(n)
        assert not verify_consistency(m, n, honest.root(m), honest.root(n), proof)


def test_a_changed_leaf_breaks_consistency_every_case_up_to_16() -> None:
    for n in range(2, 17):
        for m in range(1, n):
            for changed in range(n):
                check_changed_leaf(m, n, changed)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(min_value=2, max_value=64), data=st.data())
def test_a_changed_leaf_breaks_consistency(n: int, data: st.DataObject) -> None:
    m = data.draw(st.integers(min_value=1, max_value=n - 1))
    check_changed_leaf(m, n, data.draw(st.integers(min_value=0, max_value=n - 1)))


def test_appending_keeps_earlier_heads() -> None:
    log = MerkleLog()
    d = leaves(40)
    heads = []
    for x in d:
        log.append(x)
        heads.append(log.root())
    assert heads == [mth(d[: i + 1]) for i in range(40)]
    assert [log.root(i + 1) for i in range(40)] == heads
    assert log.leaf_hash(7) == L(d[7])
