"""Sampled networks, their outputs and Jacobians (initmath.engine.jacobian.networks) against
finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from initmath.engine import jacobian as jm


def _tanh_net(x, weights, biases):
    h = x
    for w, b in zip(weights, biases, strict=True):
        h = np.tanh(w @ h + b)
    return h


@pytest.mark.parametrize("distribution", ["normal", "orthogonal"])
def test_jacobian_matches_finite_differences(distribution):
    rng = np.random.default_rng(7)
    x, ws, bs = jm.sample_network(
        4, 6, distribution=distribution, sigma_w2=1.5, sigma_b2=0.1, rng=rng
    )
    jac = jm.input_output_jacobian("tanh", x, ws, bs)
    h = 1e-6
    fd = np.empty((6, 6))
    for j in range(6):
        e = np.zeros(6)
        e[j] = h
        fd[:, j] = (_tanh_net(x + e, ws, bs) - _tanh_net(x - e, ws, bs)) / (2 * h)
    np.testing.assert_allclose(jac, fd, atol=1e-8)
    np.testing.assert_allclose(jm.forward("tanh", x, ws, bs), _tanh_net(x, ws, bs), rtol=1e-14)
