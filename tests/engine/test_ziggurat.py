"""The addressable ziggurat of ``initmath.engine.ziggurat``: its tables, bit for bit against a
plain-Python reference on NumPy's Philox words (slow paths included), addressability,
distribution, thread-count invariance."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.stats
from hypothesis import example, given
from hypothesis import strategies as st

from initmath.engine import rng, ziggurat
from initmath.engine.jit import jit

U64 = 2**64
U128 = 2**128
U256 = 2**256
Z = 4.0  # statistical checks: |z| < 4 (two-sided chance ~6e-5 each; the seeds are fixed)

keys = st.integers(min_value=0, max_value=U128 - 1)
stream_ids = st.integers(min_value=0, max_value=U64 - 1)
offsets = st.integers(min_value=0, max_value=2**61)
M32 = 0xFFFFFFFF


def _reference_ziggurat(seed: int, stream: int, n: int, offset: int) -> np.ndarray:
    """The ziggurat of ``ziggurat.ziggurat_fill`` written out in plain Python, one normal at a
    time, on words from NumPy's Philox (so the test shares no generator code with it)."""
    x, k, w, f = ziggurat._ZIG_X, ziggurat._ZIG_K, ziggurat._ZIG_W, ziggurat._ZIG_F
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
    x, f = ziggurat._ZIG_X, ziggurat._ZIG_F
    c, r_edge, v = ziggurat._ZIG_C, ziggurat._ZIG_R, ziggurat._ZIG_V
    assert c == 256 and x[1] == r_edge and x[c] == 0.0
    np.testing.assert_allclose(f, np.exp(-0.5 * x**2), rtol=1e-15)
    tail = math.sqrt(math.pi / 2) * math.erfc(r_edge / math.sqrt(2))
    assert r_edge * f[1] + tail == pytest.approx(v, rel=1e-9)
    assert x[0] * f[1] == pytest.approx(v, rel=1e-12)  # the base strip's pseudo-width
    layers = x[1:c] * (f[2 : c + 1] - f[1:c])  # rectangle of layer i: width x[i]
    np.testing.assert_allclose(layers, v, rtol=1e-9)
    # the fast test is exact: k[i] is the first magnitude whose candidate leaves x[i + 1]
    m = ziggurat._ZIG_K.astype(np.int64)
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
    k, words = ziggurat._ZIG_K, np.random.Philox(key=7, counter=3 << 128).random_raw(n // 2)
    halves = np.stack([words & M32, words >> 32], axis=1).reshape(-1)
    layer, magnitude = halves & 255, halves >> 9
    slow = magnitude >= k[layer]
    x = ziggurat._ZIG_X
    p = 1 - np.mean(x[1:] / x[:-1])
    assert abs(slow.sum() - n * p) < Z * math.sqrt(n * p * (1 - p))
    assert np.any(slow & (layer == 0)) and np.any(slow & (layer > 0))
    z = rng.ziggurat_normals(7, 3, n)
    np.testing.assert_array_equal(z[slow], _reference_ziggurat(7, 3, n, 0)[slow])
    assert np.any(np.abs(z) > ziggurat._ZIG_R)  # a tail draw


@given(keys, stream_ids, offsets, st.integers(0, 1200), st.data())
@example(seed=1, stream=2, offset=1, n=1025, data=None)
def test_ziggurat_split_anywhere_is_the_same_draw(seed, stream, offset, n, data):
    split = data.draw(st.integers(0, n)) if data is not None else 513
    k0, k1 = rng.seed_key(seed)
    whole, parts = np.empty(n), np.empty(n)
    ziggurat.ziggurat_fill(k0, k1, np.uint64(stream), offset, whole)
    ziggurat.ziggurat_fill(k0, k1, np.uint64(stream), offset, parts[:split])
    ziggurat.ziggurat_fill(k0, k1, np.uint64(stream), offset + split, parts[split:])
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
    for edge in (ziggurat._ZIG_R, 4.0):
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


@jit(parallel=True)
def _zig_rows(k0, k1, first_stream, offset, out):  # type: ignore[no-untyped-def]
    for i in numba.prange(out.shape[0]):
        ziggurat.ziggurat_fill(k0, k1, first_stream + i, offset, out[i])
