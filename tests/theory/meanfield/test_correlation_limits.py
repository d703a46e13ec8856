"""The correlation with depth (initmath.theory.meanfield.correlation_limits): c*, and where the
length decays or diverges, the power law and the preserved correlation, against independent
quadratures."""

from __future__ import annotations

import math

import pytest
from scipy.integrate import dblquad, quad

from initmath.theory import meanfield as mf
from tests.theory.meanfield.references import (
    GAUSS,
    e_quad,
    tanh2,
)


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
    e2 = e_quad(tanh2, q)
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
