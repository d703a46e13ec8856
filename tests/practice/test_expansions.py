"""The series expansions of initmath.practice.expansions against independent results: the
S-transforms of laws known in closed form, exact moments of products, exact finite-width
moments of linear and quadratic chains, and the package's numerical mean-shift iteration."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from initmath.engine import jacobian as jm
from initmath.practice import expansions as ex
from initmath.theory import finite_width as fw

Z = ex.Z


def test_s_transform_of_known_laws():
    # Marchenko-Pastur at ratio 1 (moments 1, 2, 5, ...): S(z) = 1/(1 + z) = 1 - z + O(z^2)
    assert sp.expand(ex.s_transform([1, 2]) - sp.series(1 / (1 + Z), Z, 0, 2).removeO()) == 0
    # a point mass at c: S(z) = 1/c exactly
    c = sp.Symbol("c", positive=True)
    assert sp.simplify(ex.s_transform([c, c**2]) - 1 / c) == 0
    # scaling: the law of c X has S_cX(z) = S_X(z) / c
    m1, m2 = sp.symbols("m1 m2", positive=True)
    scaled = ex.s_transform([c * m1, c**2 * m2])
    assert sp.simplify(scaled - ex.s_transform([m1, m2]) / c) == 0


def test_s_transform_first_order_against_the_series_inverse():
    m1, m2, m3 = sp.symbols("m1 m2 m3", positive=True)
    s = ex.s_transform([m1, m2])
    # psi(chi(z)) = z to second order, chi(z) = z S(z) / (1 + z)
    chi = sp.series(Z * s / (1 + Z), Z, 0, 3).removeO()
    psi = m1 * chi + m2 * chi**2 + m3 * chi**3
    assert sp.expand(sp.series(psi, Z, 0, 3).removeO() - Z) == 0


def test_relative_variance_of_a_product_of_free_factors_adds():
    # a product of a law with (d1, d2) and Marchenko-Pastur scaled by s2: the relative variance
    # of the product, from the product of S-transforms, is the sum; cross-checked on the
    # exact second moment of a free product,
    # phi(abab) = m2(a) m1(b)^2 + m1(a)^2 m2(b) - m1(a)^2 m1(b)^2
    d1, d2, s2 = sp.symbols("d1 d2 s2", positive=True)
    s = ex.s_transform([d1, d2]) * ex.s_transform([s2, 2 * s2**2])
    r = ex.relative_variance_from_s(sp.expand(s))
    pm1 = d1 * s2
    pm2 = d2 * s2**2 + d1**2 * 2 * s2**2 - d1**2 * s2**2
    assert sp.simplify(r - (pm2 / pm1**2 - 1)) == 0
    assert sp.simplify(r - (d2 / d1**2 - 1 + 1)) == 0


@pytest.mark.parametrize("distribution, m2", [("normal", 2), ("orthogonal", 1)])
def test_the_package_recursion_is_the_s_transform_step(distribution, m2):
    # one layer: D^2 with moments (d1, d2) times W^T W with moments (sw2, m2 sw2^2)
    d1, d2, sw2 = sp.symbols("d1 d2 sw2", positive=True)
    s = sp.expand(ex.s_transform([d1, d2]) * ex.s_transform([sw2, m2 * sw2**2]))
    step = ex.relative_variance_from_s(s)
    rec = jm.relative_variance_recursion(distribution)
    pkg = (rec.rhs - jm.R_PREV).subs({jm.MU1: sw2 * d1, jm.MU2: sw2**2 * d2})
    assert sp.simplify(step - pkg) == 0
    # and S(0) = 1 / (sw2 d1): the mean of lambda is multiplied by chi_1 per layer
    assert sp.simplify(s.subs(Z, 0) - 1 / (sw2 * d1)) == 0


@pytest.mark.parametrize("bad", ["12", 3, [1], [1, 2, 3], [True, 1], [0, 1], [1, "2"]])
def test_s_transform_rejects(bad):
    with pytest.raises((TypeError, ValueError), match="moments"):
        ex.s_transform(bad)


def test_relative_variance_from_s_rejects():
    with pytest.raises(TypeError, match="s must be"):
        ex.relative_variance_from_s("1 - z")


def test_mean_shift_is_exact_for_linear_and_quadratic_chains_at_layer_two():
    rec = ex.mean_shift_recursions()
    s = rec.symbols
    m1, sw, n = sp.symbols("m1 sigma_w n", positive=True)
    sigma_w = sp.Symbol(r"\sigma_w", positive=True)
    sigma_b = sp.Symbol(r"\sigma_b", positive=True)
    # layer 1: q_1 = m1 chi^2_n / n, so alpha_1 = 0 and beta_1 = 2 m1^2
    start = {s["m"]: m1, s["alpha"]: 0, s["beta"]: 2 * m1**2, sigma_w: sw, sigma_b: 0}
    # quadratic phi(x) = x^2: M = 3q^2, M4 = 105 q^4; E[q_2] = 3 sw^2 E[q_1^2] exactly
    quad = {s["M"]: 3 * m1**2, s["dM"]: 6 * m1, s["d2M"]: 6, s["M4"]: 105 * m1**4}
    exact_mean = 3 * sw**2 * m1**2 * (1 + 2 / n)
    approx = rec.mean.rhs.subs({**start, **quad}) + rec.shift.rhs.subs({**start, **quad}) / n
    assert sp.simplify(approx - exact_mean) == 0
    # linear phi(x) = x: q_2 = sw^2 q_1 chi^2_n / n; Var[q_2] = sw^4 m1^2 (4/n + 4/n^2)
    lin = {s["M"]: m1, s["dM"]: 1, s["d2M"]: 0, s["M4"]: 3 * m1**2}
    assert sp.simplify(rec.variance.rhs.subs({**start, **lin}) - 4 * sw**4 * m1**2) == 0
    assert rec.shift.rhs.subs({**start, **lin}) == 0


def test_mean_shift_iterated_for_tanh_matches_the_package():
    # M and its derivatives by Gauss-Hermite quadrature and the heat equation
    # d/dq E[f(sqrt(q) xi)] = E[f''(sqrt(q) xi)] / 2, independent of the package's quadrature
    x = sp.Symbol("x")
    f2, f4 = sp.tanh(x) ** 2, sp.tanh(x) ** 4
    funcs = [sp.lambdify(x, e, "numpy") for e in (f2, sp.diff(f2, x, 2), sp.diff(f2, x, 4), f4)]
    nodes, weights = np.polynomial.hermite_e.hermegauss(200)
    weights = weights / weights.sum()

    def e(f, q):
        return float(weights @ f(np.sqrt(q) * nodes))

    rec = ex.mean_shift_recursions()
    s = rec.symbols
    sw2, sb2, depth = 1.0, 0.0, 6
    step = [
        sp.lambdify(
            [
                s["m"],
                s["alpha"],
                s["beta"],
                s["M"],
                s["dM"],
                s["d2M"],
                s["M4"],
                sp.Symbol(r"\sigma_w", positive=True),
                sp.Symbol(r"\sigma_b", positive=True),
            ],
            eq.rhs,
        )
        for eq in rec[:3]
    ]
    m, alpha, beta = sw2 + sb2, 0.0, 2 * sw2**2  # unit input
    ms, alphas = [m], [alpha]
    for _ in range(depth - 1):
        vals = (e(funcs[0], m), e(funcs[1], m) / 2, e(funcs[2], m) / 4, e(funcs[3], m))
        args = (m, alpha, beta, *vals, np.sqrt(sw2), np.sqrt(sb2))
        m, alpha, beta = (g(*args) for g in step)
        ms.append(m)
        alphas.append(alpha)
    m_pkg, a_pkg = fw.mean_second_moment("tanh", depth, sigma_w2=sw2, sigma_b2=sb2)
    np.testing.assert_allclose(ms, m_pkg, rtol=1e-9)
    np.testing.assert_allclose(alphas, a_pkg, rtol=1e-5, atol=1e-9)
    assert alphas[-1] < 0  # tanh: finite networks fall short
