"""The simulated spectra (initmath.engine.jacobian.spectrum): exact cases, the product of the
layers, the slopes, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from initmath.engine import jacobian as jm


def test_orthogonal_linear_singular_values_are_gain_to_the_depth():
    depth, gain2 = 12, 1.3
    s = jm.jacobian_spectrum(
        "linear",
        depth,
        16,
        distribution="orthogonal",
        sigma_w2=gain2,
        n_networks=3,
        seed=4,
        depths=[1, 6, 12],
        spectrum_depths=[6, 12],
    )
    for d in (6, 12):
        np.testing.assert_allclose(s.spectra[d], gain2**d, rtol=1e-10)
    np.testing.assert_allclose(s.m1, np.tile(gain2 ** np.array([1, 6, 12.0]), (3, 1)), rtol=1e-10)
    r, se = s.relative_variance()
    assert np.all(np.abs(r) < 1e-10)


def test_simulation_jacobian_is_the_product():
    # The moments recorded by jacobian_spectrum are those of input_output_jacobian of the
    # network sample_network draws from default_rng([seed, i]).
    s = jm.jacobian_spectrum("relu", 3, 8, sigma_w2=2.0, n_networks=2, seed=5, spectrum_depths=[3])
    x, ws, bs = jm.sample_network(3, 8, sigma_w2=2.0, rng=np.random.default_rng([5, 1]))
    jac = jm.input_output_jacobian("relu", x, ws, bs)
    lam = np.linalg.eigvalsh(jac.T @ jac)
    assert s.m1[1, 2] == pytest.approx(lam.mean(), rel=1e-10)
    assert s.m2[1, 2] == pytest.approx((lam**2).mean(), rel=1e-10)
    np.testing.assert_allclose(np.sort(s.spectra[3][1]), np.sort(lam), atol=1e-10)


def test_linear_gaussian_mean_one_and_relative_variance_depth():
    depths, width = [1, 2, 3], 200
    s = jm.jacobian_spectrum("linear", 3, width, n_networks=60, seed=11, spectrum_depths=())
    mean, mean_se = s.mean_lambda()
    assert np.all(np.abs(mean - 1.0) < 4 * mean_se)
    r, se = s.relative_variance()
    exact = jm.linear_gaussian_relative_variance(depths, width)
    assert np.all(np.abs(r - exact) < 4 * se)
    # Close to the large-width value L: the finite-width correction (resolved by the
    # simulation, a few standard errors at L = 3) is about 1% here.
    assert np.all(np.abs(exact / np.array(depths) - 1) < 0.011)
    assert np.all(np.abs(r / np.array(depths) - 1) < 0.011 + 4 * se / np.array(depths))


def test_relu_slopes_gaussian_and_orthogonal():
    for dist, slope in (("normal", 2.0), ("orthogonal", 1.0)):
        s = jm.jacobian_spectrum(
            "relu",
            4,
            160,
            distribution=dist,
            sigma_w2=2.0,
            n_networks=30,
            seed=3,
            spectrum_depths=(),
        )
        est = s.slope()
        assert abs(est.mean - slope) < 4 * est.se + 0.05 * slope, (dist, est)


def test_same_seed_same_result_and_batching():
    kw = dict(distribution="orthogonal", sigma_w2=1.0, seed=9, spectrum_depths=[2])
    a = jm.jacobian_spectrum("tanh", 3, 10, n_networks=3, **kw)
    b = jm.jacobian_spectrum("tanh", 3, 10, n_networks=3, **kw)
    c = jm.jacobian_spectrum("tanh", 3, 10, n_networks=5, **kw)
    np.testing.assert_array_equal(a.m2, b.m2)
    np.testing.assert_array_equal(a.spectra[2], b.spectra[2])
    np.testing.assert_array_equal(a.m1, c.m1[:3])
    d = jm.jacobian_spectrum("tanh", 3, 10, n_networks=3, **{**kw, "seed": 10})
    assert not np.array_equal(a.m1, d.m1)
