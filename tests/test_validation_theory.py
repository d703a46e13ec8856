"""Regression tests for the validation of jacobian, finite_width and gains (issue #11).

Each test failed before the fix (wrong exception, a message that names nothing, a hang, a
silent wrong result) and passes after it; the bad-input battery (``test_bad_inputs.py``)
covers the breadth, these pin the behaviour behind it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import initmath
from initmath.core import checks as _checks
from initmath.engine import jacobian as jm
from initmath.theory import finite_width as fw


# -- gains -------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", [3, None, object()])
def test_torch_gain_of_a_non_name_names_the_activation(bad):
    with pytest.raises(TypeError, match="activation") as info:
        initmath.gain(bad)
    assert repr(bad) in str(info.value)


def test_torch_gain_of_an_activation_object_points_to_exact():
    act = initmath.activation("relu")
    with pytest.raises(ValueError, match="activation.*convention='exact'"):
        initmath.gain(act)
    assert initmath.gain(act, convention="exact") == math.sqrt(2.0)


# -- finite_width ------------------------------------------------------------------------------
_FW_ACT = [
    lambda a: fw.kurtosis(a, 2, 4),
    lambda a: fw.log_norm_moments(a, 2, 4),
    fw.kurtosis_closed_form,
    fw.kurtosis_first_order,
    fw.moment_recursion,
    fw.ratio_second_moment,
    fw.log_ratio_exprs,
]


@pytest.mark.parametrize("func", _FW_ACT)
def test_unknown_activation_is_a_value_error_known_smooth_one_is_not_covered(func):
    with pytest.raises(ValueError, match="unknown activation 'no_such_activation'"):
        func("no_such_activation")
    with pytest.raises(NotImplementedError, match="tanh"):  # registered, documented
        func("tanh")
    with pytest.raises(NotImplementedError, match="swish"):  # an alias of silu
        func("swish")


@pytest.mark.parametrize("func", [fw.kurtosis, fw.log_norm_moments])
def test_negative_leaky_slope_is_refused(func):
    with pytest.raises(ValueError, match=r"slope must be >= 0, got -1\.0"):
        func(("leaky_relu", -1.0), 2, 4)


def test_zero_and_positive_slopes_still_work():
    # slope 0 is the ReLU, slope 1 the identity: exactly the same kurtosis
    np.testing.assert_array_equal(fw.kurtosis(("leaky_relu", 0.0), 4, 8), fw.kurtosis("relu", 4, 8))
    np.testing.assert_array_equal(fw.kurtosis(("leaky_relu", 1), 4, 8), fw.kurtosis("linear", 4, 8))


@pytest.mark.parametrize(
    "call",
    [
        lambda d: fw.kurtosis("relu", d, 4),
        lambda d: fw.log_norm_moments("relu", d, 4),
        lambda d: fw.mean_second_moment("relu", d),
    ],
)
def test_depth_above_the_cap_is_refused(call):
    with pytest.raises(ValueError, match=rf"depth must be <= MAX_DEPTH=100000, got {10**30}"):
        call(10**30)
    with pytest.raises(ValueError, match="MAX_DEPTH"):
        call(fw.MAX_DEPTH + 1)


def test_symbolic_caps():
    with pytest.raises(ValueError, match="depth must be <= MAX_SYMBOLIC_DEPTH=100"):
        fw.kurtosis_expr("relu", fw.MAX_SYMBOLIC_DEPTH + 1)
    with pytest.raises(ValueError, match="n_check must be <= MAX_N_CHECK=16"):
        fw.conditional_fourth_moment(10**30)
    assert isinstance(fw.conditional_fourth_moment(fw.MAX_N_CHECK), sp.Eq)


def test_kurtosis_expr_truncated_normal_deep_is_exact():
    # The truncated-normal path keeps kappa unexpanded; at n = 12 it must agree with the
    # float recursion (an independent evaluation of the same moment map) at depth 20.
    expr = fw.kurtosis_expr("relu", 20, "truncated_normal")
    num = fw.kurtosis("relu", 20, 12, distribution="truncated_normal")[-1]
    assert float(expr.subs(fw.N, 12)) == pytest.approx(num, rel=1e-12)


def test_kurtosis_overflow_is_inf_not_a_warning():
    # He-ReLU at width 1: E[R^2] = 1 + 5/1 = 6, so the kurtosis 3 * 3 * 6**(L-1) passes the
    # largest double near L = 396; from there it is reported as inf, never as a number.
    k = fw.kurtosis("relu", 500, 1)
    first_inf = int(np.argmax(np.isinf(k)))
    assert np.all(np.isfinite(k[:first_inf])) and np.all(np.isinf(k[first_inf:]))
    ell = first_inf + 1  # layers are 1-based
    # 9 * 6**(ell - 1) reaches the largest double within a layer of ell
    overflow_layer = 1 + (math.log(np.finfo(float).max) - math.log(9)) / math.log(6)
    assert abs(ell - overflow_layer) <= 1, (ell, overflow_layer)
    assert k[first_inf - 1] == pytest.approx(9 * 6.0 ** (first_inf - 1), rel=1e-12)
    assert k[0] == pytest.approx(9.0)  # 3 (1 + 2/n) at n = 1


@pytest.mark.parametrize("bad", ["x", None, 3])
def test_to_latex_refuses_non_sympy(bad):
    with pytest.raises(TypeError, match="expr must be a SymPy expression") as info:
        fw.to_latex(bad)
    assert repr(bad) in str(info.value)


# -- jacobian: forward and input_output_jacobian -------------------------------------------------
_W = [np.array([[1.0, 2.0], [0.5, -1.0]]), np.array([[0.3, -0.7], [1.1, 0.2]])]
_B = [np.array([0.1, -0.2]), np.array([0.0, 0.4])]


def _by_hand(x):
    h = np.asarray(x, dtype=float)
    for w, b in zip(_W, _B, strict=True):
        h = np.tanh(w @ h + b)
    return h


def test_forward_batch_of_columns():
    # Before, an (n, k) input broadcast the biases along the wrong axis.
    x = np.array([[1.0, -2.0, 0.5], [0.3, 0.0, -1.0]])
    out = jm.forward("tanh", x, _W, _B)
    assert out.shape == (2, 3)
    for j in range(3):
        np.testing.assert_allclose(out[:, j], _by_hand(x[:, j]), rtol=1e-15)


def test_jacobian_accepts_a_column_and_refuses_a_batch():
    x = np.array([0.4, -0.3])
    np.testing.assert_array_equal(
        jm.input_output_jacobian("tanh", x[:, None], _W, _B),
        jm.input_output_jacobian("tanh", x, _W, _B),
    )
    with pytest.raises(ValueError, match=r"x must be one input.*\(2, 2\)"):
        jm.input_output_jacobian("tanh", np.ones((2, 2)), _W, _B)


@pytest.mark.parametrize("func", [jm.forward, jm.input_output_jacobian])
def test_short_biases_are_refused_not_truncated(func):
    # Before, zip() silently dropped the last layer.
    with pytest.raises(ValueError, match="biases must have one vector per layer: got 1 for 2"):
        func("tanh", np.ones(2), _W, _B[:1])


@pytest.mark.parametrize("func", [jm.forward, jm.input_output_jacobian])
@pytest.mark.parametrize(
    ("args", "exc", "match"),
    [
        ((np.array([np.nan, 1.0]), _W, _B), ValueError, "x must be finite, got 1 NaN"),
        (("ab", _W, _B), TypeError, "x must be an array of real numbers, got 'ab'"),
        ((np.ones(2) * 1j, _W, _B), TypeError, "x must be an array of real numbers"),
        ((np.ones(3), _W, _B), ValueError, r"x has 3 entries"),
        ((np.ones(2), [], []), ValueError, "weights must hold at least one"),
        ((np.ones(2), [_W[0], np.eye(3)], _B), ValueError, r"weights\[1\] has shape \(3, 3\)"),
        (
            (np.ones(2), [_W[0], np.full((2, 2), np.inf)], _B),
            ValueError,
            r"weights\[1\] must be finite",
        ),
        ((np.ones(2), [np.ones(2)], _B[:1]), ValueError, r"weights\[0\] must be 2-D"),
        ((np.ones(2), _W, [np.zeros(3), _B[1]]), ValueError, r"biases\[0\] has shape \(3,\)"),
        ((np.ones(2), _W, None), TypeError, "biases must be a sequence"),
    ],
)
def test_network_arguments_are_validated(func, args, exc, match):
    with pytest.raises(exc, match=match):
        func("tanh", *args)


# -- jacobian: sizes -----------------------------------------------------------------------------
def test_huge_depths_are_refused_up_front():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=rf"depth must be <= MAX_DEPTH=100000, got {10**30}"):
        jm.sample_network(10**30, 2, rng=rng)
    with pytest.raises(ValueError, match="depth must be <= MAX_DEPTH"):
        jm.jacobian_spectrum("tanh", 10**30, 2, n_networks=2)
    with pytest.raises(ValueError, match=r"depths must be <= MAX_DEPTH=100000"):
        jm.predicted_relative_variance("relu", [10**30])
    with pytest.raises(ValueError, match=r"depths must be <= MAX_DEPTH"):
        jm.predicted_mean_lambda("relu", [jm.MAX_DEPTH + 1])


def test_huge_width_is_refused_naming_width():
    with pytest.raises(ValueError, match=rf"width={10**30} and n_networks=2 need"):
        jm.jacobian_spectrum("tanh", 2, 10**30, n_networks=2)
    with pytest.raises(ValueError, match=rf"depth=2 and width={10**30} need"):
        jm.sample_network(2, 10**30, rng=np.random.default_rng(0))


def test_memory_check_uses_the_available_memory(monkeypatch):
    # 3 layers of 100 x 100 doubles are 240 kB: refused with 100 kB, run with the default.
    monkeypatch.setattr(_checks, "available_memory", lambda: 100_000)
    with pytest.raises(ValueError, match="depth=3, width=100 and n_networks=2 need"):
        jm.jacobian_spectrum("linear", 3, 100, n_networks=2)
    monkeypatch.undo()
    s = jm.jacobian_spectrum("linear", 3, 100, n_networks=2, distribution="orthogonal")
    np.testing.assert_allclose(s.m1, 1.0, rtol=1e-12)


def test_prediction_at_the_last_representable_layer():
    # Bias-free ReLU at sigma_w2 = 1: q halves per layer and underflows to 0 after layer
    # 1075. Before, the prediction at depth 1075 failed although it needs only q_1..q_1075;
    # r_L = 2 L exactly for Gaussian weights (mu2/mu1^2 = 2, s_1 = -1).
    np.testing.assert_array_equal(jm.predicted_relative_variance("relu", [1075]), [2150.0])
    with pytest.raises(ValueError, match=r"underflowed to 0\.0 after layer 1075"):
        jm.predicted_relative_variance("relu", [1076])
