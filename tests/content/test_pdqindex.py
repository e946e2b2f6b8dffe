"""Tests for qalqan.content.pdqindex: multi-index hashing equals brute force."""

from __future__ import annotations

import numpy as np
import pytest

from qalqan.content.pdqindex import PdqIndex, hex_to_words, popcount_rows, probe_masks, words_to_hex

SEED = 20260227


def random_words(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64, endpoint=False)


def flip(words: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Copy of a (4,) hash with exactly k distinct random bits flipped."""
    out = words.copy()
    for bit in rng.choice(256, size=k, replace=False):
        out[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
    return out


def planted(n_random: int, seed: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Random hashes plus, for each of 40 queries, copies at distances 0..33."""
    rng = np.random.default_rng(seed)
    base = random_words(rng, n_random)
    queries, extra = [], []
    for _ in range(40):
        q = random_words(rng, 1)[0]
        queries.append(q)
        extra.extend(flip(q, int(k), rng) for k in rng.choice(34, size=8, replace=False))
        extra.extend([flip(q, 31, rng), flip(q, 32, rng)])
    data = np.concatenate([base, np.array(extra)])
    return data[rng.permutation(len(data))], queries


def test_hex_roundtrip():
    h = "0123456789abcdef" * 4
    assert words_to_hex(hex_to_words([h])[0]) == h


def test_probe_masks():
    assert len(probe_masks(16, 1)) == 17
    assert len(probe_masks(16, 2)) == 1 + 16 + 120
    assert len(probe_masks(8, 0)) == 1


def test_popcount_rows():
    x = np.array([[0, 1, 3, 2**64 - 1]], dtype=np.uint64)
    assert popcount_rows(x).tolist() == [1 + 2 + 64]


@pytest.mark.parametrize("chunk_bits", [16, 8])
@pytest.mark.parametrize("max_distance", [31, 32, 15, 16, 0])
def test_index_equals_brute_force(chunk_bits, max_distance):
    data, queries = planted(20_000, SEED)
    index = PdqIndex.build(data, chunk_bits=chunk_bits)
    for q in queries:
        qhex = words_to_hex(q)
        got = index.query(qhex, max_distance)
        assert got == index.brute_force(qhex, max_distance)
        assert all(d <= max_distance for _, d in got)
    # planted copies exist exactly at the boundary
    q = words_to_hex(queries[0])
    dists = [d for _, d in index.brute_force(q, 32)]
    assert (31 in dists) and (32 in dists)
    assert (32 in [d for _, d in index.query(q, 32)]) and (32 not in [d for _, d in index.query(q, 31)])


def test_ids_sorting_and_add():
    rng = np.random.default_rng(SEED + 1)
    q = random_words(rng, 1)[0]
    near = [flip(q, k, rng) for k in (5, 0, 20)]
    hexes = [words_to_hex(w) for w in near] + [words_to_hex(w) for w in random_words(rng, 100)]
    index = PdqIndex.build(hexes, ids=[f"h{i}" for i in range(len(hexes))])
    assert index.query(words_to_hex(q)) == [("h1", 0), ("h0", 5), ("h2", 20)]
    index.add([words_to_hex(flip(q, 31, rng))], ids=["late"])
    assert index.query(words_to_hex(q))[-1] == ("late", 31)
    assert len(index) == 104


def test_empty_result_and_bad_input():
    index = PdqIndex.build(["0" * 64])
    assert index.query("f" * 64) == []
    with pytest.raises(ValueError):
        PdqIndex.build(["abc"])
