"""Residual networks (:class:`initmath.Residual`): the description, the engine, the NumPy
reference and the predicted maps, forward and backward, through depth."""

from __future__ import annotations

import numpy as np
import pytest

import initmath
from initmath import Network, Residual
from initmath.engine.reference import simulate_numpy
from initmath.practice.verification import predict

Z = 4.0


def _net(width, blocks, m=2, activation="relu", **res):
    return Network([width] * (2 + blocks * m), activation, residual=Residual(layers=m, **res))


# --- the description --------------------------------------------------------------------
def test_skips_multipliers_and_fixup_scales():
    net = _net(32, 3, m=2, alpha=0.5)
    assert net.depth == 7 and net.blocks == 3
    assert [k.skip for k in net.layers] == [None, None, 1, None, 3, None, 5]
    assert [k.alpha for k in net.layers] == [1.0, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5]
    plain = Network([32] * 8, "relu")
    assert [k.variance for k in net.layers] == [k.variance for k in plain.layers]
    # Fixup, m = 3, B = 4: branch weights times B^(-1/(2m-2)) = 4^(-1/4), last layer zero
    fix = _net(32, 4, m=3, init="fixup")
    v = 2.0 / 32
    for k, layer in enumerate(fix.layers, start=1):
        if k == 1:
            assert layer.variance == v
        elif (k - 1) % 3 == 0:
            assert layer.variance == 0.0 and layer.scale == 0.0
        else:
            assert layer.variance == pytest.approx(v * 4 ** (-0.5), rel=1e-15)
    assert fix.replace(bias_std=0.1).residual == fix.residual
    assert "residual=Residual(layers=3" in repr(fix)


