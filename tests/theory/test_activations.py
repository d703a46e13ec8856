"""The Activation class and the registry (initmath.theory.activations): register_activation
refusing what it cannot handle (issue 11, item 9), one alias table for every lookup by name,
and moment's k (item 7)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import initmath
from initmath.theory.activations import _REGISTRY


@pytest.fixture
def scratch_registry():
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


T = sp.Symbol("t", real=True)


def test_register_refuses_two_symbols(scratch_registry):
    y = sp.Symbol("y", real=True)
    with pytest.raises(ValueError, match="expr"):
        initmath.register_activation("two_sym", T * y)
    with pytest.raises(ValueError, match="expr"):
        initmath.register_activation("two_sym", T * y, symbol=T)


@pytest.mark.parametrize("alias", ["swish", "identity", "prelu", "Swish"])
def test_register_refuses_alias_names(scratch_registry, alias):
    with pytest.raises(ValueError, match="alias"):
        initmath.register_activation(alias, T**3)
    assert initmath.activation(alias).name in ("silu", "linear", "leaky_relu")


def test_register_accepts_and_rewrites_abs(scratch_registry):
    act = initmath.register_activation("softsign_t", T / (1 + sp.Abs(T)))
    assert not act.derivative.has(sp.sign, sp.Heaviside)
    x = np.array([-3.0, -0.5, 0.5, 3.0, np.nan])
    np.testing.assert_allclose(act.numpy(x)[:4], x[:4] / (1 + abs(x[:4])), rtol=1e-15)
    np.testing.assert_allclose(act.numpy_derivative(x)[:4], 1 / (1 + abs(x[:4])) ** 2, rtol=1e-14)
    assert np.isnan(act.numpy_derivative(x)[4])
    relu_max = initmath.register_activation("relu_max", sp.Max(T, 0))
    assert initmath.derivative_moment(relu_max).value == pytest.approx(0.5, rel=1e-12)


def test_register_refuses_unused_param_and_bad_strings(scratch_registry):
    b = sp.Symbol("b", positive=True)
    with pytest.raises(ValueError, match="params"):
        initmath.register_activation("unused_p", T**3, params={b: 1.0})
    with pytest.raises(TypeError, match="citation"):
        initmath.register_activation("cite_t", T**3, citation=3)
    with pytest.raises(ValueError, match="name"):
        initmath.register_activation("class", T**3)


def test_complex_moment_is_no_longer_exact(scratch_registry):
    # I*t used to give moment -1.0 marked exact; now it cannot be registered at all.
    with pytest.raises(ValueError, match="complex"):
        initmath.register_activation("imag", sp.I * T)
    assert "imag" not in initmath.activation_names()


@pytest.mark.parametrize("k", [np.int64(2), np.int32(2), np.uint8(2)])
def test_moment_accepts_any_integer_type(k):
    assert initmath.moment("relu", k=k).value == 0.5
    assert initmath.derivative_moment("relu", k=k).value == 0.5


@pytest.mark.parametrize("k", [10**6, 17, 2**70, np.int64(10**6)])
def test_moment_refuses_huge_k_up_front(k):
    with pytest.raises(ValueError, match=r"k must be an integer in 1\.\.16"):
        initmath.moment("selu", k=k)


@pytest.mark.parametrize("k", [True, np.bool_(True), 2.0, "2"])
def test_moment_refuses_non_integer_k(k):
    with pytest.raises(TypeError, match="k"):
        initmath.moment("relu", k=k)


@pytest.mark.parametrize("derivative", ["yes", None, 2])
def test_symbolic_moment_derivative_must_be_a_bool(derivative):
    from initmath.theory.moments import symbolic_moment

    with pytest.raises(TypeError, match="derivative"):
        symbolic_moment("relu", 2, derivative=derivative)


def test_one_alias_table_for_every_lookup_by_name():
    from initmath.theory import finite_width as fw
    from initmath.weights.torch_gain import ACTIVATION_ALIASES, torch_gain

    assert dict(ACTIVATION_ALIASES) == {
        "identity": "linear",
        "swish": "silu",
        "prelu": "leaky_relu",
    }
    for alias, target in ACTIVATION_ALIASES.items():
        assert initmath.activation(alias.upper()).name == target
    # the finite-width moments and PyTorch's convention read the same table
    assert fw.ratio_second_moment("identity") == fw.ratio_second_moment("linear")
    assert fw.moment_recursion(("prelu", 0.2)) == fw.moment_recursion(("leaky_relu", 0.2))
    assert torch_gain("prelu", 0.2) == torch_gain("leaky_relu", 0.2)
    with pytest.raises(ValueError, match="swish"):
        torch_gain("swish")  # silu: PyTorch has no gain for it
    # and no other module keeps a table of its own
    package = Path(initmath.__file__).parent
    owners = [p.name for p in package.rglob("*.py") if '"swish"' in p.read_text()]
    assert owners == ["torch_gain.py"], owners


def test_registered_is_the_unbound_activation():
    from initmath.theory.activations import registered

    a = registered("PReLU")
    assert a.name == "leaky_relu" and not a.is_bound
    assert initmath.activation("prelu", 0.3).expr == a.bind(0.3).expr
    with pytest.raises(ValueError, match="unknown activation 'nope'"):
        registered("nope")
    with pytest.raises(TypeError, match="name must be a string"):
        registered(3)


def test_mish_against_pytorch():
    # torch.nn.functional.mish (PyTorch 2.13 in the venv, torch/nn/functional.py, line 2454:
    # "Mish(x) = x * Tanh(Softplus(x))") in float64 and its autograd derivative: an independent
    # implementation of phi and phi'.
    torch = pytest.importorskip("torch")
    act = initmath.activation("mish")
    x = np.concatenate([np.linspace(-30, 30, 1201), [-700.0, -100.0, -1e-8, 1e-8, 100.0, 700.0]])
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    y = torch.nn.functional.mish(t)
    (dy,) = torch.autograd.grad(y.sum(), t)
    want, dwant = y.detach().numpy(), dy.numpy()
    np.testing.assert_allclose(act.numpy(x), want, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(act.numpy_derivative(x), dwant, rtol=1e-13, atol=1e-300)
    scalar = np.array([act.scalar(float(v)) for v in x])
    np.testing.assert_allclose(scalar, want, rtol=1e-14, atol=1e-300)
    assert act.numpy(np.array([0.0]))[0] == 0.0
    assert act.numpy_derivative(np.array([0.0]))[0] == pytest.approx(0.6, rel=1e-15)  # tanh(ln 2)
    assert act.citation == "misra2019"


def test_mish_has_no_pytorch_gain_as_pytorch():
    torch = pytest.importorskip("torch")
    # torch/nn/init.py (PyTorch 2.13), line 244, in calculate_gain:
    #     raise ValueError(f"Unsupported nonlinearity {nonlinearity}")
    with pytest.raises(ValueError, match="Unsupported nonlinearity mish"):
        torch.nn.init.calculate_gain("mish")
    with pytest.raises(ValueError, match="'mish' for convention 'torch'"):
        initmath.gain("mish")
    assert initmath.gain("mish", convention="exact") > 0
