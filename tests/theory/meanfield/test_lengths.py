"""The length map (initmath.theory.meanfield.lengths) against scipy.integrate.quad, vectorized
and in bounded memory."""

from __future__ import annotations

import numpy as np
import pytest

from initmath.theory import meanfield as mf
from tests.theory.meanfield.references import (
    e_quad,
    tanh2,
)


@pytest.mark.parametrize("q", [0.01, 0.7, 3.0, 20.0])
def test_length_map_tanh_against_quad(q):
    assert mf.length_map("tanh", q, 1.7, 0.2) == pytest.approx(
        1.7 * e_quad(tanh2, q) + 0.2, rel=1e-12
    )


def test_length_map_is_vectorized():
    qs = np.array([[0.5, 1.0], [2.0, 4.0]])
    out = mf.length_map("relu", qs, 2.0, 0.1)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, qs + 0.1, rtol=1e-13)


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
