"""Merkle logs as RFC 9162 (Certificate Transparency 2.0) §2.1 defines them, standard library only.

Each direction of each link is one log: its leaves are the envelopes' digests in ``seq``
order, leaf ``i`` (from 0) being the envelope of ``seq`` ``i + 1``. A leaf is the 32 raw bytes
of the envelope's SHA-256 digest (``bytes.fromhex`` of the 64 hex digits the store keeps), and
the hashing is the RFC's, written here from its definitions:

* the hash of the empty tree is ``SHA-256()``;
* a leaf's hash is ``SHA-256(0x00 || leaf)``;
* an interior node's is ``SHA-256(0x01 || left || right)``, where a tree of ``n > 1`` leaves
  splits at ``k``, the largest power of two smaller than ``n``: ``D[0:k]`` left, ``D[k:n]``
  right (§2.1.1).

:class:`MerkleLog` keeps the hash of every complete subtree (the ``2**h`` leaves from
``i * 2**h``, for each level ``h``), updated as leaves are appended: building a log of ``n``
leaves costs ``n`` leaf hashes and fewer than ``n`` node hashes, and the root, an inclusion
proof (§2.1.3.1) or a consistency proof (§2.1.4.1) for any size up to ``n`` then costs
``O(log n)`` hashes. :func:`verify_inclusion` and :func:`verify_consistency` are the RFC's
verification algorithms (§2.1.3.2, §2.1.4.2); they need nothing but this module.

A log's *origin* names it the way a C2SP ``tlog-checkpoint`` would: ``redline/<sender>-><receiver>``
(:func:`log_origin`), the same string on both stations for the same direction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def log_origin(sender: str, receiver: str) -> str:
    """The name of the log of envelopes ``sender`` sent to ``receiver``."""
    return f"redline/{sender}->{receiver}"


def digest_leaf(digest: str) -> bytes:
    """An envelope digest (64 lowercase hex digits) as a leaf: its 32 raw bytes."""
    if len(digest) != 2 * HASH_SIZE or digest.strip("0123456789abcdef"):
        raise ValueError(f"an envelope digest is 64 lowercase hex digits, not {digest[:80]!r}")
    return bytes.fromhex(digest)


def leaf_hash(leaf: bytes) -> bytes:
    """``SHA-256(0x00 || leaf)``."""
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """``k``: the largest power of two smaller than ``n`` (``n > 1``)."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves does not split")
    return 1 << ((n - 1).bit_length() - 1)


class MerkleLog:
    """An append-only list of leaves with the hash of every complete subtree.

    ``_levels[h][i]`` is the hash of leaves ``i * 2**h`` to ``(i + 1) * 2**h - 1``. Every
    subtree the RFC's recursion reaches that holds a power of two of leaves starts at a multiple
    of its size (it is reached through splits at ever smaller powers of two), so it is one of
    these; the others are hashed from them on the way up.
    """

    __slots__ = ("_levels",)

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaves:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> None:
        """Add ``leaf`` (its data, not its hash) at index ``size``."""
        self.append_hash(leaf_hash(leaf))

    def append_hash(self, hashed: bytes) -> None:
        """Add a leaf by its leaf hash; complete the subtrees it closes."""
        levels = self._levels
        levels[0].append(hashed)
        h = 0
        while len(levels[h]) % 2 == 0:
            if h + 1 == len(levels):
                levels.append([])
            levels[h + 1].append(node_hash(levels[h][-2], levels[h][-1]))
            h += 1

    def leaf_hash(self, index: int) -> bytes:
        self._check_index(index, self.size)
        return self._levels[0][index]

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (all of them by default)."""
        return self._hash(0, self._size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]): the audit path of leaf ``index`` in the tree of ``size`` leaves."""
        n = self._size(size)
        self._check_index(index, n)
        return self._path(index, 0, n)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """PROOF(first, D[0:second]): that the tree of ``first`` leaves is a prefix of the one of
        ``second``; ``1 <= first <= second`` (equal sizes: the empty proof)."""
        n = self._size(second)
        if not 1 <= first <= n:
            raise ValueError(f"a consistency proof needs 1 <= first <= second, not first={first}, second={n}")
        return self._subproof(first, 0, n, True)

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is not between 0 and the log's {self.size} leaves")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")

    def _hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end])."""
        n = end - start
        if n == 0:
            return EMPTY_ROOT
        if n & (n - 1) == 0:  # a complete subtree, kept
            h = n.bit_length() - 1
            return self._levels[h][start >> h]
        k = split_point(n)
        return node_hash(self._hash(start, start + k), self._hash(start + k, end))

    def _path(self, index: int, start: int, end: int) -> list[bytes]:
        """PATH(index - start, D[start:end]), leaf first."""
        n = end - start
        if n == 1:
            return []
        k = split_point(n)
        if index < start + k:
            return [*self._path(index, start, start + k), self._hash(start + k, end)]
        return [*self._path(index, start + k, end), self._hash(start, start + k)]

    def _subproof(self, first: int, start: int, end: int, whole: bool) -> list[bytes]:
        """SUBPROOF(first - start, D[start:end], whole); the old tree is D[0:first]."""
        if first == end:
            return [] if whole else [self._hash(start, end)]
        k = split_point(end - start)
        if first <= start + k:
            return [*self._subproof(first, start, start + k, whole), self._hash(start + k, end)]
        return [*self._subproof(first, start + k, end, False), self._hash(start, start + k)]


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def root_from_inclusion(index: int, size: int, hashed: bytes, path: Sequence[bytes]) -> bytes | None:
    """The root the audit ``path`` leads to from leaf hash ``hashed`` at ``index`` in a tree of
    ``size`` leaves (RFC 9162 §2.1.3.2, steps 1 to 4), or None when the path cannot be one."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, hashed
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return r if sn == 0 else None


def verify_inclusion(index: int, size: int, hashed: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """Whether leaf hash ``hashed`` is leaf ``index`` of the tree of ``size`` leaves whose root is
    ``root``, by the audit ``path`` (RFC 9162 §2.1.3.2)."""
    return root_from_inclusion(index, size, hashed, path) == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether the tree of ``first`` leaves with root ``first_root`` is a prefix of the tree of
    ``second`` leaves with root ``second_root``, by ``proof`` (RFC 9162 §2.1.4.2). Equal sizes
    need the empty proof and equal roots (the RFC defines proofs for ``first < second`` only)."""
    if not 1 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # the old tree is a complete subtree: its root starts the path
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0
