"""Finite-width measurements on real networks (initmath.practice.width_studies) against
exact identities, the exact finite-width theory and independent computations."""

from __future__ import annotations

import numpy as np
import pytest

from initmath.practice import width_studies as ws
from initmath.theory import finite_width as fw


def test_simulate_networks_is_deterministic_for_a_seed():
    a = ws.simulate_networks("relu", 4, 8, 30, seed=5)
    b = ws.simulate_networks("relu", 4, 8, 30, seed=5)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    c = ws.simulate_networks("relu", 4, 8, 30, seed=6)
    assert not np.array_equal(a.m2, c.m2)
    assert a.log_norm.shape == a.m2.shape == a.m4.shape == (30, 4)


def test_linear_networks_log_norm_and_second_moment_agree():
    """For a linear network h = z, so mean(z_l^2) / mean(z_(l-1)^2) = N_l / N_(l-1)."""
    s = ws.simulate_networks("linear", 5, 8, 40, distribution="uniform", seed=1)
    ratio = s.m2[:, 1:] / s.m2[:, :-1]
    np.testing.assert_allclose(ratio, np.exp(np.diff(s.log_norm, axis=1)), rtol=1e-10)
    assert np.all(s.m4 >= s.m2**2 * (1 - 1e-12))  # Jensen, per network


def test_dead_relu_networks_stay_dead_and_are_counted():
    s = ws.simulate_networks("relu", 6, 1, 400, seed=2)  # one unit: off with probability 1/2
    dead = np.isneginf(s.log_norm)
    assert np.all(dead[:, 1:] >= dead[:, :-1])
    est = ws.log_norm_estimate(s)
    np.testing.assert_array_equal(est["dead"], dead.sum(axis=0))
    alive = s.log_norm[:, 0][~dead[:, 0]]
    assert est["mean"][0] == pytest.approx(alive.mean()) and est["var"][0] == pytest.approx(
        alive.var(ddof=1)
    )
    # probability of dying by layer l: 1 - 2^-l
    expected = 400 * (1 - 0.5 ** np.arange(1, 7))
    assert np.all(np.abs(est["dead"] - expected) < 5 * np.sqrt(400 * 0.25))


@pytest.mark.parametrize(("act", "width"), [("linear", 8), ("relu", 16)])
def test_kurtosis_estimate_agrees_with_the_exact_theory(act, width):
    s = ws.simulate_networks(act, 3, width, 6000, seed=width)
    k, se = ws.kurtosis_estimate(s)
    np.testing.assert_array_equal(k, s.m4.mean(axis=0) / s.m2.mean(axis=0) ** 2)
    z = (k - fw.kurtosis(act, 3, width)) / se
    assert np.max(np.abs(z)) < 4.5, z


def test_kurtosis_standard_error_is_the_spread_of_the_estimate():
    """The delta-method error against the spread of the estimate over independent samples."""
    rng = np.random.default_rng(0)
    z = rng.standard_normal((300, 400, 4))  # replicates, networks, units
    ks, ses = [], []
    for rep in z:
        sample = ws.NetworkSample(
            np.zeros((400, 1)), (rep**2).mean(axis=1)[:, None], (rep**4).mean(axis=1)[:, None]
        )
        k, se = ws.kurtosis_estimate(sample)
        ks.append(k[0])
        ses.append(se[0])
    assert abs(np.mean(ks) - 3.0) < 4 * np.std(ks) / np.sqrt(300)
    assert np.mean(ses) == pytest.approx(np.std(ks, ddof=1), rel=0.12)


def test_log_norm_estimate_agrees_with_the_exact_theory():
    s = ws.simulate_networks("relu", 5, 8, 4000, seed=9)
    est = ws.log_norm_estimate(s)
    pred = fw.log_norm_moments("relu", 5, 8)
    assert np.max(np.abs((est["mean"] - pred.mean) / est["se_mean"])) < 4.5
    assert np.max(np.abs((est["var"] - pred.variance) / est["se_var"])) < 4.5


def test_fit_inverse_width_recovers_an_exact_law():
    n = np.array([8.0, 16, 32, 64])
    fit = ws.fit_inverse_width(n, -2 / n + 3 / n**2, np.full(4, 1e-3), order=2)
    np.testing.assert_allclose(fit.coef, [-2, 3], rtol=1e-9)
    assert fit.dof == 2 and fit.chi2 < 1e-12


def test_fit_inverse_width_is_weighted_least_squares():
    """Against the normal equations, written independently."""
    rng = np.random.default_rng(4)
    n = np.array([8.0, 16, 32, 64, 128])
    se = rng.uniform(0.01, 0.05, 5)
    y = -1.5 / n + rng.normal(0, se)
    fit = ws.fit_inverse_width(n, y, se, order=1)
    w = 1 / se**2
    c = np.sum(w * y / n) / np.sum(w / n**2)
    assert fit.coef[0] == pytest.approx(c, rel=1e-12)
    assert fit.se[0] == pytest.approx(1 / np.sqrt(np.sum(w / n**2)), rel=1e-12)
    assert fit.chi2 == pytest.approx(np.sum(w * (y - c / n) ** 2), rel=1e-10)
    assert fit.dof == 4


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: ws.fit_inverse_width(np.arange(1.0, 5), np.ones(4), np.zeros(4)), "se"),
        (lambda: ws.fit_inverse_width(np.arange(1.0, 3), np.ones(2), np.ones(2)), "order"),
        (lambda: ws.simulate_networks("tanh", 2, 4, 10), "activation"),
        (lambda: ws.simulate_networks("relu", 2, 4, 10, distribution="orthogonal"), "distri"),
        (lambda: ws.simulate_networks("relu", 0, 4, 10), "depth"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()
