"""The iterated mean-field maps (initmath.theory.iteration) against independent computations.

The references are closed forms (the ReLU's linear length map and its arc-cosine kernel),
scipy.integrate.quad on tanh written directly in NumPy, and initmath.predict, which iterates
the length map its own way.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

import initmath
from initmath.theory import iteration as it
from initmath.theory import meanfield as mf


def _relu_kernel(c):
    """E[relu(u1) relu(u2)] / q for unit-length Gaussians of correlation c (Cho & Saul)."""
    c = np.asarray(c, dtype=float)
    return (np.sqrt(1 - c**2) + (math.pi - np.arccos(c)) * c) / (2 * math.pi)


def _tanh_length(q, sw2, sb2):
    val, _ = quad(
        lambda z: math.tanh(math.sqrt(q) * z) ** 2 * math.exp(-z * z / 2),
        -12,
        12,
        epsabs=1e-14,
        epsrel=1e-13,
        limit=400,
    )
    return sw2 * val / math.sqrt(2 * math.pi) + sb2


@pytest.mark.parametrize(("sw2", "sb2"), [(1.5, 0.0), (2.0, 0.3), (2.5, 0.1)])
def test_iterate_length_relu_is_the_geometric_series(sw2, sb2):
    q = it.iterate_length("relu", 0.7, sw2, sb2, 12)
    rho = sw2 / 2
    exact = [0.7 * rho**k + sb2 * sum(rho**j for j in range(k)) for k in range(12)]
    np.testing.assert_allclose(q, exact, rtol=1e-13)


def test_iterate_length_tanh_matches_quad():
    q = it.iterate_length("tanh", 2.0, 1.69, 0.09, 6)
    ref = [2.0]
    for _ in range(5):
        ref.append(_tanh_length(ref[-1], 1.69, 0.09))
    np.testing.assert_allclose(q, ref, rtol=1e-12)


def test_iterate_length_is_what_predict_iterates():
    sw, sb, s, width, depth = 2.5, 0.3, 0.1, 1000, 8
    pred, _ = initmath.predict(
        [width] * (depth + 1),
        "tanh",
        scheme="fixed",
        std=sw / math.sqrt(width),
        bias_std=sb,
        input_std=s,
    )
    q = it.iterate_length("tanh", sw**2 * s**2 + sb**2, sw**2, sb**2, depth)
    np.testing.assert_allclose(q, pred, rtol=1e-10)


def test_iterate_correlation_relu_matches_the_arc_cosine_kernel():
    sw2, sb2 = 1.6, 0.2
    q_star = sb2 / (1 - sw2 / 2)  # the linear length map's fixed point
    assert math.isclose(mf.fixed_point("relu", sw2, sb2), q_star, rel_tol=1e-12)
    c1 = np.array([-0.5, 0.0, 0.3, 0.9, 1.0])
    c = it.iterate_correlation("relu", c1, sw2, sb2, 10)
    ref = [c1]
    for _ in range(9):
        ref.append((sw2 * q_star * _relu_kernel(ref[-1]) + sb2) / q_star)
    assert c.shape == (10, 5)
    np.testing.assert_allclose(c, np.array(ref), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c[:, -1], 1.0, rtol=1e-14)  # identical inputs stay identical


def test_iterate_correlation_keeps_the_shape_of_c1():
    c = it.iterate_correlation("tanh", 0.5, 2.0, 0.1, 4)
    assert c.shape == (4,) and c[0] == 0.5
    # chaotic (chi1 > 1): the correlation moves towards c* < 1 monotonically from below
    c_star = mf.correlation_fixed_point("tanh", 2.0, 0.1)
    assert c_star < 1 and np.all(np.diff(c) * np.sign(c_star - 0.5) > 0)


def test_iterate_pair_at_the_fixed_length_is_iterate_correlation():
    sw2, sb2 = 1.69, 0.09
    q_star = mf.fixed_point("tanh", sw2, sb2)
    q, c = it.iterate_pair("tanh", q_star, [0.2, 0.6], sw2, sb2, 6)
    np.testing.assert_allclose(q, q_star, rtol=1e-10)
    np.testing.assert_allclose(
        c, it.iterate_correlation("tanh", [0.2, 0.6], sw2, sb2, 6), rtol=1e-9
    )


def test_iterate_pair_relu_correlation_does_not_depend_on_the_length():
    """ReLU is positively homogeneous: without bias its correlation map ignores q, so the
    correlations follow the arc-cosine kernel while the length decays."""
    q, c = it.iterate_pair("relu", 3.0, [0.1, 0.5], 1.2, 0.0, 8)
    np.testing.assert_allclose(q, 3.0 * 0.6 ** np.arange(8), rtol=1e-13)
    ref = [np.array([0.1, 0.5])]
    for _ in range(7):
        ref.append(2 * _relu_kernel(ref[-1]))  # (sw2 q k(c)) / (sw2 q / 2)
    np.testing.assert_allclose(c, np.array(ref), rtol=1e-12)


def test_iterate_pair_tanh_without_bias_keeps_the_correlation():
    q, c = it.iterate_pair("tanh", 1.0, [0.2, 0.6, 0.95], 0.8, 0.0, 40)
    assert q[-1] < 1e-4 and np.all(np.abs(c[-1] - [0.2, 0.6, 0.95]) < 0.05)
    q_b, c_b = it.iterate_pair("tanh", 1.0, [0.2, 0.6, 0.95], 0.8, 0.0125, 40)
    assert np.all(c_b[-1] > 0.9999)  # the smallest bias correlates everything


def test_correlation_depth_grid_is_depth_scales_on_the_grid():
    sw2, sb2 = np.array([0.5, 1.2, 2.0, 3.5]), np.array([0.0, 0.05, 0.2])
    grid = it.correlation_depth_grid("tanh", sw2, sb2)
    assert grid.shape == (3, 4)
    for i, b in enumerate(sb2):
        for j, w in enumerate(sw2):
            assert grid[i, j] == mf.depth_scales("tanh", float(w), float(b))[1]
    assert math.isinf(grid[0, 0])  # sigma_b = 0, sigma_w^2 < 1: correlations preserved
    # on the critical line xi_c diverges: near it, larger than on both sides
    crit = mf.critical_line("tanh", 0.05)
    near = it.correlation_depth_grid("tanh", [crit - 0.3, crit - 1e-3, crit + 0.3], [0.05])[0]
    assert near[1] > 10 * max(near[0], near[2])


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: it.iterate_length("tanh", 1.0, 1.0, 0.0, 0), "depth"),
        (lambda: it.iterate_length("tanh", -1.0, 1.0, 0.0, 3), "q1"),
        (lambda: it.iterate_correlation("tanh", [1.5], 2.0, 0.1, 3), "c"),
        (lambda: it.iterate_pair("tanh", 1.0, 0.5, 1.0, 0.0, 1.5), "depth"),
        (lambda: it.correlation_depth_grid("tanh", [[1.0]], [0.0]), "one-dimensional"),
    ],
)
def test_bad_arguments(call, match):
    with pytest.raises((TypeError, ValueError), match=match):
        call()
