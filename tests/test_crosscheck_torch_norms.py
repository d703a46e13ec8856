"""Normalized networks built from PyTorch's ``LayerNorm`` and ``BatchNorm1d`` (training mode,
at initialization), with their weights from initmath, against ``initmath.simulate`` on the
same description: per-layer second moments forward and backward agree within standard
errors. Skipped without PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest

import initmath

torch = pytest.importorskip("torch")
nn = torch.nn
pytestmark = pytest.mark.crosscheck

Z = 4.0


def _torch_moments(net, n_networks, n_inputs, seed):
    rng = np.random.default_rng(seed)
    ws = net.widths
    linears = [nn.Linear(ws[k], ws[k + 1], dtype=torch.float64) for k in range(net.depth)]
    norms = [
        nn.LayerNorm(ws[k + 1], eps=net.norm_eps, dtype=torch.float64)
        if net.norm == "layer"
        else nn.BatchNorm1d(ws[k + 1], eps=net.norm_eps, dtype=torch.float64)
        for k in range(net.depth)
    ]
    q = np.empty((n_networks, net.depth))
    g = np.empty((n_networks, net.depth))
    for i in range(n_networks):
        with torch.no_grad():
            for linear, layer in zip(linears, net.layers, strict=True):
                w = initmath.init(layer.shape, "fixed", std=math.sqrt(layer.variance), rng=rng)
                linear.weight.copy_(torch.from_numpy(w))
                linear.bias.copy_(torch.from_numpy(rng.normal(0.0, net.bias_std, layer.n_out)))
        x = torch.from_numpy(rng.normal(0.0, net.input_std, (n_inputs, ws[0])))
        zs, h = [], x
        for k, (linear, norm) in enumerate(zip(linears, norms, strict=True)):
            z = norm(linear(h))  # (batch, units); BatchNorm1d in training mode: batch stats
            z.retain_grad()
            zs.append(z)
            h = torch.relu(z) if k < net.depth - 1 else z
        zs[-1].backward(torch.from_numpy(rng.standard_normal(zs[-1].shape)))
        q[i] = [float((z.detach() ** 2).mean()) for z in zs]
        g[i] = [float((z.grad**2).mean()) for z in zs]
        for m in (*linears, *norms):
            m.zero_grad()
    se = lambda a: a.std(axis=0, ddof=1) / math.sqrt(n_networks)  # noqa: E731
    return q.mean(axis=0), se(q), g.mean(axis=0), se(g)


@pytest.mark.parametrize("norm", ["layer", "batch"])
def test_pytorch_normalized_network_agrees_with_simulate(norm):
    net = initmath.Network([32] + [48] * 5, "relu", scheme="he", bias_std=0.1, norm=norm)
    q, q_se, g, g_se = _torch_moments(net, 300, n_inputs=6, seed=3)
    r = initmath.simulate(net, n_networks=1500, n_inputs=6, backward=True, seed=3)
    # normalized: q is exactly the mean of var / (var + eps) in both, hardly varying
    np.testing.assert_allclose(q, r.q, rtol=1e-4)
    zg = (g - r.grad_q) / np.hypot(g_se, r.grad_q_se)
    assert np.all(np.abs(zg) < Z), zg
