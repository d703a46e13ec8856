"""The residual connections of the kernels (initmath.engine.kernel_skips), one function at a
time, against NumPy."""

from __future__ import annotations

import math

import numpy as np

from initmath.engine.kernel_skips import (
    WAITING_NONE,
    add_pending,
    add_skip,
    has_skips,
    hold,
    scale_rows,
)


def test_has_skips():
    assert not has_skips(np.array([-1, -1], dtype=np.int64))
    assert has_skips(np.array([-1, -1, 0], dtype=np.int64))


def test_add_skip_is_alpha_z_plus_the_source():
    rng = np.random.default_rng(0)
    zs = rng.standard_normal((3, 4, 2))
    z = rng.standard_normal((4, 2))
    skip, alpha = np.array([-1, -1, 0], dtype=np.int64), np.array([1.0, 1.0, 0.25])
    expected = 0.25 * z + zs[0]
    assert add_skip(z, 2, skip, alpha, zs)
    np.testing.assert_array_equal(z, expected)
    before = z.copy()
    assert not add_skip(z, 1, skip, alpha, zs)
    np.testing.assert_array_equal(z, before)


def test_scale_rows():
    back = np.arange(6.0).reshape(3, 2)
    scale_rows(back, 0.5)
    np.testing.assert_array_equal(back, np.arange(6.0).reshape(3, 2) / 2)


def test_a_held_gradient_is_added_exactly_at_the_larger_exponent():
    rng = np.random.default_rng(1)
    skip = np.array([-1, -1, 0], dtype=np.int64)
    pending = np.zeros((3, 4, 2))
    pending_e = np.full(3, WAITING_NONE, dtype=np.int64)
    held = rng.standard_normal((4, 2))
    hold(held, 700, 2, skip, pending, pending_e)
    hold(held, 9, 1, skip, pending, pending_e)  # no skip: nothing held
    assert pending_e.tolist() == [700, WAITING_NONE, WAITING_NONE]
    delta = rng.standard_normal((4, 2))
    d0 = delta.copy()
    # delta * 2**-400 + held * 2**700: at the larger exponent, no overflow (2**1100 would)
    e, big, finite = add_pending(delta, -400, 1.0, True, 0, pending, pending_e)
    assert e == 700 and finite
    expected = np.ldexp(d0, -1100) + held
    np.testing.assert_array_equal(delta, expected)
    assert big == np.abs(expected).max()
    # nothing waits for layer 1: unchanged
    e2 = add_pending(delta, 3, 0.5, False, 1, pending, pending_e)
    assert e2 == (3, 0.5, False)
    np.testing.assert_array_equal(delta, expected)


def test_a_non_finite_sum_is_reported():
    skip = np.array([-1, 0], dtype=np.int64)
    pending = np.zeros((2, 1, 1))
    pending_e = np.full(2, WAITING_NONE, dtype=np.int64)
    hold(np.array([[math.inf]]), 0, 1, skip, pending, pending_e)
    delta = np.array([[1.0]])
    _, _, finite = add_pending(delta, 0, 1.0, True, 0, pending, pending_e)
    assert not finite and delta[0, 0] == math.inf
