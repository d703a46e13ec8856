"""Finite-width moments against independent computations: SciPy sums, chi-square-mixture
samples and plain NumPy simulations of real networks (tolerances from standard errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import special, stats

import initmath
from initmath.theory import finite_width as fw

Z_MAX = 4.0  # deterministic seeds; a correct prediction stays well inside 4 standard errors


# ----------------------------------------------------------------------------------------------
# Independent references
# ----------------------------------------------------------------------------------------------


def _ratio_samples(act: str, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """R = ||h'||^2/||h||^2 sampled from its law: (2/n) chi2_K, K ~ Bin(n, 1/2), or chi2_n/n."""
    if act == "linear":
        return rng.chisquare(n, size) / n
    k = rng.binomial(n, 0.5, size)
    r = np.zeros(size)
    pos = k > 0
    r[pos] = rng.chisquare(k[pos]) * 2.0 / n
    return r


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


# ----------------------------------------------------------------------------------------------
# The per-layer ratio
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 7, 16, 64])
def test_ratio_second_moment_against_binomial_sum(n):
    k = np.arange(n + 1)
    pmf = stats.binom.pmf(k, n, 0.5)
    exact_relu = float(pmf @ ((2 / n) ** 2 * k * (k + 2)))  # E[chi2_k^2] = k(k+2)
    assert float(fw.ratio_second_moment("relu").subs(fw.N, n)) == pytest.approx(exact_relu)
    assert float(pmf @ (2 / n * k)) == pytest.approx(1.0)
    linear = stats.chi2(n).moment(2) / n**2
    assert float(fw.ratio_second_moment("linear").subs(fw.N, n)) == pytest.approx(linear)


def test_ratio_second_moment_symbolic():
    assert sp.simplify(fw.ratio_second_moment("relu") - (1 + 5 / fw.N)) == 0
    assert sp.simplify(fw.ratio_second_moment("linear") - (1 + 2 / fw.N)) == 0


@pytest.mark.parametrize("act", ["relu", "linear"])
@pytest.mark.parametrize("n", [4, 16])
def test_ratio_moments_against_chi_square_mixture(act, n):
    rng = np.random.default_rng(11)
    r = _ratio_samples(act, n, 200_000, rng)
    for power, exact in ((1, 1.0), (2, float(fw.ratio_second_moment(act).subs(fw.N, n)))):
        x = r**power
        assert abs(x.mean() - exact) < Z_MAX * x.std() / math.sqrt(x.size)
    # log R, conditional on a live layer, against the exact per-layer mean and variance
    lg = np.log(r[r > 0])
    m = fw.log_norm_moments(act, 1, n)
    assert abs(lg.mean() - m.per_layer_mean) < Z_MAX * lg.std() / math.sqrt(lg.size)
    se_var = math.sqrt((np.mean((lg - lg.mean()) ** 4) - lg.var() ** 2) / lg.size)
    assert abs(lg.var() - m.per_layer_variance) < Z_MAX * se_var
    if act == "relu":
        dead = np.mean(r == 0)
        assert abs(dead - m.death_probability[0]) < Z_MAX * math.sqrt(2.0**-n / r.size) + 1e-6


@pytest.mark.parametrize("n", [1, 2, 5, 12])
def test_log_ratio_against_direct_sum(n):
    """The mixture moments, recomputed term by term with scipy.stats and scipy.special."""
    k = np.arange(1, n + 1)
    w = stats.binom.pmf(k, n, 0.5)
    w = w / w.sum()
    elog = special.digamma(k / 2) + math.log(2) + math.log(2 / n)
    mean = w @ elog
    var = w @ special.polygamma(1, k / 2) + w @ (elog - mean) ** 2
    m = fw.log_norm_moments("relu", 3, n)
    np.testing.assert_allclose(m.mean, mean * np.arange(1, 4), rtol=1e-12)
    np.testing.assert_allclose(m.variance, var * np.arange(1, 4), rtol=1e-12)
    np.testing.assert_allclose(m.death_probability, 1 - (1 - 2.0**-n) ** np.arange(1, 4))
    mu_e, v_e = fw.log_ratio_exprs("relu")
    assert float(mu_e.subs(fw.N, n).doit()) == pytest.approx(mean, rel=1e-10, abs=1e-12)
    assert float(v_e.subs(fw.N, n).doit()) == pytest.approx(var, rel=1e-10)


def test_log_ratio_linear_and_scheme():
    n = 10
    m = fw.log_norm_moments("linear", 2, n, scheme="he")
    # chi2_n/n times 2: E log chi2_n = digamma(n/2) + log 2
    assert m.per_layer_mean == pytest.approx(math.log(2 / n) + special.digamma(n / 2) + math.log(2))
    assert m.per_layer_variance == pytest.approx(special.polygamma(1, n / 2))
    mu_e, v_e = fw.log_ratio_exprs("linear", "he")
    assert float(mu_e.subs(fw.N, n)) == pytest.approx(m.per_layer_mean)
    lecun = fw.log_norm_moments("relu", 1, n, scheme="lecun")
    he = fw.log_norm_moments("relu", 1, n)
    assert he.per_layer_mean - lecun.per_layer_mean == pytest.approx(math.log(2))


def test_large_width_limits():
    # Var log R ~ Var R = E[R^2] - 1 for large n: 5/n (ReLU), 2/n (linear)
    for act, c in (("relu", 5), ("linear", 2)):
        m = fw.log_norm_moments(act, 1, 20_000)
        assert m.per_layer_variance * 20_000 == pytest.approx(c, rel=1e-3)
        assert m.per_layer_mean * 20_000 == pytest.approx(-c / 2, rel=1e-3)


# ----------------------------------------------------------------------------------------------
# Kurtosis: exact recursion, closed form, first order
# ----------------------------------------------------------------------------------------------


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


