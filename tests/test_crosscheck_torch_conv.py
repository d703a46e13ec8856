"""Convolutional networks built in PyTorch (``nn.Conv1d/2d``, ``nn.ConvTranspose2d``,
``nn.Linear``; a small CNN and a convolutional ResNet), with their weights drawn by
``initmath.init`` for the layers' PyTorch shapes, against ``initmath.simulate`` on the same
description: per-layer second moments of the pre-activations and of their gradients agree
within standard errors.

Skipped without PyTorch (``python3 dev.py test --crosscheck`` installs it).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import initmath
from initmath import Conv, Network, Residual, WeightShape

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.crosscheck

Z = 4.0


def _module(layer):
    """The PyTorch module of one initmath layer, in float64."""
    if not hasattr(layer, "kernel"):
        return nn.Linear(layer.n_in, layer.n_out, dtype=torch.float64)
    d = len(layer.kernel)
    kw = dict(stride=layer.stride, padding=layer.padding, groups=layer.groups, dtype=torch.float64)
    c_in, c_out = layer.in_shape[0], layer.out_shape[0]
    if layer.transposed:
        cls = nn.ConvTranspose1d if d == 1 else nn.ConvTranspose2d
        return cls(c_in, c_out, layer.kernel, output_padding=layer.output_padding, **kw)
    cls = nn.Conv1d if d == 1 else nn.Conv2d
    return cls(c_in, c_out, layer.kernel, padding_mode=layer.padding_mode, **kw)


class Stack(nn.Module):
    """The layers of a Network, ReLU between them, flattening before a dense layer, and
    (pre-activation) residual blocks; returns every layer's pre-activations."""

    def __init__(self, net):
        super().__init__()
        self.net = net
        self.mods = nn.ModuleList(_module(k) for k in net.layers)

    def forward(self, x):
        zs = []
        h = x
        for k, (mod, layer) in enumerate(zip(self.mods, self.net.layers, strict=True)):
            inp = h if k == 0 else torch.relu(zs[-1])
            if isinstance(mod, nn.Linear):
                inp = inp.flatten(1)
            z = mod(inp)
            if layer.skip is not None:
                z = zs[layer.skip - 1] + layer.alpha * z
            zs.append(z)
        return zs


def _weight_shape(layer):
    if not hasattr(layer, "kernel"):
        return layer.shape
    return WeightShape(
        layer.shape, groups=layer.groups, transposed=layer.transposed, stride=layer.stride
    )


def _torch_moments(net, n_networks, seed):
    rng = np.random.default_rng(seed)
    model = Stack(net)
    q = np.empty((n_networks, net.depth))
    g = np.empty((n_networks, net.depth))
    for i in range(n_networks):
        with torch.no_grad():
            for mod, layer in zip(model.mods, net.layers, strict=True):
                w = initmath.init(_weight_shape(layer), net.scheme, mode=net.mode, rng=rng)
                mod.weight.copy_(torch.from_numpy(np.asarray(w).reshape(layer.shape)))
                mod.bias.copy_(torch.from_numpy(rng.normal(0.0, net.bias_std, mod.bias.shape)))
        x = torch.from_numpy(rng.normal(0.0, net.input_std, (1, *net.shapes[0])))
        zs = model(x)
        for z in zs:
            z.retain_grad()
        zs[-1].backward(torch.from_numpy(rng.standard_normal(zs[-1].shape)))
        q[i] = [float((z.detach() ** 2).mean()) for z in zs]
        g[i] = [float((z.grad**2).mean()) for z in zs]
        model.zero_grad()
    se = lambda a: a.std(axis=0, ddof=1) / math.sqrt(n_networks)  # noqa: E731
    return q.mean(axis=0), se(q), g.mean(axis=0), se(g)


CNN = [
    (3, 10, 10),
    Conv(8, 3),
    Conv(16, 3, stride=2, padding_mode="circular"),
    Conv(16, 3, groups=16),  # depthwise
    Conv(8, 4, stride=2, padding=1, transposed=True),
    6,
]
RESNET = [(3, 8, 8), Conv(8, 3), Conv(8, 3), Conv(8, 3), Conv(8, 3), Conv(8, 3)]


@pytest.mark.parametrize(
    "net",
    [
        Network(CNN, "relu", scheme="he", bias_std=0.1),
        Network([(2, 12), Conv(6, 3), Conv(6, 5, stride=2, groups=3), 4], "relu", mode="fan_out"),
        Network(RESNET, "relu", residual=Residual(layers=2, alpha=0.6), bias_std=0.1),
    ],
    ids=["cnn", "cnn1d-fan-out", "resnet"],
)
def test_pytorch_convolutional_networks_agree_with_simulate(net):
    for layer in net.layers:  # initmath.init draws what the description says
        std = initmath.std(_weight_shape(layer), net.scheme, mode=net.mode)
        assert std**2 == pytest.approx(layer.variance, rel=1e-12)
    n = 400
    tq, tq_se, tg, tg_se = _torch_moments(net, n, seed=11)
    r = initmath.simulate(net, n_networks=n, backward=True, seed=5)
    assert np.all(np.abs(tq - r.q) < Z * np.hypot(tq_se, r.q_se)), (tq, r.q)
    assert np.all(np.abs(tg - r.grad_q) < Z * np.hypot(tg_se, r.grad_q_se)), (tg, r.grad_q)
