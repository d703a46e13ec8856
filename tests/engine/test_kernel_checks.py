"""What a simulated network records and when it stops, ``initmath.engine.kernel_checks``,
called one function at a time: each against the NumPy computation it stands for."""

from __future__ import annotations

import math

import numpy as np
import pytest

from initmath.engine import kernel_checks as kc
from initmath.engine.kernel_source import (
    AFTER_NAN,
    AFTER_OVERFLOW,
    EXPLODE,
    NAN,
    OK,
    OVERFLOW,
    TINY,
    UNDERFLOW,
)


def test_max_width():
    assert kc.max_width(np.array([3, 9, 2], dtype=np.int64)) == 9


@pytest.mark.parametrize(
    ("v", "nonzero", "code"),
    [
        (math.nan, False, NAN),
        (math.inf, False, OVERFLOW),
        (EXPLODE * 1.0000001, False, OVERFLOW),
        (EXPLODE, False, OK),
        (1.0, True, OK),
        (TINY, True, OK),
        (TINY / 2, False, UNDERFLOW),  # positive and tiny: always an underflow
        (0.0, True, UNDERFLOW),  # zero from values not all zero: lost digits
        (0.0, False, OK),  # zero from zeros
    ],
)
def test_classify(v, nonzero, code):
    assert kc.classify(v, nonzero) == code
    assert kc.blown_up(code) == (code in (OVERFLOW, NAN))


def _buffers(n_layers=4, nbins=8):
    q = np.full(n_layers, -1.0)
    status = np.full((3, n_layers), -1, dtype=np.int8)
    hist = np.zeros((3, n_layers, nbins), dtype=np.int64)
    return q, status, hist


def test_check_forward_records_q_and_marks_after_a_blow_up():
    q, status, _ = _buffers()
    z = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert kc.check_forward(z, 1, True, q, status) == OK
    assert q[1] == 7.5 and status[0, 1] == OK and (status[:, 2:] == -1).all()
    assert kc.check_forward(z * 1e80, 2, True, q, status) == OVERFLOW
    assert status[0, 2] == OVERFLOW and status[0, 3] == AFTER_OVERFLOW
    assert (status[1, 2:] == AFTER_OVERFLOW).all() and (status[2] == AFTER_OVERFLOW).all()
    assert status[0, 1] == OK  # earlier layers are left as they were


def test_check_activations_counts_histograms_and_stops_on_a_nan():
    q, status, hist = _buffers()
    mean = np.zeros(4)
    z = np.linspace(-3, 3, 12).reshape(6, 2)
    a = np.maximum(z, 0.0)
    ranges = np.array([[-2.0, 2.0], [0.0, 4.0], [-1.0, 1.0]])
    assert not kc.check_activations(z, a, a.sum(), 0, ranges, mean, status, hist)
    assert mean[0] == a.sum() / 12 and status[1, 0] == OK
    np.testing.assert_array_equal(hist[0, 0], np.histogram(z, 8, (-2.0, 2.0))[0])
    np.testing.assert_array_equal(hist[1, 0], np.histogram(a, 8, (0.0, 4.0))[0])
    a[0, 0] = math.nan
    assert kc.check_activations(z, a, math.nan, 1, ranges, mean, status, hist)
    assert status[1, 1] == NAN and (status[0, 2:] == AFTER_NAN).all()
    assert (status[1, 2:] == AFTER_NAN).all() and (status[2] == AFTER_NAN).all()


def test_check_gradient_undoes_the_scaling_and_marks_lower_layers():
    _, status, hist = _buffers()
    grad = np.zeros(4)
    ranges = np.array([[-1.0, 1.0]] * 3)
    delta = np.array([[0.5, -0.25], [0.75, 4.0]])  # the true gradient is delta / 4
    assert kc.check_gradient(delta, -2, 2, False, ranges, grad, status, hist) == OK
    assert grad[2] == np.mean(delta**2) / 16
    # bins are half-open, [lo, hi): the true 1.0 is not counted
    np.testing.assert_array_equal(hist[2, 2], np.histogram(delta[delta < 4] / 4, 8, (-1.0, 1.0))[0])
    assert kc.check_gradient(delta, 600, 3, False, ranges, grad, status, hist) == OVERFLOW
    assert status[2, 3] == OVERFLOW and (status[2, :3] == AFTER_OVERFLOW).all()
    assert kc.check_gradient(np.zeros((2, 2)), 0, 1, True, ranges, grad, status, hist) == UNDERFLOW


@pytest.mark.parametrize("big", [3.0, 1e-310, 1e305])  # the last two: the ldexp branch
def test_rescale_is_an_exact_power_of_two(big):
    delta = np.array([[big, -big / 3], [big / 7, 0.0]])
    before = delta.copy()
    shift = kc.rescale(delta, big, True)
    assert 0.5 <= abs(delta[0, 0]) < 1.0
    np.testing.assert_array_equal(delta, [[math.ldexp(v, -shift) for v in row] for row in before])
    for bad in (math.inf, 0.0):
        untouched = np.array([[bad, 1.0]])
        assert kc.rescale(untouched, abs(bad), not math.isinf(bad)) == 0
        assert untouched[0, 1] == 1.0
