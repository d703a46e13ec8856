"""Convolutional networks (:class:`initmath.Conv`): the description and its geometry, the
kernels' and the reference's convolutions against PyTorch's, and the engine against the
position-wise maps, forward and backward."""

from __future__ import annotations

import math

import numpy as np
import pytest

import initmath
from initmath import Conv, Network
from initmath.engine.convolution import conv_output_shape
from initmath.engine.jacobian import jacobian_spectrum
from initmath.engine.kernel_convs import conv_adjoint, conv_forward
from initmath.engine.reference import simulate_numpy
from initmath.engine.reference_convs import conv_apply, conv_apply_adjoint
from initmath.practice.positional import positional_profile
from initmath.practice.training import network as training_network
from initmath.practice.verification import predict
from initmath.theory import convolution as tc

Z = 4.0

#: Layers of every kind, in 1-D and 2-D: (input shape, Conv).
LAYERS = [
    ((3, 9, 7), Conv(4, 3)),
    ((3, 9, 7), Conv(4, 3, padding_mode="circular")),
    ((4, 9, 8), Conv(6, (3, 2), stride=(2, 1), padding=(1, 0), groups=2)),
    ((4, 10, 10), Conv(4, 5, stride=2, groups=4)),  # depthwise
    ((4, 8, 8), Conv(6, 3, stride=2, padding_mode="circular", groups=2)),
    ((4, 11), Conv(6, 3, stride=2)),
    ((4, 11), Conv(2, 4, padding=2, padding_mode="circular")),
    ((4, 5, 6), Conv(6, 3, stride=2, transposed=True, output_padding=1, groups=2)),
    ((3, 7), Conv(5, 4, stride=3, padding=1, transposed=True)),
]


def _torch_apply(torch, in_shape, conv, layer, w, x, transposed_adjoint=False):
    """PyTorch's convolution of one input x (units,) with weight w (layer.shape)."""
    F = torch.nn.functional
    d = len(in_shape) - 1
    t = torch.from_numpy(x.reshape(1, *in_shape))
    wt = torch.from_numpy(w)
    kw = dict(stride=layer.stride, groups=conv.groups)
    if conv.transposed:
        fn = F.conv_transpose1d if d == 1 else F.conv_transpose2d
        return fn(t, wt, padding=layer.padding, output_padding=layer.output_padding, **kw)
    fn = F.conv1d if d == 1 else F.conv2d
    if conv.padding_mode == "circular":
        pads = tuple(p for p in reversed(layer.padding) for _ in range(2))
        return fn(F.pad(t, pads, mode="circular"), wt, **kw)
    return fn(t, wt, padding=layer.padding, **kw)


# --- the description --------------------------------------------------------------------
@pytest.mark.parametrize(("in_shape", "conv"), LAYERS)
def test_output_shapes_and_weights_are_pytorchs(in_shape, conv):
    torch = pytest.importorskip("torch")
    net = Network([in_shape, conv], "relu")
    layer = net.layers[0]
    d = len(in_shape) - 1
    cls = {
        (1, False): torch.nn.Conv1d,
        (2, False): torch.nn.Conv2d,
        (1, True): torch.nn.ConvTranspose1d,
        (2, True): torch.nn.ConvTranspose2d,
    }[(d, conv.transposed)]
    kw = dict(stride=layer.stride, padding=layer.padding, groups=conv.groups)
    if conv.transposed:
        kw["output_padding"] = layer.output_padding
    else:
        kw["padding_mode"] = conv.padding_mode
    module = cls(in_shape[0], conv.channels, layer.kernel, **kw)
    out = module(torch.zeros(1, *in_shape))
    assert tuple(out.shape[1:]) == layer.out_shape == conv_output_shape(in_shape, conv)
    assert tuple(module.weight.shape) == layer.shape
    assert net.widths == (math.prod(in_shape), math.prod(layer.out_shape))


