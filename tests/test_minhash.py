"""Story signatures are stored: the plain-Python path a small import takes and the
numpy path of a large batch must give what the numpy implementation always gave.
The reference below is that implementation, kept here as the specification."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from archive.stories import minhash, text

_P1, _P2, _MASK32 = np.uint64(0x9E3779B1), np.uint64(0x85EBCA77C2B2AE63), np.uint64(0xFFFFFFFF)
_generator = np.random.RandomState(1)
_A = _generator.randint(0, 1 << 62, size=64, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_B = _generator.randint(0, 1 << 62, size=64, dtype=np.uint64)
_EMPTY = np.full(64, 0xFFFFFFFF, dtype=np.uint32)


def reference_shingles(words: list[str]) -> np.ndarray:
    hashes = np.array([__import__("zlib").crc32(w.encode()) for w in words], dtype=np.uint64)
    if len(hashes) < 3:
        return np.unique(hashes[:1] ^ (hashes[1:2] * _P1 if len(hashes) > 1 else 0))
    combined = hashes[:-2] * _P2 + hashes[1:-1] * _P1 + hashes[2:]
    return np.unique((combined ^ (combined >> np.uint64(29))) & _MASK32)


def reference_signature(shingles: np.ndarray) -> np.ndarray:
    if not len(shingles):
        return _EMPTY
    permuted = (np.asarray(shingles, dtype=np.uint64)[:, None] * _A + _B) >> np.uint64(32)
    return permuted.min(axis=0).astype(np.uint32)


def _mix(x: np.ndarray) -> np.ndarray:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def reference_band_keys(matrix: np.ndarray) -> list[list[int]]:
    rows = np.asarray(matrix, dtype=np.uint64)[:, :30].reshape(-1, 10, 3)
    seeds = (np.arange(10, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)
    with np.errstate(over="ignore"):
        key = np.broadcast_to(seeds, rows.shape[:2]).copy()
        for row in range(3):
            key = _mix(key ^ rows[:, :, row])
    keys = (key >> np.uint64(1)).astype(np.int64)
    empty = (np.asarray(matrix) == _EMPTY).all(axis=1)
    return [[] if blank else found for blank, found in zip(empty, keys.tolist(), strict=True)]


def test_the_written_out_permutations_are_the_seeded_draws() -> None:
    assert tuple(int(a) for a in _A) == minhash._A
    assert tuple(int(b) for b in _B) == minhash._B


_vocabulary = ["a", "the", "news", "é", "ﬁ", "story", "x", "2024", "über", "z"]


@settings(max_examples=300)
@given(
    st.lists(st.sampled_from(_vocabulary), max_size=12),
    st.lists(st.sampled_from(_vocabulary), max_size=40),
)
def test_shingles_signatures_and_band_keys_equal_the_numpy_reference(title, body) -> None:
    ours = text.shingles(title, body)
    theirs = reference_shingles(title + body)
    assert ours == theirs.tolist()
    (signature,) = minhash.signatures([ours])
    expected = reference_signature(theirs)
    assert signature == tuple(expected.tolist())
    assert minhash.to_bytes(signature) == expected.astype("<u4").tobytes()
    assert minhash.from_bytes(minhash.to_bytes(signature)) == signature
    assert minhash.band_keys(signature) == reference_band_keys(expected[None, :])[0]


def test_a_large_batch_through_numpy_equals_the_plain_path() -> None:
    rng = random.Random(7)
    sets = [
        text.shingles(
            [], [rng.choice([*_vocabulary, str(i)]) for i in range(rng.randrange(0, 400))]
        )
        for _ in range(120)
    ]
    sets.insert(3, [])
    assert sum(len(s) for s in sets) >= minhash.NUMPY_SHINGLES
    batched = minhash.signatures(sets)
    assert sum(len(s) for s in sets[:10]) < minhash.NUMPY_SHINGLES
    assert minhash.signatures(sets[:10]) == batched[:10]  # plain Python
    assert batched == [minhash._signature(s) for s in sets]
    assert batched == [tuple(reference_signature(np.array(s)).tolist()) for s in sets]
    assert minhash.EMPTY in batched
    assert len(batched) >= minhash.NUMPY_ARTICLES
    many = batched * 3
    expected = reference_band_keys(np.array(many, dtype=np.uint32))
    assert minhash.band_keys_many(many) == expected  # numpy
    assert minhash.band_keys_many(many[:10]) == expected[:10]  # plain Python
    assert [minhash.band_keys(s) for s in many] == expected


def test_similarity_counts_agreeing_permutations() -> None:
    first, second = minhash.signatures([[1, 2, 3, 4], [1, 2, 3, 5]])
    expected = float(np.count_nonzero(np.array(first) == np.array(second))) / 64
    assert minhash.jaccard(first, second) == expected
    assert 0 < expected < 1
    assert minhash.similarities(first, [second, minhash.EMPTY, first]) == [expected, 0.0, 1.0]
    assert minhash.jaccard(minhash.EMPTY, minhash.EMPTY) == 0.0
    others = [second, minhash.EMPTY, first] * minhash.NUMPY_OTHERS  # the numpy path
    assert minhash.similarities(first, others) == [expected, 0.0, 1.0] * minhash.NUMPY_OTHERS
