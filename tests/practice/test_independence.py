"""The gradient independence assumption (initmath.practice.independence): true
back-propagation against the engine, the independent copy against the mean-field recursion,
the cases where the two agree exactly, and the one where they do not."""

from __future__ import annotations

import numpy as np
import pytest

import initmath
from initmath.practice.independence import IndependenceRun, gradient_independence

# tanh on the chaotic side (Poole et al.'s sigma_w = 2.5, sigma_b = 0.3), width 4: the
# assumption fails there
SMALL = initmath.Network([4] * 5, "tanh", scheme="lecun", gain=2.5, bias_std=0.3)


@pytest.fixture(scope="module")
def small() -> IndependenceRun:
    return gradient_independence(SMALL, n_networks=40000, seed=3)


def test_true_backprop_matches_the_engine(small):
    sim = initmath.simulate(SMALL, n_networks=40000, seed=11, backward=True)
    z = (small.true - sim.grad_q) / np.hypot(small.true_se, sim.grad_q_se)
    assert np.all(np.abs(z[:-1]) < 4), z
    # the independent copy does not: the test tells the two apart
    z_ind = (small.independent - sim.grad_q) / np.hypot(small.independent_se, sim.grad_q_se)
    assert z_ind[0] > 3, z_ind


def test_the_assumption_overestimates_at_small_width(small):
    assert small.ratio[0] < -4 * small.ratio_se[0] < 0
    # one step below the injection both are exact: W^L is independent of z^(L-1)
    assert abs(small.z()[-2]) < 4
    # at the injected layer both are the same draw
    assert small.true[-1] == small.independent[-1] and small.ratio[-1] == 0.0


def test_the_difference_shrinks_with_width(small):
    wide = gradient_independence(SMALL.replace(widths=(64,) * 5), n_networks=1500, seed=4)
    assert abs(wide.ratio[0]) + 3 * wide.ratio_se[0] < abs(small.ratio[0])


def test_linear_networks_agree_exactly_in_law():
    # phi' = 1: the backward pass never sees the forward one, so the two are the same law
    run = gradient_independence([3] * 6, "linear", scheme="lecun", n_networks=20000, seed=5)
    assert np.all(np.abs(run.z()) < 4), run.z()


def test_independent_copy_follows_the_mean_field_recursion():
    # leaky ReLU, no bias: phi'(z)^2 is 1 or a^2 by the sign of z, and each sign has
    # probability 1/2 at any width (a weight row and its negative are equally likely,
    # whatever the layers above do with the magnitudes), so the recursion is exact for the
    # independent copy; with the leaky-ReLU gain it predicts 1 at every layer
    slope = ("leaky_relu", 0.2)
    net = initmath.Network([5] * 6, slope, scheme="he", gain=initmath.gain(*slope))
    run = gradient_independence(net, n_networks=20000, seed=6)
    pred = initmath.predict(net, backward=True)[1]
    np.testing.assert_allclose(pred, 1.0)
    z = (run.independent - pred) / run.independent_se
    assert np.all(np.abs(z[:-1]) < 4), z


def test_deterministic_for_a_seed():
    a = gradient_independence([3, 3, 3], "tanh", n_networks=50, seed=1)
    b = gradient_independence([3, 3, 3], "tanh", n_networks=50, seed=1)
    np.testing.assert_array_equal(a.true, b.true)
    np.testing.assert_array_equal(a.independent, b.independent)
    assert a.true.shape == a.ratio_se.shape == (2,)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(n_networks=1), ValueError, "n_networks"),
        (dict(n_networks=2.5), TypeError, "n_networks"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed="a"), TypeError, "seed"),
        (dict(distribution="uniform"), ValueError, "distribution"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        gradient_independence([3, 3], "tanh", **kwargs)


def test_overflow_is_an_error():
    with pytest.raises(ValueError, match="overflowed"):
        gradient_independence([50] * 40, "linear", scheme="fixed", std=1e3, n_networks=2)
