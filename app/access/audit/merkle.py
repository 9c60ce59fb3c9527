"""The audit log's Merkle tree, hashed as RFC 9162 §2.1 does (Certificate Transparency 2.0).

A leaf's hash is SHA-256(0x00 || entry), an inner node's SHA-256(0x01 || left || right); the
tree over n leaves splits at k, the largest power of two smaller than n. Only the roots of
complete subtrees are kept (`Node`: level and index, level 0 being the leaves), which is enough
to compute the root of any size and every inclusion and consistency proof: a subtree that is not
complete is hashed from the complete ones it is made of.

Nodes are read through a `Nodes` callable (level, index) → hash, so that the same code serves
the database, an export, and the tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

Nodes = Callable[[int, int], bytes]
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than `size` (size > 1)."""
    return 1 << ((size - 1).bit_length() - 1)


def new_nodes(size: int, leaf: bytes, nodes: Nodes) -> list[tuple[int, int, bytes]]:
    """The nodes to keep when the leaf hash `leaf` becomes leaf number `size` (0-based): the
    leaf and every complete subtree it closes, bottom up, as (level, index, hash)."""
    made = [(0, size, leaf)]
    level, index, current = 0, size, leaf
    while index % 2 == 1:
        current = node_hash(nodes(level, index - 1), current)
        level, index = level + 1, index // 2
        made.append((level, index, current))
    return made


def subtree(start: int, end: int, nodes: Nodes) -> bytes:
    """MTH of leaves [start, end), for a range the RFC's recursion produces (start a multiple of
    the largest power of two not above end - start)."""
    size = end - start
    if size & (size - 1) == 0:  # complete: kept as a node
        level = size.bit_length() - 1
        return nodes(level, start >> level)
    k = _split(size)
    return node_hash(subtree(start, start + k, nodes), subtree(start + k, end, nodes))


def root(size: int, nodes: Nodes) -> bytes:
    return EMPTY_ROOT if size == 0 else subtree(0, size, nodes)


def inclusion_proof(index: int, size: int, nodes: Nodes) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 §2.1.3.1."""
    if not 0 <= index < size:
        raise ValueError("the leaf is not in the tree")
    return _path(index, 0, size, nodes)


def _path(index: int, start: int, end: int, nodes: Nodes) -> list[bytes]:
    if end - start == 1:
        return []
    k = _split(end - start)
    if index < start + k:
        return [*_path(index, start, start + k, nodes), subtree(start + k, end, nodes)]
    return [*_path(index, start + k, end, nodes), subtree(start, start + k, nodes)]


def consistency_proof(old_size: int, new_size: int, nodes: Nodes) -> list[bytes]:
    """PROOF(old_size, D[0:new_size]) of RFC 9162 §2.1.4.1."""
    if not 0 < old_size <= new_size:
        raise ValueError("a consistency proof needs 0 < old size <= new size")
    return _subproof(old_size, 0, new_size, True, nodes)


def _subproof(m: int, start: int, end: int, complete: bool, nodes: Nodes) -> list[bytes]:
    size = end - start
    if m == size:
        return [] if complete else [subtree(start, end, nodes)]
    k = _split(size)
    if m <= k:
        return [*_subproof(m, start, start + k, complete, nodes), subtree(start + k, end, nodes)]
    return [*_subproof(m - k, start + k, end, False, nodes), subtree(start, start + k, nodes)]


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: whether `proof` shows leaf hash `leaf` at `index` in the tree of
    `size` leaves whose root is `expected_root`."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == expected_root


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: whether `proof` shows the tree of `new_size` leaves extending the
    tree of `old_size` leaves, nothing in it rewritten or removed."""
    if not 0 < old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is the first node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn % 2 == 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old_root and sr == new_root
