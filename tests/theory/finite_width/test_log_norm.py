"""The per-layer ratio and the log-norm (initmath.theory.finite_width.log_norm) against SciPy
sums and chi-square-mixture samples (tolerances from standard errors)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import special, stats

from initmath.theory import finite_width as fw

Z_MAX = 4.0  # deterministic seeds; a correct prediction stays well inside 4 standard errors


def _ratio_samples(act: str, n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """R = ||h'||^2/||h||^2 sampled from its law: (2/n) chi2_K, K ~ Bin(n, 1/2), or chi2_n/n."""
    if act == "linear":
        return rng.chisquare(n, size) / n
    k = rng.binomial(n, 0.5, size)
    r = np.zeros(size)
    pos = k > 0
    r[pos] = rng.chisquare(k[pos]) * 2.0 / n
    return r


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


def test_bad_arguments_specific_to_the_log_norm():
    with pytest.raises(ValueError, match="scheme.*'xavier'"):
        fw.log_norm_moments("relu", 3, 8, scheme="xavier")
    with pytest.raises(NotImplementedError, match="relu"):
        fw.log_norm_moments(("leaky_relu", 0.1), 3, 8)
    with pytest.raises(NotImplementedError, match="normal weights"):
        fw.log_norm_moments("relu", 3, 8, distribution="uniform")
