"""Uniforms and Box–Muller normals of ``initmath.engine.streams``: NumPy's uniforms bit for
bit, addressability, independence of streams, distribution, thread-count invariance.

The Python faces of :mod:`initmath.engine.rng` give the arrays; the kernels themselves are
called where the split into calls or the argument types are the point."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
import scipy.stats
from hypothesis import example, given
from hypothesis import strategies as st

from initmath.engine import rng, streams
from initmath.engine.jit import jit

U64 = 2**64
U128 = 2**128
U256 = 2**256
Z = 4.0  # statistical checks: |z| < 4 (two-sided chance ~6e-5 each; the seeds are fixed)

keys = st.integers(min_value=0, max_value=U128 - 1)
stream_ids = st.integers(min_value=0, max_value=U64 - 1)
offsets = st.integers(min_value=0, max_value=2**61)


def test_word_uniform_is_the_top_53_bits():
    for w in (0, 2**11 - 1, 2**11, 2**63, 2**64 - 1, 0x9E3779B97F4A7C15):
        assert streams.word_uniform(np.uint64(w)) == (w >> 11) * 2.0**-53


@given(keys, stream_ids, offsets, st.integers(0, 40))
@example(seed=U128 - 1, stream=U64 - 1, offset=2**61 + 3, n=9)
@example(seed=0, stream=0, offset=0, n=0)
def test_uniforms_are_numpy_generator_random(seed, stream, offset, n):
    # Stream t of seed s is NumPy's Philox(key=s, counter=t << 128), position by position.
    bit_gen = np.random.Philox(key=seed, counter=(stream << 128) + offset // 4)
    expected = np.random.Generator(bit_gen).random(offset % 4 + n)[offset % 4 :]
    got = rng.uniforms(seed, stream, n, offset)
    assert got.dtype == np.float64 and got.shape == (n,)
    np.testing.assert_array_equal(got, expected)


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


@given(keys, stream_ids, offsets, st.integers(0, 64), st.data())
@example(seed=1, stream=2, offset=1, n=7, data=None)
def test_split_anywhere_is_the_same_draw(seed, stream, offset, n, data):
    split = data.draw(st.integers(0, n)) if data is not None else 3
    k0, k1 = rng.seed_key(seed)
    for fill in (streams.fill_normal, streams.fill_uniform):
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


def test_argument_types_and_strides_do_not_matter():
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
        streams.fill_normal(*args, out)
        np.testing.assert_array_equal(out, expected)
    # A strided view is filled the same way.
    buf = np.zeros(22)
    streams.fill_normal(k0, k1, 6, 3, buf[::2])
    np.testing.assert_array_equal(buf[::2], expected)
    assert not buf[1::2].any()


def test_determinism_across_calls():
    a = rng.normals(2024, 3, 10_001, offset=7)
    b = rng.normals(2024, 3, 10_001, offset=7)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(rng.uniforms(2024, 3, 999), rng.uniforms(2024, 3, 999))


def test_negative_offsets_are_refused_and_empty_fills_are_fine():
    streams.fill_normal(np.uint64(0), np.uint64(0), 0, 5, np.empty(0))  # n = 0: nothing to do
    for fill in (streams.fill_normal, streams.fill_uniform):
        with pytest.raises(ValueError, match="offset must be >= 0"):
            fill(np.uint64(0), np.uint64(0), 0, -4, np.empty(3))


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


@jit(parallel=True)
def _fill_rows(k0, k1, first_stream, offset, out, thread_of_row):  # type: ignore[no-untyped-def]
    """Row i of ``out``: normals of stream first_stream + i, one row per prange iteration."""
    for i in numba.prange(out.shape[0]):
        streams.fill_normal(k0, k1, first_stream + i, offset, out[i])
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