def test_architecture_shapes_repr_and_replace():
    net = Network([(3, 16, 16), Conv(32, 3), Conv(64, 3, stride=2), 10], "relu", bias_std=0.1)
    assert net.shapes == ((3, 16, 16), (32, 16, 16), (64, 8, 8), (10,))
    assert net.widths == (768, 8192, 4096, 10)
    assert net.convolutional and not Network([4, 4], "relu").convolutional
    assert repr(net) == (
        "Network([(3, 16, 16), Conv(32, 3), Conv(64, 3, stride=2), 10], 'relu', bias_std=0.1)"
    )
    assert eval(repr(net), {"Network": Network, "Conv": Conv}) == net  # noqa: S307
    assert net.replace(scheme="lecun").architecture == net.architecture
    # He on a convolution: 2 / (C_in k^2)
    assert net.layers[1].variance == pytest.approx(2 / (32 * 9), rel=1e-15)
    assert net.layers[1].sigma_w2 == pytest.approx(2.0, rel=1e-15)
    with pytest.raises(ValueError, match="fully connected stacks only"):
        net.require_plain("training")
    square = Network([(4, 6, 6), *[Conv(4, 3, padding_mode="circular")] * 3], "tanh")
    with pytest.raises(ValueError, match="initmath.engine.jacobian takes fully connected"):
        jacobian_spectrum(square, n_networks=2)
    with pytest.raises(ValueError, match="takes fully connected stacks only"):
        training_network(square)


def test_fan_conventions_of_grouped_and_transposed_layers():
    # fan_out mode: the true fan-out of a grouped layer is C_out k^2 / G, PyTorch's C_out k^2
    arch = [(8, 6, 6), Conv(8, 3, groups=4)]
    true = Network(arch, "relu", mode="fan_out").layers[0]
    torch_like = Network(arch, "relu", mode="fan_out", fan_convention="framework").layers[0]
    assert true.variance == pytest.approx(2 / (8 * 9 / 4), rel=1e-15)
    assert torch_like.variance == pytest.approx(2 / (8 * 9), rel=1e-15)
    # transposed, PyTorch reads (C_in, C_out/G, k): fan_in C_out k / G instead of C_in k / s
    t = [(8, 10), Conv(4, 4, stride=2, padding=1, transposed=True)]
    assert Network(t, "relu").layers[0].variance == pytest.approx(2 / (8 * 4 / 2), rel=1e-15)
    assert Network(t, "relu", fan_convention="framework").layers[0].variance == pytest.approx(
        2 / (4 * 4), rel=1e-15
    )


