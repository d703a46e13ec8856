"""The numeric forms of the activations (initmath.theory.activations.numeric_forms) at the
edges (issue 11, items 8 and 11): finite and exact at extremes, the limits at +-oo, NaN in gives
NaN out, no warnings, fresh arrays.

References are independent of the generated forms: the SymPy definition evaluated at 400
digits by mpmath, and its limits at +-oo by sympy.limit.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import initmath
from tests.theory.activations.references import BUILTINS, FINITE, close, limit_value, true_value


def _forms(act):
    return [
        ("numpy phi", lambda v: float(act.numpy(np.array([v]))[0]), act.expr),
        ("numpy dphi", lambda v: float(act.numpy_derivative(np.array([v]))[0]), act.derivative),
        ("scalar phi", act.scalar, act.expr),
        ("scalar dphi", act.scalar_derivative, act.derivative),
    ]


@pytest.mark.parametrize("name", BUILTINS)
def test_forms_are_finite_and_exact_at_extremes(name):
    act = initmath.activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for label, f, expr in _forms(act):
            for v in FINITE:
                want = true_value(expr, v)
                got = f(v)
                assert math.isfinite(got) == math.isfinite(want), (label, v, got, want)
                assert close(got, want), (label, v, got, want)


@pytest.mark.parametrize("name", BUILTINS)
def test_forms_at_infinity_are_the_limits(name):
    act = initmath.activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for label, f, expr in _forms(act):
            for side in (1, -1):
                assert f(side * math.inf) == limit_value(expr, side), (label, side)


@pytest.mark.parametrize("name", BUILTINS)
def test_nan_in_nan_out(name):
    act = initmath.activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for label, f, _ in _forms(act):
            assert math.isnan(f(math.nan)), label


@pytest.mark.parametrize("name", BUILTINS)
def test_numpy_forms_vectorized_without_warnings(name):
    act = initmath.activation(name)
    x = np.array([[-1e4, -1e3, -700.0, -1.0], [0.0, 1.0, 1e3, 1e4], [np.nan, np.inf, -np.inf, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, dy = act.numpy(x), act.numpy_derivative(x)
    assert y.shape == x.shape and dy.shape == x.shape and y.dtype == np.float64
    for i, j in np.ndindex(x.shape):
        assert y[i, j] == act.numpy(np.array(x[i, j])) or (np.isnan(y[i, j]) and np.isnan(x[i, j]))


def test_the_issue_examples():
    # softplus(1e3) was inf with derivative NaN; sigmoid/silu derivatives NaN at -1e3; the
    # scalar forms raised OverflowError; elu and selu gave phi'(NaN) = 1.
    sp_ = initmath.activation("softplus")
    assert sp_.numpy(np.array([1e3]))[0] == 1e3
    assert sp_.numpy_derivative(np.array([1e3]))[0] == 1.0
    assert sp_.scalar(1e3) == 1e3
    for name in ("sigmoid", "silu"):
        act = initmath.activation(name)
        assert act.numpy_derivative(np.array([-1e3]))[0] == 0.0
        assert act.scalar_derivative(-1e3) == 0.0
        assert act.scalar(-1e3) in (0.0, -0.0)
    for name in ("elu", "selu"):
        act = initmath.activation(name)
        assert math.isnan(act.numpy_derivative(np.array([math.nan]))[0])
        assert math.isnan(act.scalar_derivative(math.nan))


def test_branch_not_evaluated_elu_large_x():
    act = initmath.activation("elu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert act.numpy(np.array([800.0, -800.0])).tolist() == [800.0, -1.0]
        assert act.numpy_derivative(np.array([800.0, -800.0])).tolist() == [1.0, 0.0]


def test_length_map_softplus_at_large_q():
    # V(q) = E[softplus(sqrt(q) z)^2] ~ q/2 for large q: 5000 at q = 1e4 (was inf)
    from initmath.theory import meanfield

    v = meanfield.length_map("softplus", 1e4, 1.0, 0.0)
    assert math.isfinite(float(np.asarray(v)))
    ref = float(initmath.moment("softplus", q=1e4).value)  # mpmath quadrature of the definition
    assert float(np.asarray(v)) == pytest.approx(ref, rel=1e-6)
    assert ref == pytest.approx(5000, rel=1e-3)


def test_silu_net_does_not_diverge_at_tiny_learning_rate():
    # std 1.0 (not scaled by fan-in) makes pre-activations of order -1e3; silu' was NaN
    # there, so training "diverged" at the first step even at learning rate 1e-12.
    from initmath.practice.training import network, train

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    x = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])[y] + 0.5 * rng.standard_normal((200, 2))
    net = network([2, 256, 256, 256, 3], "silu", scheme="fixed", std=1.0, seed=0)
    h = train(net, x, y, epochs=2, learning_rate=1e-12)
    assert h.diverged_at is None
    assert all(math.isfinite(v) for v in h.train_loss)
    assert h.train_loss[-1] == pytest.approx(h.train_loss[0], rel=1e-6)


@pytest.mark.parametrize("name", ["linear", "relu", "tanh"])
def test_numpy_form_returns_a_fresh_array(name):
    # the fast path hands back the ufunc's own result; it must never be the caller's input
    x = np.array([-1.0, 0.5, 2.0])
    y = initmath.activation(name).numpy(x)
    assert not np.shares_memory(x, y)
    y[:] = 7.0
    assert x.tolist() == [-1.0, 0.5, 2.0]


def test_tanh_derivative_exact_in_both_tails():
    # tanh' has halves 4e^{-2x}/(1+e^{-2x})^2 (x >= 0) and its mirror: merged into |x|,
    # still correct to 1e-15 relative far in both tails (where 1 - tanh^2 would give 0)
    d = initmath.activation("tanh").numpy_derivative
    x = np.array([-30.0, -5.0, 0.0, 5.0, 30.0])
    want = np.array(
        [
            4 * math.exp(-60) / (1 + math.exp(-60)) ** 2,
            1 / math.cosh(5) ** 2,
            1.0,
            1 / math.cosh(5) ** 2,
            4 * math.exp(-60) / (1 + math.exp(-60)) ** 2,
        ]
    )
    np.testing.assert_allclose(d(x), want, rtol=1e-14)
