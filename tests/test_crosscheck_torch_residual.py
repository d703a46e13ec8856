"""Residual networks built in PyTorch, with their weights from initmath, against
``initmath.simulate`` on the same description: per-layer second moments of the
pre-activations and of their gradients agree within standard errors.

Skipped without PyTorch (``python3 dev.py test --crosscheck`` installs it from a local
wheel, if any).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import initmath

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.crosscheck

Z = 4.0


class ResidualMLP(nn.Module):
    """PyTorch's own modules in the orderings of initmath.Residual: a stem ``Linear``, then
    blocks ``h + alpha * branch(h)`` with ``branch = Linear . ReLU . ... . Linear . ReLU``
    (``"pre"``), or ``relu(x + alpha * branch(x))`` with ``branch = Linear . ReLU ... Linear``
    on the activations ``x`` (``"post"``, the original ResNet). Returns every layer's
    pre-activations."""

    def __init__(self, net):
        super().__init__()
        m, ws = net.residual.layers, net.widths
        self.alpha, self.post = net.residual.alpha, net.residual.ordering == "post"
        self.linears = nn.ModuleList(
            nn.Linear(ws[k], ws[k + 1], dtype=torch.float64) for k in range(net.depth)
        )
        self.m = m

    def forward(self, x):
        z = self.linears[0](x)
        zs = [z]
        skip = torch.relu(z) if self.post else z
        for k in range(1, len(self.linears)):
            out = self.linears[k](torch.relu(zs[-1]))
            if (k - 1) % self.m == self.m - 1:  # the branch's last layer
                out = skip + self.alpha * out
                skip = torch.relu(out) if self.post else out
            zs.append(out)
        return zs


def _load(model, net, rng):
    """Weights and biases from initmath's samplers, as the description says."""
    with torch.no_grad():
        for linear, layer in zip(model.linears, net.layers, strict=True):
            w = initmath.init(layer.shape, "fixed", std=math.sqrt(layer.variance), rng=rng)
            linear.weight.copy_(torch.from_numpy(w))
            b = rng.normal(0.0, net.bias_std, layer.n_out)
            linear.bias.copy_(torch.from_numpy(b))


def _torch_moments(net, n_networks, seed):
    rng = np.random.default_rng(seed)
    model = ResidualMLP(net)
    q = np.empty((n_networks, net.depth))
    g = np.empty((n_networks, net.depth))
    for i in range(n_networks):
        _load(model, net, rng)
        x = torch.from_numpy(rng.normal(0.0, net.input_std, (1, net.widths[0])))
        zs = model(x)
        for z in zs:
            z.retain_grad()
        zs[-1].backward(torch.from_numpy(rng.standard_normal(zs[-1].shape)))
        q[i] = [float((z.detach() ** 2).mean()) for z in zs]
        g[i] = [float((z.grad**2).mean()) for z in zs]
        model.zero_grad()
    se = lambda a: a.std(axis=0, ddof=1) / math.sqrt(n_networks)  # noqa: E731
    return q.mean(axis=0), se(q), g.mean(axis=0), se(g)


@pytest.mark.parametrize(
    "residual",
    [
        initmath.Residual(layers=2, alpha=0.7),
        initmath.Residual(layers=3, alpha=1.0),
        initmath.Residual(layers=2, init="fixup"),
        initmath.Residual(layers=2, alpha=0.8, ordering="post"),
        initmath.Residual(layers=1, ordering="post"),
    ],
    ids=["m2-alpha0.7", "m3", "fixup", "post-m2", "post-m1"],
)
def test_pytorch_residual_network_agrees_with_simulate(residual):
    m = residual.layers
    net = initmath.Network(
        [48] + [64] * (1 + 3 * m), "relu", scheme="he", bias_std=0.1, residual=residual
    )
    q, q_se, g, g_se = _torch_moments(net, 400, seed=7)
    r = initmath.simulate(net, n_networks=2000, backward=True, seed=7)
    zq = (q - r.q) / np.hypot(q_se, r.q_se)
    assert np.all(np.abs(zq) < Z), zq
    # a Fixup branch's inner layers get no gradient at all, in both
    fixed = (g_se == 0) & (r.grad_q_se == 0)
    assert np.all(g[fixed] == 0.0) and np.all(r.grad_q[fixed] == 0.0)
    assert fixed.any() == (residual.init == "fixup")
    zg = (g - r.grad_q)[~fixed] / np.hypot(g_se, r.grad_q_se)[~fixed]
    assert np.all(np.abs(zg) < Z), zg
