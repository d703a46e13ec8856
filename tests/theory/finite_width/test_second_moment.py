"""The 1/n correction of the average second moment
(initmath.theory.finite_width.second_moment) against an independent quadrature and a
simulation."""

from __future__ import annotations

import numpy as np
import pytest

import initmath
from initmath.theory import finite_width as fw


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
