"""Numbers read off a simulation (initmath.practice.readouts) against independent
computations: exact curves, per-network values recovered from two-network runs, and the
Gaussian law of the first layer's pre-activations."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

import initmath
from initmath.practice import readouts as ro


def test_geometric_factor_of_a_geometric_curve():
    assert ro.geometric_factor([3.0, 6.0, 12.0, 24.0]) == 2.0
    assert ro.geometric_factor(np.array([2.0, 0.5])) == 0.25
    curve = 1.7 * 0.81 ** np.arange(10)
    assert math.isclose(ro.geometric_factor(curve), 0.81, rel_tol=1e-14)
    # the geometric mean of the per-layer ratios
    v = np.array([1.0, 3.0, 2.0, 5.0])
    assert math.isclose(ro.geometric_factor(v), float(np.prod(v[1:] / v[:-1]) ** (1 / 3)))


@pytest.mark.parametrize("values", [[1.0], [1.0, 0.0], [1.0, -2.0], [[1.0, 2.0]]])
def test_geometric_factor_rejects(values):
    with pytest.raises(ValueError, match="positive"):
        ro.geometric_factor(values)


def _per_network_q(widths, n_pairs, seed, **options):
    """Each network's second moments, from runs over pairs of networks [2i, 2i + 2): with two
    networks a and b the mean is (a + b) / 2 and the standard error |a - b| / 2."""
    values = []
    for i in range(n_pairs):
        r = initmath.simulate(
            widths, "relu", n_networks=2, first_network=2 * i, seed=seed, **options
        )
        values += [r.q + r.q_se, r.q - r.q_se]
    return np.array(values)


def test_coefficient_of_variation_is_the_spread_of_the_networks():
    widths = [32] * 5
    full = initmath.simulate(widths, "relu", scheme="he", n_networks=40, seed=3)
    per = _per_network_q(widths, 20, 3, scheme="he")
    np.testing.assert_allclose(per.mean(axis=0), full.q, rtol=1e-12)
    for layer in range(1, 5):
        col = per[:, layer - 1]
        expected = col.std(ddof=1) / col.mean()
        assert math.isclose(ro.coefficient_of_variation(full, "q", layer), expected, rel_tol=1e-9)


def test_coefficient_of_variation_of_gradients_and_bad_arguments():
    r = initmath.simulate([16] * 4, "relu", scheme="he", n_networks=50, seed=1, backward=True)
    cv = ro.coefficient_of_variation(r, "grad", 1)
    assert math.isclose(cv, float(r.grad_q_se[0] * math.sqrt(50) / r.grad_q[0]))
    forward_only = initmath.simulate([16] * 4, "relu", n_networks=10, seed=1)
    with pytest.raises(ValueError, match="grad"):
        ro.coefficient_of_variation(forward_only, "grad", 1)
    with pytest.raises(ValueError, match="layer"):
        ro.coefficient_of_variation(r, "q", 4)
    with pytest.raises(ValueError, match="layer"):
        ro.coefficient_of_variation(r, "q", 0)
    with pytest.raises(ValueError, match="quantity"):
        ro.coefficient_of_variation(r, "mean", 1)


def _tanh_hist(std, n_networks=8, seed=2):
    return initmath.simulate(
        [256] * 4,
        "tanh",
        scheme="fixed",
        std=std,
        n_networks=n_networks,
        n_inputs=4,
        seed=seed,
        record=("histograms",),
        bins=202,
        hist_range={"act": (-1.01, 1.01)},
    )


def test_saturated_fraction_counts_everything():
    r = _tanh_hist(0.1)
    # tanh lies in (-1, 1), inside the histogram's range: nothing outside its two ends
    assert ro.saturated_fraction(r, -1.01, 1.01) == pytest.approx(0.0, abs=1e-15)
    # the fraction outside [-0.99, 0.99) plus the fraction inside is one, layer by layer
    counts, edges = r.histograms["act"], r.hist_edges["act"]
    i, j = int(np.argmin(np.abs(edges + 0.99))), int(np.argmin(np.abs(edges - 0.99)))
    for layer in (1, 2, 3):
        inside = counts[layer - 1, i:j].sum() / (256 * 4 * 8)
        assert ro.saturated_fraction(r, -0.99, 0.99, layer) == pytest.approx(1 - inside)
    assert ro.saturated_fraction(r, -0.99, 0.99) == ro.saturated_fraction(r, -0.99, 0.99, 3)


def test_saturated_fraction_agrees_with_the_gaussian_pre_activations():
    """Layer 1 with s = 0.1 and unit inputs: z ~ N(0, 256 s^2) = N(0, 2.56) nearly exactly,
    so P(|tanh z| > 0.99) = 2 (1 - Phi(atanh(0.99) / 1.6))."""
    r = _tanh_hist(0.1, n_networks=20)
    predicted = 2 * (1 - NormalDist().cdf(math.atanh(0.99) / 1.6))
    measured = ro.saturated_fraction(r, -0.99, 0.99, layer=1)
    assert abs(measured - predicted) < 0.01, (measured, predicted)


def test_saturated_fraction_bad_arguments():
    r = _tanh_hist(1.0, n_networks=2)
    with pytest.raises(ValueError, match="edges"):
        ro.saturated_fraction(r, -0.985, 0.99)
    with pytest.raises(ValueError, match="edges"):
        ro.saturated_fraction(r, 0.99, -0.99)
    with pytest.raises(ValueError, match="layer"):
        ro.saturated_fraction(r, -0.99, 0.99, layer=4)
    plain = initmath.simulate([16] * 3, "tanh", n_networks=2)
    with pytest.raises(ValueError, match="histograms"):
        ro.saturated_fraction(plain, -0.99, 0.99)
