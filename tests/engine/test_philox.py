"""The Philox4x64-10 block function and the stream layout of ``initmath.engine.philox``:
known answers, bit for bit against NumPy, the two-blocks-at-a-time fill."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from initmath.engine import philox

U64 = 2**64
U128 = 2**128
U256 = 2**256
Z = 4.0  # statistical checks: |z| < 4 (two-sided chance ~6e-5 each; the seeds are fixed)

keys = st.integers(min_value=0, max_value=U128 - 1)
counters = st.integers(min_value=0, max_value=U256 - 1)
stream_ids = st.integers(min_value=0, max_value=U64 - 1)


def _words(value: int, n: int, bits: int) -> list[int]:
    """``value`` as ``n`` words of ``bits`` bits, least significant first."""
    return [(value >> (bits * i)) & ((1 << bits) - 1) for i in range(n)]


def _block(fn, ctr: list[int], key: list[int]) -> list[int]:
    """``fn`` (a block function) on words passed as ``np.uint64``, the result as ints.

    (Plain Python ints >= 2**63 can fail to dispatch once an ``int64`` version of a
    function is compiled: Numba tries that version first and overflows.)
    """
    return [int(w) for w in fn(*[np.uint64(w) for w in ctr], *[np.uint64(w) for w in key])]


def _numpy_raw_blocks(key: int, counter: int, n_blocks: int) -> list[list[int]]:
    """``Philox(key=key, counter=counter).random_raw`` as blocks of four Python ints."""
    raw = np.random.Philox(key=key, counter=counter).random_raw(4 * n_blocks)
    return [[int(w) for w in raw[4 * m : 4 * m + 4]] for m in range(n_blocks)]


# --- Known-answer vectors of Random123 (kat_vectors: counter, key -> output, hex words) ---

KAT_4X64_10 = [
    ([0, 0, 0, 0], [0, 0],
     [0x16554D9ECA36314C, 0xDB20FE9D672D0FDC, 0xD7E772CEE186176B, 0x7E68B68AEC7BA23B]),
    ([U64 - 1] * 4, [U64 - 1] * 2,
     [0x87B092C3013FE90B, 0x438C3C67BE8D0224, 0x9CC7D7C69CD777B6, 0xA09CAEBF594F0BA0]),
    ([0x243F6A8885A308D3, 0x13198A2E03707344, 0xA4093822299F31D0, 0x082EFA98EC4E6C89],
     [0x452821E638D01377, 0xBE5466CF34E90C6C],
     [0xA528F45403E61D95, 0x38C72DBD566E9788, 0xA5A1610E72FD18B5, 0x57BD43B5E52B7FE6]),
]  # fmt: skip

KAT_4X32_10 = [
    ([0, 0, 0, 0], [0, 0], [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]),
    ([0xFFFFFFFF] * 4, [0xFFFFFFFF] * 2, [0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD]),
    ([0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344], [0xA4093822, 0x299F31D0],
     [0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1]),
]  # fmt: skip


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT_4X64_10)
def test_philox4x64_known_answers(ctr, key, expected):
    assert _block(philox.philox4x64_10, ctr, key) == expected


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT_4X64_10)
def test_numpy_reproduces_the_known_answers(ctr, key, expected):
    # The same vectors through NumPy, which adds 1 to the counter before each block: it is
    # the reference the rest of this file trusts.
    counter = (sum(c << (64 * i) for i, c in enumerate(ctr)) - 1) % U256
    assert _numpy_raw_blocks(key[0] + (key[1] << 64), counter, 1)[0] == expected


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT_4X32_10)
def test_philox4x32_known_answers(ctr, key, expected):
    assert _block(philox.philox4x32_10, ctr, key) == expected


def _philox4x32_10_reference(ctr: list[int], key: list[int]) -> list[int]:
    """Philox4x32-10 in Python integers, straight from Salmon et al. (2011)."""
    m32 = 0xFFFFFFFF
    c, k = list(ctr), list(key)
    for r in range(10):
        if r:
            k = [(k[0] + 0x9E3779B9) & m32, (k[1] + 0xBB67AE85) & m32]
        p0, p1 = 0xD2511F53 * c[0], 0xCD9E8D57 * c[2]
        c = [(p1 >> 32) ^ c[1] ^ k[0], p1 & m32, (p0 >> 32) ^ c[3] ^ k[1], p0 & m32]
    return c


@given(st.integers(0, 2**128 - 1), st.integers(0, 2**64 - 1))
def test_philox4x32_matches_reference(counter, key):
    ctr, k = _words(counter, 4, 32), _words(key, 2, 32)
    assert _block(philox.philox4x32_10, ctr, k) == _philox4x32_10_reference(ctr, k)


# --- Bit for bit against numpy.random.Philox ---

CARRY_COUNTERS = [
    0,
    1,
    2**32 - 2,  # word values crossing 2**32 (the multiplies' 32-bit halves)
    2**64 - 3,  # carry from word 0 into word 1 between the blocks
    2**96 + 2**64 - 2,
    2**128 - 2,  # carry through words 0 and 1 into word 2
    3 * 2**128 - 1,
    2**192 - 2,  # carry into word 3
    U256 - 2,  # wraps around to 0
    U256 - 1,
]
KEYS = [0, 1, 2**32 - 1, 2**64 - 1, 2**64, U128 - 1, 0xBE5466CF34E90C6C452821E638D01377]


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("counter", CARRY_COUNTERS)
def test_block_matches_numpy_philox(key, counter):
    blocks = _numpy_raw_blocks(key, counter, 3)
    for m, expected in enumerate(blocks):
        ctr = _words((counter + 1 + m) % U256, 4, 64)
        assert _block(philox.philox4x64_10, ctr, _words(key, 2, 64)) == expected


@given(keys, counters)
def test_block_matches_numpy_philox_anywhere(key, counter):
    (expected,) = _numpy_raw_blocks(key, counter, 1)
    ctr = _words((counter + 1) % U256, 4, 64)
    assert _block(philox.philox4x64_10, ctr, _words(key, 2, 64)) == expected


@given(keys, stream_ids, st.integers(0, 2**40))
def test_stream_block_is_numpys_stream(key, stream, block):
    # word 4b + q of stream t is NumPy's Philox(key, counter=t << 128) word 4b + q
    k0, k1 = (np.uint64(w) for w in _words(key, 2, 64))
    got = [int(w) for w in philox.stream_block(k0, k1, np.uint64(stream), np.uint64(block))]
    assert got == _numpy_raw_blocks(key, (stream << 128) + block, 1)[0]


@pytest.mark.parametrize("first", [0, 1, 7, 2**40 + 3])
@pytest.mark.parametrize("count", [0, 2, 10])
def test_stream_blocks_are_consecutive_stream_blocks(first, count):
    k0, k1, stream = np.uint64(2**64 - 5), np.uint64(17), np.uint64(2**63 + 9)
    out = np.full(4 * count + 3, 7, dtype=np.uint64)
    philox.stream_blocks(k0, k1, stream, first, count, out)
    expected = [
        int(w)
        for b in range(count)
        for w in philox.stream_block(k0, k1, stream, np.uint64(first + b))
    ]
    assert [int(w) for w in out[: 4 * count]] == expected
    assert out[4 * count :].tolist() == [7, 7, 7]  # nothing written past the blocks


@pytest.mark.parametrize(("count", "size"), [(3, 12), (-2, 0), (4, 15)])
def test_stream_blocks_refuses_odd_counts_and_short_buffers(count, size):
    with pytest.raises(ValueError, match="count"):
        philox.stream_blocks(
            np.uint64(0), np.uint64(0), np.uint64(0), 0, count, np.empty(size, np.uint64)
        )