@pytest.mark.parametrize(
    ("arch", "error", "fragment"),
    [
        ([(3, 4, 4), Conv(8, 7, padding=0)], ValueError, "kernel=7 is larger than the input"),
        ([(3, 4, 4), Conv(8, 3, groups=2)], ValueError, "groups=2 must divide the input"),
        ([(3, 4, 4), Conv(9, 3, groups=3)], None, None),
        ([(6, 4, 4), Conv(8, 3, groups=4)], ValueError, "groups=4 must divide the input"),
        ([(3, 4, 4), Conv(6, 3, groups=2)], ValueError, "must divide the input channels"),
        ([(3, 4, 4), Conv(8, (3,))], None, None),
        ([(3, 4), Conv(8, (3, 3))], ValueError, "has 2 entries for an input of 1"),
        ([(3, 4, 4), 5, Conv(8, 3)], ValueError, "Conv after a dense layer"),
        ([(3, 4, 4), "conv"], TypeError, "must be a Conv or an int"),
        ([(3, 4, 4)], ValueError, "has no layer"),
        ([(3,), Conv(2)], ValueError, r"\(C, H\) or \(C, H, W\)"),
        ([(3, 4, 4, 4), Conv(2)], ValueError, r"\(C, H\) or \(C, H, W\)"),
        ([(3, 0, 4), Conv(2)], ValueError, "must be >= 1"),
        ([(3, 4, 4), Conv(2, 3, padding=5, padding_mode="circular")], ValueError, "exceeds"),
        ([(3, 4), Conv(2, 3, padding=4, transposed=True)], ValueError, "leaves no output"),
    ],
)
def test_bad_architectures_are_refused_before_anything_runs(arch, error, fragment):
    if error is None:
        Network(arch, "relu")
        return
    with pytest.raises(error, match=fragment):
        initmath.simulate(arch, "relu", n_networks=2)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        (dict(channels=0), ValueError, "channels must be >= 1"),
        (dict(channels=4, stride=0), ValueError, "stride must be >= 1"),
        (dict(channels=4, kernel=0), ValueError, "kernel must be >= 1"),
        (dict(channels=4, kernel=2.0), TypeError, "kernel must be an integer"),
        (dict(channels=4, padding=-1), ValueError, "padding must be >= 0"),
        (dict(channels=4, padding_mode="reflect"), ValueError, "padding_mode"),
        (dict(channels=4, transposed=1), TypeError, "transposed must be True or False"),
        (dict(channels=4, transposed=True, padding_mode="circular"), ValueError, "zeros only"),
        (dict(channels=4, output_padding=1), ValueError, "transposed convolutions only"),
        (dict(channels=6, groups=4), ValueError, "groups=4 must divide"),
        (dict(channels=4, kernel=(3, 3, 3)), ValueError, "a tuple of 1 or 2"),
    ],
)
def test_bad_conv_parameters(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        Conv(**kwargs)


def test_output_padding_must_be_below_the_stride():
    with pytest.raises(ValueError, match="smaller than the stride"):
        Network([(2, 5), Conv(2, 3, stride=2, transposed=True, output_padding=2)], "relu")


def test_batch_norm_of_convolutions_is_refused():
    with pytest.raises(ValueError, match="BatchNorm2d"):
        Network([(2, 5, 5), Conv(4, 3)], "relu", norm="batch")


# --- geometry ---------------------------------------------------------------------------
@pytest.mark.parametrize(("in_shape", "conv"), LAYERS)
def test_incidence_counts_the_taps(in_shape, conv):
    layer = Network([in_shape, conv], "relu").layers[0]
    a, c_fwd, c_bwd = layer.incidence()
    taps = math.prod(layer.kernel)
    p_out, p_in = math.prod(layer.out_shape[1:]), math.prod(layer.in_shape[1:])
    assert a.shape == (p_out, p_in)
    ordinary = a.T if conv.transposed else a
    if conv.padding_mode == "circular":
        np.testing.assert_array_equal(ordinary.sum(axis=1), taps)
    assert ordinary.sum(axis=1).max() <= taps
    # a transposed layer's mean taps per output is its average fan-in over channels
    if conv.transposed:
        assert c_fwd == in_shape[0] // conv.groups and c_bwd == conv.channels // conv.groups


@pytest.mark.parametrize(("size", "k"), [(16, 3), (5, 3), (9, 5), (7, 7)])
def test_zero_padding_tap_total_is_the_derived_one(size, k):
    r = (k - 1) // 2
    layer = Network([(1, size, size), Conv(1, k)], "relu").layers[0]
    a, _, _ = layer.incidence()
    total = tc.tap_total().subs({tc.SIZE: size, tc.RADIUS: r})
    assert int(total) ** 2 == a.sum()  # two axes
    factor = tc.zero_padding_factor(2).subs({tc.SIZE: size, tc.RADIUS: r})
    assert float(factor) == pytest.approx(a.sum() / (k * k * size * size), rel=1e-15)
    # the derived closed form, kH - r(r + 1)
    assert (
        tc.tap_total() - ((2 * tc.RADIUS + 1) * tc.SIZE - tc.RADIUS * (tc.RADIUS + 1))
    ).expand() == 0


# --- the convolutions, against PyTorch's --------------------------------------------------
@pytest.mark.parametrize(("in_shape", "conv"), LAYERS)
def test_kernel_and_reference_convolutions_are_pytorchs(in_shape, conv):
    torch = pytest.importorskip("torch")
    layer = Network([in_shape, conv], "relu").layers[0]
    rng = np.random.default_rng(3)
    w = rng.standard_normal(layer.shape)
    x = rng.standard_normal((layer.n_in, 2))
    expected = np.stack(
        [_torch_apply(torch, in_shape, conv, layer, w, x[:, s]).numpy().ravel() for s in range(2)],
        axis=1,
    )
    geom = layer.geometry()
    wm = np.ascontiguousarray(w.reshape(layer.matrix))
    ours = conv_forward(wm, x, geom) if not conv.transposed else conv_adjoint(wm, x, geom)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)
    ref = conv_apply(layer, w[None], x[None])[0]
    np.testing.assert_allclose(ref, expected, rtol=1e-12, atol=1e-12)
    # the backward pass is the adjoint: <W x, d> = <x, W^T d>, in both implementations
    d = rng.standard_normal((layer.n_out, 2))
    back = conv_adjoint(wm, d, geom) if not conv.transposed else conv_forward(wm, d, geom)
    assert np.sum(expected * d) == pytest.approx(np.sum(x * back), rel=1e-12)
    np.testing.assert_allclose(conv_apply_adjoint(layer, w[None], d[None])[0], back, rtol=1e-12)


