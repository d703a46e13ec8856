"""The critical line and the depth scales (initmath.theory.meanfield.criticality) against
brentq on quad-based chi1 and against the convergence of the iterates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from initmath.theory import meanfield as mf
from initmath.theory.meanfield.arguments import checked_activation
from tests.theory.meanfield.references import (
    e_quad,
    ref_chi1_tanh,
    ref_fixed_point,
    tanh2,
)


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
    d2 = e_quad(lambda x: 1.0 if x > 0 else 0.0, 1.0)
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


def test_depth_scales_match_the_convergence_of_the_iterates():
    sw2, sb2 = 1.5, 0.05
    xi_q, xi_c = mf.depth_scales("tanh", sw2, sb2)
    qs = ref_fixed_point(tanh2, sw2, sb2)
    # xi_q = -1/log V'(q*): the slope of the quad-based map by a central difference
    h = 1e-4 * qs
    slope = sw2 * (e_quad(tanh2, qs + h) - e_quad(tanh2, qs - h)) / (2 * h)
    assert xi_q == pytest.approx(-1 / math.log(slope), rel=1e-7)
    # and the distances to q* of the iterates shrink by that factor per layer
    q, dists = 1.01 * qs, []
    for _ in range(6):
        q = sw2 * e_quad(tanh2, q) + sb2
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
    "mish": (),  # like SiLU and GELU (checked: chi1 - 1 stays below 0 where q* is finite)
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
    act = checked_activation(name)
    phi = lambda x: float(act.numpy(np.array(x)))  # noqa: E731
    dphi = lambda x: float(act.numpy_derivative(np.array(x)))  # noqa: E731
    qs = mf.fixed_point(name, sw2, sb2)
    if qs < 1e-10:  # q* = 0: chi1 = sigma_w2 (phi'(0+)^2 + phi'(0-)^2) / 2
        assert sb2 == 0
        assert sw2 * (dphi(1e-12) ** 2 + dphi(-1e-12) ** 2) / 2 == pytest.approx(1.0, rel=1e-6)
        return
    assert sw2 * e_quad(lambda x: phi(x) ** 2, qs) + sb2 == pytest.approx(qs, rel=1e-9)
    assert sw2 * e_quad(lambda x: dphi(x) ** 2, qs) == pytest.approx(1.0, rel=1e-7)
