"""MinHash signatures and LSH band keys.

Broder's scheme, as datasketch implements it, with a cheaper hash family: permutation
i of a 32-bit shingle hash x is the top 32 bits of (a_i * x + b_i) mod 2**64
(multiply-shift hashing: universal, and without datasketch's modulo by a Mersenne
prime), and a signature holds each permutation's minimum, as a tuple of
PERMUTATIONS ints. datasketch's MinHash hashes and updates shingle by shingle in
Python; its LSH index lives in memory or Redis, while the archive keeps band keys
in its own database.

A large batch is computed with numpy, all permutations of all shingles in one
expression and the minima per article in one `minimum.reduceat`; a small one (a
daily import of a few dozen files) in plain Python, which costs less than loading
numpy (0.15-0.3 s of CPU). Both give the same signatures (tests/test_minhash.py).

The parameters are fixed: stored signatures and band keys are only comparable with
the same ones (`archive stories --rebuild` recomputes them after a change).
"""

from __future__ import annotations

import hashlib
import operator
import struct
from collections.abc import Sequence

PERMUTATIONS = 64
BANDS = 16
ROWS = PERMUTATIONS // BANDS  # 4 rows a band: pairs above Jaccard ~(1/16)**(1/4) = 0.5 collide
Signature = tuple[int, ...]
EMPTY: Signature = (0xFFFFFFFF,) * PERMUTATIONS
# Batches with at least this many shingles in all go through numpy: plain Python
# takes about 4 µs a shingle (64 permutations), loading numpy as long as ~50,000.
NUMPY_FROM = 20_000
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
    if sum(len(s) for s in shingle_sets) >= NUMPY_FROM:
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

    a = np.array(_A, dtype=np.uint64)
    b = np.array(_B, dtype=np.uint64)
    out = np.tile(np.array(EMPTY, dtype=np.uint32), (len(shingle_sets), 1))
    lengths = np.array([len(s) for s in shingle_sets], dtype=np.int64)
    filled = np.flatnonzero(lengths)
    flat = np.concatenate([np.asarray(shingle_sets[i], dtype=np.uint64) for i in filled])
    # The products wrap modulo 2**64, as multiply-shift hashing wants.
    permuted = (flat[:, None] * a + b) >> np.uint64(32)
    starts = np.concatenate(([0], np.cumsum(lengths[filled])[:-1]))
    out[filled] = np.minimum.reduceat(permuted, starts, axis=0).astype(np.uint32)
    return [tuple(row) for row in out.tolist()]


def band_keys(signature: Signature) -> list[int]:
    """One signed 63-bit key per band: the band's number and its rows, hashed together
    (a key found in the index is a collision in that band, whatever the number)."""
    if signature == EMPTY:
        return []
    raw = to_bytes(signature)
    step = ROWS * 4
    return [
        int.from_bytes(
            hashlib.blake2b(
                bytes([band]) + raw[band * step : (band + 1) * step], digest_size=8
            ).digest(),
            "little",
            signed=True,
        )
        >> 1
        for band in range(BANDS)
    ]


def jaccard(first: Signature, second: Signature) -> float:
    """The share of permutations whose minima agree: an estimate of the shingle sets' Jaccard."""
    if first == EMPTY or second == EMPTY:
        return 0.0
    return sum(map(operator.eq, first, second)) / PERMUTATIONS


def similarities(signature: Signature, others: Sequence[Signature]) -> list[float]:
    """`jaccard` of one signature with each of `others`."""
    return [jaccard(signature, other) for other in others]


def to_bytes(signature: Signature) -> bytes:
    return _PACKED.pack(*signature)


def from_bytes(data: bytes | memoryview) -> Signature:
    return _PACKED.unpack(bytes(data))
