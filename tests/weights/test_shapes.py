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


# -- fans of the layers the shape alone does not describe -------------------------------
# (layer, WeightShape arguments, true fans, framework fans): the true fans by counting, for
# an interior output, the terms summed into it, and for an input the outputs it feeds;
# the framework's from its rule (PyTorch _calculate_fan_in_and_fan_out: (dims[1]*rf,
# dims[0]*rf); Keras compute_fans: (dims[-2]*rf, dims[-1]*rf); JAX _compute_fans).
SPECIAL = [
    # Conv2d(32, 64, 3, groups=4): each output sees 8 channels x 9 taps, each input feeds
    # 16 output channels x 9 taps.
    ("grouped torch", dict(shape=(64, 8, 3, 3), groups=4), (72, 144), (72, 576)),
    ("grouped keras", dict(shape=(3, 3, 8, 64), layout="keras", groups=4), (72, 144), (72, 576)),
    # depthwise Conv2d(32, 32, 3, groups=32): 9 terms in, 9 outputs per input
    ("depthwise torch", dict(shape=(32, 1, 3, 3), groups=32), (9, 9), (9, 288)),
    # Keras DepthwiseConv2D(3, depth_multiplier=2) on 32 channels: kernel (3, 3, 32, 2)
    ("depthwise keras", dict(shape=(3, 3, 32, 2), layout="keras", depthwise=True), (9, 18),
     (288, 18)),
    # Conv1d(16, 16, 4, stride=2): each input feeds 16 channels x 4/2 positions
    ("strided", dict(shape=(16, 16, 4), stride=2), (64, 32), (64, 64)),
    ("strided 2-d", dict(shape=(8, 4, 4, 4), stride=(2, 1)), (64, 64), (64, 128)),
    # ConvTranspose1d(16, 32, 4, stride=2): weight (in=16, out=32, 4); each output gets
    # 16 channels x 2 taps, each input feeds 32 channels x 4 taps
    ("transposed torch", dict(shape=(16, 32, 4), transposed=True, stride=2), (32, 128),
     (128, 64)),
    # the same with groups=2: weight (16, 16, 4)
    ("transposed grouped", dict(shape=(16, 16, 4), transposed=True, stride=2, groups=2),
     (16, 64), (64, 64)),
    # Keras Conv1DTranspose(32, 4, strides=2) on 16 channels: kernel (4, 32, 16)
    ("transposed keras", dict(shape=(4, 32, 16), layout="keras", transposed=True, stride=2),
     (32, 128), (128, 64)),
    # jax.lax.conv_transpose, HWIO kernel (4, 16, 32), stride 2
    ("transposed jax", dict(shape=(4, 16, 32), layout="jax", transposed=True, stride=2),
     (32, 128), (64, 128)),
    # nn.MultiheadAttention(32, 4).in_proj_weight: three 32x32 projections
    ("packed qkv", dict(shape=(96, 32), packed=3), (32, 32), (32, 96)),
    # JAX explicit axes: (out=2, in=3, k=4, batch=5)
    ("jax axes", dict(shape=(2, 3, 4, 5), layout="jax", in_axis=1, out_axis=0, batch_axis=3),
     (12, 8), (12, 8)),
    ("jax axes tuple", dict(shape=(2, 3, 4, 5), layout="jax", in_axis=(1, 2), out_axis=0),
     (60, 10), (60, 10)),
]  # fmt: skip


@pytest.mark.parametrize(("layer", "kw", "true", "framework"), SPECIAL, ids=[s[0] for s in SPECIAL])
def test_fans_of_special_layers(layer, kw, true, framework):
    kw = dict(kw)
    shape = kw.pop("shape")
    assert initmath.fans(shape, **kw) == true
    assert initmath.fans(shape, **kw, convention="framework") == framework
    ws = initmath.WeightShape(shape, **kw)
    assert ws.fans() == true and ws.framework_fans() == framework


def test_fractional_true_fan():
    # Conv1d(4, 4, 3, stride=2): an input feeds 4 x 3/2 outputs on average
    assert initmath.fans((4, 4, 3), stride=2) == (12, 6.0)


def test_fans_of_small_shapes_follow_the_layout():
    assert initmath.fans((), "keras") == (1, 1)
    assert initmath.fans((7,), "keras") == (7, 7)
    for layout in ("torch", "jax"):
        with pytest.raises(ValueError, match="at least 2 dimensions"):
            initmath.fans((7,), layout)
    assert initmath.fans((0, 5)) == (5, 0)


@pytest.mark.parametrize(
    ("kw", "error", "match"),
    [
        (dict(shape=(64, 8, 3), groups=5), ValueError, "not divisible"),
        (dict(shape=(64, 8, 3), groups=0), ValueError, "groups"),
        (dict(shape=(64, 8, 3), groups=2.0), TypeError, "groups"),
        (dict(shape=(64, 8, 3), stride=(1, 2)), ValueError, "stride"),
        (dict(shape=(64, 8, 3), transposed=1), TypeError, "transposed"),
        (dict(shape=(64, 8, 3), in_axis=0), ValueError, "layout='jax'"),
        (dict(shape=(64, 8), layout="jax", in_axis=0, out_axis=0), ValueError, "overlap"),
        (dict(shape=(64, 8), layout="jax", in_axis=5), ValueError, "out of range"),
        (dict(shape=(64, 8, 3), depthwise=True), ValueError, "groups=in_channels"),
        (dict(shape=(96, 32), packed=3, transposed=True), ValueError, "packed"),
        (dict(shape=(64, 8), convention="pytorch"), ValueError, "convention"),
    ],
)
def test_fans_bad_layer_arguments(kw, error, match):
    kw = dict(kw)
    shape = kw.pop("shape")
    with pytest.raises(error, match=match):
        initmath.fans(shape, **kw)


def test_std_uses_the_true_fans():
    ws = initmath.WeightShape((64, 8, 3, 3), groups=4)
    assert initmath.std(ws, "he", mode="fan_out") == pytest.approx((2 / 144) ** 0.5, rel=1e-15)
    assert initmath.std(ws, "he", mode="fan_out", fan_convention="framework") == pytest.approx(
        (2 / 576) ** 0.5, rel=1e-15
    )
    # fan_geo_avg (JAX): sqrt(fan_in * fan_out)
    assert initmath.std((100, 400), "lecun", mode="fan_geo_avg") == pytest.approx(
        (1 / 200) ** 0.5, rel=1e-15
    )


def test_draws_without_fans_take_any_shape():
    assert initmath.init((0, 5), "he").shape == (0, 5)
    assert initmath.init((3, 0, 2), "xavier", distribution="orthogonal").shape == (3, 0, 2)
    assert initmath.init((), "fixed", rng=0).shape == ()
    b = initmath.init((1000,), "fixed", std=0.5, rng=0)
    assert b.shape == (1000,) and abs(b.std() / 0.5 - 1) < 0.1
    # fan-based on a 1-d shape: refused as PyTorch does, read as fans n as Keras does
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        initmath.init((5,), "he")
    assert initmath.std((5,), "he", layout="keras") == pytest.approx((2 / 5) ** 0.5)
    # Keras divides by max(1, fan): a 0-d weight has fans 1
    assert initmath.std((), "lecun", layout="keras") == 1.0


def test_zero_size_checks_its_arguments_first():
    with pytest.raises(ValueError, match="scheme"):
        initmath.init((0, 5), "hee")
    with pytest.raises(ValueError, match="mode"):
        initmath.init((0, 5), "he", mode="fan_sideways")
    with pytest.raises(ValueError, match="fan_in of shape"):
        initmath.std((5, 0), "he")
