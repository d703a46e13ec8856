"""Deep linear stacks of grouped, strided, transposed and packed layers.

The true fans keep the second moment (forward with mode fan_in, backward with fan_out)
within its standard error; the frameworks' fans make it drift by exactly the predicted
factor per layer (a linear network with weights independent of the signal multiplies the
expected second moment by fan_true/fan_used at every layer).
"""

from __future__ import annotations

import numpy as np
import pytest

import initmath
from initmath.practice.layer_fans import default_block, fan_drift, layer_matrix, predicted_drift

Z = 4.5  # |z| bound per depth: 12 depths x 4 runs, P(any beyond) < 1e-3


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("convention", ["true", "framework"])
def test_stack_drifts_as_predicted(direction, convention):
    r = fan_drift(blocks=3, direction=direction, fan_convention=convention, networks=120)
    assert np.all(np.abs(r.z()) < Z), r.z()
    if convention == "true":
        np.testing.assert_array_equal(r.predicted, np.ones(12))
    else:
        # the drift is real: at the top the measurement is many standard errors from 1
        assert abs(r.mean[-1] - 1) > 20 * r.se[-1]


def test_predicted_factors_are_the_fan_ratios():
    # grouped (G=4), strided (s=2), transposed (s=2), packed (P=3): forward only the
    # transposed layer's fan_in is wrong (by s), backward all but the transposed fan_out
    assert predicted_drift(default_block(), "forward", "framework") == [1, 1, 0.5, 1]
    assert predicted_drift(default_block(), "backward", "framework") == [0.25, 0.5, 1, 1 / 3]
    assert predicted_drift(default_block(), "backward", "true") == [1, 1, 1, 1]


@pytest.mark.parametrize("ws", default_block(), ids=["grouped", "strided", "transposed", "packed"])
def test_matrix_has_the_true_fans(ws):
    # count the terms per output (row) and the outputs per input (column) of the layer's
    # dense matrix, built with weights that are never exactly zero
    w = np.random.default_rng(0).uniform(1.0, 2.0, ws.dims)
    m = layer_matrix(ws, w, 16)
    fan_in, fan_out = ws.true_fans()
    if ws.packed > 1:  # P rows summed into one: count the P matrices' terms separately
        fan_in_rows, fan_out_cols = ws.dims[1], ws.dims[0] // ws.packed
        assert np.all((m != 0).sum(axis=1) == fan_in_rows)
        assert np.all((m != 0).sum(axis=0) == fan_out_cols)
        return
    assert np.all((m != 0).sum(axis=1) == fan_in)
    assert np.all((m != 0).sum(axis=0) == fan_out)


def test_seeded():
    a = fan_drift(blocks=1, networks=6, seed=3)
    b = fan_drift(blocks=1, networks=6, seed=3)
    np.testing.assert_array_equal(a.mean, b.mean)
    assert not np.array_equal(a.mean, fan_drift(blocks=1, networks=6, seed=4).mean)


def test_bad_arguments():
    with pytest.raises(ValueError, match="direction"):
        fan_drift(direction="sideways")
    with pytest.raises(ValueError, match="fan_convention"):
        fan_drift(fan_convention="keras")
    with pytest.raises(TypeError, match="block"):
        fan_drift([(16, 16)])
    with pytest.raises(ValueError, match="restore"):
        fan_drift([initmath.WeightShape((16, 16, 4), stride=2)])
    with pytest.raises(ValueError, match="shape"):
        layer_matrix(initmath.WeightShape((4, 4, 3)), np.zeros((4, 4)), 8)
