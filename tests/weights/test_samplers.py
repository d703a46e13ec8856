"""Samples from ``init``: their statistics, structure and reproducibility."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import initmath
from tests.strategies import gain_schemes, layer_shapes, layouts, sampled_distributions

SHAPE = (400, 500)  # 200,000 weights: the std is checked to about 0.3%
Z = 4.5  # each check fails by chance with probability < 1e-5 (and the seeds are fixed)

SCHEME_MODES = [
    (scheme, mode)
    for scheme in ("lecun", "xavier", "he", "standard")
    for mode in (None, "fan_in", "fan_out", "fan_avg", "fan_geo_avg")
] + [("fixed", None)]


def _mean_square_z(w: np.ndarray, target_var: float) -> float:
    """z-score of the sample mean of w^2 against the target variance (mean known to be 0).

    The standard error comes from the sample itself: sd(w^2)/sqrt(N), the entries being
    independent draws.
    """
    sq = np.asarray(w, dtype=np.float64).ravel() ** 2
    se = sq.std(ddof=1) / math.sqrt(sq.size)
    return float((sq.mean() - target_var) / se)


@pytest.mark.parametrize(("scheme", "mode"), SCHEME_MODES)
@pytest.mark.parametrize("distribution", ["normal", "uniform", "truncated_normal"])
def test_empirical_std_matches(scheme, mode, distribution):
    seed = zlib_seed(scheme, mode, distribution)
    w = initmath.init(SHAPE, scheme, distribution=distribution, mode=mode, rng=seed)
    sigma = initmath.std(SHAPE, scheme, distribution=distribution, mode=mode)
    assert abs(_mean_square_z(w, sigma**2)) < Z
    assert abs(float(w.mean())) < Z * sigma / math.sqrt(w.size)
    if distribution != "normal":
        a = initmath.bound(SHAPE, scheme, distribution=distribution, mode=mode)
        assert float(np.abs(w).max()) <= a
        # with 200,000 draws the largest comes within 0.1% of the edge (P(miss) ~ e^-200)
        assert float(np.abs(w).max()) > 0.999 * a


def zlib_seed(*parts: object) -> int:
    import zlib

    return zlib.crc32(repr(parts).encode())


def test_truncated_normal_variance_equals_target_with_many_draws():
    # 4 million draws: standard error of the variance 0.035%.
    w = initmath.init((2000, 2000), "lecun", distribution="truncated_normal", rng=7)
    assert abs(_mean_square_z(w, initmath.std((2000, 2000), "lecun") ** 2)) < Z
    # and it really is truncated at 2 std of the underlying normal
    cut = initmath.bound((2000, 2000), "lecun", distribution="truncated_normal")
    assert float(np.abs(w).max()) <= cut


def test_truncated_normal_shape_is_a_truncated_normal():
    # Compare the distribution, not only the variance: a two-sample-free KS test against
    # scipy's truncnorm with the same cut and scale.
    from scipy import stats

    w = initmath.init((300, 300), "he", distribution="truncated_normal", rng=11).ravel()
    cut = initmath.bound((300, 300), "he", distribution="truncated_normal")
    scale = cut / 2
    result = stats.kstest(w, stats.truncnorm(-2, 2, scale=scale).cdf)
    assert result.pvalue > 1e-4


@pytest.mark.parametrize("scheme", ["lecun", "xavier", "he"])
@pytest.mark.parametrize(
    ("shape", "layout"),
    [
        ((64, 256), "torch"),
        ((256, 64), "torch"),
        ((100, 100), "torch"),
        ((16, 8, 3, 3), "torch"),
        ((3, 3, 8, 16), "keras"),
        ((3, 3, 100, 16), "keras"),
    ],
)
@pytest.mark.parametrize("activation", [None, "tanh", ("leaky_relu", 0.3)])
def test_orthogonal(scheme, shape, layout, activation):
    w = initmath.init(
        shape, scheme, distribution="orthogonal", activation=activation, layout=layout, rng=3
    )
    assert w.shape == shape
    rows, cols = initmath.weights.shapes.matrix_shape(shape, layout)
    m = w.reshape(rows, cols)
    g = (
        initmath.gain(activation)
        if activation is not None
        else (math.sqrt(2.0) if scheme == "he" else 1.0)
    )
    gram = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(gram, g * g * np.eye(min(rows, cols)), atol=1e-12)
    # mean square of the entries is exactly std()^2
    s = initmath.std(shape, scheme, distribution="orthogonal", activation=activation, layout=layout)
    assert float(np.mean(m * m)) == pytest.approx(s * s, rel=1e-12)


def test_orthogonal_is_haar_not_biased_by_qr_signs():
    # Without the sign fix, numpy's QR makes diag(R) >= 0 negative-biased entries on the
    # diagonal of Q; with it, the diagonal entries of many draws average to 0.
    diag = np.array(
        [
            np.diag(initmath.init((8, 8), "lecun", distribution="orthogonal", rng=s))
            for s in range(2000)
        ]
    )
    # each diagonal entry of a Haar matrix has mean 0 and variance 1/8
    se = math.sqrt(1 / 8 / diag.shape[0])
    assert np.all(np.abs(diag.mean(axis=0)) < Z * se)


@pytest.mark.parametrize("distribution", initmath.DISTRIBUTIONS)
def test_same_seed_same_array(distribution):
    a = initmath.init((30, 20, 3), "he", distribution=distribution, rng=123)
    b = initmath.init((30, 20, 3), "he", distribution=distribution, rng=123)
    c = initmath.init((30, 20, 3), "he", distribution=distribution, rng=124)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_generator_is_advanced_not_copied():
    gen = np.random.default_rng(5)
    a = initmath.init((10, 10), "he", rng=gen)
    b = initmath.init((10, 10), "he", rng=gen)
    assert not np.array_equal(a, b)
    fresh = np.random.default_rng(5)
    np.testing.assert_array_equal(a, initmath.init((10, 10), "he", rng=fresh))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, "float32"])
def test_dtype(dtype):
    w = initmath.init((20, 30), "xavier", rng=0, dtype=dtype)
    assert w.dtype == np.dtype(dtype)
    ref = initmath.init((20, 30), "xavier", rng=0)
    np.testing.assert_array_equal(w, ref.astype(dtype))


@settings(max_examples=40)
@given(
    layer_shapes(max_dim=12),
    gain_schemes,
    sampled_distributions,
    layouts,
    st.integers(0, 2**32 - 1),
)
def test_init_shape_and_finiteness(shape, scheme, distribution, layout, seed):
    w = initmath.init(shape, scheme, distribution=distribution, layout=layout, rng=seed)
    assert w.shape == shape and w.dtype == np.float64
    assert np.all(np.isfinite(w))


def test_all_distribution_scheme_combinations_are_covered():
    # The test matrix above must not silently miss a distribution or scheme added later.
    covered = {d for d in ("normal", "uniform", "truncated_normal")} | {"orthogonal"}
    assert covered == set(initmath.DISTRIBUTIONS)
    assert {s for s, _ in SCHEME_MODES} == set(initmath.SCHEMES)
    assert {m for _, m in SCHEME_MODES if m} == set(initmath.MODES)


@pytest.mark.parametrize(
    ("scheme", "distribution"), list(itertools.product(["standard", "fixed"], ["orthogonal"]))
)
def test_orthogonal_needs_a_gain_scheme(scheme, distribution):
    with pytest.raises(ValueError, match="orthogonal"):
        initmath.init((4, 4), scheme, distribution=distribution)


def test_bias_laws():
    from scipy import stats

    from initmath.weights.samplers import bias

    b = bias(20000, 256, rng=5)
    # PyTorch's default: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    assert stats.kstest(b, stats.uniform(-1 / 16, 2 / 16).cdf).pvalue > 1e-3
    assert float(np.abs(b).max()) <= 1 / 16
    np.testing.assert_array_equal(bias(5, framework="keras"), np.zeros(5))
    np.testing.assert_array_equal(bias((2, 0), framework="jax"), np.zeros((2, 0)))
    np.testing.assert_array_equal(bias(4, 0, rng=0), np.zeros(4))  # PyTorch's bound 0
    np.testing.assert_array_equal(bias(7, 9, rng=3), bias(7, 9, rng=3))
    with pytest.raises(ValueError, match="fan_in"):
        bias(4)
    with pytest.raises(ValueError, match="takes no fan_in"):
        bias(4, 16, framework="keras")
    with pytest.raises(ValueError, match="framework"):
        bias(4, 16, framework="flax")
    with pytest.raises(TypeError, match="shape"):
        bias(4.0, 16)
