"""Bit-for-bit agreement with ``torch.nn.init`` where PyTorch is installed.

Each check reseeds PyTorch and redraws with the plain sampler (``normal_``/``uniform_``)
using initmath's number: if the numbers are equal, so are the tensors. Skipped without
PyTorch (``python3 dev.py test --crosscheck`` installs it from a local wheel, if any).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import initmath
from initmath.weights.distributions import orthogonalize

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.crosscheck

SHAPES = [(100, 300), (300, 100), (32, 16, 3), (64, 3, 5, 5), (2, 4, 3, 3, 3), (7, 1)]
NONLINEARITIES = [
    ("leaky_relu", 0.0),
    ("relu", 0.0),
    ("leaky_relu", 0.2),
    ("tanh", 0.0),
    ("selu", 0.0),
    ("sigmoid", 0.0),
    ("linear", 0.0),
    ("conv2d", 0.0),
]


def _activation(nonlinearity, a):
    return ("leaky_relu", a) if nonlinearity == "leaky_relu" else nonlinearity


def _same_draw(init_fn, redraw_fn, shape, seed=0):
    torch.manual_seed(seed)
    t = init_fn(torch.empty(shape, dtype=torch.float64))
    torch.manual_seed(seed)
    ref = redraw_fn(torch.empty(shape, dtype=torch.float64))
    np.testing.assert_array_equal(t.numpy(), ref.numpy())


@pytest.mark.parametrize("shape", SHAPES)
def test_fans(shape):
    t = torch.empty(shape)
    assert initmath.fans(shape) == nn.init._calculate_fan_in_and_fan_out(t)


def test_gain_table():
    for name in (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "selu",
    ):
        assert initmath.gain(name) == nn.init.calculate_gain(name), name
    for slope in (0.0, 0.01, 0.2, 1.0, 3.0):
        assert initmath.gain("leaky_relu", slope) == nn.init.calculate_gain("leaky_relu", slope)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize(("nonlinearity", "a"), NONLINEARITIES)
def test_kaiming(shape, mode, nonlinearity, a):
    act = _activation(nonlinearity, a)
    s = initmath.std(shape, "he", activation=act, mode=mode)
    b = initmath.bound(shape, "he", activation=act, mode=mode)
    _same_draw(
        lambda t: nn.init.kaiming_normal_(t, a=a, mode=mode, nonlinearity=nonlinearity),
        lambda t: t.normal_(0, s),
        shape,
    )
    _same_draw(
        lambda t: nn.init.kaiming_uniform_(t, a=a, mode=mode, nonlinearity=nonlinearity),
        lambda t: t.uniform_(-b, b),
        shape,
    )


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0), 5.0 / 3])
def test_xavier(shape, gain):
    s = initmath.std(shape, "xavier", gain=gain)
    b = initmath.bound(shape, "xavier", gain=gain)
    _same_draw(lambda t: nn.init.xavier_normal_(t, gain=gain), lambda t: t.normal_(0, s), shape)
    _same_draw(lambda t: nn.init.xavier_uniform_(t, gain=gain), lambda t: t.uniform_(-b, b), shape)


@pytest.mark.parametrize(
    "make", [lambda: nn.Linear(300, 100), lambda: nn.Conv2d(3, 64, 5), lambda: nn.Conv1d(16, 32, 3)]
)
def test_default_layer_init_is_standard(make):
    torch.manual_seed(1)
    layer = make().double()
    w = layer.weight.detach()
    b = initmath.bound(tuple(w.shape), "standard")
    torch.manual_seed(1)
    ref = torch.empty(w.shape, dtype=torch.float32).uniform_(-b, b).double()
    np.testing.assert_array_equal(w.numpy(), ref.numpy())


@pytest.mark.parametrize("shape", [(64, 256), (256, 64), (50, 50), (16, 8, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
def test_orthogonal(shape, gain):
    torch.manual_seed(2)
    w = nn.init.orthogonal_(torch.empty(shape, dtype=torch.float64), gain=gain)
    rows, cols = initmath.weights.shapes.matrix_shape(shape)
    torch.manual_seed(2)
    a = torch.empty((rows, cols), dtype=torch.float64).normal_(0, 1)
    ours = orthogonalize(a.numpy(), gain).reshape(shape)
    np.testing.assert_allclose(ours, w.numpy(), atol=1e-12)
    assert float(w.pow(2).mean()) == pytest.approx(
        initmath.std(shape, "he" if gain > 1 else "lecun", distribution="orthogonal") ** 2,
        rel=1e-12,
    )
