"""Tests of initmath.engine.jacobian: Jacobians of random deep networks and their spectra."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import initmath
from initmath.engine import jacobian as jm


def test_orthogonal_linear_singular_values_are_gain_to_the_depth():
    depth, gain2 = 12, 1.3
    s = jm.jacobian_spectrum(
        "linear",
        depth,
        16,
        distribution="orthogonal",
        sigma_w2=gain2,
        n_networks=3,
        seed=4,
        depths=[1, 6, 12],
        spectrum_depths=[6, 12],
    )
    for d in (6, 12):
        np.testing.assert_allclose(s.spectra[d], gain2**d, rtol=1e-10)
    np.testing.assert_allclose(s.m1, np.tile(gain2 ** np.array([1, 6, 12.0]), (3, 1)), rtol=1e-10)
    r, se = s.relative_variance()
    assert np.all(np.abs(r) < 1e-10)


def _tanh_net(x, weights, biases):
    h = x
    for w, b in zip(weights, biases, strict=True):
        h = np.tanh(w @ h + b)
    return h


@pytest.mark.parametrize("distribution", ["normal", "orthogonal"])
def test_jacobian_matches_finite_differences(distribution):
    rng = np.random.default_rng(7)
    x, ws, bs = jm.sample_network(
        4, 6, distribution=distribution, sigma_w2=1.5, sigma_b2=0.1, rng=rng
    )
    jac = jm.input_output_jacobian("tanh", x, ws, bs)
    h = 1e-6
    fd = np.empty((6, 6))
    for j in range(6):
        e = np.zeros(6)
        e[j] = h
        fd[:, j] = (_tanh_net(x + e, ws, bs) - _tanh_net(x - e, ws, bs)) / (2 * h)
    np.testing.assert_allclose(jac, fd, atol=1e-8)
    np.testing.assert_allclose(jm.forward("tanh", x, ws, bs), _tanh_net(x, ws, bs), rtol=1e-14)


def test_simulation_jacobian_is_the_product():
    # The moments recorded by jacobian_spectrum are those of input_output_jacobian of the
    # network sample_network draws from default_rng([seed, i]).
    s = jm.jacobian_spectrum("relu", 3, 8, sigma_w2=2.0, n_networks=2, seed=5, spectrum_depths=[3])
    x, ws, bs = jm.sample_network(3, 8, sigma_w2=2.0, rng=np.random.default_rng([5, 1]))
    jac = jm.input_output_jacobian("relu", x, ws, bs)
    lam = np.linalg.eigvalsh(jac.T @ jac)
    assert s.m1[1, 2] == pytest.approx(lam.mean(), rel=1e-10)
    assert s.m2[1, 2] == pytest.approx((lam**2).mean(), rel=1e-10)
    np.testing.assert_allclose(np.sort(s.spectra[3][1]), np.sort(lam), atol=1e-10)


def test_linear_gaussian_mean_one_and_relative_variance_depth():
    depths, width = [1, 2, 3], 200
    s = jm.jacobian_spectrum("linear", 3, width, n_networks=60, seed=11, spectrum_depths=())
    mean, mean_se = s.mean_lambda()
    assert np.all(np.abs(mean - 1.0) < 4 * mean_se)
    r, se = s.relative_variance()
    exact = jm.linear_gaussian_relative_variance(depths, width)
    assert np.all(np.abs(r - exact) < 4 * se)
    # Close to the large-width value L: the finite-width correction (resolved by the
    # simulation, a few standard errors at L = 3) is about 1% here.
    assert np.all(np.abs(exact / np.array(depths) - 1) < 0.011)
    assert np.all(np.abs(r / np.array(depths) - 1) < 0.011 + 4 * se / np.array(depths))


def test_linear_gaussian_exact_one_layer_is_wishart():
    # E[tr((W W^T)^2)]/n = 2 + 1/n for an n x n matrix of N(0, 1/n) entries.
    for n in (1, 3, 50):
        assert jm.linear_gaussian_relative_variance([1], n)[0] == pytest.approx(1 + 1 / n)
    big = jm.linear_gaussian_relative_variance([10, 40], 10**7)
    np.testing.assert_allclose(big, [10, 40], rtol=1e-4)


def test_relu_slopes_gaussian_and_orthogonal():
    for dist, slope in (("normal", 2.0), ("orthogonal", 1.0)):
        s = jm.jacobian_spectrum(
            "relu",
            4,
            160,
            distribution=dist,
            sigma_w2=2.0,
            n_networks=30,
            seed=3,
            spectrum_depths=(),
        )
        est = s.slope()
        assert abs(est.mean - slope) < 4 * est.se + 0.05 * slope, (dist, est)


def test_predictions_against_independent_moments():
    # First-layer increment of tanh from the package's mpmath quadrature.
    sw2, sb2 = 1.2, 0.05
    q1 = sw2 + sb2
    d2 = initmath.derivative_moment("tanh", q1, 2).value
    d4 = initmath.derivative_moment("tanh", q1, 4).value
    # Second layer: q2 from the package's forward prediction machinery (moment of tanh).
    q2 = sw2 * initmath.moment("tanh", q1, 2).value + sb2
    e2 = initmath.derivative_moment("tanh", q2, 2).value
    e4 = initmath.derivative_moment("tanh", q2, 4).value
    for dist, s1 in (("normal", -1), ("orthogonal", 0)):
        pred = jm.predicted_relative_variance(
            "tanh", [1, 2], distribution=dist, sigma_w2=sw2, sigma_b2=sb2
        )
        first = d4 / d2**2 - 1 - s1
        assert pred[0] == pytest.approx(first, rel=1e-7)
        assert pred[1] == pytest.approx(first + e4 / e2**2 - 1 - s1, rel=1e-7)
    np.testing.assert_allclose(
        jm.predicted_relative_variance("relu", [1, 5], sigma_w2=2.0), [2.0, 10.0]
    )


def test_closed_forms():
    L = jm.L_SYM
    assert jm.relative_variance_closed_form("linear", "normal").rhs == L
    assert jm.relative_variance_closed_form("linear", "orthogonal").rhs == 0
    assert jm.relative_variance_closed_form("relu", "normal").rhs == 2 * L
    assert jm.relative_variance_closed_form("relu", "orthogonal").rhs == L
    assert jm.relative_variance_closed_form("tanh") is None
    step = jm.relative_variance_recursion("normal").rhs - jm.R_PREV
    assert sp.simplify(step - jm.MU2 / jm.MU1**2) == 0
    assert isinstance(jm.linear_gaussian_recursion(), sp.Eq)


def test_same_seed_same_result_and_batching():
    kw = dict(distribution="orthogonal", sigma_w2=1.0, seed=9, spectrum_depths=[2])
    a = jm.jacobian_spectrum("tanh", 3, 10, n_networks=3, **kw)
    b = jm.jacobian_spectrum("tanh", 3, 10, n_networks=3, **kw)
    c = jm.jacobian_spectrum("tanh", 3, 10, n_networks=5, **kw)
    np.testing.assert_array_equal(a.m2, b.m2)
    np.testing.assert_array_equal(a.spectra[2], b.spectra[2])
    np.testing.assert_array_equal(a.m1, c.m1[:3])
    d = jm.jacobian_spectrum("tanh", 3, 10, n_networks=3, **{**kw, "seed": 10})
    assert not np.array_equal(a.m1, d.m1)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(depth=0), ValueError, "depth"),
        (dict(width=-2), ValueError, "width"),
        (dict(width=2.5), TypeError, "width"),
        (dict(distribution="uniform"), ValueError, "distribution"),
        (dict(distribution=3), TypeError, "distribution"),
        (dict(sigma_w2=math.nan), ValueError, "sigma_w2"),
        (dict(sigma_w2=0.0), ValueError, "sigma_w2"),
        (dict(sigma_b2=-1.0), ValueError, "sigma_b2"),
        (dict(n_networks=1), ValueError, "n_networks"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed=1.5), TypeError, "seed"),
        (dict(depths=[0, 1]), ValueError, "depths"),
        (dict(depths=[5]), ValueError, "depths"),
        (dict(depths="12"), TypeError, "depths"),
        (dict(spectrum_depths=[4]), ValueError, "spectrum_depths"),
        (dict(activation="nope"), ValueError, "activation"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    args = dict(activation="tanh", depth=3, width=4, n_networks=2)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        jm.jacobian_spectrum(**args)


def test_bad_arguments_predictions():
    with pytest.raises(ValueError, match="width"):
        jm.linear_gaussian_relative_variance([1], 0)
    with pytest.raises(ValueError, match="depths"):
        jm.predicted_relative_variance("relu", [])
    with pytest.raises(TypeError, match="rng"):
        jm.sample_network(2, 3, rng=3)
    s = jm.jacobian_spectrum("linear", 2, 3, n_networks=3, spectrum_depths=())
    with pytest.raises(ValueError, match="max_depth"):
        s.slope(max_depth=1)