# ----------------------------------------------------------------------------------------------
# Real networks
# ----------------------------------------------------------------------------------------------

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


# ----------------------------------------------------------------------------------------------
# Bad arguments
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("func", [fw.kurtosis, fw.log_norm_moments])
def test_bad_arguments(func):
    with pytest.raises(ValueError, match="width"):
        func("relu", 3, 0)
    with pytest.raises(ValueError, match="depth"):
        func("relu", 0, 8)
    with pytest.raises(TypeError, match="depth"):
        func("relu", 2.5, 8)
    with pytest.raises(TypeError, match="width"):
        func("relu", 3, True)
    with pytest.raises(NotImplementedError, match="tanh"):
        func("tanh", 3, 8)
    with pytest.raises(TypeError, match="activation"):
        func(3, 3, 8)
    with pytest.raises(ValueError, match="distribution.*'cauchy'"):
        func("relu", 3, 8, distribution="cauchy")
    with pytest.raises(NotImplementedError, match="orthogonal"):
        func("relu", 3, 8, distribution="orthogonal")


def test_bad_arguments_specific():
    with pytest.raises(ValueError, match="scheme.*'xavier'"):
        fw.log_norm_moments("relu", 3, 8, scheme="xavier")
    with pytest.raises(NotImplementedError, match="relu"):
        fw.log_norm_moments(("leaky_relu", 0.1), 3, 8)
    with pytest.raises(NotImplementedError, match="normal weights"):
        fw.log_norm_moments("relu", 3, 8, distribution="uniform")
    with pytest.raises(TypeError, match="slope"):
        fw.kurtosis(("leaky_relu", "x"), 3, 8)
    with pytest.raises(ValueError, match="slope"):
        fw.kurtosis(("leaky_relu", float("nan")), 3, 8)
    with pytest.raises(TypeError, match="no parameter"):
        fw.kurtosis(("relu", 0.1), 3, 8)
    with pytest.raises(TypeError, match="activation"):
        fw.kurtosis(("leaky_relu", 0.1, 2), 3, 8)


def test_chapter_helpers():
    from chapter_finite_width import fit_inverse_width, simulate_networks

    n = np.array([8.0, 16, 32, 64])
    fit = fit_inverse_width(n, -2 / n + 3 / n**2, np.full(4, 1e-3), order=2)
    np.testing.assert_allclose(fit.coef, [-2, 3], rtol=1e-9)
    assert fit.dof == 2 and fit.chi2 < 1e-12
    with pytest.raises(ValueError, match="se"):
        fit_inverse_width(n, n, np.zeros(4))
    with pytest.raises(ValueError, match="activation"):
        simulate_networks("tanh", 2, 4, 10)
    sim = simulate_networks("linear", 3, 8, 50, distribution="uniform", seed=1)
    assert sim.log_norm.shape == sim.m2.shape == sim.m4.shape == (50, 3)


# --- the 1/n correction of the average second moment (any activation) ----------------------
def _chain_by_quad(depth, sw2=1.0, sb2=0.0, s0=1.0):
    """The same expansion, written independently with scipy.integrate.quad."""
    from scipy.integrate import quad

    def e(f, q):
        return quad(
            lambda z: f(np.sqrt(q) * z) * np.exp(-z * z / 2) / np.sqrt(2 * np.pi),
            -12,
            12,
            epsabs=1e-14,
            epsrel=1e-13,
            limit=200,
        )[0]

    def big_m(q):
        return e(lambda x: np.tanh(x) ** 2, q)

    m, a, b = sw2 * s0**2 + sb2, 0.0, 2 * sw2**2 * s0**4
    out = [(m, a)]
    for _ in range(depth - 1):
        h = 1e-4 * m
        d1 = (big_m(m + h) - big_m(m - h)) / (2 * h)
        d2 = (big_m(m + 10 * h) - 2 * big_m(m) + big_m(m - 10 * h)) / (10 * h) ** 2
        m0, m4 = big_m(m), e(lambda x: np.tanh(x) ** 4, m)
        m, a, b = sw2 * m0 + sb2, sw2 * (d1 * a + 0.5 * d2 * b), sw2**2 * (d1**2 * b + m4 - m0**2)
        out.append((m, a))
    return np.array(out)


def test_mean_second_moment_matches_an_independent_quadrature():
    m, a = fw.mean_second_moment("tanh", 6, sigma_w2=1.5, sigma_b2=0.1, input_std=0.8)
    ref = _chain_by_quad(6, 1.5, 0.1, 0.8)
    np.testing.assert_allclose(m, ref[:, 0], rtol=1e-10)
    np.testing.assert_allclose(a, ref[:, 1], rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("width", [32, 64])
def test_mean_second_moment_predicts_the_finite_width_average(width):
    """tanh, LeCun, 3 layers: the simulated average agrees with m + a/n within standard errors
    and the correction is needed (the infinite-width value alone is rejected)."""
    depth, nets = 3, 20_000
    sim = initmath.simulate(
        [width] * (depth + 1), "tanh", scheme="lecun", n_networks=nets, seed=width
    )
    m, a = fw.mean_second_moment("tanh", depth)
    z_corrected = (sim.q - (m + a / width)) / sim.q_se
    z_plain = (sim.q - m) / sim.q_se
    assert np.max(np.abs(z_corrected)) < 4, z_corrected
    assert np.min(z_plain) < -4, z_plain  # rejected at the level the corrected one passes


def test_mean_second_moment_validation():
    with pytest.raises(ValueError, match="depth"):
        fw.mean_second_moment("tanh", 0)
    with pytest.raises(ValueError, match="sigma_w2"):
        fw.mean_second_moment("tanh", 2, sigma_w2=float("nan"))
