"""MinHash signatures and LSH band keys.

Broder's scheme, as datasketch implements it, with a cheaper hash family: permutation
i of a 32-bit shingle hash x is the top 32 bits of (a_i * x + b_i) mod 2**64
(multiply-shift hashing: universal, and without datasketch's modulo by a Mersenne
prime), and a signature holds each permutation's minimum, as a tuple of
PERMUTATIONS ints. datasketch's MinHash hashes and updates shingle by shingle in
Python; its LSH index lives in memory or Redis, while the archive keeps band keys
in its own database.

A large batch is computed with numpy: all permutations of all shingles in one
expression, the minima per article in one `minimum.reduceat`, the band keys of all
rows at once. A small one (a daily import of a few dozen files) is computed in plain
Python, which costs less than loading numpy (0.15-0.3 s of CPU). Both give the same
values (tests/test_minhash.py).

The parameters are fixed: stored signatures and band keys are only comparable with
the same ones (`archive stories --rebuild` recomputes them after a change).
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Sequence
from typing import Any

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
Signature = tuple[int, ...]
EMPTY: Signature = (0xFFFFFFFF,) * PERMUTATIONS
# Batches from this size on go through numpy: a chunk of a large import (250 files)
# always does, a daily import of a few dozen files does not. Plain Python takes about
# 4 µs a shingle (64 permutations) and 15 µs a row's band keys; loading numpy as long
# as ~40,000 shingles. Comparisons with few others stay in Python too, where numpy's
# cost per call is more than the work.
NUMPY_ARTICLES = 100
NUMPY_SHINGLES = 20_000
NUMPY_OTHERS = 32
_MASK64 = (1 << 64) - 1
_PACKED = struct.Struct(f"<{PERMUTATIONS}I")

# The permutations' parameters: numpy.random.RandomState(1).randint(0, 1 << 62,
# size=PERMUTATIONS, dtype=uint64), times 2 plus 1 (odd) for a, a second draw for b.
# Written out so that a small batch needs no numpy; tests/test_minhash.py draws them
# again. Fixed: signatures are stored, and must mean the same on the next run.
_A = (
    6162024128263946711,
    8128538942144784529,
    4219918138050323,
    1930730976573537547,
    5414336784406456193,
    3406692883486253315,
    6871788900581129359,
    3525568483845272569,
    5414763873372666419,
    1432084645130775081,
    6242175986023359179,
    6833393457496691625,
    7542956628586021369,
    4726699145732760889,
    1010423951834133277,
    6289140977528657033,
    6172457818958249903,
    2165272452756964835,
    5179363802605771709,
    7308654732263360685,
    1872144063991623635,
    8052430720385353743,
    2339939406754059899,
    7095452192677251699,
    4662936470441684737,
    5335044245743333795,
    3137577451983586737,
    1440867221261595879,
    6265636684349906901,
    4727623967648478097,
    3628357848127654031,
    6312756981973322637,
    7669769987314539619,
    1223583210200720391,
    7079015986527622705,
    2417100264176875607,
    6880669659395168309,
    3122136285057665697,
    674718446004397799,
    5324192849386405,
    8812418705381054593,
    9155696583333142579,
    1123185070437023173,
    1449151577082973967,
    3808367653979946291,
    7300982406188632109,
    5851141365298986375,
    1609077885657057533,
    1393664172149824251,
    4797207478883483959,
    714514651321246323,
    6597866533914859853,
    7807699215586839105,
    573570430859566613,
    8912476530596449567,
    1968730403946576047,
    2734457050998644623,
    5413328847670020793,
    3294792783644002685,
    7369782746522560321,
    3775474101139810607,
    6052597586745772675,
    7172099929718017691,
    6057145816157099777,
)
_B = (
    921478673934505213,
    662171862886500102,
    3021477968277197269,
    274655559890433538,
    3589639709420228571,
    1596658653041296075,
    2829765829794535501,
    2535960658708452427,
    2569195066012927019,
    1058682450511224350,
    2724156762978923367,
    3050246498944880429,
    3274455322533272121,
    1803461786564664828,
    14980651099439200,
    4168927035950246922,
    2459063354827816828,
    2281349539356141447,
    17384899557965976,
    1824352345109249500,
    367604757747313056,
    2691125682254560449,
    3285202612841848380,
    3963099403630985368,
    3014963492269855603,
    2244889800033437826,
    2116689543321462492,
    3679927322357970786,
    3687727959175962294,
    1446033029236275689,
    2917109155912927702,
    4372375967298927298,
    2829352689291706343,
    1359146662721091126,
    52948149690579845,
    2160942293751064746,
    1413848896402184822,
    499133954986498326,
    2507689041898753933,
    1978777819965811314,
    2924457258198521525,
    2275592508583382026,
    291850381902561463,
    3310032741984751160,
    3521426615863320981,
    4562301346592644192,
    3179121295446253523,
    2529708085239731697,
    3368291810238793869,
    3630654278141288052,
    1217488311597731462,
    100775521383383736,
    71503144720579471,
    3191739422213092347,
    3901943057243972034,
    2292394638421159733,
    366723709801908644,
    483507374032440056,
    522162562461265192,
    4541792594424072411,
    2029657444881885553,
    716306739587483085,
    974393427803837902,
    1697670337010853719,
)


def signatures(shingle_sets: Sequence[Sequence[int]]) -> list[Signature]:
    """One signature per shingle set (EMPTY for an empty one)."""
    if len(shingle_sets) >= NUMPY_ARTICLES or sum(len(s) for s in shingle_sets) >= NUMPY_SHINGLES:
        return _numpy_signatures(shingle_sets)
    return [_signature(s) for s in shingle_sets]


def _signature(shingles: Sequence[int]) -> Signature:
    if not len(shingles):
        return EMPTY
    values = [int(x) for x in shingles]
    # The top 32 bits of the minimum are the minimum of the top 32 bits.
    return tuple(
        min([(a * x + b) & _MASK64 for x in values]) >> 32 for a, b in zip(_A, _B, strict=True)
    )


def _numpy_signatures(shingle_sets: Sequence[Sequence[int]]) -> list[Signature]:
    import numpy as np

    out = np.tile(np.array(EMPTY, dtype=np.uint32), (len(shingle_sets), 1))
    lengths = np.array([len(s) for s in shingle_sets], dtype=np.int64)
    filled = np.flatnonzero(lengths)
    flat = np.concatenate([np.asarray(shingle_sets[i], dtype=np.uint64) for i in filled])
    # The products wrap modulo 2**64, as multiply-shift hashing wants.
    a, b = np.array(_A, dtype=np.uint64), np.array(_B, dtype=np.uint64)
    permuted = (flat[:, None] * a + b) >> np.uint64(32)
    starts = np.concatenate(([0], np.cumsum(lengths[filled])[:-1]))
    out[filled] = np.minimum.reduceat(permuted, starts, axis=0).astype(np.uint32)
    return [tuple(row) for row in out.tolist()]


def band_keys(signature: Signature) -> list[int]:
    """One signed 63-bit key per band (none for an empty signature)."""
    return band_keys_many([signature])[0]


def band_keys_many(signatures: Sequence[Signature]) -> list[list[int]]:
    """`band_keys` of each signature.

    A key mixes the band's number and its rows (splitmix64's finalizer after each),
    so a key found in the index is a collision in that band, whatever the number.
    """
    if len(signatures) >= NUMPY_ARTICLES:
        return _numpy_band_keys(signatures)
    found = []
    for signature in signatures:
        if signature == EMPTY:
            found.append([])
            continue
        keys = []
        for band, seed in enumerate(_BAND_SEEDS):
            key = seed
            for value in signature[band * ROWS : (band + 1) * ROWS]:
                key = _mix(key ^ value)
            keys.append(key >> 1)
        found.append(keys)
    return found


def _mix(x: int) -> int:
    """splitmix64's finalizer: every bit of the result depends on every bit of x."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