# --- the engine ---------------------------------------------------------------------------
MIXED = [
    [(3, 12, 12), Conv(8, 3), Conv(8, 3, stride=2), Conv(6, 3, padding_mode="circular"), 5],
    [
        (4, 12),
        Conv(8, 3, stride=2, transposed=True, groups=2, output_padding=1),
        Conv(8, 5, groups=4, padding=1),
        Conv(6, 3, stride=2),
    ],
    [
        (2, 7, 5),
        Conv(4, (3, 2), stride=(2, 1), groups=2, padding=(1, 0)),
        Conv(6, 3, transposed=True, stride=2),
        5,
    ],
]


@pytest.mark.parametrize("arch", MIXED)
def test_relu_engine_agrees_with_the_positional_maps_at_small_width(arch):
    """ReLU's forward map is linear in q, so the position-wise map is exact at any width:
    these networks have 2 to 8 channels."""
    net = Network(arch, "relu", bias_std=0.3)
    r = initmath.simulate(net, n_networks=3000, n_inputs=2, backward=True, seed=4)
    q, g = predict(net, backward=True)
    assert np.all(np.abs(r.z(q)) < Z)
    assert np.all(np.abs((r.grad_q - g) / r.grad_q_se) < Z)


def test_tanh_engine_agrees_with_the_positional_maps_at_large_fan_in():
    """tanh through depth, zero padding, fan-in 64 * 9 = 576: the finite-width correction,
    O(1/fan-in), is below the standard error of 500 networks (about 0.15%)."""
    arch = [(64, 6, 6), *[Conv(64, 3) for _ in range(4)]]
    net = Network(arch, "tanh", scheme="lecun", bias_std=0.2)
    r = initmath.simulate(net, n_networks=500, backward=True, seed=2)
    q, g = predict(net, backward=True)
    assert np.all(np.abs(r.z(q)) < Z)
    assert np.all(np.abs((r.grad_q - g) / r.grad_q_se) < Z)


def test_circular_convolutions_follow_the_fully_connected_map_at_equal_fan_in():
    arch = [(64, 6, 6), *[Conv(64, 3, padding_mode="circular") for _ in range(4)]]
    net = Network(arch, "tanh", scheme="lecun", bias_std=0.2)
    dense = Network([64 * 9] * 5, "tanh", scheme="lecun", bias_std=0.2)
    q_dense, g_dense = predict(dense, backward=True)
    q, g = predict(net, backward=True)
    np.testing.assert_allclose(q, q_dense, rtol=1e-12)
    np.testing.assert_allclose(g, g_dense, rtol=1e-12)
    r = initmath.simulate(net, n_networks=500, seed=5)
    assert np.all(np.abs(r.z(q_dense)) < Z)


