"""MinHash signatures and LSH band keys, computed for a whole batch at once with numpy.

Broder's scheme, as datasketch implements it, with a cheaper hash family: permutation
i of a 32-bit shingle hash x is the top 32 bits of (a_i * x + b_i) mod 2**64
(multiply-shift hashing: universal, and without datasketch's modulo by a Mersenne
prime, which was most of the cost in numpy), and a signature holds each
permutation's minimum. The permutations of every shingle of every article in a
batch are one numpy expression, the minima per article one `minimum.reduceat`,
where datasketch's MinHash hashes and updates shingle by shingle in Python; its LSH
index lives in memory or Redis, while the archive keeps band keys in its own
database.

The parameters are fixed: stored signatures and band keys are only comparable with
the same ones (`archive stories --rebuild` recomputes them after a change).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PERMUTATIONS = 64
# The index uses BANDS * ROWS of the permutations (the signature keeps all 64 for the
# similarity estimate). A pair of Jaccard s meets in some band with probability
# 1 - (1 - s**ROWS)**BANDS: 10 bands of 3 give 0.91 at s = 0.6 (TEXT_THRESHOLD),
# 0.98 at 0.7 and 0.9995 at 0.8 (SAME_TEXT), as 16 bands of 4 did (0.89, 0.99,
# 0.9997), with 10 index rows an article instead of 16: the rows were most of
# stories' cost at import. Texts at s = 0.2 meet more often (8% against 2.5%);
# `rules.plausible` rules them out in one array operation.
BANDS = 10
ROWS = 3
_SHIFT = np.uint64(32)
# Fixed seed: signatures are stored, and must mean the same on the next run.
_generator = np.random.RandomState(1)
_A = _generator.randint(0, 1 << 62, size=PERMUTATIONS, dtype=np.uint64) * np.uint64(2) + np.uint64(
    1
)
_B = _generator.randint(0, 1 << 62, size=PERMUTATIONS, dtype=np.uint64)
EMPTY = np.full(PERMUTATIONS, 0xFFFFFFFF, dtype=np.uint32)


def signatures(shingle_sets: Sequence[Sequence[int] | np.ndarray]) -> np.ndarray:
    """One row of PERMUTATIONS uint32 minima per shingle set (EMPTY for an empty one)."""
    out = np.tile(EMPTY, (len(shingle_sets), 1))
    lengths = np.array([len(s) for s in shingle_sets], dtype=np.int64)
    filled = np.flatnonzero(lengths)
    if not len(filled):
        return out
    flat = np.concatenate([np.asarray(shingle_sets[i], dtype=np.uint64) for i in filled])
    # The products wrap modulo 2**64, as multiply-shift hashing wants.
    permuted = (flat[:, None] * _A + _B) >> _SHIFT
    starts = np.concatenate(([0], np.cumsum(lengths[filled])[:-1]))
    out[filled] = np.minimum.reduceat(permuted, starts, axis=0).astype(np.uint32)
    return out


def band_keys(signature: np.ndarray) -> list[int]:
    """One signed 63-bit key per band (none for an empty signature)."""
    return band_keys_many(signature[None, :])[0]


def band_keys_many(matrix: np.ndarray) -> list[list[int]]:
    """`band_keys` of each row of a signature matrix, hashed in numpy at once.

    A key mixes the band's number and its rows (splitmix64's finalizer after each),
    so a key found in the index is a collision in that band, whatever the number.
    """
    rows = np.asarray(matrix, dtype=np.uint64)[:, : BANDS * ROWS].reshape(-1, BANDS, ROWS)
    with np.errstate(over="ignore"):
        key = np.broadcast_to(_BAND_SEEDS, rows.shape[:2]).copy()
        for row in range(ROWS):
            key = _mix(key ^ rows[:, :, row])
    keys = (key >> np.uint64(1)).astype(np.int64)
    empty = (np.asarray(matrix) == EMPTY).all(axis=1)
    return [[] if blank else found for blank, found in zip(empty, keys.tolist(), strict=True)]


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: every bit of the result depends on every bit of x."""
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


_BAND_SEEDS = (np.arange(BANDS, dtype=np.uint64) + np.uint64(1)) * np.uint64(0x9E3779B97F4A7C15)


def jaccard(first: np.ndarray, second: np.ndarray) -> float:
    """The share of permutations whose minima agree: an estimate of the shingle sets' Jaccard."""
    if (first == EMPTY).all() or (second == EMPTY).all():
        return 0.0
    return float(np.count_nonzero(first == second)) / PERMUTATIONS


def similarities(signature: np.ndarray, others: Sequence[np.ndarray]) -> np.ndarray:
    """`jaccard` of one signature with each of `others`, in one array operation."""
    if (signature == EMPTY).all():
        return np.zeros(len(others))
    matrix = np.stack(others)
    agree = np.count_nonzero(matrix == signature, axis=1) / PERMUTATIONS
    agree[(matrix == EMPTY).all(axis=1)] = 0.0
    return agree


def to_bytes(signature: np.ndarray) -> bytes:
    return signature.astype("<u4").tobytes()


def from_bytes(data: bytes | memoryview) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<u4").astype(np.uint32)
