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


# -- fans of grouped, transposed and packed layers ---------------------------------------
LAYER_WEIGHTS = [
    ("Conv2d groups=4", lambda: nn.Conv2d(32, 64, 3, groups=4).weight, dict(groups=4)),
    ("depthwise Conv2d", lambda: nn.Conv2d(32, 32, 3, groups=32).weight, dict(groups=32)),
    (
        "ConvTranspose1d stride 2",
        lambda: nn.ConvTranspose1d(16, 32, 4, stride=2).weight,
        dict(transposed=True, stride=2),
    ),
    (
        "ConvTranspose2d groups 2",
        lambda: nn.ConvTranspose2d(16, 32, 3, groups=2).weight,
        dict(transposed=True, groups=2),
    ),
    ("MultiheadAttention", lambda: nn.MultiheadAttention(32, 4).in_proj_weight, dict(packed=3)),
]


@pytest.mark.parametrize(("layer", "make", "kw"), LAYER_WEIGHTS, ids=[c[0] for c in LAYER_WEIGHTS])
def test_framework_fans_are_pytorchs(layer, make, kw):
    w = make()
    shape = tuple(w.shape)
    ours = initmath.fans(shape, **kw, convention="framework")
    assert ours == nn.init._calculate_fan_in_and_fan_out(w)
    # and PyTorch's kaiming/xavier draw exactly initmath's framework-convention numbers
    ws = initmath.WeightShape(shape, **kw)
    s_in = initmath.std(ws, "he", mode="fan_in", fan_convention="framework")
    s_out = initmath.std(ws, "he", mode="fan_out", fan_convention="framework")
    b = initmath.bound(ws, "xavier", fan_convention="framework")
    _same_draw(lambda t: nn.init.kaiming_normal_(t), lambda t: t.normal_(0, s_in), shape)
    _same_draw(
        lambda t: nn.init.kaiming_normal_(t, mode="fan_out"), lambda t: t.normal_(0, s_out), shape
    )
    _same_draw(lambda t: nn.init.xavier_uniform_(t), lambda t: t.uniform_(-b, b), shape)


def _count(m, axis):
    return {int(c) for c in (m != 0).sum(axis=axis)}


def test_true_fans_count_pytorchs_jacobian():
    # The true fans are the numbers of nonzero entries per row / column of the layer's
    # Jacobian, here computed by PyTorch itself (interior positions only: zero padding
    # removes terms at the borders).
    from torch.func import jacrev

    cases = [
        (nn.Conv1d(32, 64, 3, groups=4, padding=1, bias=False), 32, dict(groups=4)),
        (nn.Conv1d(16, 16, 4, stride=2, padding=1, bias=False), 16, dict(stride=2)),
        (
            nn.ConvTranspose1d(16, 32, 4, stride=2, padding=1, bias=False),
            8,
            dict(transposed=True, stride=2),
        ),
        (
            nn.ConvTranspose1d(16, 32, 4, stride=2, groups=2, padding=1, bias=False),
            8,
            dict(transposed=True, stride=2, groups=2),
        ),
    ]
    for layer, length, kw in cases:
        layer = layer.double()
        with torch.no_grad():
            layer.weight.uniform_(1.0, 2.0)  # no entry exactly 0
        c_in = layer.in_channels
        x = torch.ones(1, c_in, length, dtype=torch.float64)
        jac = jacrev(layer)(x)[0]  # (c_out, t_out, 1, c_in, t_in)
        c_out, t_out = jac.shape[:2]
        j = jac.detach().reshape(c_out, t_out, c_in, length).numpy()
        interior_out = j[:, 2:-2].reshape(-1, c_in * length)
        interior_in = j[:, :, :, 2:-2].reshape(c_out * t_out, -1)
        fan_in, fan_out = initmath.fans(tuple(layer.weight.shape), **kw)
        assert _count(interior_out, 1) == {fan_in}, (layer, kw)
        assert _count(interior_in, 0) == {fan_out}, (layer, kw)


def test_layer_matrix_is_pytorchs_layer():
    from initmath.practice.layer_fans import layer_matrix

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(1, 16, 16, generator=gen, dtype=torch.float64)
    conv = nn.Conv1d(16, 16, 4, stride=2, padding=1, padding_mode="circular", bias=False)
    conv = conv.double()
    ws = initmath.WeightShape((16, 16, 4), stride=2)
    m = layer_matrix(ws, conv.weight.detach().numpy(), 16)
    np.testing.assert_allclose(m @ x.numpy().ravel(), conv(x).detach().numpy().ravel(), 1e-12)
    grouped = nn.Conv1d(16, 16, 3, groups=4, padding=1, padding_mode="circular", bias=False)
    grouped = grouped.double()
    m = layer_matrix(
        initmath.WeightShape((16, 4, 3), groups=4), grouped.weight.detach().numpy(), 16
    )
    np.testing.assert_allclose(m @ x.numpy().ravel(), grouped(x).detach().numpy().ravel(), 1e-12)
    # the transposed layer away from the borders (PyTorch has no circular ConvTranspose)
    tconv = nn.ConvTranspose1d(16, 16, 4, stride=2, padding=1, bias=False).double()
    xs = x[:, :, :8]
    ws = initmath.WeightShape((16, 16, 4), transposed=True, stride=2)
    m = layer_matrix(ws, tconv.weight.detach().numpy(), 8)
    ours = (m @ xs.numpy().ravel()).reshape(16, 16)
    np.testing.assert_allclose(ours[:, 2:-2], tconv(xs).detach().numpy()[0][:, 2:-2], 1e-12)


@pytest.mark.parametrize(
    "make", [lambda: nn.Linear(300, 100), lambda: nn.Conv2d(3, 64, 5), lambda: nn.Conv1d(16, 32, 3)]
)
def test_default_bias(make):
    from initmath.weights.samplers import bias

    torch.manual_seed(4)
    layer = make()
    w, b = layer.weight.detach(), layer.bias.detach()
    fan_in, _ = initmath.fans(tuple(w.shape))
    # PyTorch draws the weight, then the bias with bound 1/sqrt(fan_in): redraw both
    torch.manual_seed(4)
    torch.empty(w.shape).uniform_(-initmath.bound(tuple(w.shape), "standard"), 1.0)
    bound = 1 / math.sqrt(fan_in)
    ref = torch.empty(b.shape).uniform_(-bound, bound)
    np.testing.assert_array_equal(b.numpy(), ref.numpy())
    ours = bias(b.shape[0], fan_in, rng=0)
    assert float(np.abs(ours).max()) <= bound


@pytest.mark.parametrize(
    ("name", "module"),
    [("relu", "ReLU"), ("leaky_relu", "LeakyReLU"), ("elu", "ELU"), ("selu", "SELU")],
)
def test_derivatives_at_the_kink_are_pytorchs(name, module):
    """At exactly 0 (reached in ReLU networks with few inputs per unit, e.g. depthwise
    convolutions) the derivative is PyTorch's: the left branch's."""
    x = torch.tensor([-1.5, 0.0, 2.0], dtype=torch.float64, requires_grad=True)
    getattr(torch.nn, module)()(x).sum().backward()
    act = initmath.activation(name)
    np.testing.assert_allclose(
        act.numpy_derivative(np.array([-1.5, 0.0, 2.0])), x.grad.numpy(), rtol=1e-12
    )
