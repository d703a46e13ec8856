"""What a simulated network draws, ``initmath.engine.kernel_draws``, called one function at a
time: each draw against the random streams it comes from."""

from __future__ import annotations

import numpy as np
import pytest

from initmath.engine import kernel_draws as kd
from initmath.engine import rng

SEED, STREAM = 77, 5
K0, K1 = rng.seed_key(SEED)
S = np.uint64(STREAM)


def test_even():
    assert [kd.even(n) for n in (0, 1, 2, 7)] == [0, 2, 2, 8]


def _draw(dist, shape, pos=6, scale=0.5, cut=2.0):
    w = np.empty(shape)
    end = kd.draw_weights(K0, K1, S, pos, dist, scale, cut, w)
    return w, end


@pytest.mark.parametrize("shape", [(3, 5), (4, 4)])
def test_normal_weights_are_the_ziggurat_normals_at_twice_the_word_position(shape):
    w, end = _draw(kd.NORMAL, shape)
    n = w.size
    np.testing.assert_array_equal(w.ravel(), rng.ziggurat_normals(SEED, STREAM, n, 12, std=0.5))
    assert end == 6 + kd.even((n + 1) // 2)  # two normals per word, pair-aligned


def test_uniform_weights_are_the_uniforms_scaled_to_the_interval():
    w, end = _draw(kd.UNIFORM, (3, 5))
    u = rng.uniforms(SEED, STREAM, 15, 6)
    np.testing.assert_array_equal(w.ravel(), (2.0 * u - 1.0) * 0.5)
    assert end == 6 + 16 and np.all(np.abs(w) < 0.5)


def test_truncated_weights_are_the_normals_within_the_cut_in_order():
    w, end = _draw(kd.TRUNCATED_NORMAL, (20, 30), cut=0.5)  # rejects most: several batches
    # batches of n + n/16 + 16 normals (pair-aligned), each at the next even word position
    n = w.size
    size, pos, kept = kd.even(n + n // 16 + 16), 6, []
    while len(kept) < n:
        z = rng.ziggurat_normals(SEED, STREAM, size, 2 * pos)
        kept.extend(z[np.abs(z) <= 0.5])
        pos += kd.even((size + 1) // 2)
    assert pos > 6 + 2 * kd.even((size + 1) // 2)  # three batches at least
    np.testing.assert_array_equal(w.ravel(), 0.5 * np.array(kept[:n]))
    assert end == pos


@pytest.mark.parametrize("shape", [(3, 7), (7, 3), (5, 5)])
def test_orthogonal_weights_are_orthonormal_times_the_gain(shape):
    w, end = _draw(kd.ORTHOGONAL, shape, scale=1.5)
    small = min(shape)
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, 2.25 * np.eye(small), atol=1e-12)
    again, _ = _draw(kd.ORTHOGONAL, shape, scale=1.5)
    np.testing.assert_array_equal(w, again)
    # the sign fix: Q's columns have the signs that make R's diagonal positive
    g = rng.ziggurat_normals(SEED, STREAM, w.size, 12).reshape(shape)
    q, r = np.linalg.qr(g if shape[0] >= shape[1] else g.T)
    expected = 1.5 * q * np.sign(np.diag(r))
    np.testing.assert_allclose(w if shape[0] >= shape[1] else w.T, expected, atol=1e-12)


def test_network_input_and_output_gradient_are_box_muller_normals():
    a, pos = kd.network_input(K0, K1, S, 3, 5, 2.0)
    np.testing.assert_array_equal(a.ravel(), 2.0 * rng.normals(SEED, STREAM, 15))
    assert pos == 16
    delta = kd.output_gradient(K0, K1, S, 40, 4, 3)
    np.testing.assert_array_equal(delta.ravel(), rng.normals(SEED, STREAM, 12, 40))


@pytest.mark.parametrize("bias_std", [0.0, 0.3])
def test_pre_activations_are_weights_times_inputs_plus_biases(bias_std):
    a = np.arange(12.0).reshape(4, 3) / 7
    z, end = kd.pre_activations(K0, K1, S, 10, kd.NORMAL, 0.5, 2.0, bias_std, a, 5)
    w, after_w = _draw(kd.NORMAL, (5, 4), pos=10)
    expected = w @ a
    if bias_std:
        expected = expected + bias_std * rng.normals(SEED, STREAM, 5, after_w)[:, None]
        assert end == after_w + kd.even(5)
    else:
        assert end == after_w
    np.testing.assert_allclose(z, expected, rtol=1e-15)


def test_pull_back_regenerates_the_weights():
    delta = np.linspace(-1, 1, 10).reshape(5, 2)
    w, _ = _draw(kd.UNIFORM, (5, 3), pos=20)
    back = kd.pull_back(K0, K1, S, 20, kd.UNIFORM, 0.5, 2.0, delta, 3)
    np.testing.assert_allclose(back, w.T @ delta, rtol=1e-15)
