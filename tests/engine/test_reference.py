"""The plain NumPy reference (initmath.engine.reference) against the Numba engine: the two draw from
different random streams, so they must agree statistically, layer by layer, and both must
follow the infinite-width map where it holds exactly."""

from __future__ import annotations

import numpy as np
import pytest

import initmath
from initmath.engine.reference import (
    DEFAULT_MEMORY,
    REFERENCE_DISTRIBUTIONS,
    batch_size,
    simulate_numpy,
)

Z = 4.5  # two-sided tail of about 7e-6 per comparison for Gaussian estimates
N = 300


def _z(a: np.ndarray, se_a: np.ndarray, b: np.ndarray, se_b: np.ndarray) -> np.ndarray:
    return (a - b) / np.sqrt(se_a**2 + se_b**2)


@pytest.mark.parametrize(
    ("activation", "scheme", "distribution", "widths", "n_inputs", "bias_std"),
    [
        ("relu", "he", "normal", [64] * 7, 2, 0.0),
        ("tanh", "xavier", "normal", [48, 64, 80, 64, 48], 1, 0.1),
        ("linear", "lecun", "uniform", [64, 96, 32, 64], 3, 0.0),
    ],
)
def test_engine_and_reference_agree_layer_by_layer(
    activation, scheme, distribution, widths, n_inputs, bias_std
):
    kw = dict(
        scheme=scheme,
        distribution=distribution,
        n_inputs=n_inputs,
        bias_std=bias_std,
        n_networks=N,
        backward=True,
    )
    a = initmath.simulate(widths, activation, seed=101, **kw)
    b = simulate_numpy(widths, activation, seed=202, **kw)
    L = len(widths) - 1
    for key, est_a, se_a in (("q", a.q, a.q_se), ("grad_q", a.grad_q, a.grad_q_se)):
        assert b[key].shape == b[f"{key}_se"].shape == (L,)
        assert np.all(b[f"{key}_se"] > 0)
        z = _z(est_a, se_a, b[key], b[f"{key}_se"])
        assert np.all(np.abs(z) < Z), (key, z)


def test_both_follow_the_he_relu_map():
    # ReLU with He weights on unit Gaussian inputs: q = 2 at every layer, at any width.
    widths = [64] * 9
    a = initmath.simulate(widths, "relu", scheme="he", n_networks=N, n_inputs=2, seed=7)
    b = simulate_numpy(widths, "relu", scheme="he", n_networks=N, n_inputs=2, seed=8)
    assert np.all(np.abs(a.q - 2.0) / a.q_se < Z), a.q
    assert np.all(np.abs(b["q"] - 2.0) / b["q_se"] < Z), b["q"]


def test_a_seed_reproduces_and_the_batch_only_reorders_the_draws():
    widths = [32, 48, 32]
    kw = dict(n_networks=200, n_inputs=2, seed=5, backward=True)
    whole = simulate_numpy(widths, "tanh", batch=200, **kw)
    again = simulate_numpy(widths, "tanh", batch=200, **kw)
    for key in whole:
        np.testing.assert_array_equal(whole[key], again[key])
    split = simulate_numpy(widths, "tanh", batch=7, **kw)  # 29 batches, the last of 4
    assert not np.array_equal(split["q"], whole["q"])
    for key in ("q", "grad_q"):
        z = _z(whole[key], whole[f"{key}_se"], split[key], split[f"{key}_se"])
        assert np.all(np.abs(z) < Z), (key, z)


def test_uniform_weights_have_the_scheme_variance():
    # Linear network, one layer: E z^2 = n_in * var(w) * input_std^2, exactly the LeCun
    # variance 1/n_in times n_in = 1 for unit inputs.
    r = simulate_numpy(
        [256, 256],
        "linear",
        scheme="lecun",
        distribution="uniform",
        n_networks=400,
        n_inputs=4,
        seed=3,
    )
    assert abs(r["q"][0] - 1.0) < Z * r["q_se"][0]


def test_batch_size_respects_the_budget():
    widths = [128] * 11
    b = batch_size(widths)
    per_network = (128 * 128 + 3 * 128) * 8
    assert b * per_network <= DEFAULT_MEMORY < (b + 1) * per_network
    assert batch_size(widths, backward=True) < b
    assert batch_size([10_000, 10_000], memory=1) == 1


@pytest.mark.parametrize("distribution", ["truncated_normal", "orthogonal"])
def test_unsupported_distributions_are_refused(distribution):
    assert distribution not in REFERENCE_DISTRIBUTIONS
    with pytest.raises(ValueError, match="distribution"):
        simulate_numpy([8, 8], "relu", distribution=distribution, n_networks=4)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        (dict(widths=[8]), ValueError),
        (dict(widths="88"), TypeError),
        (dict(n_networks=1), ValueError),
        (dict(n_inputs=0), ValueError),
        (dict(batch=0), ValueError),
        (dict(batch=2.0), TypeError),
        (dict(input_std=0.0), ValueError),
        (dict(bias_std=-1.0), ValueError),
        (dict(backward=1), TypeError),
        (dict(scheme="nope"), ValueError),
    ],
)
def test_bad_arguments(kwargs, error):
    args = dict(widths=[8, 8], activation="relu", n_networks=4)
    args.update(kwargs)
    with pytest.raises(error):
        simulate_numpy(args.pop("widths"), args.pop("activation"), **args)
