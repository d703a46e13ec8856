"""Fixed points of the length map (initmath.theory.meanfield.fixed_points) against plain
fixed-point iteration and closed forms, half-stable points included."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from initmath.theory import meanfield as mf
from tests.theory.meanfield.references import (
    GAUSS,
    dtanh2,
    e_quad,
    ref_fixed_point,
    tanh2,
)


@pytest.mark.parametrize(
    ("sw2", "sb2"), [(1.69, 0.09), (6.25, 0.09), (16.0, 0.09), (1.5, 0.05), (0.8, 0.3)]
)
def test_fixed_point_and_chi1_tanh_against_iteration(sw2, sb2):
    q_ref = ref_fixed_point(tanh2, sw2, sb2)
    assert mf.fixed_point("tanh", sw2, sb2) == pytest.approx(q_ref, rel=1e-10)
    assert mf.chi1("tanh", sw2, sb2) == pytest.approx(sw2 * e_quad(dtanh2, q_ref), rel=1e-10)


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
        return e_quad(lambda x: phi(x) * dphi(x) * x, q) / q  # E[phi(sz) phi'(sz) sz] / q

    q_t = brentq(lambda q: m_prime(q) - e_quad(lambda x: dphi(x) ** 2, q), lo, hi, xtol=1e-13)
    sw2 = 1 / e_quad(lambda x: dphi(x) ** 2, q_t)
    return q_t, sw2, q_t - sw2 * e_quad(lambda x: phi(x) ** 2, q_t)


def test_gelu_half_stable_fixed_point_is_reached_from_above():
    q_t, sw2, sb2 = _tangency(_gelu, _dgelu, 2.0, 6.0)
    assert sb2 == pytest.approx(0.1729, abs=1e-3) and sw2 == pytest.approx(1.983, abs=1e-3)
    # iterating the quad map from above goes down towards q_t and never passes it
    q, v = 10.0, lambda x: sw2 * e_quad(lambda y: _gelu(y) ** 2, x) + sb2
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
    assert all(sw2 * e_quad(lambda y: _silu(y) ** 2, x) + sb2 > x for x in qs)


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
