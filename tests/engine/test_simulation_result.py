"""The result of a simulation (initmath.engine.simulation_result): z-scores against a
prediction, missing estimates, and what merge and estimate refuse."""

from __future__ import annotations

import math

import numpy as np
import pytest

import initmath


def test_z_is_the_one_z_score_of_a_result():
    widths = [32] * 4
    sim = initmath.simulate(widths, "relu", n_networks=50, seed=3, backward=True)
    q, g = initmath.predict(widths, "relu", backward=True)
    np.testing.assert_array_equal(sim.z(q), (sim.q - q) / sim.q_se)
    np.testing.assert_array_equal(sim.z(g, "grad"), (sim.grad_q - g) / sim.grad_q_se)
    assert sim.max_abs_z(q) == float(np.max(np.abs((sim.q - q) / sim.q_se)))
    with pytest.raises(ValueError, match="one per layer"):
        sim.z(q[:-1])
    with pytest.raises(ValueError, match="finite"):
        sim.z([np.nan] * 3)
    with pytest.raises(ValueError, match="not recorded"):
        initmath.simulate(widths, "relu", n_networks=4).z(q, "grad")
    with pytest.raises(ValueError, match="quantity"):
        sim.z(q, "nonsense")


def test_z_of_a_missing_estimate_is_nan_never_a_number():
    # exploding ReLU nets (std 10): later layers' estimates are inf, their z must be nan
    widths = [64] * 51
    sim = initmath.simulate(widths, "relu", scheme="fixed", std=10.0, n_networks=20)
    q, _ = initmath.predict(widths[:2], "relu", scheme="fixed", std=10.0)
    k = sim.exploded_at
    assert k is not None
    z = sim.z(np.ones(50))
    assert np.all(np.isnan(z[k - 1 :])) and np.all(np.isfinite(z[: k - 1]))
    assert math.isnan(sim.max_abs_z(np.ones(50)))


def test_merge_with_something_else_is_a_type_error():
    r = initmath.simulate([8, 8], "relu", n_networks=2, seed=0)
    with pytest.raises(TypeError, match="other must be a SimulationResult, got 42"):
        r.merge(42)
    with pytest.raises(ValueError, match="quantity"):
        r.estimate("grad2", 1)
    with pytest.raises(TypeError, match="layer"):
        r.estimate("q", 1.0)
