"""The residual maps and the schemes' constants (initmath.theory.residual): exact SymPy
results, and the constants of the authors' reference code."""

from __future__ import annotations

import math

import pytest
import sympy as sp

import initmath
from initmath.theory import residual as r
from initmath.theory.derivations import (
    N_IN,
    N_OUT,
    Q_GRAD,
    SIGMA_B2,
    V,
    backward_map,
    forward_map,
)
from initmath.theory.moments import Q

B, M, ALPHA = r.BLOCKS, r.BRANCH_LAYERS, r.ALPHA


def test_the_maps_add_the_branch_to_the_skip():
    forward = r.residual_forward_map()
    assert sp.simplify(forward - (r.Q_STREAM + ALPHA**2 * forward_map())) == 0
    # ReLU: M(q) = q/2
    relu = r.residual_forward_map("relu")
    assert sp.simplify(relu - (r.Q_STREAM + ALPHA**2 * (N_IN * V * Q / 2 + SIGMA_B2))) == 0
    backward = r.residual_backward_map()
    assert sp.simplify(backward - (r.Q_GRAD_END + backward_map())) == 0
    relu_back = r.residual_backward_map("relu")  # D(q) = 1/2
    assert sp.simplify(relu_back - (r.Q_GRAD_END + N_OUT * V * Q_GRAD / 2)) == 0


def test_he_relu_blocks_grow_by_one_plus_alpha_squared():
    assert sp.simplify(r.he_relu_growth() - (1 + ALPHA**2) ** B) == 0
    # plain ResNet: doubling; from q_0 = 2 (He), past 1e150 at the end of block 498
    doubling = r.he_relu_growth().subs(ALPHA, 1)
    assert doubling.subs(B, 10) == 1024
    assert 2 * doubling.subs(B, 497) < 10**150 < 2 * doubling.subs(B, 498)


def test_branch_scaling_is_bounded_by_e():
    growth = r.branch_scaling_growth()
    assert sp.simplify(growth - (1 + 1 / B) ** B) == 0
    assert r.branch_scaling_growth(limit=True) == sp.E
    assert [float(growth.subs(B, b)) for b in (1, 2, 4)] == [2.0, 2.25, 1.25**4]


def test_fixup_scale_solves_its_condition():
    cond = r.fixup_condition()
    assert sp.simplify(cond.lhs - B * sp.Symbol("c", positive=True) ** (2 * M - 2)) == 0
    c = r.fixup_scale()
    for m in range(2, 7):
        assert sp.simplify(c.subs(M, m) - B ** sp.Rational(-1, 2 * m - 2)) == 0
        assert sp.simplify(cond.lhs.subs({M: m, sp.Symbol("c", positive=True): c.subs(M, m)})) == 1


def test_fixup_constants_are_those_of_the_authors_code():
    # hongyi-zhang/Fixup: cifar/models/fixup_resnet_cifar.py (basic blocks, m = 2) multiplies
    # He's std by num_layers ** (-0.5); imagenet/models/fixup_resnet_imagenet.py (bottleneck
    # blocks, m = 3) by num_layers ** (-0.25); num_layers is the number of residual blocks
    assert r.fixup_scale(2) == 1 / sp.sqrt(B)
    assert r.fixup_scale(3) == B ** sp.Rational(-1, 4)


@pytest.mark.parametrize(("m", "blocks"), [(2, 5), (3, 4), (4, 2)])
def test_the_network_description_uses_the_derived_fixup_scale(m, blocks):
    net = initmath.Network(
        [32] * (2 + m * blocks), "relu", residual=initmath.Residual(layers=m, init="fixup")
    )
    plain = initmath.Network([32] * (2 + m * blocks), "relu")
    c = float(r.fixup_scale(m).subs(B, blocks))
    assert net.layers[1].scale / plain.layers[1].scale == pytest.approx(c, rel=1e-14)
    assert net.layers[m].scale == 0.0  # the branch's last layer


