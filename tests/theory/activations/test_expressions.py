"""What an activation may be written with (initmath.theory.activations.expressions): anything
the printers, the derivative or the moments cannot handle is refused before any code is
generated, and no user-chosen name reaches generated source as code (issue 11, item 9)."""

from __future__ import annotations

import pytest
import sympy as sp

import initmath
from initmath.theory.activations import _REGISTRY, X, stable


@pytest.fixture
def scratch_registry():
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


T = sp.Symbol("t", real=True)


@pytest.mark.parametrize(
    ("expr", "match"),
    [
        (sp.I * T, "complex"),
        (sp.sqrt(T), "complex"),
        (sp.sign(T), "sign"),
        (sp.Heaviside(T), "Heaviside"),
        (sp.DiracDelta(T), "DiracDelta"),
        (sp.Function("f")(T), "undefined function"),
        (sp.gamma(T), "gamma"),
        (sp.zeta(T), "zeta"),
        (T * sp.oo, "non-finite"),
    ],
)
def test_register_refuses(scratch_registry, expr, match):
    with pytest.raises(ValueError, match=match) as info:
        initmath.register_activation("bad_one", expr)
    assert "expr" in str(info.value)
    assert "bad_one" not in _REGISTRY


def test_register_refuses_bad_symbol_names(scratch_registry):
    evil = sp.Symbol("t\nimport os", real=True)
    with pytest.raises(ValueError, match="identifier"):
        initmath.register_activation("nl_sym", evil**2)
    with pytest.raises(ValueError, match="identifier"):
        initmath.register_activation("kw_sym", sp.Symbol("lambda") ** 2)
    b = sp.Symbol("b; x", positive=True)
    with pytest.raises(ValueError, match="identifier"):
        initmath.register_activation("param_sym", b * T, params={b: 1.0})


def test_function_named_with_code_never_runs(scratch_registry, tmp_path):
    marker = tmp_path / "ran"
    code = f"(open({str(marker)!r}, 'w').close() or (lambda v: v))"
    f = sp.Function(code)
    with pytest.raises(ValueError, match="undefined function"):
        initmath.register_activation("evil_fn", f(T))
    # a subclass of an allowed function with such a name is refused too
    sneaky = type(code, (sp.exp,), {})
    with pytest.raises(ValueError, match="expr"):
        initmath.register_activation("evil_sub", sneaky(T))
    with pytest.raises(ValueError, match="expr"):
        stable(f(X))
    assert not marker.exists()


def test_stable_refuses_unprintable():
    with pytest.raises(ValueError, match="expr"):
        stable(sp.Function("f")(X))
    with pytest.raises(TypeError, match="expr"):
        stable("log(1 + exp(x))")