def test_zero_padding_correction_agrees_with_simulation():
    """First layer: sigma_w^2 q0 (1 - r(r+1)/(kH))^2, exact at any width (a linear layer);
    deeper, the positional map; the uncorrected fully connected map is rejected."""
    net = Network([(16, 8, 8), *[Conv(16, 3) for _ in range(5)]], "relu")
    r = initmath.simulate(net, n_networks=2000, seed=6)
    first = float(
        tc.zero_padding_first_layer(2).subs({tc.SIGMA_W2: 2, tc.Q0: 1, tc.SIZE: 8, tc.RADIUS: 1})
    )
    assert first == pytest.approx(2 * (1 - 2 / 24) ** 2, rel=1e-15)
    assert abs(r.q[0] - first) < Z * r.q_se[0]
    q, _ = predict(net)
    assert q[0] == pytest.approx(first, rel=1e-12)
    assert np.all(np.abs(r.z(q)) < Z)
    assert abs(r.z(np.full(5, 2.0))[-1]) > 10  # He's q = 2 is not what zero padding gives
    profile, _ = positional_profile(net)
    centre, corner = profile[-1].reshape(8, 8)[4, 4], profile[-1].reshape(8, 8)[0, 0]
    assert corner < centre


def test_engine_agrees_with_the_numpy_reference():
    net = Network(MIXED[0], "tanh", bias_std=0.3)
    r = initmath.simulate(net, n_networks=1500, n_inputs=2, backward=True, seed=7)
    ref = simulate_numpy(net, n_networks=1500, n_inputs=2, backward=True, seed=7)
    assert np.all(np.abs(r.q - ref["q"]) < Z * np.hypot(r.q_se, ref["q_se"]))
    assert np.all(np.abs(r.grad_q - ref["grad_q"]) < Z * np.hypot(r.grad_q_se, ref["grad_q_se"]))


@pytest.mark.parametrize("arch", MIXED)
def test_conv_runs_are_deterministic_for_any_thread_count_and_merge_exactly(arch):
    net = Network(arch, "relu", bias_std=0.1, distribution="uniform")
    one = initmath.simulate(net, n_networks=40, backward=True, seed=9, threads=1)
    two = initmath.simulate(net, n_networks=40, backward=True, seed=9, threads=2)
    np.testing.assert_array_equal(one.q, two.q)
    np.testing.assert_array_equal(one.grad_q, two.grad_q)
    a = initmath.simulate(net, n_networks=15, backward=True, seed=9)
    b = initmath.simulate(net, n_networks=25, backward=True, seed=9, first_network=15)
    merged = a.merge(b)
    np.testing.assert_allclose(merged.q, one.q, rtol=1e-14)
    np.testing.assert_allclose(merged.grad_q, one.grad_q, rtol=1e-14)


def test_orthogonal_conv_weights_have_orthonormal_rows():
    """Orthogonal conv weights are PyTorch's orthogonal_ of the (C_out, C_in k^2) matrix:
    a linear layer's output q is then g^2 q0 / max(rows, cols) * (taps in bounds)."""
    net = Network(
        [(8, 6, 6), Conv(8, 3, padding_mode="circular")],
        "linear",
        distribution="orthogonal",
        scheme="lecun",
    )
    r = initmath.simulate(net, n_networks=2000, seed=1)
    q, _ = predict(net)
    assert abs(r.z(q)[0]) < Z


def test_residual_convolutional_networks():
    stream = Conv(8, 3)
    arch = [(3, 8, 8), stream, stream, stream, stream, stream]
    net = Network(arch, "relu", residual=initmath.Residual(layers=2, alpha=0.7), bias_std=0.1)
    r = initmath.simulate(net, n_networks=2000, backward=True, seed=3)
    q, g = predict(net, backward=True)
    assert np.all(np.abs(r.z(q)) < Z)
    assert np.all(np.abs((r.grad_q - g) / r.grad_q_se) < Z)
    with pytest.raises(ValueError, match="shapes at the ends of residual blocks"):
        Network(
            [(3, 8, 8), Conv(8, 3), Conv(8, 3), Conv(32, 3, stride=2)],  # 8*8*8 = 32*4*4
            "relu",
            residual=initmath.Residual(layers=2),
        )