_BAND_SEEDS = [((band + 1) * 0x9E3779B97F4A7C15) & _MASK64 for band in range(BANDS)]


def _numpy_band_keys(signatures: Sequence[Signature]) -> list[list[int]]:
    import numpy as np

    matrix = np.array(signatures, dtype=np.uint64)
    rows = matrix[:, : BANDS * ROWS].reshape(-1, BANDS, ROWS)
    with np.errstate(over="ignore"):
        key = np.broadcast_to(np.array(_BAND_SEEDS, dtype=np.uint64), rows.shape[:2]).copy()
        for row in range(ROWS):
            key = _numpy_mix(np, key ^ rows[:, :, row])
    keys = (key >> np.uint64(1)).astype(np.int64)
    empty = (matrix == 0xFFFFFFFF).all(axis=1)
    return [[] if blank else found for blank, found in zip(empty, keys.tolist(), strict=True)]


def _numpy_mix(np: Any, x: Any) -> Any:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def jaccard(first: Signature, second: Signature) -> float:
    """The share of permutations whose minima agree: an estimate of the shingle sets' Jaccard."""
    if first == EMPTY or second == EMPTY:
        return 0.0
    return sum(map(operator.eq, first, second)) / PERMUTATIONS


def similarities(signature: Signature, others: Sequence[Signature]) -> list[float]:
    """`jaccard` of one signature with each of `others` (many: in one array operation)."""
    if len(others) < NUMPY_OTHERS or signature == EMPTY:
        return [jaccard(signature, other) for other in others]
    import numpy as np

    matrix = np.array(others, dtype=np.uint32)
    agree = np.count_nonzero(matrix == np.array(signature, dtype=np.uint32), axis=1) / PERMUTATIONS
    agree[(matrix == 0xFFFFFFFF).all(axis=1)] = 0.0
    return agree.tolist()


def to_bytes(signature: Signature) -> bytes:
    return _PACKED.pack(*signature)


def from_bytes(data: bytes | memoryview) -> Signature:
    return _PACKED.unpack(bytes(data))
