"""The audit log's Merkle tree against RFC 9162 §2.1 as written: the root, inclusion and
consistency proofs computed from complete subtrees agree with the RFC's recursive definitions
for every size and position up to 70 leaves, verify, and stop verifying when anything changes."""

from __future__ import annotations

import hashlib

import pytest

from app.access.audit import merkle

LEAVES = [f"entry {number}".encode() for number in range(70)]


def _mth(entries: list[bytes]) -> bytes:
    """MTH as the RFC defines it, from the entries themselves."""
    if not entries:
        return hashlib.sha256(b"").digest()
    if len(entries) == 1:
        return merkle.leaf_hash(entries[0])
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    return merkle.node_hash(_mth(entries[:k]), _mth(entries[k:]))


def _path(m: int, entries: list[bytes]) -> list[bytes]:
    if len(entries) == 1:
        return []
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    if m < k:
        return [*_path(m, entries[:k]), _mth(entries[k:])]
    return [*_path(m - k, entries[k:]), _mth(entries[:k])]


def _subproof(m: int, entries: list[bytes], complete: bool) -> list[bytes]:
    if m == len(entries):
        return [] if complete else [_mth(entries)]
    k = 1 << ((len(entries) - 1).bit_length() - 1)
    if m <= k:
        return [*_subproof(m, entries[:k], complete), _mth(entries[k:])]
    return [*_subproof(m - k, entries[k:], False), _mth(entries[:k])]


@pytest.fixture(scope="module")
def nodes() -> merkle.Nodes:
    kept: dict[tuple[int, int], bytes] = {}

    def read(level: int, index: int) -> bytes:
        return kept[(level, index)]

    for size, entry in enumerate(LEAVES):
        for level, index, value in merkle.new_nodes(size, merkle.leaf_hash(entry), read):
            kept[(level, index)] = value
    return read


def test_the_empty_tree_and_a_known_root() -> None:
    empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle.root(0, lambda level, index: b"").hex() == empty
    # Certificate Transparency's reference vector: one empty leaf.
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_roots_of_every_size_are_the_rfcs(nodes: merkle.Nodes) -> None:
    for size in range(1, len(LEAVES) + 1):
        assert merkle.root(size, nodes) == _mth(LEAVES[:size]), size


def test_inclusion_proofs_are_the_rfcs_and_verify(nodes: merkle.Nodes) -> None:
    for size in range(1, len(LEAVES) + 1):
        tree_root = merkle.root(size, nodes)
        for index in range(size):
            proof = merkle.inclusion_proof(index, size, nodes)
            assert proof == _path(index, LEAVES[:size])
            leaf = merkle.leaf_hash(LEAVES[index])
            assert merkle.verify_inclusion(index, size, leaf, proof, tree_root)


def test_an_inclusion_proof_fails_for_anything_else(nodes: merkle.Nodes) -> None:
    size, index = 37, 21
    tree_root = merkle.root(size, nodes)
    proof = merkle.inclusion_proof(index, size, nodes)
    leaf = merkle.leaf_hash(LEAVES[index])
    assert not merkle.verify_inclusion(index, size, merkle.leaf_hash(b"edited"), proof, tree_root)
    assert not merkle.verify_inclusion(index + 1, size, leaf, proof, tree_root)
    assert not merkle.verify_inclusion(index, size, leaf, proof[:-1], tree_root)
    assert not merkle.verify_inclusion(index, size, leaf, proof, merkle.root(size - 1, nodes))
    flipped = [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]
    assert not merkle.verify_inclusion(index, size, leaf, flipped, tree_root)
    with pytest.raises(ValueError, match="not in the tree"):
        merkle.inclusion_proof(size, size, nodes)


def test_consistency_proofs_are_the_rfcs_and_verify(nodes: merkle.Nodes) -> None:
    for new_size in range(1, len(LEAVES) + 1):
        new_root = merkle.root(new_size, nodes)
        for old_size in range(1, new_size + 1):
            proof = merkle.consistency_proof(old_size, new_size, nodes)
            assert proof == _subproof(old_size, LEAVES[:new_size], True)
            old_root = merkle.root(old_size, nodes)
            assert merkle.verify_consistency(old_size, new_size, old_root, new_root, proof)


def test_a_rewritten_past_or_a_cut_tail_is_inconsistent(nodes: merkle.Nodes) -> None:
    old_size, new_size = 21, 64
    old_root, new_root = merkle.root(old_size, nodes), merkle.root(new_size, nodes)
    proof = merkle.consistency_proof(old_size, new_size, nodes)
    rewritten = _mth([*LEAVES[:5], b"rewritten", *LEAVES[6:old_size]])
    assert not merkle.verify_consistency(old_size, new_size, rewritten, new_root, proof)
    # A log cut back below a head it once signed cannot show it extends that head.
    assert not merkle.verify_consistency(new_size, old_size, new_root, old_root, proof)
    assert not merkle.verify_consistency(old_size, new_size, old_root, new_root, [])
    assert not merkle.verify_consistency(old_size, new_size, old_root, new_root, proof[:-1])
    assert not merkle.verify_consistency(old_size, old_size, old_root, new_root, [])
