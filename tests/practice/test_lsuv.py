"""LSUV (initmath.practice.lsuv): unit output variances, scaled orthogonal weights,
determinism, errors.

The forward passes here are written independently with NumPy (``np.tanh``, ``np.maximum``)
instead of the package's generated activations.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from initmath.practice.lsuv import LSUVResult, layer_variances, lsuv, lsuv_network
from initmath.practice.training import network

NUMPY_ACTS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}
WIDTHS = [32, 96, 64, 64, 48, 10]


def _batch(n: int, width: int, seed: int, draw: int = 0) -> np.ndarray:
    """Correlated, non-standardized inputs (LSUV must not rely on unit-variance data).

    ``seed`` fixes the distribution (the mixing matrix), ``draw`` the examples.
    """
    mix = np.random.default_rng(seed).standard_normal((width, width)) / math.sqrt(width)
    noise = np.random.default_rng([seed, draw]).standard_normal((n, width))
    return 3.0 * noise @ mix + 0.5


def _outputs(weights: list[np.ndarray], act: str, x: np.ndarray) -> list[np.ndarray]:
    h, zs = x.T, []
    for ell, w in enumerate(weights):
        z = w @ h
        zs.append(z)
        if ell < len(weights) - 1:
            h = NUMPY_ACTS[act](z)
    return zs


@pytest.mark.parametrize("act", ["tanh", "relu"])
@pytest.mark.parametrize("tol", [0.1, 1e-3])
def test_unit_variance_on_the_batch(act, tol):
    x = _batch(400, WIDTHS[0], seed=1)
    res = lsuv(WIDTHS, act, x, tol=tol, seed=3)
    assert isinstance(res, LSUVResult)
    variances = np.array([np.var(z) for z in _outputs(res.weights, act, x)])
    assert np.all(np.abs(variances - 1.0) < tol), variances
    np.testing.assert_allclose(res.variance_after, variances, rtol=1e-12)
    assert res.converged.all()
    # The inputs have variance ~9, so the plain orthogonal net is far from 1 at layer 1.
    assert abs(res.variance_init[0] - 1.0) > 1.0
    assert res.variance_before[0] == pytest.approx(res.variance_init[0], rel=1e-12)


@pytest.mark.parametrize("act", ["tanh", "relu"])
def test_unit_variance_on_a_fresh_batch(act):
    """On a new batch from the same distribution the variance is 1 up to sampling noise.

    The scales were fitted on batch 1 (variance exactly 1 up to rounding with tol=1e-9). On an
    independent batch 2 of B examples the fixed network's sample variance is
    V = A - C**2 with A, C the means over examples of a_b = mean_i z_ib**2 and
    c_b = mean_i z_ib; by the delta method sd(V) ~ sd(a_b - 2 C c_b) / sqrt(B), and
    batch 1's own V has the same spread, so V_2 - 1 has sd ~ sqrt(2) sd(V). Allow 5 sd.
    """
    b = 600
    res = lsuv(WIDTHS, act, _batch(b, WIDTHS[0], seed=10), tol=1e-9, seed=4)
    fresh = _batch(b, WIDTHS[0], seed=10, draw=1)  # same distribution, new examples
    for ell, z in enumerate(_outputs(res.weights, act, fresh)):
        a_b, c_b = (z**2).mean(axis=0), z.mean(axis=0)
        v = a_b.mean() - c_b.mean() ** 2
        sd = math.sqrt(2.0) * np.std(a_b - 2 * c_b.mean() * c_b, ddof=1) / math.sqrt(b)
        assert abs(v - 1.0) < 5 * sd, (ell + 1, v, sd)
        assert sd < 0.2  # the check is not vacuous


@pytest.mark.parametrize("widths", [[32, 96, 64, 64, 48, 10], [64, 16, 128, 8]])
def test_weights_are_scaled_orthogonal(widths):
    x = _batch(300, widths[0], seed=2)
    res = lsuv(widths, "tanh", x, seed=5)
    for w, s in zip(res.weights, res.scales, strict=True):
        n_out, n_in = w.shape
        gram = w @ w.T if n_out <= n_in else w.T @ w
        c = np.mean(np.diag(gram))
        np.testing.assert_allclose(gram / c, np.eye(gram.shape[0]), atol=1e-10)
        assert c == pytest.approx(s**2, rel=1e-10)  # orthonormal start, times the scale


def test_deterministic_for_a_seed_and_seed_matters():
    x = _batch(200, WIDTHS[0], seed=3)
    a, b, c = (lsuv(WIDTHS, "relu", x, seed=s) for s in (7, 7, 8))
    for wa, wb in zip(a.weights, b.weights, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.allclose(a.weights[0], c.weights[0])


def test_network_in_place_and_loop_steps():
    x = _batch(300, WIDTHS[0], seed=4)
    net = network(WIDTHS, "tanh", scheme="he", distribution="orthogonal", seed=2)
    original = [w.copy() for w in net.weights]
    res = lsuv_network(net, x, tol=0.1, max_iter=10)
    assert all(w is v for w, v in zip(res.weights, net.weights, strict=True))
    for w0, w, s in zip(original, net.weights, res.scales, strict=True):
        np.testing.assert_allclose(w, s * w0, rtol=1e-12)
    # A bias-free layer is linear in its weights: one step lands on 1 (up to rounding).
    needed = np.abs(res.variance_before - 1) >= 0.1
    np.testing.assert_array_equal(res.iterations, needed.astype(int))
    np.testing.assert_allclose(layer_variances(net, x), res.variance_after, rtol=1e-12)


def test_already_unit_variance_layer_is_untouched():
    net = network([4, 4], "linear", scheme="lecun", distribution="orthogonal", seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20000, 4))
    x = (x - x.mean(0)) / x.std(0)  # orthogonal W keeps the total variance: Var[z] ~ 1
    before = net.weights[0].copy()
    res = lsuv_network(net, x, tol=0.1)
    assert res.iterations[0] == 0 and res.scales[0] == 1.0
    np.testing.assert_array_equal(net.weights[0], before)


def test_max_iter_caps_the_steps():
    x = _batch(100, 8, seed=0)
    net = network([8, 8, 3], "relu", scheme="lecun", distribution="orthogonal", seed=0)
    res = lsuv_network(net, x, tol=1e-300, max_iter=1)  # an unreachable tolerance
    assert res.iterations.tolist() == [1, 1]


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"widths": [32]}, ValueError, "widths"),
        ({"widths": [32, 0, 4]}, ValueError, "widths"),
        ({"widths": [32, 4.5]}, TypeError, "widths"),
        ({"activation": "nope"}, ValueError, "nope"),
        ({"x": np.ones((10, 31))}, ValueError, r"shape \(batch, 32\)"),
        ({"x": np.ones((1, 32))}, ValueError, "at least 2"),
        ({"x": np.full((10, 32), np.nan)}, ValueError, "finite"),
        ({"x": np.array([["a"] * 32] * 4)}, TypeError, "real"),
        ({"x": np.zeros((10, 32))}, ValueError, "variance on the batch is 0"),
        ({"tol": 0.0}, ValueError, "tol"),
        ({"tol": float("nan")}, ValueError, "tol"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"max_iter": 2.0}, TypeError, "max_iter"),
        ({"seed": -1}, ValueError, "seed"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = {"widths": [32, 16, 4], "activation": "tanh", "x": _batch(20, 32, seed=0)}
    args.update(kwargs)
    widths, act, x = args.pop("widths"), args.pop("activation"), args.pop("x")
    with pytest.raises(exc, match=match):
        lsuv(widths, act, x, **args)


def test_network_argument_checked():
    with pytest.raises(TypeError, match="Model"):
        lsuv_network([np.eye(3)], np.ones((4, 3)))
    with pytest.raises(TypeError, match="Model"):
        layer_variances("net", np.ones((4, 3)))
