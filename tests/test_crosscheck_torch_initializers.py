"""``initmath.weights.initializers`` against ``torch.nn.init`` (PyTorch 2.13, the venv's).

Deterministic initializers (``zeros_``, ``ones_``, ``constant_``, ``eye_``, ``dirac_``)
must give identical values. The random ones draw from different generators, so they must
have the same *law*: a two-sample KS test between PyTorch's draws and initmath's at fixed
seeds, alpha 1e-3 (PyTorch's own ``test/nn/test_init.py`` checks its draws with one-sample
``scipy.stats.kstest`` and ``p_value > 0.0001``; it is also used here on PyTorch's draws to
pin what the bounds mean). Where PyTorch's algorithm is a deterministic function of its
normal draws (``orthogonal_``), reseeding PyTorch and redrawing the same Gaussian matrix
gives the input of :func:`initmath.weights.distributions.orthogonalize`, whose output must
equal PyTorch's to 1e-12 in float64 (as in ``tests/test_crosscheck_torch.py``).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from initmath.weights import initializers as ini
from initmath.weights.distributions import orthogonalize
from initmath.weights.shapes import matrix_shape

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.crosscheck

ALPHA = 1e-3
CONV_SHAPES = [(64, 3, 5, 5), (8, 16, 3)]


def _t(shape, seed=0):
    torch.manual_seed(seed)
    return torch.empty(shape, dtype=torch.float64)


def _ks2(a, b) -> float:
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    return float(stats.ks_2samp(a, b).pvalue)


# --- identical values ---------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (4,), (3, 5), (2, 3, 4), (0, 3)])
def test_zeros_ones_constant(shape):
    np.testing.assert_array_equal(ini.zeros(shape), nn.init.zeros_(_t(shape)).numpy())
    np.testing.assert_array_equal(ini.ones(shape), nn.init.ones_(_t(shape)).numpy())
    for v in (0.3, -7.0, 1e-300):
        np.testing.assert_array_equal(
            ini.constant(shape, v), nn.init.constant_(_t(shape), v).numpy()
        )


def test_constant_float32_rounding_and_overflow():
    t = nn.init.constant_(torch.empty(3, dtype=torch.float32), 0.1)
    np.testing.assert_array_equal(ini.constant((3,), 0.1, dtype=np.float32), t.numpy())
    # both refuse a value float32 cannot hold
    with pytest.raises(RuntimeError, match="overflow"):
        nn.init.constant_(torch.empty(3, dtype=torch.float32), 1e300)
    with pytest.raises(ValueError, match="overflow"):
        ini.constant((3,), 1e300, dtype=np.float32)


@pytest.mark.parametrize("shape", [(3, 3), (2, 5), (5, 2), (1, 4), (0, 3), (3, 0)])
def test_eye(shape):
    np.testing.assert_array_equal(ini.eye(shape), nn.init.eye_(_t(shape)).numpy())


def test_eye_refuses_other_than_2d_like_torch():
    for shape in [(3,), (2, 2, 2)]:
        with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
            nn.init.eye_(_t(shape))
        with pytest.raises(ValueError, match="eye"):
            ini.eye(shape)


DIRAC = [
    ((4, 4, 3), 1),
    ((4, 2, 3), 1),
    ((2, 4, 5), 1),
    ((6, 2, 3), 3),
    ((8, 3, 4), 2),  # even kernel: centre k // 2
    ((4, 4, 3, 3), 1),
    ((6, 2, 3, 2), 2),
    ((8, 4, 5, 5), 4),
    ((3, 5, 2, 3), 1),
    ((4, 2, 3, 3, 3), 2),
    ((2, 2, 2, 4, 3), 1),
    ((9, 1, 1, 1, 1), 3),
]


@pytest.mark.parametrize(("shape", "groups"), DIRAC)
def test_dirac(shape, groups):
    t = nn.init.dirac_(_t(shape), groups=groups).numpy()
    np.testing.assert_array_equal(ini.dirac(shape, groups=groups), t)
    keras_shape = (*shape[2:], shape[1], shape[0])
    np.testing.assert_array_equal(
        ini.dirac(keras_shape, groups=groups, layout="keras"),
        np.transpose(t, (*range(2, len(shape)), 1, 0)),
    )


def test_dirac_checks_match_torch():
    with pytest.raises(ValueError, match="dim 0 must be divisible by groups"):
        nn.init.dirac_(_t((4, 2, 3)), groups=3)
    with pytest.raises(ValueError, match="divisible by groups"):
        ini.dirac((4, 2, 3), groups=3)
    with pytest.raises(ValueError, match="Only tensors with 3, 4, or 5 dimensions"):
        nn.init.dirac_(_t((4, 2)))
    with pytest.raises(ValueError, match="3, 4, 5"):
        ini.dirac((4, 2))
    # PyTorch: groups=0 divides by zero; initmath: a ValueError naming groups
    with pytest.raises(ZeroDivisionError):
        nn.init.dirac_(_t((4, 2, 3)), groups=0)
    with pytest.raises(ValueError, match="groups"):
        ini.dirac((4, 2, 3), groups=0)


def test_dirac_convolution_is_the_identity_in_torch():
    # the kernel (and its grouped form) really passes the input through torch's conv
    x = torch.randn(1, 6, 11, dtype=torch.float64)
    for groups in (1, 2, 3):
        w = torch.from_numpy(ini.dirac((6, 6 // groups, 5), groups=groups))
        y = torch.nn.functional.conv1d(x, w, padding=2, groups=groups)
        np.testing.assert_array_equal(y.numpy(), x.numpy())


# --- same law -----------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [(0.0, 1.0), (-2.0, 3.0), (0.5, 0.55)])
def test_uniform_law(a, b):
    shape = (200, 100)
    t = nn.init.uniform_(_t(shape, 1), a, b).numpy()
    assert _ks2(t, ini.uniform(shape, a, b, rng=1)) > ALPHA
    # defaults are the same: U(0, 1)
    t = nn.init.uniform_(_t(shape, 2)).numpy()
    assert _ks2(t, ini.uniform(shape, rng=2)) > ALPHA


@pytest.mark.parametrize(("mean", "std"), [(0.0, 1.0), (2.0, 0.3), (-1.0, 5.0)])
def test_normal_law(mean, std):
    shape = (200, 100)
    t = nn.init.normal_(_t(shape, 3), mean, std).numpy()
    assert _ks2(t, ini.normal(shape, mean, std, rng=3)) > ALPHA


TRUNC = [
    (0.0, 1.0, -2.0, 2.0),  # defaults; PyTorch's normal-rejection branch
    (0.0, 0.02, -2.0, 2.0),  # the ViT idiom
    (1.0, 2.0, -1.0, 2.5),
    (0.0, 1.0, 2.0, 4.0),  # mass 0.023 <= 0.3: PyTorch's uniform-proposal branch
    (0.0, 1.0, 0.0, 0.2),  # narrow, mass 0.079
    (0.0, 1.0, 4.0, 6.0),  # mean more than 2 std outside: PyTorch warns
]


@pytest.mark.parametrize(("mean", "std", "a", "b"), TRUNC)
def test_trunc_normal_law(mean, std, a, b):
    shape = (200, 100)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="mean is more than 2 std")
        t = nn.init.trunc_normal_(_t(shape, 4), mean, std, a, b).numpy()
    ours = ini.trunc_normal(shape, mean, std, a, b, rng=4)
    assert _ks2(t, ours) > ALPHA
    # both are the normal of (mean, std) conditioned on the absolute bounds [a, b]
    law = stats.truncnorm((a - mean) / std, (b - mean) / std, loc=mean, scale=std)
    assert stats.kstest(t.ravel(), law.cdf).pvalue > ALPHA
    assert t.min() >= a and t.max() <= b and ours.min() >= a and ours.max() <= b


def test_trunc_normal_warns_where_torch_does_and_initmath_does_not():
    with pytest.warns(UserWarning, match="mean is more than 2 std from"):
        nn.init.trunc_normal_(_t((10,)), 0.0, 1.0, 4.0, 6.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ini.trunc_normal((10,), 0.0, 1.0, 4.0, 6.0, rng=0)


def test_trunc_normal_std_is_uncorrected_in_torch_too():
    t = nn.init.trunc_normal_(_t((1000, 1000), 5)).numpy()
    ours = ini.trunc_normal((1000, 1000), rng=5)
    beta = stats.truncnorm(-2, 2).std()
    assert beta == pytest.approx(0.87962566103423978, rel=1e-14)
    for w in (t, ours):
        sq = w.ravel() ** 2
        assert abs(sq.mean() - beta**2) < 4.5 * sq.std() / math.sqrt(sq.size)


@pytest.mark.parametrize(
    ("shape", "sparsity", "std"),
    [((100, 50), 0.1, 0.01), ((25, 40), 0.28, 1.0), ((10, 30), 0.9, 2.0), ((7, 5), 0.0, 1.0)],
)
def test_sparse(shape, sparsity, std):
    t = nn.init.sparse_(_t(shape, 6), sparsity, std).numpy()
    ours = ini.sparse(shape, sparsity, std=std, rng=6)
    # exactly the same number of zeros in every column (0.28 * 25 -> ceil 8 in both)
    np.testing.assert_array_equal((ours == 0).sum(axis=0), (t == 0).sum(axis=0))
    np.testing.assert_array_equal((t == 0).sum(axis=0), math.ceil(sparsity * shape[0]))
    # the nonzero entries: the same normal
    if (t != 0).sum() >= 100:
        assert _ks2(t[t != 0], ours[ours != 0]) > ALPHA


def test_sparse_zero_rows_are_uniform_in_both():
    # the row index of each zero, pooled over columns: uniform over the rows in both
    t = nn.init.sparse_(_t((20, 2000), 7), 0.25).numpy()
    ours = ini.sparse((20, 2000), 0.25, rng=7)
    rows_t = np.nonzero(t == 0)[0]
    rows_o = np.nonzero(ours == 0)[0]
    counts = np.array([np.bincount(r, minlength=20) for r in (rows_t, rows_o)])
    assert stats.chi2_contingency(counts).pvalue > ALPHA


@pytest.mark.parametrize("shape", CONV_SHAPES)
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
def test_orthogonal_equals_torch_given_its_gaussian(shape, gain):
    torch.manual_seed(8)
    w = nn.init.orthogonal_(torch.empty(shape, dtype=torch.float64), gain=gain).numpy()
    rows, cols = matrix_shape(shape, "torch")
    torch.manual_seed(8)
    a = torch.empty((rows, cols), dtype=torch.float64).normal_(0, 1).numpy()
    np.testing.assert_allclose(orthogonalize(a, gain).reshape(shape), w, atol=1e-12)
    # and torch's output has the property initmath's has: orthonormal rows of the view
    m = w.reshape(rows, cols)
    gram = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)
    ours = ini.orthogonal(shape, gain=gain, rng=8).reshape(rows, cols)
    gram = ours @ ours.T if rows <= cols else ours.T @ ours
    np.testing.assert_allclose(gram, gain**2 * np.eye(min(rows, cols)), atol=1e-12)


@pytest.mark.parametrize("shape", CONV_SHAPES)
def test_orthogonal_law(shape):
    # one entry over independent draws (the entries of one matrix are dependent), and
    # the pooled entries of a few draws
    n = 400
    index = (0,) * len(shape)
    t = [nn.init.orthogonal_(_t(shape, s))[index].item() for s in range(n)]
    ours = [ini.orthogonal(shape, rng=s)[index] for s in range(n)]
    assert _ks2(t, ours) > ALPHA
    torch.manual_seed(9)
    t_all = np.stack(
        [nn.init.orthogonal_(torch.empty(shape, dtype=torch.float64)) for _ in range(3)]
    )
    ours_all = np.stack([ini.orthogonal(shape, rng=100 + s) for s in range(3)])
    assert _ks2(t_all, ours_all) > ALPHA


# --- zero-size and 0-d tensors ------------------------------------------------------------

ZERO_SIZE = [
    ("uniform_", lambda t: nn.init.uniform_(t), lambda s: ini.uniform(s, rng=0), (0, 3)),
    ("normal_", lambda t: nn.init.normal_(t), lambda s: ini.normal(s, rng=0), (2, 0)),
    (
        "trunc_normal_",
        lambda t: nn.init.trunc_normal_(t),
        lambda s: ini.trunc_normal(s, rng=0),
        (0, 3),
    ),
    ("sparse_", lambda t: nn.init.sparse_(t, 0.5), lambda s: ini.sparse(s, 0.5, rng=0), (0, 3)),
    (
        "sparse_ cols",
        lambda t: nn.init.sparse_(t, 0.5),
        lambda s: ini.sparse(s, 0.5, rng=0),
        (3, 0),
    ),
    ("orthogonal_", lambda t: nn.init.orthogonal_(t), lambda s: ini.orthogonal(s, rng=0), (0, 3)),
    (
        "orthogonal_ conv",
        lambda t: nn.init.orthogonal_(t),
        lambda s: ini.orthogonal(s, rng=0),
        (4, 0, 3, 3),
    ),
    ("eye_", lambda t: nn.init.eye_(t), ini.eye, (0, 3)),
    ("constant_", lambda t: nn.init.constant_(t, 2.0), lambda s: ini.constant(s, 2.0), (0,)),
    ("dirac_ out", lambda t: nn.init.dirac_(t), ini.dirac, (0, 2, 3)),
]


@pytest.mark.parametrize(
    ("name", "torch_fn", "ours_fn", "shape"), ZERO_SIZE, ids=[z[0] for z in ZERO_SIZE]
)
def test_zero_size_is_a_silent_no_op_in_torch_and_empty_here(name, torch_fn, ours_fn, shape):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # orthogonal_ returns the tensor, without a warning
        t = torch_fn(_t(shape))
    assert tuple(t.shape) == shape
    w = ours_fn(shape)
    assert w.shape == shape and w.size == 0


def test_only_kaiming_warns_on_zero_size():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        nn.init.kaiming_normal_(_t((0, 3)))


def test_dirac_zero_size_kernel_raises_in_torch_returns_empty_here():
    with pytest.raises(IndexError):
        nn.init.dirac_(_t((2, 2, 0)))
    assert ini.dirac((2, 2, 0)).shape == (2, 2, 0)


def test_0d_tensors():
    # PyTorch fills a 0-d tensor; so does initmath; orthogonal_, eye_, sparse_ refuse it
    for torch_fn, ours in [
        (lambda t: nn.init.trunc_normal_(t), ini.trunc_normal(())),
        (lambda t: nn.init.uniform_(t), ini.uniform(())),
        (lambda t: nn.init.normal_(t), ini.normal(())),
    ]:
        assert tuple(torch_fn(_t(())).shape) == ours.shape == ()
    np.testing.assert_array_equal(ini.constant((), 2.5), nn.init.constant_(_t(()), 2.5).numpy())
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        nn.init.orthogonal_(_t((3,)))
    with pytest.raises(ValueError, match="at least 2"):
        ini.orthogonal((3,))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions"):
        nn.init.sparse_(_t((3,)), 0.5)
    with pytest.raises(ValueError, match="sparse"):
        ini.sparse((3,), 0.5)
