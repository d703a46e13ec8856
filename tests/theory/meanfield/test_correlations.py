"""The correlation map (initmath.theory.meanfield.correlations) against the arc-cosine kernel
and scipy.integrate.dblquad."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import dblquad

from initmath.theory import meanfield as mf


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


def test_correlation_map_vectorized_and_default_q():
    cs = np.array([0.1, 0.5, 0.9])
    out = mf.correlation_map("tanh", cs, 2.0, 0.1)
    q = mf.fixed_point("tanh", 2.0, 0.1)
    np.testing.assert_allclose(
        out, [mf.correlation_map("tanh", c, 2.0, 0.1, q=q) for c in cs], rtol=1e-14
    )
