"""Mean-field maps (initmath.theory.meanfield) against independent computations.

The references here use scipy.integrate.quad / dblquad on the activations written directly in
NumPy (not the package's generated forms), plain fixed-point iteration and brentq.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import dblquad, quad
from scipy.optimize import brentq

from initmath.theory import meanfield as mf

GAUSS = 1 / math.sqrt(2 * math.pi)


def _e(f, q):
    """E[f(sqrt(q) z)] by quad on the Gaussian density (finite range: the tails are < 1e-30)."""
    s = math.sqrt(q)
    val, _ = quad(
        lambda z: f(s * z) * GAUSS * math.exp(-z * z / 2),
        -12,
        12,
        points=[0.0],
        epsabs=1e-14,
        epsrel=1e-13,
        limit=400,
    )
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
    assert mf.length_map("tanh", q, 1.7, 0.2) == pytest.approx(1.7 * _e(tanh2, q) + 0.2, rel=1e-12)


def test_length_map_is_vectorized():
    qs = np.array([[0.5, 1.0], [2.0, 4.0]])
    out = mf.length_map("relu", qs, 2.0, 0.1)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, qs + 0.1, rtol=1e-13)


@pytest.mark.parametrize(
    ("sw2", "sb2"), [(1.69, 0.09), (6.25, 0.09), (16.0, 0.09), (1.5, 0.05), (0.8, 0.3)]
)
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
    assert mf.fixed_point("relu", 2.0, 0.0, q0=3.7) == 3.7  # every q is a fixed point
    assert mf.fixed_point("relu", 2.5, 0.0) == math.inf
    assert mf.fixed_point("relu", 2.0, 0.1) == math.inf  # q grows by sb2 per layer
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
        return (
            math.tanh(s * z1)
            * math.tanh(s * (c * z1 + r * z2))
            * math.exp(-(z1 * z1 + z2 * z2) / 2)
            / (2 * math.pi)
        )

    e12, _ = dblquad(integrand, -10, 10, -10, 10, epsabs=1e-12, epsrel=1e-12)
    assert mf.correlation_map("tanh", c, sw2, sb2) == pytest.approx((sw2 * e12 + sb2) / q, abs=1e-9)


@pytest.mark.parametrize(
    ("act", "sw2", "sb2"),
    [("tanh", 1.5, 0.05), ("tanh", 3.0, 0.1), ("relu", 1.5, 0.3), ("elu", 1.2, 0.1)],
)
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
    assert mf.correlation_fixed_point("tanh", 1.5, 0.05) == 1.0  # ordered


def test_correlation_map_vectorized_and_default_q():
    cs = np.array([0.1, 0.5, 0.9])
    out = mf.correlation_map("tanh", cs, 2.0, 0.1)
    q = mf.fixed_point("tanh", 2.0, 0.1)
    np.testing.assert_allclose(
        out, [mf.correlation_map("tanh", c, 2.0, 0.1, q=q) for c in cs], rtol=1e-14
    )


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
    assert brentq(lambda sw2: sw2 * d2 - 1, 0.5, 5.0, xtol=1e-14) == pytest.approx(2.0, rel=1e-10)
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
    slope = (
        mf.correlation_map("tanh", cs + h, sw2, sb2) - mf.correlation_map("tanh", cs - h, sw2, sb2)
    ) / (2 * h)
    assert xi_c == pytest.approx(-1 / math.log(slope), rel=1e-6)
    crit = mf.critical_line("tanh", sb2)
    assert mf.depth_scales("tanh", crit * 1.001, sb2)[1] > 100
    assert mf.depth_scales("tanh", 1.0, 0.0) == (math.inf, math.inf)
    xi_q, xi_c = mf.depth_scales("relu", 1.0, 0.5)  # q* = 1: both slopes 1/2
    assert xi_q == pytest.approx(1 / math.log(2)) and xi_c == pytest.approx(1 / math.log(2))


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("call", "match"),
    [
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
        (lambda: mf.chi1("relu", 3.0, 0.0), "no finite fixed point"),
        (lambda: mf.critical_line("tanh", 0.1, bracket=(5.0, 3.0)), "lo < hi"),
        (lambda: mf.correlation_map("tanh", float("nan"), 1.5, 0.1), "c must be finite"),
    ],
)
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


# -- issue 11, item 13: where the length map's fixed point is q* = 0 (or infinite) -------------
def _relu_cmap_quad(c):
    """C(c) of bias-free ReLU (independent of q and sigma_w2): 2 E[relu(z1) relu(c z1 + s z2)],
    the inner expectation in closed form (E[relu(m + s Z)] = m Phi(m/s) + s phi(m/s)), the outer
    one by quad."""
    from scipy.special import ndtr

    s = math.sqrt(max(1 - c * c, 0.0))

    def inner(z1):
        m = c * z1
        return m * ndtr(m / s) + s * GAUSS * math.exp(-((m / s) ** 2) / 2) if s > 0 else max(m, 0.0)

    num, _ = quad(
        lambda z: z * inner(z) * GAUSS * math.exp(-z * z / 2),
        0,
        14,
        epsabs=1e-16,
        epsrel=1e-14,
        limit=200,
    )
    return 2 * num


@pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")
def test_relu_correlations_approach_one_as_a_power_law():
    # iterate the exact map; u = (1 - c)^(-1/2) grows by kappa/2 per layer, A = 4/kappa^2
    c, u = 0.0, []
    for _ in range(400):
        c = _relu_cmap_quad(c)
        u.append((1 - c) ** -0.5)
    a_100 = 4 / (2 * (u[199] - u[99]) / 100) ** 2
    a_200 = 4 / (2 * (u[399] - u[199]) / 200) ** 2
    exact = 9 * math.pi**2 / 2
    assert a_100 < a_200 < exact * 1.001  # converging from below, O(1/l) corrections
    assert a_200 == pytest.approx(exact, rel=0.02)
    assert (1 - c) * 400**2 == pytest.approx(exact, rel=0.1)
    lim = mf.correlation_limit("relu", 1.0, 0.0)
    assert lim.kind == "power_law" and lim.c_star == 1.0 and lim.exponent == 2.0
    assert lim.power_law == pytest.approx(exact, rel=1e-12)
    # the old code: xi_c = -1/log(sigma_w2 / 2) = 1.44
    xi_q, xi_c = mf.depth_scales("relu", 1.0, 0.0)
    assert xi_q == pytest.approx(1 / math.log(2), rel=1e-12) and xi_c == math.inf
    assert mf.correlation_slope("relu", 1.0, 1.0, 0.0, q=1.0) == pytest.approx(1.0, rel=1e-12)
    # q* infinite (sigma_w2 > 2): the same map, the same power law
    assert mf.depth_scales("relu", 3.0, 0.0)[1] == math.inf
    assert math.isnan(mf.depth_scales("relu", 3.0, 0.0)[0])
    assert mf.correlation_limit("gelu", 3.0, 0.0).power_law == pytest.approx(exact, rel=1e-9)


def _tanh_step(q, c, sw2):
    s, r = math.sqrt(q), math.sqrt(1 - c * c)
    e12, _ = dblquad(
        lambda z2, z1: (
            math.tanh(s * z1)
            * math.tanh(s * (c * z1 + r * z2))
            * math.exp(-(z1 * z1 + z2 * z2) / 2)
            / (2 * math.pi)
        ),
        -9,
        9,
        -9,
        9,
        epsabs=1e-15,
        epsrel=1e-12,
    )
    e2 = _e(tanh2, q)
    return sw2 * e2, e12 / e2


def test_tanh_without_bias_below_criticality_preserves_correlations():
    sw2, q, c0 = 0.8, 0.5, 0.3
    c, steps = c0, []
    for _ in range(20):
        q_next, c_next = _tanh_step(q, c, sw2)
        steps.append((c_next - c) / q**2)
        q, c = q_next, c_next
    # the increments are O(q^2) (odd phi: C(c; q) = c + O(q^2)), q decays as 0.8^l: c freezes
    assert max(abs(x) for x in steps) < 0.5
    assert abs(steps[-1] - steps[-2]) < 3e-3 * abs(steps[-1])  # a constant: O(q^2)
    assert abs(c - c0) < 0.02 and abs(c - c0) > 1e-3
    remaining = abs(steps[-1]) * q**2 / (1 - 0.8**2)  # what the rest of the layers can add
    assert remaining < 1e-6  # so c stays far from 1
    lim = mf.correlation_limit("tanh", sw2, 0.0)
    assert lim.kind == "preserved" and math.isnan(lim.c_star) and lim.xi_c == math.inf
    with pytest.raises(ValueError, match="no correlation attracts"):
        mf.correlation_fixed_point("tanh", sw2, 0.0)  # the old code returned 1.0
    xi_q, xi_c = mf.depth_scales("tanh", sw2, 0.0)
    assert xi_c == math.inf and xi_q == pytest.approx(-1 / math.log(sw2), rel=1e-12)
    # at the critical point too (q ~ 1/l, sum q^2 finite), and for linear nets exactly
    assert mf.correlation_limit("tanh", 1.0, 0.0).kind == "preserved"
    assert mf.correlation_limit("linear", 1.7, 0.0).kind == "preserved"
    # a tiny bias restores the ordered phase (c* = 1, geometric): sigma_b2 = 0 is singular
    lim_b = mf.correlation_limit("tanh", sw2, 1e-8)
    assert lim_b.kind == "geometric" and lim_b.c_star == 1.0
    assert lim_b.xi_c == pytest.approx(-1 / math.log(sw2), rel=1e-3)


def test_correlation_limit_refuses_outside_its_domain():
    from initmath.theory.activations import Activation, X

    cube = Activation("cube_mf_test", X**3 + X)  # q* infinite, phi not asymptotically linear
    with pytest.raises(ValueError, match="not asymptotically linear"):
        mf.correlation_limit(cube, 3.0, 0.0)
    with pytest.raises(ValueError, match="not asymptotically linear"):
        mf.depth_scales(cube, 3.0, 0.0)


# -- issue 11, item 14: half-stable fixed points, and the critical line for every activation --
def _gelu(x):
    return x * (1 + math.erf(x / math.sqrt(2))) / 2


def _dgelu(x):
    return (1 + math.erf(x / math.sqrt(2))) / 2 + x * GAUSS * math.exp(-x * x / 2)


def _silu(x):
    return x / (1 + math.exp(-x)) if x > -700 else 0.0


def _dsilu(x):
    if x < -700:
        return 0.0
    s = 1 / (1 + math.exp(-x))
    return s * (1 + x * (1 - s))


def _tangency(phi, dphi, lo, hi):
    """(q_t, sigma_w2, sigma_b2) with V(q_t) = q_t, V'(q_t) = chi1(q_t) = 1, by quad: V' = chi1
    where E[phi phi''] = 0, i.e. M'(q) = E[phi'^2] with M'(q) = E[phi phi' z] / sqrt(q)."""

    def m_prime(q):
        return _e(lambda x: phi(x) * dphi(x) * x, q) / q  # E[phi(sz) phi'(sz) sz] / q

    q_t = brentq(lambda q: m_prime(q) - _e(lambda x: dphi(x) ** 2, q), lo, hi, xtol=1e-13)
    sw2 = 1 / _e(lambda x: dphi(x) ** 2, q_t)
    return q_t, sw2, q_t - sw2 * _e(lambda x: phi(x) ** 2, q_t)


def test_gelu_half_stable_fixed_point_is_reached_from_above():
    q_t, sw2, sb2 = _tangency(_gelu, _dgelu, 2.0, 6.0)
    assert sb2 == pytest.approx(0.1729, abs=1e-3) and sw2 == pytest.approx(1.983, abs=1e-3)
    # iterating the quad map from above goes down towards q_t and never passes it
    q, v = 10.0, lambda x: sw2 * _e(lambda y: _gelu(y) ** 2, x) + sb2
    for _ in range(200):
        q_next = v(q)
        assert q_t < q_next < q
        q = q_next
    fp = mf.find_fixed_point("gelu", sw2, sb2, q0=10.0)
    assert fp.q == pytest.approx(q_t, rel=1e-6)  # the old code: 3.035
    assert fp.stability == "half-stable" and fp.approached_from == "above"
    assert mf.fixed_point("gelu", sw2, sb2, q0=10.0) == fp.q
    # from below, the iteration stops at the stable crossing under q_t
    low = mf.find_fixed_point("gelu", sw2, sb2, q0=1.0)
    assert low.stability == "stable" and low.q < q_t
    assert v(low.q) == pytest.approx(low.q, rel=1e-10)


def test_silu_half_stable_fixed_point_is_reached_from_below():
    q_t, sw2, sb2 = _tangency(_silu, _dsilu, 8.0, 20.0)
    assert sb2 == pytest.approx(0.555, abs=1e-3)
    fp = mf.find_fixed_point("silu", sw2, sb2, q0=1.0)
    assert fp.q == pytest.approx(q_t, rel=1e-5)  # the old code: 14.593
    assert fp.stability == "half-stable" and fp.approached_from == "below"
    # V(q) > q all the way from 1 to q_t: the iteration from 1 cannot get past q_t
    qs = np.geomspace(1.0, q_t * (1 - 1e-3), 60)
    assert all(sw2 * _e(lambda y: _silu(y) ** 2, x) + sb2 > x for x in qs)


# expected: does chi1 = 1 have a continuous root on the branch reached from q0 = 1?
_HAS_LINE = {
    "linear": (0.0,),
    "relu": (0.0,),
    "leaky_relu": (0.0,),
    "tanh": (0.0, 0.1, 2.0),
    "sigmoid": (0.0, 0.1, 2.0),
    "softplus": (),
    "elu": (0.0, 0.1),
    "selu": (0.0, 0.1, 2.0),
    "gelu": (),
    "silu": (),
    "lecun_tanh": (0.0, 0.1, 2.0),
}


@pytest.mark.parametrize("sb2", [0.0, 0.1, 2.0])
@pytest.mark.parametrize("name", sorted(_HAS_LINE))
def test_critical_line_for_every_builtin_activation(name, sb2):
    import initmath

    assert set(_HAS_LINE) == set(initmath.activation_names())
    if sb2 not in _HAS_LINE[name]:
        with pytest.raises(ValueError, match="no critical (point|line)"):
            mf.critical_line(name, sb2)
        return
    sw2 = mf.critical_line(name, sb2)
    act = mf._act(name)
    phi = lambda x: float(act.numpy(np.array(x)))  # noqa: E731
    dphi = lambda x: float(act.numpy_derivative(np.array(x)))  # noqa: E731
    qs = mf.fixed_point(name, sw2, sb2)
    if qs < 1e-10:  # q* = 0: chi1 = sigma_w2 (phi'(0+)^2 + phi'(0-)^2) / 2
        assert sb2 == 0
        assert sw2 * (dphi(1e-12) ** 2 + dphi(-1e-12) ** 2) / 2 == pytest.approx(1.0, rel=1e-6)
        return
    assert sw2 * _e(lambda x: phi(x) ** 2, qs) + sb2 == pytest.approx(qs, rel=1e-9)
    assert sw2 * _e(lambda x: dphi(x) ** 2, qs) == pytest.approx(1.0, rel=1e-7)


# -- issue 11, bad-input battery: what NumPy would convert silently, huge and tiny values ------
@pytest.mark.parametrize(
    ("call", "name", "shown"),
    [
        (lambda: mf.length_map("relu", "1.0", 2.0, 0.0), "q", "'1.0'"),
        (lambda: mf.length_map("relu", ["1.0", "2"], 2.0, 0.0), "q", "['1.0', '2']"),
        (lambda: mf.length_map("relu", [1.0, True], 2.0, 0.0), "q", "[1.0, True]"),
        (lambda: mf.length_map("relu", np.array(True), 2.0, 0.0), "q", "array(True)"),
        (lambda: mf.length_map("relu", [1.0, None], 2.0, 0.0), "q", "[1.0, None]"),
        (lambda: mf.length_map("relu", np.array([1j]), 2.0, 0.0), "q", "array([0.+1.j])"),
        (lambda: mf.length_slope("relu", [1.0], 2.0, 0.0), "q", "[1.0]"),
        (lambda: mf.length_slope("relu", "1.0", 2.0, 0.0), "q", "'1.0'"),
        (lambda: mf.correlation_map("tanh", "0.5", 1.0, 0.1), "c", "'0.5'"),
        (lambda: mf.correlation_map("tanh", ["0.5"], 1.0, 0.1), "c", "['0.5']"),
        (lambda: mf.correlation_map("tanh", 0.5, 1.0, 0.1, q="1.0"), "q", "'1.0'"),
        (lambda: mf.correlation_map("tanh", 0.5, 1.0, 0.1, q=[1.0]), "q", "[1.0]"),
        (lambda: mf.correlation_slope("tanh", [0.5], 1.0, 0.1), "c", "[0.5]"),
        (lambda: mf.correlation_slope("tanh", "0.5", 1.0, 0.1), "c", "'0.5'"),
        (
            lambda: mf.correlation_slope("tanh", 0.5, 1.0, 0.1, q=np.array([1.0])),
            "q",
            "array([1.])",
        ),
        (lambda: mf.critical_line("tanh", 0.1, bracket=2.0), "bracket", "2.0"),
        (lambda: mf.critical_line("tanh", 0.1, bracket={0.5, 2.0}), "bracket", "{0.5, 2.0}"),
        (lambda: mf.critical_line("tanh", 0.1, bracket=iter([0.5, 2.0])), "bracket", "iterator"),
    ],
)
def test_non_numbers_are_refused_by_name(call, name, shown):
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value).startswith(f"{name} must be") and shown in str(info.value)


def test_arrays_of_numbers_and_bracket_sequences_are_still_accepted():
    # bias-free ReLU at sigma_w2 = 2 maps every q to itself (exactly, up to quadrature rounding)
    got = mf.length_map("relu", np.array([1, 3], dtype=np.int32), 2.0, 0.0)
    assert got == pytest.approx([1.0, 3.0], rel=1e-13)
    # arc-cosine kernel of ReLU at c = 0: 1/pi (sigma_w2 = 2, no bias)
    assert mf.correlation_map("relu", [0.0], 2.0, 0.0, q=np.float32(1.0)) == pytest.approx(
        [1 / math.pi], rel=1e-12
    )
    expected = brentq(lambda w: ref_chi1_tanh(w, 0.1) - 1, 1.0, 3.0, xtol=1e-12)
    for bracket in ([0.5, 3.0], np.array([0.5, 3.0]), (0.5, 3.0)):
        assert mf.critical_line("tanh", 0.1, bracket=bracket) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: mf.length_map("relu", 1e308, 2.0, 0.0), "not finite in float64 at q=1e+308"),
        (lambda: mf.length_map("relu", [1.0, 1e308], 2.0, 0.0), "at q=1e+308"),
        (lambda: mf.length_map("relu", 1.0, 1e101, 0.0), "sigma_w2 must be <= 1e+100, got 1e+101"),
        (lambda: mf.length_map("relu", 1.0, 2.0, 1e200), "sigma_b2 must be <= 1e+100"),
        (lambda: mf.fixed_point("relu", 1.0, 0.0, q0=1e308), "q0 must be <= 1e+100"),
        (lambda: mf.chi1("tanh", 1e300, 0.1), "sigma_w2 must be <= 1e+100"),
        (lambda: mf.depth_scales("tanh", 1.0, 1e308), "sigma_b2 must be <= 1e+100"),
        (lambda: mf.critical_line("tanh", 0.1, bracket=(0.5, 1e308)), "bracket must be <= 1e+100"),
        (lambda: mf.critical_line("tanh", 0.1, q0=1e200), "q0 must be <= 1e+100"),
        (lambda: mf.correlation_map("relu", 0.5, 1.0, 0.0, q=1e308), "q must be <= 1e+100"),
        (lambda: mf.correlation_slope("tanh", 0.5, 1.0, 0.1, q=1e308), "q must be <= 1e+100"),
        (lambda: mf.correlation_map("relu", 0.5, 1.0, 0.0, q=1e-320), "q must be 0 or >= 1e-280"),
        (lambda: mf.correlation_map("tanh", 0.5, 1.0, 0.0, q=5e-324), "got 5e-324"),
        # an int beyond float64: OverflowError from float() before
        (lambda: mf.chi1("tanh", 10**400, 0.0), "sigma_w2 must be finite"),  # beyond the doubles
        (lambda: mf.length_map("relu", 10**400, 2.0, 0.0), "q must be finite"),
    ],
)
def test_huge_and_subnormal_values_are_refused_not_answered_wrongly(call, fragment):
    # before: inf (length_map), 'divergent' q* = inf (relu from q0 = 1e308), 0.0 for a slope
    # that is not 0, 0.573 for ReLU's C(0.5; 1e-320) = 0.609, NaN from 0/0 (q = 5e-324)
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value).replace(" (the domain of the mean-field maps)", "")


def test_fixed_point_from_a_large_start():
    # V(q) was computed as q + (V(q) - q), whose rounding (~1e-16 q) made tanh's length map
    # look decreasing from q0 = 1e8: "outside the domain"
    ref = ref_fixed_point(tanh2, 1.0, 0.1)
    for q0 in (1e8, 1e40, 1e100):
        fp = mf.find_fixed_point("tanh", 1.0, 0.1, q0=q0)
        assert fp.q == pytest.approx(ref, rel=1e-12) and fp.approached_from == "above"
    assert mf.fixed_point("relu", 1.0, 0.0, q0=1e100) == 0.0  # q halves each layer


@pytest.mark.parametrize(("sw2", "sb2"), [(1.0, 1e50), (1.9, 1e100), (0.5, 1e99)])
def test_relu_fixed_point_with_a_huge_bias(sw2, sb2):
    # closed form q* = sb2 / (1 - sw2/2); before, anything above 1e100 counted as divergent
    fp = mf.find_fixed_point("relu", sw2, sb2)
    assert fp.q == pytest.approx(sb2 / (1 - sw2 / 2), rel=1e-12)
    assert fp.stability == "stable" and fp.slope == pytest.approx(sw2 / 2, rel=1e-12)


def test_long_inputs_are_computed_in_bounded_memory():
    import tracemalloc

    q = np.linspace(0.0, 5.0, 200_001)  # unchunked: 200_001 x 200 float64 = 320 MB
    c = np.linspace(-1.0, 1.0, 1_001)  # unchunked: 1_001 x 96 x 80 float64 = 61 MB
    tracemalloc.start()
    try:
        v = mf.length_map("relu", q, 2.0, 0.0)
        r = mf.correlation_map("relu", c, 2.0, 0.0, q=1.0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 128 * 2**20, peak  # unchunked, length_map alone needs > 320 MB
    assert v == pytest.approx(q, rel=1e-13, abs=0)
    theta = np.arccos(c)  # arc-cosine kernel of bias-free ReLU at sigma_w2 = 2
    assert r == pytest.approx((np.sin(theta) + (np.pi - theta) * c) / np.pi, abs=1e-13)
