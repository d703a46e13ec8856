"""The package's one Gaussian quadrature rule, against exact moments and scipy.integrate.quad."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from initmath.theory import quadrature as qd


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_even_powers_are_the_double_factorials(k):
    # E[z^(2k)] = (2k - 1)!!, times q^k
    q = np.array([0.5, 1.0, 3.0])
    want = math.prod(range(1, 2 * k, 2)) * q**k
    np.testing.assert_allclose(
        qd.gaussian_expectation(lambda x: x ** (2 * k), q), want, rtol=1e-12
    )  # [-9, 9] cuts a 1e-13 tail of z^10


@pytest.mark.parametrize("q", [0.1, 1.0, 5.0, 25.0])
def test_tanh_and_relu_against_scipy_quad(q):
    s = math.sqrt(q)
    for f_np, f in (
        (lambda x: np.tanh(x) ** 2, lambda x: math.tanh(x) ** 2),
        (lambda x: np.maximum(x, 0) ** 2, lambda x: max(x, 0.0) ** 2),
    ):
        ref, _ = quad(
            lambda z, f=f: f(s * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
            -12,
            12,
            points=[0.0],
            epsabs=0,
            epsrel=1e-13,
            limit=200,
        )
        got = float(qd.gaussian_expectation(f_np, np.asarray(q)))
        assert got == pytest.approx(ref, rel=1e-13)


def test_shape_is_kept_and_chunks_agree(monkeypatch):
    q = np.linspace(0.1, 4.0, 60).reshape(3, 4, 5)
    f = lambda x: np.tanh(x) ** 2  # noqa: E731
    whole = qd.gaussian_expectation(f, q)
    assert whole.shape == q.shape
    monkeypatch.setattr(qd, "CHUNK", 2 * qd.HALF_NODES * 7)  # 7 values of q per chunk
    # the same sums; only BLAS's order of additions may differ
    np.testing.assert_allclose(qd.gaussian_expectation(f, q), whole, rtol=1e-14)


def test_weights_are_a_probability_and_the_radial_rule_integrates_the_plane():
    z, w = qd.half_line_nodes()
    assert z.size == 2 * qd.HALF_NODES and w.sum() == pytest.approx(1.0, abs=1e-15)
    r, wr = qd.radial_nodes()
    # the 2-D standard normal density integrates to 1: 2 pi * sum(w_r) over the radius
    assert 2 * math.pi * wr.sum() == pytest.approx(1.0, rel=1e-13)
