"""Mean-field maps (initmath.meanfield) against independent computations.

The references here use scipy.integrate.quad / dblquad on the activations written directly in
NumPy (not the package's generated forms), plain fixed-point iteration and brentq.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import dblquad, quad
from scipy.optimize import brentq

from initmath import meanfield as mf

GAUSS = 1 / math.sqrt(2 * math.pi)


def _e(f, q):
    """E[f(sqrt(q) z)] by quad on the Gaussian density (finite range: the tails are < 1e-30)."""
    s = math.sqrt(q)
    val, _ = quad(lambda z: f(s * z) * GAUSS * math.exp(-z * z / 2), -12, 12,
                  points=[0.0], epsabs=1e-14, epsrel=1e-13, limit=400)
    return val


def tanh2(x):
    return math.tanh(x) ** 2


def dtanh2(x):
    return (1 - math.tanh(x) ** 2) ** 2


def relu(x):
    return max(x, 0.0)


def ref_fixed_point(f2, sw2, sb2, q=1.0, steps=5000):
    """Plain fixed-point iteration of q -> sw2 E[phi^2] + sb2 (quad), until it stops moving."""
    for _ in range(steps):
        new = sw2 * _e(f2, q) + sb2
        if abs(new - q) < 1e-13 * max(q, 1e-300):
            return new
        q = new
    return q


def ref_chi1_tanh(sw2, sb2):
    return sw2 * _e(dtanh2, ref_fixed_point(tanh2, sw2, sb2))


# -- length map, fixed point, chi1 ---------------------------------------------------------
@pytest.mark.parametrize("q", [0.01, 0.7, 3.0, 20.0])
def test_length_map_tanh_against_quad(q):
    assert mf.length_map("tanh", q, 1.7, 0.2) == pytest.approx(1.7 * _e(tanh2, q) + 0.2,
                                                                rel=1e-12)


def test_length_map_is_vectorized():
    qs = np.array([[0.5, 1.0], [2.0, 4.0]])
    out = mf.length_map("relu", qs, 2.0, 0.1)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, qs + 0.1, rtol=1e-13)


@pytest.mark.parametrize(("sw2", "sb2"), [(1.69, 0.09), (6.25, 0.09), (16.0, 0.09),
                                          (1.5, 0.05), (0.8, 0.3)])
def test_fixed_point_and_chi1_tanh_against_iteration(sw2, sb2):
    q_ref = ref_fixed_point(tanh2, sw2, sb2)
    assert mf.fixed_point("tanh", sw2, sb2) == pytest.approx(q_ref, rel=1e-10)
    assert mf.chi1("tanh", sw2, sb2) == pytest.approx(sw2 * _e(dtanh2, q_ref), rel=1e-10)


@pytest.mark.parametrize(("sw2", "sb2"), [(1.0, 0.5), (1.5, 0.2), (1.9, 0.01)])
def test_relu_fixed_point_closed_form(sw2, sb2):
    # q = sw2 q / 2 + sb2  =>  q* = sb2 / (1 - sw2/2); chi1 = sw2 / 2
    assert mf.fixed_point("relu", sw2, sb2) == pytest.approx(sb2 / (1 - sw2 / 2), rel=1e-12)
    assert mf.chi1("relu", sw2, sb2) == pytest.approx(sw2 / 2, rel=1e-13)


def test_relu_special_cases():
    assert mf.fixed_point("relu", 2.0, 0.0, q0=3.7) == 3.7      # every q is a fixed point
    assert mf.fixed_point("relu", 2.5, 0.0) == math.inf
    assert mf.fixed_point("relu", 2.0, 0.1) == math.inf          # q grows by sb2 per layer
    assert mf.fixed_point("relu", 1.5, 0.0) == 0.0
    assert mf.chi1("relu", 1.5, 0.0) == pytest.approx(0.75, rel=1e-13)  # limit q -> 0+
    with pytest.raises(ValueError, match="no finite fixed point"):
        mf.chi1("relu", 2.5, 0.0)


def test_tanh_without_bias_decays_below_criticality():
    assert mf.fixed_point("tanh", 0.9, 0.0) == 0.0
    assert mf.chi1("tanh", 0.9, 0.0) == pytest.approx(0.9, rel=1e-13)


# -- correlation map -----------------------------------------------------------------------
def _arccos_kernel(c):
    """ReLU: E[relu(u1) relu(u2)] / q = (sin t + (pi - t) cos t) / (2 pi), t = arccos c."""
    t = math.acos(c)
    return (math.sin(t) + (math.pi - t) * c) / (2 * math.pi)


@pytest.mark.parametrize("c", [-1.0, -0.7, 0.0, 0.3, 0.9, 0.999, 1.0])
@pytest.mark.parametrize(("sw2", "sb2", "q"), [(2.0, 0.0, 1.0), (1.5, 0.2, 2.5)])
def test_relu_correlation_map_is_the_arccos_kernel(c, sw2, sb2, q):
    expected = (sw2 * q * _arccos_kernel(c) + sb2) / (sw2 * q / 2 + sb2)
    assert mf.correlation_map("relu", c, sw2, sb2, q=q) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("c", [-0.5, 0.2, 0.8])
def test_tanh_correlation_map_against_dblquad(c):
    sw2, sb2 = 2.5, 0.1
    q = mf.fixed_point("tanh", sw2, sb2)
    s, r = math.sqrt(q), math.sqrt(1 - c * c)

    def integrand(z2, z1):
        return (math.tanh(s * z1) * math.tanh(s * (c * z1 + r * z2))
                * math.exp(-(z1 * z1 + z2 * z2) / 2) / (2 * math.pi))

    e12, _ = dblquad(integrand, -10, 10, -10, 10, epsabs=1e-12, epsrel=1e-12)
    assert mf.correlation_map("tanh", c, sw2, sb2) == pytest.approx((sw2 * e12 + sb2) / q,
                                                                     abs=1e-9)


@pytest.mark.parametrize(("act", "sw2", "sb2"), [("tanh", 1.5, 0.05), ("tanh", 3.0, 0.1),
                                                 ("relu", 1.5, 0.3), ("elu", 1.2, 0.1)])
def test_c_equals_one_is_fixed_with_slope_chi1(act, sw2, sb2):
    assert mf.correlation_map(act, 1.0, sw2, sb2) == pytest.approx(1.0, abs=1e-12)
    h = 1e-4 if act != "relu" else 1e-8
    # one-sided second-order difference (c cannot exceed 1)
    c0, c1, c2 = (mf.correlation_map(act, 1 - k * h, sw2, sb2) for k in range(3))
    slope = (3 * c0 - 4 * c1 + c2) / (2 * h)
    chi = mf.chi1(act, sw2, sb2)
    # the ReLU c-map has a sqrt(1 - c)^(3/2) term: its one-sided difference converges like sqrt(h)
    assert slope == pytest.approx(chi, rel=1e-6 if act != "relu" else 1e-3)
    assert mf.correlation_slope(act, 1.0, sw2, sb2) == pytest.approx(chi, rel=1e-10)


def test_chaotic_correlation_fixed_point():
    sw2, sb2 = 4.0, 0.1
    cs = mf.correlation_fixed_point("tanh", sw2, sb2)
    assert 0 < cs < 1
    assert mf.correlation_map("tanh", cs, sw2, sb2) == pytest.approx(cs, abs=1e-11)
    # stable: iterating the map from c = 0.99 goes there
    c = 0.99
    for _ in range(200):
        c = mf.correlation_map("tanh", c, sw2, sb2)
    assert c == pytest.approx(cs, abs=1e-9)
    assert mf.correlation_fixed_point("tanh", 1.5, 0.05) == 1.0   # ordered


def test_correlation_map_vectorized_and_default_q():
    cs = np.array([0.1, 0.5, 0.9])
    out = mf.correlation_map("tanh", cs, 2.0, 0.1)
    q = mf.fixed_point("tanh", 2.0, 0.1)
    np.testing.assert_allclose(out, [mf.correlation_map("tanh", c, 2.0, 0.1, q=q) for c in cs],
                               rtol=1e-14)


# -- critical line ---------------------------------------------------------------------------
def test_tanh_critical_point_without_bias_is_exactly_one():
    assert mf.critical_line("tanh", 0.0) == 1.0
    assert mf.chi1("tanh", 1.0, 0.0) == pytest.approx(1.0, abs=1e-14)


@pytest.mark.parametrize("sb2", [0.05, 0.2])
def test_tanh_critical_line_against_brentq_with_quad(sb2):
    expected = brentq(lambda sw2: ref_chi1_tanh(sw2, sb2) - 1, 1.0, 5.0, xtol=1e-11)
    got = mf.critical_line("tanh", sb2)
    assert got == pytest.approx(expected, rel=1e-8)
    assert mf.chi1("tanh", got, sb2) == pytest.approx(1.0, abs=1e-10)


def test_relu_critical_point_is_he():
    assert mf.critical_line("relu", 0.0) == 2.0
    # independent: chi1 = sw2 E[relu'(z)^2], the expectation by quad
    d2 = _e(lambda x: 1.0 if x > 0 else 0.0, 1.0)
    assert brentq(lambda sw2: sw2 * d2 - 1, 0.5, 5.0, xtol=1e-14) == pytest.approx(2.0,
                                                                                   rel=1e-10)
    assert mf.critical_line(("leaky_relu", 0.5), 0.0) == pytest.approx(2 / 1.25)
    with pytest.raises(ValueError, match="no critical line"):
        mf.critical_line("relu", 0.1)


def test_critical_line_separates_the_phases():
    sb2 = 0.1
    crit = mf.critical_line("tanh", sb2)
    assert mf.chi1("tanh", 0.99 * crit, sb2) < 1 < mf.chi1("tanh", 1.01 * crit, sb2)
    assert mf.correlation_fixed_point("tanh", 0.99 * crit, sb2) == 1.0
    assert mf.correlation_fixed_point("tanh", 1.01 * crit, sb2) < 1.0


# -- depth scales ------------------------------------------------------------------------------
def test_depth_scales_match_the_convergence_of_the_iterates():
    sw2, sb2 = 1.5, 0.05
    xi_q, xi_c = mf.depth_scales("tanh", sw2, sb2)
    qs = ref_fixed_point(tanh2, sw2, sb2)
    # xi_q = -1/log V'(q*): the slope of the quad-based map by a central difference
    h = 1e-4 * qs
    slope = sw2 * (_e(tanh2, qs + h) - _e(tanh2, qs - h)) / (2 * h)
    assert xi_q == pytest.approx(-1 / math.log(slope), rel=1e-7)
    # and the distances to q* of the iterates shrink by that factor per layer
    q, dists = 1.01 * qs, []
    for _ in range(6):
        q = sw2 * _e(tanh2, q) + sb2
        dists.append(q - qs)
    assert dists[-1] / dists[-2] == pytest.approx(slope, rel=1e-3)
    # xi_c: ordered phase, c* = 1, chi_c = chi1
    assert xi_c == pytest.approx(-1 / math.log(ref_chi1_tanh(sw2, sb2)), rel=1e-9)


def test_depth_scales_chaotic_side_and_divergence():
    sw2, sb2 = 3.0, 0.05
    _, xi_c = mf.depth_scales("tanh", sw2, sb2)
    cs = mf.correlation_fixed_point("tanh", sw2, sb2)
    h = 1e-5
    slope = (mf.correlation_map("tanh", cs + h, sw2, sb2)
             - mf.correlation_map("tanh", cs - h, sw2, sb2)) / (2 * h)
    assert xi_c == pytest.approx(-1 / math.log(slope), rel=1e-6)
    crit = mf.critical_line("tanh", sb2)
    assert mf.depth_scales("tanh", crit * 1.001, sb2)[1] > 100
    assert mf.depth_scales("tanh", 1.0, 0.0) == (math.inf, math.inf)
    xi_q, xi_c = mf.depth_scales("relu", 1.0, 0.0)
    assert xi_q == pytest.approx(1 / math.log(2)) and xi_c == pytest.approx(1 / math.log(2))


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("call", "match"), [
    (lambda: mf.length_map("tanh", 1.0, 0.0, 0.0), "sigma_w2 must be > 0"),
    (lambda: mf.length_map("tanh", 1.0, -1.0, 0.0), "sigma_w2 must be > 0"),
    (lambda: mf.length_map("tanh", 1.0, 1.0, -0.1), "sigma_b2 must be >= 0"),
    (lambda: mf.length_map("tanh", -1.0, 1.0, 0.0), "q must be >= 0"),
    (lambda: mf.length_map("tanh", float("nan"), 1.0, 0.0), "q must be finite"),
    (lambda: mf.length_map("tanh", 1.0, float("nan"), 0.0), "sigma_w2 must be finite"),
    (lambda: mf.length_map("nope", 1.0, 1.0, 0.0), "unknown activation"),
    (lambda: mf.fixed_point("tanh", 1.0, 0.0, q0=0.0), "q0 must be > 0"),
    (lambda: mf.correlation_map("tanh", 1.5, 1.0, 0.1), r"c must lie in \[-1, 1\]"),
    (lambda: mf.correlation_map("tanh", 0.5, 0.5, 0.0), "q > 0"),
    (lambda: mf.correlation_map("tanh", 0.5, 1.0, 0.0, q=0.0), "q > 0"),
    (lambda: mf.critical_line("tanh", 0.1, bracket=(3.0, 5.0)), "does not change sign"),
    (lambda: mf.depth_scales("relu", 3.0, 0.0), "no finite fixed point"),
    (lambda: mf.critical_line("tanh", 0.1, bracket=(5.0, 3.0)), "lo < hi"),
    (lambda: mf.correlation_map("tanh", float("nan"), 1.5, 0.1), "c must be finite"),
])
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match="sigma_w2"):
        mf.chi1("tanh", "1.0", 0.0)
    with pytest.raises(TypeError, match="q must be a real number"):
        mf.length_map("tanh", "abc", 1.0, 0.0)
    with pytest.raises(TypeError, match="activation"):
        mf.chi1(3, 1.0, 0.0)
