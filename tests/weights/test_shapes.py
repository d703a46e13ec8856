"""Fans in both layouts, checked against hand-worked layer shapes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import initmath
from initmath.weights.shapes import matrix_shape
from tests.strategies import layer_shapes, torch_to_keras

# (layer, torch shape, keras shape, fan_in, fan_out), worked out by hand from the layer's
# definition: fan_in = in_channels * prod(kernel), fan_out = out_channels * prod(kernel).
LAYERS = [
    ("Linear(300, 100)", (100, 300), (300, 100), 300, 100),
    ("Linear(1, 1)", (1, 1), (1, 1), 1, 1),
    ("Conv1d(16, 32, 3)", (32, 16, 3), (3, 16, 32), 48, 96),
    ("Conv2d(3, 64, 5)", (64, 3, 5, 5), (5, 5, 3, 64), 75, 1600),
    ("Conv2d(3, 8, (3, 5))", (8, 3, 3, 5), (3, 5, 3, 8), 45, 120),
    ("Conv3d(4, 2, 3)", (2, 4, 3, 3, 3), (3, 3, 3, 4, 2), 108, 54),
]


@pytest.mark.parametrize(("layer", "torch_shape", "keras_shape", "fan_in", "fan_out"), LAYERS)
def test_fans_known_layers(layer, torch_shape, keras_shape, fan_in, fan_out):
    assert initmath.fans(torch_shape, "torch") == (fan_in, fan_out)
    assert initmath.fans(keras_shape, "keras") == (fan_in, fan_out)
    assert initmath.fans(keras_shape, "jax") == (fan_in, fan_out)


def test_fans_default_layout_is_torch():
    assert initmath.fans((100, 300)) == (300, 100)


def test_fans_are_python_ints():
    fi, fo = initmath.fans(np.array([64, 3, 5, 5]))
    assert type(fi) is int and type(fo) is int


@given(layer_shapes())
def test_fans_agree_across_layouts(shape):
    assert initmath.fans(shape, "torch") == initmath.fans(torch_to_keras(shape), "keras")


@given(layer_shapes())
def test_fan_ratio_is_channel_ratio(shape):
    # The kernel multiplies both fans alike, so their ratio is out/in channels.
    fan_in, fan_out = initmath.fans(shape)
    assert fan_out * shape[1] == fan_in * shape[0]


def test_matrix_shape_layouts():
    assert matrix_shape((64, 3, 5, 5), "torch") == (64, 75)
    assert matrix_shape((5, 5, 3, 64), "keras") == (75, 64)