@pytest.mark.parametrize(("layers", "error"), [(1, ValueError), (0, ValueError), ("2", TypeError)])
def test_fixup_scale_refuses_one_layer_branches(layers, error):
    with pytest.raises(error, match="layers"):
        r.fixup_scale(layers)


# --- post-activation blocks: the stream's law on a grid, against SciPy's quadrature --------
def _post(alpha, blocks, sw2=2.0, bias2=0.0, act="relu"):
    L = 1 + blocks  # a stem and one-layer blocks
    return r.post_activation_moments(
        initmath.activation(act),
        [sw2] * L,
        [sw2] * L,
        [1.0] + [alpha] * blocks,
        [-1] + list(range(blocks)),
        bias2,
        1.0,
        backward=True,
    )


def _gauss2(f, s1, s2):
    """E[f(g, u)], g ~ N(0, s1^2), u ~ N(0, s2^2) independent, by scipy.integrate.dblquad."""
    from scipy import integrate

    pdf = lambda x, s: math.exp(-0.5 * (x / s) ** 2) / (s * math.sqrt(2 * math.pi))  # noqa: E731
    val, _ = integrate.dblquad(
        lambda u, g: f(g, u) * pdf(g, s1) * pdf(u, s2),
        -12 * s1,
        12 * s1,
        -12 * s2,
        12 * s2,
        epsabs=1e-12,
        epsrel=1e-10,
    )
    return val


def test_post_activation_second_block_against_quadrature():
    alpha, sw2, bias2 = 0.8, 2.0, 0.05
    q, g = _post(alpha, 2, sw2, bias2)
    relu = lambda x: max(x, 0.0)  # noqa: E731
    q1 = sw2 + bias2
    qu1 = sw2 * q1 / 2 + bias2  # the first branch: W phi(z^1) + b
    assert q[1] == pytest.approx(q1 / 2 + alpha**2 * qu1, rel=1e-6)
    # the second branch's input is phi(z^2), z^2 = phi(z^1) + alpha u: not Gaussian
    e_phi2 = _gauss2(lambda a, u: relu(relu(a) + alpha * u) ** 2, math.sqrt(q1), math.sqrt(qu1))
    qu2 = sw2 * e_phi2 + bias2
    assert q[2] == pytest.approx(e_phi2 + alpha**2 * qu2, rel=2e-4)


def test_post_activation_gradient_follows_the_stream():
    # the skip's gradient passes phi'(z^e) and then phi'(z^s): both indicators of the same
    # unit's stream, correlated; a unit gradient injected at the top (layer 3)
    alpha, sw2 = 0.9, 2.0
    q, g = _post(alpha, 2, sw2)
    step = lambda x: 1.0 if x > 0 else 0.0  # noqa: E731
    s1, su1 = math.sqrt(q[0]), math.sqrt(sw2 * q[0] / 2)
    c = alpha**2 * sw2  # what a block end's branch pulls back per unit of gradient
    # layer 2 (the first block end), given z^2: G_2 = phi'(z^2)^2 (c g_3 + 1), g_3 = 1
    g2 = _gauss2(lambda a, u: step(max(a, 0.0) + alpha * u) * (c + 1), s1, su1)
    assert g[1] == pytest.approx(g2, rel=2e-4)
    # the stem: phi'(z^1)^2 (c g_2 + E[G_2(z^2) | z^1])
    stem = _gauss2(
        lambda a, u: step(a) * (c * g2 + step(max(a, 0.0) + alpha * u) * (c + 1)), s1, su1
    )
    assert g[0] == pytest.approx(stem, rel=2e-4)
    # the correlation matters: with independent indicators the stem's would be different
    independent = 0.5 * (c * g2 + g2)
    assert abs(independent / stem - 1) > 0.01


def test_post_activation_refuses_a_zero_branch():
    with pytest.raises(ValueError, match="zero branch"):
        _post(0.0, 2)
