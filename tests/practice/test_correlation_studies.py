"""Pairs of correlated inputs through the same networks (initmath.practice.correlation_studies):
exact properties of the construction, determinism, and agreement with the mean-field
correlation map."""

from __future__ import annotations

import numpy as np
import pytest

from initmath.practice import correlation_studies as cs
from initmath.theory import iteration as it
from initmath.theory import meanfield as mf

KW = dict(width=128, depth=4, n_networks=20)


def test_deterministic_for_a_seed_and_shaped():
    a = cs.simulate_correlations("tanh", [1.3, 2.5], 0.3, [0.2, 0.9], seed=4, **KW)
    b = cs.simulate_correlations("tanh", [1.3, 2.5], 0.3, [0.2, 0.9], seed=4, **KW)
    np.testing.assert_array_equal(a.c, b.c)
    np.testing.assert_array_equal(a.c_se, b.c_se)
    assert a.c.shape == a.c_se.shape == a.predicted.shape == (2, 4, 2)
    assert (a.n_networks, a.width, a.sigma_w) == (20, 128, (1.3, 2.5))
    c = cs.simulate_correlations("tanh", [1.3, 2.5], 0.3, [0.2, 0.9], seed=5, **KW)
    assert not np.array_equal(a.c, c.c)


def test_prediction_is_the_iterated_map_at_the_fixed_length():
    run = cs.simulate_correlations("tanh", [1.3, 2.5], 0.3, [0.2, 0.9], seed=1, **KW)
    for k, sw in enumerate(run.sigma_w):
        assert run.q_star[k] == mf.fixed_point("tanh", sw**2, 0.09)
        np.testing.assert_array_equal(
            run.predicted[k], it.iterate_correlation("tanh", [0.2, 0.9], sw**2, 0.09, 4)
        )
    np.testing.assert_array_equal(run.z(), (run.c - run.predicted) / run.c_se)


def test_identical_inputs_stay_perfectly_correlated():
    run = cs.simulate_correlations("relu", [1.2], 0.2, [1.0], seed=2, **KW)
    np.testing.assert_allclose(run.c, 1.0, rtol=1e-13)


def test_simulation_agrees_with_the_correlation_map():
    run = cs.simulate_correlations(
        "tanh", [1.3, 2.5], 0.3, [0.2, 0.6, 0.95], width=256, depth=5, n_networks=30, seed=7
    )
    assert np.max(np.abs(run.z())) < 5, run.z()
    # layer 1: the inputs were built to give the chosen correlation, in expectation
    assert np.max(np.abs(run.c[:, 0] - [0.2, 0.6, 0.95])) < 0.05


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (("tanh", [1.3], 0.3, [1.5]), "c_first"),
        (("tanh", [1.3], 0.3, [-1.0]), "reachable"),  # the bias alone correlates the inputs
        (("tanh", [-1.3], 0.3, [0.5]), "sigma_w"),
        (("tanh", [1.3], -0.3, [0.5]), "sigma_b"),
    ],
)
def test_bad_arguments(args, match):
    with pytest.raises(ValueError, match=match):
        cs.simulate_correlations(*args, **KW)