@pytest.mark.parametrize(
    ("kwargs", "error", "fragment"),
    [
        (dict(layers=0), ValueError, "layers must be >= 1"),
        (dict(layers=2.0), TypeError, "layers"),
        (dict(alpha="1"), TypeError, "alpha must be a real number"),
        (dict(alpha=float("inf")), ValueError, "alpha must be finite"),
        (dict(init="he"), ValueError, "unknown init 'he'"),
        (dict(layers=1, init="fixup"), ValueError, "at least 2 layers"),
        (dict(ordering="after"), ValueError, "unknown ordering 'after'"),
    ],
)
def test_bad_residual_parameters(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        Residual(**kwargs)


@pytest.mark.parametrize(
    ("widths", "fragment"),
    [
        (
            [16] * 7,
            "1 \\+ B\\*2 layers; got widths=\\[16, 16, 16, 16, 16, 16, 16\\] \\(6 layers\\)",
        ),
        ([16, 16], "1 \\+ B\\*2 layers"),
        ([16, 16, 8, 16, 16, 8], "widths\\[5\\]=8"),
    ],
)
def test_bad_residual_shapes_are_refused_before_anything_runs(widths, fragment):
    with pytest.raises(ValueError, match=fragment):
        Network(widths, "relu", residual=Residual())
    with pytest.raises(TypeError, match="residual must be None or a Residual"):
        Network([16] * 4, "relu", residual=2)


def test_consumers_of_plain_stacks_refuse_residual_networks():
    from initmath.practice.independence import gradient_independence
    from initmath.practice.training import network as training_network

    net = _net(16, 2)
    for call in (lambda: training_network(net), lambda: gradient_independence(net)):
        with pytest.raises(ValueError, match="plain stacks only.*Residual"):
            call()


# --- the predicted maps: closed forms ------------------------------------------------------
@pytest.mark.parametrize("m", [1, 2, 3])
@pytest.mark.parametrize("alpha", [0.0, 0.5, 1.0])
def test_he_relu_residual_maps_grow_by_one_plus_alpha_squared_per_block(m, alpha):
    # He/ReLU branches preserve q (sigma_w^2 M(q) = 2 * q/2), so a block end has
    # q_k = q_{k-1} (1 + alpha^2), and backward the stream's gradient grows by the same factor
    blocks = 5
    net = _net(64, blocks, m=m, alpha=alpha)
    q, g = predict(net, backward=True)
    ends = [m * k for k in range(blocks + 1)]  # 0-based: the stem and each block end
    np.testing.assert_allclose(q[ends], 2.0 * (1 + alpha**2) ** np.arange(blocks + 1), rtol=1e-13)
    np.testing.assert_allclose(g[ends], (1 + alpha**2) ** np.arange(blocks, -1, -1), rtol=1e-13)


def test_branch_scaling_one_over_sqrt_blocks_keeps_growth_below_e():
    for blocks in (4, 16, 64):
        q, _ = predict(_net(8, blocks, m=2, alpha=blocks**-0.5))
        assert q[-1] / q[0] == pytest.approx((1 + 1 / blocks) ** blocks, rel=1e-12)
        assert q[-1] / q[0] < np.e


# --- the engine against the maps, through depth ---------------------------------------------
# Forward, the finite-width correction is positive and O(B/n): measured +6% (se 0.7%) after
# 8 blocks of width 64 and +1.4% (se 0.7%) at width 256, in the engine and the NumPy
# reference alike. These checks (4 blocks of width 256, 1000 networks) put it at about 0.5
# of a standard error.
@pytest.mark.parametrize(
    ("activation", "m", "alpha", "bias_std", "ordering"),
    [
        ("relu", 2, 1.0, 0.0, "pre"),
        ("relu", 1, 0.7, 0.2, "pre"),
        ("relu", 3, 0.5, 0.0, "pre"),
        ("tanh", 2, 1.0, 0.1, "pre"),
        # post-activation: the block ends' law on a grid (theory.residual); its gradients'
        # finite-width correction is about +0.5% at width 256, so these run at width 512
        ("relu", 2, 0.7, 0.1, "post"),
        ("relu", 1, 1.0, 0.0, "post"),
        ("tanh", 2, 1.0, 0.1, "post"),
        ("selu", 3, 0.4, 0.0, "post"),
    ],
)
def test_engine_agrees_with_the_residual_maps(activation, m, alpha, bias_std, ordering):
    width, n = (256, 1000) if ordering == "pre" else (512, 500)
    net = _net(width, 4, m=m, activation=activation, alpha=alpha, ordering=ordering)
    net = net.replace(bias_std=bias_std)
    q, g = predict(net, backward=True)
    r = initmath.simulate(net, n_networks=n, backward=True, seed=21)
    assert np.all(np.abs(r.z(q)) < Z), r.z(q)
    zg = (r.grad_q - g) / r.grad_q_se
    assert np.all(np.abs(zg) < Z), zg


@pytest.mark.parametrize("ordering", ["pre", "post"])
def test_engine_agrees_with_the_numpy_reference(ordering):
    net = _net(128, 4, m=2, alpha=0.8, ordering=ordering)
    net = net.replace(bias_std=0.3, distribution="uniform")
    e = initmath.simulate(net, n_networks=1500, backward=True, seed=3)
    r = simulate_numpy(net, n_networks=1500, backward=True, seed=4)
    zq = (e.q - r["q"]) / np.hypot(e.q_se, r["q_se"])
    zg = (e.grad_q - r["grad_q"]) / np.hypot(e.grad_q_se, r["grad_q_se"])
    assert np.all(np.abs(zq) < Z) and np.all(np.abs(zg) < Z), (zq, zg)


def test_skipinit_and_fixup_blocks_are_exactly_the_identity_at_initialization():
    # alpha = 0 (SkipInit, ReZero) or a zero last layer (Fixup): every block end carries the
    # stem's pre-activations unchanged, bit for bit, the gradient reaches the stem intact, and
    # the layers inside the branches get no gradient through the pre-activations at all
    for net in (_net(32, 3, m=2, alpha=0.0), _net(32, 3, m=2, init="fixup")):
        r = initmath.simulate(net, n_networks=50, backward=True, seed=5)
        ends = [0, 2, 4, 6]
        assert np.all(r.q[ends] == r.q[0]), r.q
        assert np.all(r.grad_q[ends] == r.grad_q[-1]), r.grad_q
        assert np.all(r.grad_q[[1, 3, 5]] == 0.0), r.grad_q


@pytest.mark.parametrize("ordering", ["pre", "post"])
def test_residual_runs_are_deterministic_for_any_thread_count_and_merge_exactly(ordering):
    net = _net(48, 3, m=2, alpha=0.6, ordering=ordering).replace(bias_std=0.1)
    one = initmath.simulate(net, n_networks=60, backward=True, seed=9, threads=1)
    two = initmath.simulate(net, n_networks=60, backward=True, seed=9, threads=2)
    assert np.array_equal(one.q, two.q) and np.array_equal(one.grad_q, two.grad_q)
    a = initmath.simulate(net, n_networks=25, backward=True, seed=9)
    b = initmath.simulate(net, n_networks=35, backward=True, seed=9, first_network=25)
    merged = a.merge(b)
    np.testing.assert_allclose(merged.q, one.q, rtol=1e-14)
    np.testing.assert_allclose(merged.grad_q, one.grad_q, rtol=1e-14)
    with pytest.raises(ValueError, match="different configurations"):
        a.merge(initmath.simulate(net.replace(residual=None), n_networks=35, first_network=25))


def test_residual_explosions_are_reported_not_averaged():
    # alpha = 1e40: each block multiplies q by ~1e80, past 1e150 in the second block
    net = _net(16, 4, m=2, alpha=1e40)
    r = initmath.simulate(net, n_networks=20, backward=True, seed=1)
    assert r.exploded_at == 5  # the second block's end
    assert np.isfinite(r.q[:3]).all()


def test_post_activation_blocks_add_the_activations():
    # one block of one layer, by hand: z^2 = phi(z^1) + alpha (W^2 phi(z^1)), and the
    # prediction's first block end is E[phi(z1)^2] + alpha^2 sigma_w^2 E[phi(z1)^2]
    net = Network([64, 64, 64], "relu", residual=Residual(layers=1, alpha=0.5, ordering="post"))
    q, _ = predict(net)
    assert q[1] == pytest.approx(q[0] / 2 * (1 + 0.25 * 2), rel=1e-4)
    pre = Network([64, 64, 64], "relu", residual=Residual(layers=1, alpha=0.5))
    assert predict(pre)[0][1] == pytest.approx(q[0] * (1 + 0.25), rel=1e-12)
    with pytest.raises(ValueError, match="zero branch"):
        predict(_net(16, 2, alpha=0.0, ordering="post"))
