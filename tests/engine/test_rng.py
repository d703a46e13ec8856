"""The counter-based generator ``initmath.engine.rng``: exactness, addressability, statistics."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.stats
from hypothesis import example, given
from hypothesis import strategies as st

from initmath.engine import rng

U64 = 2**64
U128 = 2**128
U256 = 2**256
Z = 4.0  # statistical checks: |z| < 4 (two-sided chance ~6e-5 each; the seeds are fixed)

keys = st.integers(min_value=0, max_value=U128 - 1)
counters = st.integers(min_value=0, max_value=U256 - 1)
streams = st.integers(min_value=0, max_value=U64 - 1)
offsets = st.integers(min_value=0, max_value=2**61)


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
    assert _block(rng.philox4x64_10, ctr, key) == expected


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT_4X64_10)
def test_numpy_reproduces_the_known_answers(ctr, key, expected):
    # The same vectors through NumPy, which adds 1 to the counter before each block: it is
    # the reference the rest of this file trusts.
    counter = (sum(c << (64 * i) for i, c in enumerate(ctr)) - 1) % U256
    assert _numpy_raw_blocks(key[0] + (key[1] << 64), counter, 1)[0] == expected


@pytest.mark.parametrize(("ctr", "key", "expected"), KAT_4X32_10)
def test_philox4x32_known_answers(ctr, key, expected):
    assert _block(rng.philox4x32_10, ctr, key) == expected


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
    assert _block(rng.philox4x32_10, ctr, k) == _philox4x32_10_reference(ctr, k)


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
        assert _block(rng.philox4x64_10, ctr, _words(key, 2, 64)) == expected


@given(keys, counters)
def test_block_matches_numpy_philox_anywhere(key, counter):
    (expected,) = _numpy_raw_blocks(key, counter, 1)
    ctr = _words((counter + 1) % U256, 4, 64)
    assert _block(rng.philox4x64_10, ctr, _words(key, 2, 64)) == expected


@given(keys, streams, offsets, st.integers(0, 40))
@example(seed=U128 - 1, stream=U64 - 1, offset=2**61 + 3, n=9)
@example(seed=0, stream=0, offset=0, n=0)
def test_uniforms_are_numpy_generator_random(seed, stream, offset, n):
    # Stream t of seed s is NumPy's Philox(key=s, counter=t << 128), position by position.
    bit_gen = np.random.Philox(key=seed, counter=(stream << 128) + offset // 4)
    expected = np.random.Generator(bit_gen).random(offset % 4 + n)[offset % 4 :]
    got = rng.uniforms(seed, stream, n, offset)
    assert got.dtype == np.float64 and got.shape == (n,)
    np.testing.assert_array_equal(got, expected)


def test_seed_key_is_numpys_key():
    seed = 0xBE5466CF34E90C6C452821E638D01377
    k0, k1 = rng.seed_key(seed)
    assert type(k0) is np.uint64 and type(k1) is np.uint64
    np.testing.assert_array_equal(
        np.random.Philox(key=seed).state["state"]["key"], np.array([k0, k1], dtype=np.uint64)
    )


def _box_muller_reference(u: np.ndarray) -> np.ndarray:
    """Box–Muller on consecutive uniforms with Python's math module."""
    z = np.empty(u.size)
    for m in range(u.size // 2):
        r = math.sqrt(-2.0 * math.log(1.0 - u[2 * m]))
        theta = 2.0 * math.pi * u[2 * m + 1]
        z[2 * m], z[2 * m + 1] = r * math.cos(theta), r * math.sin(theta)
    return z


@pytest.mark.parametrize(("seed", "stream"), [(0, 0), (12345, 7), (U128 - 1, U64 - 1)])
def test_normals_are_box_muller_of_the_uniforms(seed, stream):
    n = 1000
    expected = _box_muller_reference(rng.uniforms(seed, stream, n))
    np.testing.assert_allclose(rng.normals(seed, stream, n), expected, rtol=1e-14, atol=1e-14)


def test_golden_normals():
    # Pins the normal mapping: a change here changes every Monte Carlo result downstream.
    np.testing.assert_allclose(
        rng.normals(0, 0, 4),
        [0.008088695404117373, 0.15219212994898557, -0.4468097514740505, -0.1914038077379988],
        rtol=1e-13,
    )
    np.testing.assert_allclose(
        rng.normals(2**100 + 3, 2**63 + 1, 3, offset=10**15 + 1),
        [0.20756109587842841, -0.023805674769635164, -1.0308153135430311],
        rtol=1e-13,
    )


# --- Addressability ---


@given(keys, streams, offsets, st.integers(0, 64), st.data())
@example(seed=1, stream=2, offset=1, n=7, data=None)
def test_split_anywhere_is_the_same_draw(seed, stream, offset, n, data):
    split = data.draw(st.integers(0, n)) if data is not None else 3
    k0, k1 = rng.seed_key(seed)
    for fill in (rng.fill_normal, rng.fill_uniform):
        whole = np.empty(n)
        fill(k0, k1, np.uint64(stream), offset, whole)
        parts = np.empty(n)
        fill(k0, k1, np.uint64(stream), offset, parts[:split])
        fill(k0, k1, np.uint64(stream), offset + split, parts[split:])
        np.testing.assert_array_equal(parts, whole)


@pytest.mark.parametrize("offset", [0, 1, 2, 3, 4, 5, 10**12 + 3])
def test_one_at_a_time_is_the_same_draw(offset):
    n = 13
    whole = rng.normals(99, 5, n, offset)
    single = [rng.normals(99, 5, 1, offset + j)[0] for j in range(n)]
    np.testing.assert_array_equal(single, whole)
    np.testing.assert_array_equal(rng.normals(99, 5, offset % 97 + n)[offset % 97 :],
                                  rng.normals(99, 5, n, offset % 97))  # fmt: skip


def test_wrappers_equal_the_kernels_and_argument_types_do_not_matter():
    seed = U128 - 12345  # both key words >= 2**63: Numba types them as uint64
    k0, k1 = rng.seed_key(seed)
    expected = rng.normals(seed, 6, 11, offset=3)
    for args in [
        (k0, k1, np.uint64(6), np.int64(3)),
        (k0, k1, 6, 3),
        (k0, k1, np.int64(6), np.uint64(3)),
        (k0, k1, np.int32(6), np.int32(3)),
    ]:
        out = np.empty(11)
        rng.fill_normal(*args, out)
        np.testing.assert_array_equal(out, expected)
    # A strided view is filled the same way.
    buf = np.zeros(22)
    rng.fill_normal(k0, k1, 6, 3, buf[::2])
    np.testing.assert_array_equal(buf[::2], expected)
    assert not buf[1::2].any()


def test_determinism_across_calls():
    a = rng.normals(2024, 3, 10_001, offset=7)
    b = rng.normals(2024, 3, 10_001, offset=7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(rng.uniforms(2024, 3, 999), rng.uniforms(2024, 3, 999))


def test_empty_and_validation():
    assert rng.normals(0, 0, 0).shape == (0,)
    rng.fill_normal(np.uint64(0), np.uint64(0), 0, 5, np.empty(0))  # n = 0: nothing to do
    for bad in (-1, U128):
        with pytest.raises(ValueError, match="seed"):
            rng.seed_key(bad)
    for bad in (1.0, True, "1", None):
        with pytest.raises(TypeError, match="seed"):
            rng.seed_key(bad)
    with pytest.raises(ValueError, match="stream"):
        rng.normals(0, U64, 3)
    with pytest.raises(ValueError, match="stream"):
        rng.uniforms(0, -1, 3)
    with pytest.raises(ValueError, match="offset"):
        rng.normals(0, 0, 3, offset=-1)
    with pytest.raises(ValueError, match="^n must"):
        rng.normals(0, 0, -1)
    with pytest.raises(TypeError, match="^n must"):
        rng.normals(0, 0, 2.0)
    with pytest.raises(ValueError, match="offset must be >= 0"):
        rng.fill_normal(np.uint64(0), np.uint64(0), 0, -4, np.empty(3))


# --- Independence of streams ---


def test_streams_differ():
    base = rng.uniforms(5, 0, 1000)
    for seed, stream in [(5, 1), (5, 2**63), (6, 0), (5 + U64, 0)]:
        other = rng.uniforms(seed, stream, 1000)
        assert np.intersect1d(base, other).size == 0  # 53-bit values: a collision is ~1e-10


@pytest.mark.parametrize(
    ("a", "b"),
    [((0, 0), (0, 1)), ((0, 17), (0, 18)), ((3, 5), (3, 2**64 - 1)), ((0, 0), (1, 0))],
)
def test_streams_uncorrelated(a, b):
    n = 200_000
    r = np.corrcoef(rng.normals(*a, n), rng.normals(*b, n))[0, 1]
    assert abs(r) * math.sqrt(n) < Z  # se(r) = 1/sqrt(n) for independent normals


def test_within_stream_uncorrelated():
    n = 400_000
    z = rng.normals(77, 3, n)
    lag1 = np.corrcoef(z[:-1], z[1:])[0, 1]  # crosses both Box–Muller pairs and blocks
    assert abs(lag1) * math.sqrt(n - 1) < Z
    # The two normals of a Box–Muller pair are independent, not just uncorrelated: their
    # squares (radius shared, angle split) are uncorrelated too.
    sq = z.reshape(-1, 2) ** 2
    r_sq = np.corrcoef(sq[:, 0], sq[:, 1])[0, 1]
    assert abs(r_sq) * math.sqrt(n // 2) < Z


# --- Distribution ---


def _moment_z_scores(z: np.ndarray) -> dict[str, float]:
    """z-scores of the raw moments of ``z`` against those of N(0, 1).

    E[Z^k] = 0, 1, 0, 3 and Var(Z^k) = E[Z^2k] - E[Z^k]^2 = 1, 2, 15, 96 for k = 1..4.
    """
    n = z.size
    z2 = z * z
    return {
        "mean": z.mean() / math.sqrt(1 / n),
        "variance": (z2.mean() - 1) / math.sqrt(2 / n),
        "third": (z2 * z).mean() / math.sqrt(15 / n),
        "fourth": ((z2 * z2).mean() - 3) / math.sqrt(96 / n),
    }


@pytest.mark.parametrize(("seed", "stream"), [(0, 0), (20240601, 12), (U128 - 1, U64 - 1)])
def test_normal_distribution(seed, stream):
    z = rng.normals(seed, stream, 1_000_000)
    assert scipy.stats.kstest(z, scipy.stats.norm.cdf).pvalue > 1e-3
    for name, score in _moment_z_scores(z).items():
        assert abs(score) < Z, (name, score)


def test_normal_distribution_pooled_over_streams():
    # What an engine sees: a short stretch of many streams.
    z = np.concatenate([rng.normals(31, t, 1_000) for t in range(500)])
    assert scipy.stats.kstest(z, scipy.stats.norm.cdf).pvalue > 1e-3
    for name, score in _moment_z_scores(z).items():
        assert abs(score) < Z, (name, score)


def test_uniform_distribution():
    u = rng.uniforms(8, 1, 1_000_000)
    assert u.min() >= 0.0 and u.max() < 1.0
    assert scipy.stats.kstest(u, scipy.stats.uniform.cdf).pvalue > 1e-3
    assert abs(u.mean() - 0.5) / math.sqrt(1 / 12 / u.size) < Z


# --- Thread-count invariance ---


@rng.jit(parallel=True)
def _fill_rows(k0, k1, first_stream, offset, out, thread_of_row):  # type: ignore[no-untyped-def]
    """Row i of ``out``: normals of stream first_stream + i, one row per prange iteration."""
    for i in numba.prange(out.shape[0]):
        rng.fill_normal(k0, k1, first_stream + i, offset, out[i])
        thread_of_row[i] = numba.get_thread_id()


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs 2 Numba threads")
def test_thread_count_invariance():
    k0, k1 = rng.seed_key(4321)
    n_streams, n, offset = 64, 1_003, 5
    before = numba.get_num_threads()
    results, threads_used = [], []
    try:
        for n_threads in (1, 2, 1):
            numba.set_num_threads(n_threads)
            out = np.empty((n_streams, n))
            thread_of_row = np.full(n_streams, -1, dtype=np.int64)
            _fill_rows(k0, k1, 10, offset, out, thread_of_row)
            results.append(out)
            threads_used.append(set(thread_of_row.tolist()))
    finally:
        numba.set_num_threads(before)
    assert threads_used == [{0}, {0, 1}, {0}]  # the kernel really ran on two threads
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0], results[2])
    for i in (0, 1, n_streams - 1):  # and each row is its stream, as drawn serially
        np.testing.assert_array_equal(results[1][i], rng.normals(4321, 10 + i, n, offset))


# --- the ziggurat (addressable fast normals for the engine's weights) ------------------------
M32 = 0xFFFFFFFF


def _reference_ziggurat(seed: int, stream: int, n: int, offset: int) -> np.ndarray:
    """The ziggurat of ``rng.ziggurat_fill`` written out in plain Python, one normal at a
    time, on words from NumPy's Philox (so the test shares no generator code with it)."""
    x, k, w, f = rng._ZIG_X, rng._ZIG_K, rng._ZIG_W, rng._ZIG_F
    r_edge = float(x[1])
    n_words = (offset + n + 1) // 2 + 1
    words = np.random.Philox(key=seed, counter=stream << 128).random_raw(n_words)

    def retry_word(h: int, t: int) -> int:
        # block (h, 1 + t // 4, stream, 0); NumPy adds one to the counter before a block
        counter = h + ((1 + t // 4) << 64) + (stream << 128) - 1
        return int(np.random.Philox(key=seed, counter=counter).random_raw(4)[t % 4])

    def uniform(word: int) -> float:
        return (word >> 11) * 2.0**-53

    out = np.empty(n)
    for j in range(n):
        h = offset + j
        r = (int(words[h // 2]) >> (32 * (h % 2))) & M32
        t = 0
        while True:
            layer, sign, magnitude = r & 255, -1.0 if r & 256 else 1.0, r >> 9
            value = magnitude * float(w[layer])
            if magnitude < int(k[layer]):
                break
            if layer == 0:
                while True:
                    a, b = uniform(retry_word(h, t)), uniform(retry_word(h, t + 1))
                    t += 2
                    tail = -math.log(1.0 - a) / r_edge
                    if -2.0 * math.log(1.0 - b) >= tail * tail:
                        break
                value = r_edge + tail
                break
            u = uniform(retry_word(h, t))
            t += 1
            if float(f[layer]) + u * (float(f[layer + 1]) - float(f[layer])) < math.exp(
                -0.5 * value * value
            ):
                break
            r = retry_word(h, t) & M32
            t += 1
        out[j] = sign * value
    return out


def test_ziggurat_tables_have_equal_areas():
    """Marsaglia and Tsang's construction: 256 regions of equal area V under exp(-x^2/2),
    the base strip holding the tail beyond R, and the top layer closing at x = 0."""
    x, f = rng._ZIG_X, rng._ZIG_F
    c, r_edge, v = rng._ZIG_C, rng._ZIG_R, rng._ZIG_V
    assert c == 256 and x[1] == r_edge and x[c] == 0.0
    np.testing.assert_allclose(f, np.exp(-0.5 * x**2), rtol=1e-15)
    tail = math.sqrt(math.pi / 2) * math.erfc(r_edge / math.sqrt(2))
    assert r_edge * f[1] + tail == pytest.approx(v, rel=1e-9)
    assert x[0] * f[1] == pytest.approx(v, rel=1e-12)  # the base strip's pseudo-width
    layers = x[1:c] * (f[2 : c + 1] - f[1:c])  # rectangle of layer i: width x[i]
    np.testing.assert_allclose(layers, v, rtol=1e-9)
    # the fast test is exact: k[i] is the first magnitude whose candidate leaves x[i + 1]
    m = rng._ZIG_K.astype(np.int64)
    assert np.all(m * x[:c] / 2**23 >= x[1 : c + 1])
    assert np.all((m - 1) * x[:c] / 2**23 < x[1 : c + 1])


@pytest.mark.parametrize(
    ("seed", "stream", "offset", "n"),
    [(7, 3, 0, 6000), (2**100 + 1, 2**63 + 5, 12345, 3001), (0, 0, 1, 64)],
)
def test_ziggurat_matches_the_reference(seed, stream, offset, n):
    z = rng.ziggurat_normals(seed, stream, n, offset)
    expected = _reference_ziggurat(seed, stream, n, offset)
    np.testing.assert_array_equal(z, expected)


def test_reference_covers_the_slow_paths():
    """Over 40 000 normals some take each slow path (wedge, tail), so the comparison with
    the reference above is not only a comparison of the fast path. The fast test fails
    with probability 1 - mean_i x[i+1] / x[i] (1.5%; the top layer has no core)."""
    n = 40_000
    k, words = rng._ZIG_K, np.random.Philox(key=7, counter=3 << 128).random_raw(n // 2)
    halves = np.stack([words & M32, words >> 32], axis=1).reshape(-1)
    layer, magnitude = halves & 255, halves >> 9
    slow = magnitude >= k[layer]
    x = rng._ZIG_X
    p = 1 - np.mean(x[1:] / x[:-1])
    assert abs(slow.sum() - n * p) < Z * math.sqrt(n * p * (1 - p))
    assert np.any(slow & (layer == 0)) and np.any(slow & (layer > 0))
    z = rng.ziggurat_normals(7, 3, n)
    np.testing.assert_array_equal(z[slow], _reference_ziggurat(7, 3, n, 0)[slow])
    assert np.any(np.abs(z) > rng._ZIG_R)  # a tail draw


@given(keys, streams, offsets, st.integers(0, 1200), st.data())
@example(seed=1, stream=2, offset=1, n=1025, data=None)
def test_ziggurat_split_anywhere_is_the_same_draw(seed, stream, offset, n, data):
    split = data.draw(st.integers(0, n)) if data is not None else 513
    k0, k1 = rng.seed_key(seed)
    whole, parts = np.empty(n), np.empty(n)
    rng.ziggurat_fill(k0, k1, np.uint64(stream), offset, whole)
    rng.ziggurat_fill(k0, k1, np.uint64(stream), offset, parts[:split])
    rng.ziggurat_fill(k0, k1, np.uint64(stream), offset + split, parts[split:])
    np.testing.assert_array_equal(parts, whole)


def test_ziggurat_one_at_a_time_std_and_streams():
    whole = rng.ziggurat_normals(5, 9, 50, offset=3)
    single = [rng.ziggurat_normals(5, 9, 1, offset=3 + j)[0] for j in range(50)]
    np.testing.assert_array_equal(single, whole)
    np.testing.assert_array_equal(rng.ziggurat_normals(5, 9, 50, offset=3, std=0.25),
                                  0.25 * whole)  # fmt: skip
    assert not np.array_equal(whole, rng.ziggurat_normals(5, 10, 50, offset=3))
    assert not np.array_equal(whole, rng.ziggurat_normals(6, 9, 50, offset=3))


def test_ziggurat_distribution():
    n = 4_000_000
    z = rng.ziggurat_normals(11, stream=2, n=n)
    se = {1: 1 / np.sqrt(n), 2: np.sqrt(2 / n), 4: np.sqrt(96 / n)}
    assert abs(z.mean()) < Z * se[1]
    assert abs(z.var() - 1) < Z * se[2]
    assert abs(np.mean(z**4) - 3) < Z * se[4]
    assert scipy.stats.kstest(z[:1_000_000], "norm").pvalue > 1e-3
    # the tail beyond the base strip's edge R has its own sampler: check its mass
    for edge in (rng._ZIG_R, 4.0):
        p = 2 * scipy.stats.norm.sf(edge)
        count = np.sum(np.abs(z) > edge)
        assert abs(count - n * p) < Z * np.sqrt(n * p * (1 - p)), (edge, count, n * p)


def test_ziggurat_neighbours_uncorrelated():
    """Normals 2m and 2m + 1 share a 64-bit word (its two halves): no correlation, also
    not between their squares."""
    z = rng.ziggurat_normals(12, stream=0, n=2_000_000).reshape(-1, 2)
    for a, b in ((z[:, 0], z[:, 1]), (z[:, 0] ** 2, z[:, 1] ** 2)):
        r = np.corrcoef(a, b)[0, 1]
        assert abs(r) * math.sqrt(a.size) < Z


def test_ziggurat_thread_count_invariance_in_prange():
    k0, k1 = rng.seed_key(4321)
    before = numba.get_num_threads()
    results = []
    try:
        for n_threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(n_threads)
            out = np.empty((16, 777))
            _zig_rows(k0, k1, 10, 3, out)
            results.append(out)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(results[0], results[1])
    np.testing.assert_array_equal(results[0][4], rng.ziggurat_normals(4321, 14, 777, 3))


@rng.jit(parallel=True)
def _zig_rows(k0, k1, first_stream, offset, out):  # type: ignore[no-untyped-def]
    for i in numba.prange(out.shape[0]):
        rng.ziggurat_fill(k0, k1, first_stream + i, offset, out[i])


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"std": float("nan")}, ValueError, "std"),
        ({"std": 0.0}, ValueError, "std"),
        ({"std": "1"}, TypeError, "std"),
        ({"offset": -1}, ValueError, "offset"),
        ({"n": 2.5}, TypeError, "n"),
    ],
)
def test_ziggurat_validation(kwargs, error, match):
    args = {"seed": 1, "stream": 0, "n": 4} | kwargs
    with pytest.raises(error, match=match):
        rng.ziggurat_normals(**args)
