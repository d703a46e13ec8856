"""The kurtosis (initmath.theory.finite_width.fourth_moments) against its symbolic forms, by hand,
and plain NumPy simulations of real networks (tolerances from standard errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import stats

from initmath.theory import finite_width as fw

Z_MAX = 4.0  # deterministic seeds; a correct prediction stays well inside 4 standard errors


def _networks(act, depth, n, n_net, rng, dist="normal", slope=0.0, chunk=1000):
    """Plain NumPy networks: per-network log-norm ratio and unit averages of z^2 and z^4."""
    var = {"relu": 2.0, "linear": 1.0}.get(act, 2.0 / (1 + slope**2)) / n
    log_norm, m2, m4 = (np.empty((n_net, depth)) for _ in range(3))
    for s in range(0, n_net, chunk):
        b = min(chunk, n_net - s)
        h = rng.standard_normal((b, n))
        n0 = (h * h).sum(axis=1)
        for ell in range(depth):
            if dist == "normal":
                w = rng.normal(0.0, math.sqrt(var), (b, n, n))
            else:
                a = math.sqrt(3 * var)
                w = rng.uniform(-a, a, (b, n, n))
            z = np.matmul(w, h[:, :, None])[:, :, 0]
            m2[s : s + b, ell] = (z**2).mean(axis=1)
            m4[s : s + b, ell] = (z**4).mean(axis=1)
            h = z if act == "linear" else np.where(z > 0, z, slope * z)
            with np.errstate(divide="ignore"):
                log_norm[s : s + b, ell] = np.log((h * h).sum(axis=1) / n0)
    return log_norm, m2, m4


def _kurt_z(m2, m4, predicted):
    """z-scores of the kurtosis ratio mean(m4)/mean(m2)^2 (delta method over networks)."""
    n = m2.shape[0]
    a, b = m4.mean(0), m2.mean(0)
    g = np.stack([1 / b**2, -2 * a / b**3])
    cov = np.array([[np.cov(m4[:, j], m2[:, j]) for j in range(m2.shape[1])]])[0]
    se = np.sqrt(np.einsum("il,lij,jl->l", g, cov, g) / n)
    return (a / b**2 - predicted) / se


def test_weight_excess_kurtosis():
    assert fw.weight_excess_kurtosis("normal") == 0
    assert fw.weight_excess_kurtosis("uniform") == sp.Rational(-6, 5)
    assert float(stats.uniform(-1, 2).stats(moments="k")) == pytest.approx(-1.2)
    tn = float(stats.truncnorm(-2, 2).stats(moments="k"))
    assert float(fw.weight_excess_kurtosis("truncated_normal")) == pytest.approx(tn, rel=1e-12)


@pytest.mark.parametrize("act", ["relu", "linear", ("leaky_relu", 0.3)])
@pytest.mark.parametrize("dist", ["normal", "uniform", "truncated_normal"])
def test_kurtosis_numeric_matches_symbolic(act, dist):
    num = fw.kurtosis(act, 6, 12, distribution=dist)
    sym = [float(fw.kurtosis_expr(act, d, dist).subs(fw.N, 12)) for d in range(1, 7)]
    np.testing.assert_allclose(num, sym, rtol=1e-12)


@pytest.mark.parametrize("act", ["relu", "linear"])
def test_closed_form_and_first_order(act):
    closed = fw.kurtosis_closed_form(act)
    for depth in range(1, 7):
        exact = fw.kurtosis_expr(act, depth)
        assert sp.simplify(closed.subs(fw.L, depth) - exact) == 0
        # geometric growth: the ratio of consecutive layers is E[R^2]
        if depth > 1:
            ratio = sp.simplify(exact / fw.kurtosis_expr(act, depth - 1))
            assert sp.simplify(ratio - fw.ratio_second_moment(act)) == 0
    eps = sp.Symbol("e", positive=True)
    for dist in ("normal", "uniform"):
        first = fw.kurtosis_first_order(act, dist)
        for depth in range(2, 8):
            exact = fw.kurtosis_expr(act, depth, dist).subs(fw.N, 1 / eps)
            series = sp.series(exact, eps, 0, 2).removeO()
            assert sp.simplify(series - first.subs({fw.L: depth, fw.N: 1 / eps})) == 0


def test_uniform_shift_is_depth_independent():
    r = {"linear": 1, "relu": 2}
    for act in r:
        diff = sp.simplify(
            fw.kurtosis_first_order(act, "uniform") - fw.kurtosis_first_order(act, "normal")
        )
        assert sp.simplify(diff - 3 * r[act] * sp.Rational(-6, 5) / fw.N) == 0


def test_first_layer_kurtosis_by_hand():
    # z = w.x with x ~ N(0, I_n): E z^4 = s^4 (3 E||x||^4 + kappa E sum x^4), E z^2 = s^2 n
    for dist, kappa in (("normal", 0.0), ("uniform", -1.2)):
        for n in (1, 5, 30):
            by_hand = (3 * (n * n + 2 * n) + kappa * 3 * n) / n**2
            assert fw.kurtosis("relu", 1, n, distribution=dist)[0] == pytest.approx(by_hand)


DEPTHS = [2, 5, 10]


@pytest.mark.parametrize("act", ["relu", "linear"])
@pytest.mark.parametrize(("n", "n_net"), [(16, 4000), (64, 2500)])
def test_real_networks_gaussian(act, n, n_net):
    rng = np.random.default_rng(2024 + n)
    log_norm, m2, m4 = _networks(act, max(DEPTHS), n, n_net, rng)
    idx = np.array(DEPTHS) - 1
    kurt = fw.kurtosis(act, max(DEPTHS), n)[idx]
    z = _kurt_z(m2[:, idx], m4[:, idx], kurt)
    assert np.all(np.abs(z) < Z_MAX), z
    # the infinite-width value 3 is rejected at depths 2 and 5: the test can fail
    assert np.all(np.abs(_kurt_z(m2[:, idx], m4[:, idx], np.full(3, 3.0))[:2]) > Z_MAX)
    pred = fw.log_norm_moments(act, max(DEPTHS), n)
    for d in DEPTHS:
        x = log_norm[:, d - 1]
        x = x[np.isfinite(x)]
        se_m = x.std() / math.sqrt(x.size)
        se_v = math.sqrt((np.mean((x - x.mean()) ** 4) - x.var() ** 2) / x.size)
        assert abs(x.mean() - pred.mean[d - 1]) < Z_MAX * se_m, (d, x.mean(), pred.mean[d - 1])
        assert abs(x.var() - pred.variance[d - 1]) < Z_MAX * se_v, (d, x.var())
    last = log_norm[:, -1]
    assert last[np.isfinite(last)].var() > pred.variance[-1] / 2 > 0  # infinite width: 0


@pytest.mark.parametrize("act", ["relu", "linear", "leaky"])
def test_real_networks_uniform_and_leaky(act):
    rng = np.random.default_rng(99)
    n, n_net = 16, 6000
    name = ("leaky_relu", 0.2) if act == "leaky" else act
    kind = "relu" if act == "leaky" else act
    dist = "normal" if act == "leaky" else "uniform"
    _, m2, m4 = _networks(
        kind if act != "leaky" else "leaky",
        5,
        n,
        n_net,
        rng,
        dist,
        slope=0.2 if act == "leaky" else 0.0,
    )
    pred = fw.kurtosis(name, 5, n, distribution=dist)
    z = _kurt_z(m2, m4, pred)
    assert np.all(np.abs(z) < Z_MAX), z
    if dist == "uniform":  # the order-1/n shift is visible at layer 1
        gauss = fw.kurtosis(name, 5, n)
        assert abs(_kurt_z(m2[:, :1], m4[:, :1], gauss[:1])[0]) > Z_MAX
