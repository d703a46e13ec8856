"""The fan-free initializers (``initmath.weights.initializers``), without PyTorch.

Exact values for the deterministic ones (written out by hand), the laws of the random ones
by one-sample KS tests against scipy.stats at fixed seeds (alpha 1e-3), structure
(orthogonality, zero counts), reproducibility and every documented error. The framework
facts quoted in the docstrings were read in: PyTorch 2.13 ``torch/nn/init.py`` (in the
venv); keras-team/keras ``keras/src/initializers/random_initializers.py`` (commit
107f5a80), ``constant_initializers.py`` (22d5c171), ``keras/src/backend/jax/random.py``
(51d7e770); jax-ml/jax ``jax/_src/nn/initializers.py`` (04f6bfa4).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from initmath.weights import initializers as ini
from initmath.weights.distributions import truncated_normal_std

ALPHA = 1e-3  # KS significance level (fixed seeds: a failure reproduces)
BETA2 = truncated_normal_std(2.0)  # 0.87962566103423978


def _ks(sample: np.ndarray, dist) -> float:
    return float(stats.kstest(np.asarray(sample, dtype=np.float64).ravel(), dist.cdf).pvalue)


# --- constants ----------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (2, 0, 4), (0,), (1, 1, 1, 1, 1)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_zeros_ones_constant_any_shape(shape, dtype):
    z, o, c = (
        ini.zeros(shape, dtype=dtype),
        ini.ones(shape, dtype=dtype),
        ini.constant(shape, -2.5, dtype=dtype),
    )
    for a, v in ((z, 0.0), (o, 1.0), (c, -2.5)):
        assert isinstance(a, np.ndarray) and a.shape == shape and a.dtype == np.dtype(dtype)
        assert np.all(a == v)


def test_default_dtype_is_float64():
    for a in (ini.zeros((2,)), ini.ones((2,)), ini.constant((2,), 1), ini.eye((2, 2))):
        assert a.dtype == np.float64


def test_constant_broadcasts_an_array():
    w = ini.constant((2, 3), np.array([[1.0], [-4.0]]))
    np.testing.assert_array_equal(w, [[1.0, 1.0, 1.0], [-4.0, -4.0, -4.0]])
    w = ini.constant((2, 3), [1, 2, 3], dtype=np.float32)
    np.testing.assert_array_equal(w, np.array([[1, 2, 3], [1, 2, 3]], dtype=np.float32))


def test_constant_returns_a_new_writable_array():
    v = np.array([1.0, 2.0])
    w = ini.constant((2,), v)
    w[0] = 7.0
    assert v[0] == 1.0 and w.flags.writeable and w.flags.owndata


def test_constant_rounds_once_to_the_dtype():
    assert ini.constant((1,), 0.1, dtype=np.float32)[0] == np.float32(0.1)
    assert ini.constant((1,), 65504.0, dtype=np.float16)[0] == np.float16(65504.0)


# --- eye ----------------------------------------------------------------------------------


def test_eye_exact():
    np.testing.assert_array_equal(ini.eye((2, 3)), [[1, 0, 0], [0, 1, 0]])
    np.testing.assert_array_equal(ini.eye((3, 2), gain=-0.5), [[-0.5, 0], [0, -0.5], [0, 0]])
    np.testing.assert_array_equal(ini.eye((1, 1), gain=3.0), [[3.0]])
    assert ini.eye((0, 3)).shape == (0, 3)


# --- dirac --------------------------------------------------------------------------------


def test_dirac_3d_by_hand():
    w = ini.dirac((2, 3, 3))  # out 2 < in 3: input channel 2 is dropped
    expected = np.zeros((2, 3, 3))
    expected[0, 0, 1] = expected[1, 1, 1] = 1
    np.testing.assert_array_equal(w, expected)


def test_dirac_groups_by_hand():
    w = ini.dirac((6, 2, 1), groups=3)  # two output channels per group, two inputs each
    expected = np.zeros((6, 2, 1))
    for o, i in [(0, 0), (1, 1), (2, 0), (3, 1), (4, 0), (5, 1)]:
        expected[o, i, 0] = 1
    np.testing.assert_array_equal(w, expected)
    w = ini.dirac((4, 3, 3), groups=2)  # 2 per group < 3 inputs: inputs 0, 1 in each group
    expected = np.zeros((4, 3, 3))
    for o, i in [(0, 0), (1, 1), (2, 0), (3, 1)]:
        expected[o, i, 1] = 1
    np.testing.assert_array_equal(w, expected)


def test_dirac_even_kernel_uses_upper_centre_4d_5d():
    w = ini.dirac((3, 2, 2, 4))
    expected = np.zeros((3, 2, 2, 4))
    expected[0, 0, 1, 2] = expected[1, 1, 1, 2] = 1  # k // 2, out channel 2 stays zero
    np.testing.assert_array_equal(w, expected)
    w = ini.dirac((1, 1, 3, 3, 3))
    expected = np.zeros((1, 1, 3, 3, 3))
    expected[0, 0, 1, 1, 1] = 1
    np.testing.assert_array_equal(w, expected)


@pytest.mark.parametrize("torch_shape", [(4, 2, 3), (6, 3, 3, 3), (4, 4, 2, 3, 3)])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("layout", ["keras", "jax"])
def test_dirac_keras_layout_is_the_transposed_kernel(torch_shape, groups, layout):
    t = ini.dirac(torch_shape, groups=groups)
    k_shape = (*torch_shape[2:], torch_shape[1], torch_shape[0])
    k = ini.dirac(k_shape, groups=groups, layout=layout)
    assert k.shape == k_shape
    np.testing.assert_array_equal(k, np.transpose(t, (*range(2, t.ndim), 1, 0)))


def test_dirac_passes_a_signal_through_a_convolution():
    # a 'same'-padded 1-d cross-correlation with dirac weights returns its input channels
    x = np.random.default_rng(0).standard_normal((3, 10))
    w = ini.dirac((3, 3, 5))
    pad = np.pad(x, ((0, 0), (2, 2)))
    y = np.array([[np.sum(w[o] * pad[:, t : t + 5]) for t in range(10)] for o in range(3)])
    np.testing.assert_array_equal(y, x)


# --- sparse -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "sparsity", "zeros_per_column"),
    [
        ((10, 7), 0.5, 5),
        ((10, 7), 0.0, 0),
        ((10, 7), 1.0, 10),
        ((10, 3), 0.11, 2),
        ((25, 4), 0.28, 8),
    ],
)
def test_sparse_exact_zero_count_per_column(shape, sparsity, zeros_per_column):
    # 0.28 * 25 == 7.000000000000001, whose ceiling is 8: PyTorch's arithmetic
    w = ini.sparse(shape, sparsity, rng=1)
    np.testing.assert_array_equal((w == 0).sum(axis=0), zeros_per_column)


def test_sparse_law():
    w = ini.sparse((200, 300), 0.25, std=0.3, rng=2)
    nz = w[w != 0]
    assert nz.size == 300 * 150
    assert _ks(nz, stats.norm(0, 0.3)) > ALPHA
    # the zeros sit at uniformly random rows: each row is zero in a quarter of the columns,
    # counts Binomial-like around 75 (sd <= sqrt(300/4)); the rows' counts are not all equal
    per_row = (w == 0).sum(axis=1)
    assert abs(per_row.mean() - 75) < 1e-12 and per_row.std() > 1
    assert stats.chisquare(per_row).pvalue > ALPHA


# --- uniform, normal ----------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [(0.0, 1.0), (-3.0, 5.0), (2.0, 2.5)])
def test_uniform_law(a, b):
    w = ini.uniform((50, 100), a, b, rng=3)
    assert w.min() >= a and w.max() < b
    assert _ks(w, stats.uniform(a, b - a)) > ALPHA


def test_uniform_defaults_are_torch_u01():
    w = ini.uniform((5000,), rng=4)
    assert _ks(w, stats.uniform(0, 1)) > ALPHA


def test_uniform_degenerate_interval():
    np.testing.assert_array_equal(ini.uniform((3,), 2.0, 2.0, rng=0), [2.0, 2.0, 2.0])


@pytest.mark.parametrize(("mean", "std"), [(0.0, 1.0), (3.0, 0.5), (-1.0, 2.0)])
def test_normal_law(mean, std):
    w = ini.normal((50, 100), mean, std, rng=5)
    assert _ks(w, stats.norm(mean, std)) > ALPHA


def test_normal_zero_std_is_the_mean():
    np.testing.assert_array_equal(ini.normal((4,), 1.5, 0.0, rng=0), np.full(4, 1.5))


# --- the two truncated normals ------------------------------------------------------------


@pytest.mark.parametrize(
    ("mean", "std", "a", "b"),
    [
        (0.0, 1.0, -2.0, 2.0),  # the default: bounds at 2 std
        (0.0, 0.02, -2.0, 2.0),  # the ViT idiom: bounds 100 std away, barely truncated
        (0.5, 2.0, -1.0, 3.0),  # off-centre
        (0.0, 1.0, 2.0, 4.0),  # mass 0.0227 < 0.3: the inverse-CDF branch
        (0.0, 1.0, 40.0, 50.0),  # far in the tail (PyTorch warns there)
        (1.0, 1.0, 0.9, 1.1),  # narrow interval, mass 0.08
    ],
)
def test_trunc_normal_law_absolute_bounds(mean, std, a, b):
    w = ini.trunc_normal((40, 100), mean, std, a, b, rng=6)
    assert w.min() >= a and w.max() <= b
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert _ks(w, law) > ALPHA


def test_trunc_normal_is_not_variance_corrected():
    # std=1 with bounds +-2: std BETA2 = 0.8796, with the sample's standard error
    w = ini.trunc_normal((1000, 1000), rng=7)
    sq = w.ravel() ** 2
    assert abs(sq.mean() - BETA2**2) < 4.5 * sq.std() / math.sqrt(sq.size)
    # std=0.02 with the default absolute bounds: std 0.02 to 1e-12 relative
    law = stats.truncnorm(-100, 100, scale=0.02)
    assert law.std() == pytest.approx(0.02, rel=1e-12)


@pytest.mark.parametrize(
    ("mean", "stddev", "lower", "upper"),
    [(0.0, 1.0, -2.0, 2.0), (1.0, 0.5, -2.0, 2.0), (0.0, 0.05, -2.0, 2.0), (0.0, 1.0, 1.0, 3.0)],
)
def test_truncated_normal_law_bounds_in_stddevs(mean, stddev, lower, upper):
    w = ini.truncated_normal((40, 100), mean=mean, stddev=stddev, lower=lower, upper=upper, rng=8)
    assert w.min() >= mean + lower * stddev and w.max() <= mean + upper * stddev
    law = stats.truncnorm(lower, upper, loc=mean, scale=stddev)
    assert _ks(w, law) > ALPHA


def test_truncated_normal_is_not_variance_corrected():
    s = 0.05
    w = ini.truncated_normal((1000, 1000), stddev=s, rng=9)
    sq = w.ravel() ** 2
    assert abs(sq.mean() - (BETA2 * s) ** 2) < 4.5 * sq.std() / math.sqrt(sq.size)
    assert BETA2 == pytest.approx(0.87962566103423978, rel=1e-15)


def test_the_two_truncated_normals_differ_except_at_unit_std():
    # same law at std 1, mean 0: the same draws for the same seed
    np.testing.assert_array_equal(
        ini.trunc_normal((100,), rng=10), ini.truncated_normal((100,), rng=10)
    )
    # at std 0.1, trunc_normal's bounds stay at +-2 (20 std): far wider
    wide = ini.trunc_normal((100_000,), std=0.1, rng=11)
    narrow = ini.truncated_normal((100_000,), stddev=0.1, rng=11)
    assert narrow.max() <= 0.2 < wide.max()


def test_truncated_normal_zero_stddev_is_the_mean():
    np.testing.assert_array_equal(ini.truncated_normal((3,), mean=2.0, stddev=0.0, rng=0), 2.0)


def test_trunc_normal_degenerate_interval():
    np.testing.assert_array_equal(ini.trunc_normal((3,), a=0.5, b=0.5, rng=0), 0.5)


@pytest.mark.parametrize("dtype", [np.float16, np.float32])
def test_trunc_normal_stays_in_bounds_after_rounding(dtype):
    w = ini.trunc_normal((200_000,), a=-0.1, b=0.1, std=1.0, rng=12, dtype=dtype)
    assert w.min() >= dtype(-0.1) and w.max() <= dtype(0.1)


# --- delta_orthogonal ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape", [(3, 4, 4), (3, 4, 8), (3, 3, 4, 8), (4, 2, 5, 16), (3, 3, 3, 2, 2), (1, 5, 5)]
)
@pytest.mark.parametrize("scale", [1.0, 2.5])
@pytest.mark.parametrize("column_axis", [-1, 0])
def test_delta_orthogonal_centre_tap(shape, scale, column_axis):
    w = ini.delta_orthogonal(shape, scale=scale, column_axis=column_axis, rng=13)
    assert w.shape == shape
    centre = tuple((k - 1) // 2 for k in shape[:-2])  # the lower centre for even k
    m = w[centre]
    n_in = shape[-2]
    np.testing.assert_allclose(m @ m.T, scale**2 * np.eye(n_in), atol=1e-12)
    rest = w.copy()
    rest[centre] = 0
    assert np.all(rest == 0)


def test_delta_orthogonal_square_is_orthogonal_both_ways():
    m = ini.delta_orthogonal((3, 6, 6), scale=2.0, rng=14)[1]
    np.testing.assert_allclose(m.T @ m, 4.0 * np.eye(6), atol=1e-12)


@pytest.mark.parametrize("k_shape", [(3,), (4, 3), (2, 2, 3)])
def test_delta_orthogonal_torch_layout_is_the_transposed_kernel(k_shape):
    jax_w = ini.delta_orthogonal((*k_shape, 4, 6), rng=15)
    torch_w = ini.delta_orthogonal((6, 4, *k_shape), layout="torch", rng=15)
    np.testing.assert_array_equal(torch_w, np.transpose(jax_w, (-1, -2, *range(len(k_shape)))))


def test_delta_orthogonal_law_is_haar():
    # an entry of a Haar-random 4 x 4 orthogonal matrix: x^2 ~ Beta(1/2, 3/2)
    entries = [ini.delta_orthogonal((1, 4, 4), rng=s)[0, 0, 0] for s in range(1500)]
    assert _ks(np.square(entries), stats.beta(0.5, 1.5)) > ALPHA


# --- orthogonal ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "layout", "rows", "cols"),
    [
        ((64, 3, 5, 5), "torch", 64, 75),
        ((8, 16, 3), "torch", 8, 48),
        ((100, 3, 3), "torch", 100, 9),
        ((5, 5, 3, 64), "keras", 75, 64),
        ((3, 16, 8), "jax", 48, 8),
        ((3, 3, 2, 100), "keras", 18, 100),
        ((7, 7), "torch", 7, 7),
    ],
)
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
def test_orthogonal_matrix_view(shape, layout, rows, cols, gain):
    w = ini.orthogonal(shape, gain=gain, layout=layout, rng=16)
    assert w.shape == shape
    m = w.reshape(rows, cols)
    gram = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)


def test_orthogonal_layouts_differ_for_conv_shapes():
    # (8, 16, 3) read by PyTorch: 8 orthonormal rows of length 48; by Keras: 128 x 3 with
    # orthonormal columns. Each draw is orthogonal in its own view only.
    w = ini.orthogonal((8, 16, 3), rng=17)
    k = w.reshape(128, 3)
    assert not np.allclose(k.T @ k, np.eye(3), atol=0.1)
    w = ini.orthogonal((8, 16, 3), layout="keras", rng=17)
    k, t = w.reshape(128, 3), w.reshape(8, 48)
    np.testing.assert_allclose(k.T @ k, np.eye(3), atol=1e-12)
    assert not np.allclose(t @ t.T, np.eye(8), atol=0.1)


def test_orthogonal_law_is_haar():
    entries = [ini.orthogonal((3, 3), rng=s)[1, 2] for s in range(1500)]
    assert _ks(np.square(entries), stats.beta(0.5, 1.0)) > ALPHA  # Beta(1/2, (n-1)/2)


# --- shapes, dtypes, determinism -----------------------------------------------------------

RANDOM = {
    "uniform": lambda shape, **kw: ini.uniform(shape, -1.0, 2.0, **kw),
    "normal": lambda shape, **kw: ini.normal(shape, 1.0, 2.0, **kw),
    "trunc_normal": lambda shape, **kw: ini.trunc_normal(shape, 0.0, 1.0, -1.0, 3.0, **kw),
    "truncated_normal": lambda shape, **kw: ini.truncated_normal(shape, stddev=0.5, **kw),
}


@pytest.mark.parametrize("name", sorted(RANDOM))
@pytest.mark.parametrize("shape", [(), (5,), (0,), (3, 0, 2), (4, 3)])
def test_elementwise_random_any_shape(name, shape):
    w = RANDOM[name](shape, rng=0)
    assert isinstance(w, np.ndarray) and w.shape == shape and w.dtype == np.float64


@pytest.mark.parametrize(
    ("fn", "shape"),
    [
        (lambda s, **kw: ini.sparse(s, 0.5, **kw), (0, 4)),
        (lambda s, **kw: ini.sparse(s, 0.5, **kw), (4, 0)),
        (ini.orthogonal, (0, 3)),
        (ini.orthogonal, (4, 0, 3)),
        (ini.delta_orthogonal, (0, 3, 3)),
        (ini.delta_orthogonal, (3, 0, 3)),
        (ini.delta_orthogonal, (3, 0, 0)),
    ],
)
def test_zero_size_gives_an_empty_array(fn, shape):
    w = fn(shape, rng=0)
    assert w.shape == shape and w.size == 0 and w.dtype == np.float64


def test_zero_size_deterministic():
    assert ini.dirac((2, 2, 0)).shape == (2, 2, 0)
    assert ini.dirac((0, 2, 3), groups=2).shape == (0, 2, 3)
    assert ini.eye((3, 0)).shape == (3, 0)


ALL_RANDOM = {
    **RANDOM,
    "sparse": lambda shape, **kw: ini.sparse(shape, 0.3, std=1.0, **kw),
    "orthogonal": lambda shape, **kw: ini.orthogonal(shape, **kw),
    "delta_orthogonal": lambda shape, **kw: ini.delta_orthogonal((3, *shape), **kw),
}


@pytest.mark.parametrize("name", sorted(ALL_RANDOM))
def test_seed_determinism_and_one_rounding(name):
    fn = ALL_RANDOM[name]
    a = fn((6, 9), rng=42)
    np.testing.assert_array_equal(a, fn((6, 9), rng=42))
    assert not np.array_equal(a, fn((6, 9), rng=43))
    # a Generator is advanced, not copied
    gen = np.random.default_rng(42)
    np.testing.assert_array_equal(fn((6, 9), rng=gen), a)
    assert not np.array_equal(fn((6, 9), rng=gen), a)
    for dt in (np.float32, np.float16):
        b = fn((6, 9), rng=42, dtype=dt)
        assert b.dtype == dt
        expected = a.astype(dt)
        if name == "trunc_normal":  # rounded, then clipped to the rounded bounds
            expected = np.clip(expected, dt(-1.0), dt(3.0))
        np.testing.assert_array_equal(b, expected)


# --- bad input ------------------------------------------------------------------------------

G = np.random.default_rng


BAD = [
    # shapes
    (ini.zeros, ("ab",), {}, TypeError, "shape"),
    (ini.zeros, (3,), {}, TypeError, "shape"),
    (ini.zeros, ((2.0, 3),), {}, TypeError, "shape"),
    (ini.zeros, ((2, -1),), {}, ValueError, "shape"),
    (ini.ones, ((True, 2),), {}, TypeError, "shape"),
    (ini.eye, ((3,),), {}, ValueError, "shape=(3,)"),
    (ini.eye, ((2, 2, 2),), {}, ValueError, "eye"),
    (ini.dirac, ((4, 4),), {}, ValueError, "3, 4, 5"),
    (ini.dirac, ((1, 1, 1, 1, 1, 1),), {}, ValueError, "dirac"),
    (ini.sparse, ((4,), 0.5), {}, ValueError, "sparse"),
    (ini.sparse, ((4, 4, 4), 0.5), {}, ValueError, "sparse"),
    (ini.delta_orthogonal, ((3, 3),), {}, ValueError, "delta_orthogonal"),
    (ini.delta_orthogonal, ((3, 3, 3, 3, 3, 3),), {}, ValueError, "delta_orthogonal"),
    (ini.orthogonal, ((5,),), {}, ValueError, "at least 2"),
    (ini.orthogonal, ((),), {}, ValueError, "at least 2"),
    # dtypes
    (ini.zeros, ((2,),), {"dtype": np.int32}, TypeError, "dtype"),
    (ini.ones, ((2,),), {"dtype": "complex128"}, TypeError, "dtype"),
    (ini.normal, ((2,),), {"dtype": "nonsense"}, TypeError, "dtype"),
    (ini.uniform, ((2,),), {"dtype": object}, TypeError, "dtype"),
    # constant
    (ini.constant, ((2,), None), {}, TypeError, "value"),
    (ini.constant, ((2,), "1"), {}, TypeError, "value"),
    (ini.constant, ((2,), True), {}, TypeError, "value"),
    (ini.constant, ((2,), 1 + 2j), {}, TypeError, "value"),
    (ini.constant, ((2,), [[1.0], [1.0, 2.0]]), {}, TypeError, "value"),
    (ini.constant, ((2,), math.nan), {}, ValueError, "finite"),
    (ini.constant, ((2,), [1.0, math.inf]), {}, ValueError, "finite"),
    (ini.constant, ((2,), 10**400), {}, ValueError, "finite"),
    (ini.constant, ((2,), [1.0, 2.0, 3.0]), {}, ValueError, "broadcast"),
    (ini.constant, ((3,), np.ones((2, 3))), {}, ValueError, "broadcast"),
    (ini.constant, ((2,), 1e300), {"dtype": np.float32}, ValueError, "overflow float32"),
    (ini.constant, ((2,), 70000.0), {"dtype": np.float16}, ValueError, "overflow float16"),
    (ini.constant, ((2,), [1.0, -1e-50]), {"dtype": np.float32}, ValueError, "underflows"),
    # eye
    (ini.eye, ((2, 2),), {"gain": "1"}, TypeError, "gain"),
    (ini.eye, ((2, 2),), {"gain": math.inf}, ValueError, "gain"),
    (ini.eye, ((2, 2),), {"gain": 1e39, "dtype": np.float32}, ValueError, "overflow"),
    (ini.eye, ((2, 2),), {"gain": 1e-8, "dtype": np.float16}, ValueError, "underflows"),
    # dirac
    (ini.dirac, ((4, 2, 3),), {"groups": 0}, ValueError, "groups"),
    (ini.dirac, ((4, 2, 3),), {"groups": -1}, ValueError, "groups"),
    (ini.dirac, ((4, 2, 3),), {"groups": 3}, ValueError, "divisible by groups=3"),
    (ini.dirac, ((3, 2, 4),), {"groups": 3, "layout": "keras"}, ValueError, "divisible"),
    (ini.dirac, ((4, 2, 3),), {"groups": 2.0}, TypeError, "groups"),
    (ini.dirac, ((4, 2, 3),), {"groups": True}, TypeError, "groups"),
    (ini.dirac, ((4, 2, 3),), {"layout": "tf"}, ValueError, "layout"),
    (ini.dirac, ((4, 2, 3),), {"layout": 1}, TypeError, "layout"),
    # sparse
    (ini.sparse, ((4, 4), "0.5"), {}, TypeError, "sparsity"),
    (ini.sparse, ((4, 4), -0.1), {}, ValueError, "sparsity"),
    (ini.sparse, ((4, 4), 1.5), {}, ValueError, "sparsity"),
    (ini.sparse, ((4, 4), math.nan), {}, ValueError, "sparsity"),
    (ini.sparse, ((4, 4), 0.5), {"std": -1.0}, ValueError, "std"),
    (ini.sparse, ((4, 4), 0.5), {"std": 1e37, "dtype": np.float32}, ValueError, "overflow"),
    (ini.sparse, ((4, 4), 0.5), {"rng": "seed"}, TypeError, "rng"),
    (ini.sparse, ((4, 4), 0.5), {"rng": -1}, ValueError, "rng"),
    # delta_orthogonal
    (ini.delta_orthogonal, ((3, 8, 4),), {}, ValueError, "in <= out"),
    (ini.delta_orthogonal, ((4, 8, 3),), {"layout": "torch"}, ValueError, "in <= out"),
    (ini.delta_orthogonal, ((3, 4, 8),), {"scale": -1.0}, ValueError, "scale"),
    (ini.delta_orthogonal, ((3, 4, 8),), {"scale": None}, TypeError, "scale"),
    (ini.delta_orthogonal, ((3, 4, 8),), {"column_axis": 2}, ValueError, "column_axis"),
    (ini.delta_orthogonal, ((3, 4, 8),), {"column_axis": 1.0}, TypeError, "column_axis"),
    (ini.delta_orthogonal, ((3, 4, 8),), {"layout": "caffe"}, ValueError, "layout"),
    (
        ini.delta_orthogonal,
        ((3, 4, 8),),
        {"scale": 1e5, "dtype": np.float16},
        ValueError,
        "overflow",
    ),
    # orthogonal
    (ini.orthogonal, ((4, 4),), {"gain": -1.0}, ValueError, "gain"),
    (ini.orthogonal, ((4, 4),), {"gain": "2"}, TypeError, "gain"),
    (ini.orthogonal, ((4, 4),), {"gain": 1e39, "dtype": np.float32}, ValueError, "overflow"),
    (ini.orthogonal, ((4, 4),), {"layout": "theano"}, ValueError, "layout"),
    (ini.orthogonal, ((4, 4),), {"rng": 1.5}, TypeError, "rng"),
    # uniform
    (ini.uniform, ((2,), 1.0, 0.0), {}, ValueError, "a <= b"),
    (ini.uniform, ((2,), "0", 1.0), {}, TypeError, "a"),
    (ini.uniform, ((2,), 0.0, math.inf), {}, ValueError, "b"),
    (ini.uniform, ((2,), -1e308, 1e308), {}, ValueError, "width"),
    (ini.uniform, ((2,), 0.0, 1e39), {"dtype": np.float32}, ValueError, "overflow"),
    # normal
    (ini.normal, ((2,), 0.0, -1.0), {}, ValueError, "std"),
    (ini.normal, ((2,), math.nan, 1.0), {}, ValueError, "mean"),
    (ini.normal, ((2,), 0.0, None), {}, TypeError, "std"),
    (ini.normal, ((2,), 0.0, 1e37), {"dtype": np.float32}, ValueError, "overflow"),
    (ini.normal, ((2,), 0.0, 1e-50), {"dtype": np.float32}, ValueError, "underflows"),
    # trunc_normal
    (ini.trunc_normal, ((2,), 0.0, 0.0), {}, ValueError, "std"),
    (ini.trunc_normal, ((2,), 0.0, -1.0), {}, ValueError, "std"),
    (ini.trunc_normal, ((2,), 0.0, 1.0, 2.0, -2.0), {}, ValueError, "a <= b"),
    (ini.trunc_normal, ((2,), 0.0, 1.0, -math.inf, 2.0), {}, ValueError, "a"),
    (ini.trunc_normal, ((2,), 0.0, 1.0, -2.0, "2"), {}, TypeError, "b"),
    (ini.trunc_normal, ((2,), 0.0, 1.0, -1e39, 2.0), {"dtype": np.float32}, ValueError, "overflow"),
    # truncated_normal
    (ini.truncated_normal, ((2,),), {"stddev": -1.0}, ValueError, "stddev"),
    (ini.truncated_normal, ((2,),), {"stddev": "1"}, TypeError, "stddev"),
    (ini.truncated_normal, ((2,),), {"lower": 2.0, "upper": 2.0}, ValueError, "lower < upper"),
    (ini.truncated_normal, ((2,),), {"mean": math.inf}, ValueError, "mean"),
    (
        ini.truncated_normal,
        ((2,),),
        {"stddev": 2e38, "dtype": np.float32},
        ValueError,
        "overflow",
    ),
]


@pytest.mark.parametrize(("fn", "args", "kwargs", "error", "fragment"), BAD)
def test_bad_input(fn, args, kwargs, error, fragment):
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert fragment in str(info.value), str(info.value)


# the failing calls of the random functions, given a Generator: its state must not move
BAD_RANDOM = [b for b in BAD if "rng" in b[0].__code__.co_varnames and "rng" not in b[2]]


@pytest.mark.parametrize(("fn", "args", "kwargs", "error", "fragment"), BAD_RANDOM)
def test_bad_input_consumes_no_randomness(fn, args, kwargs, error, fragment):
    gen = G(0)
    before = gen.bit_generator.state
    with pytest.raises(error):
        fn(*args, **kwargs, rng=gen)
    assert gen.bit_generator.state == before


def test_the_randomness_check_covers_every_random_function():
    assert {b[0].__name__ for b in BAD_RANDOM} == {
        "sparse",
        "delta_orthogonal",
        "orthogonal",
        "uniform",
        "normal",
        "trunc_normal",
        "truncated_normal",
    }


def test_shapes_too_large_for_memory_are_refused_before_allocating():
    with pytest.raises(ValueError, match="memory"):
        ini.zeros((2**40, 2**20))
    with pytest.raises(ValueError, match="memory"):
        ini.normal((2**40, 2**20), rng=0)
