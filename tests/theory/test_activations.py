"""Activations at the edges (issue 11, items 8, 9 and 11): stable generated forms, NaN in
gives NaN out, no warnings, and register_activation refusing what it cannot handle.

References are independent of the generated forms: the SymPy definition evaluated at 50
digits by SymPy's own evalf (mpmath arithmetic), and its limits at +-oo by sympy.limit.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

import initmath
from initmath.theory import activations as A
from initmath.theory.activations import _REGISTRY, X, _builtin, stable

BUILTINS = sorted(_builtin())
FINITE = [1e3, -1e3, 1e4, -1e4, 700.0, -700.0, 0.0, 1e-300, -1e-300, 37.5, -37.5, 2.5, -2.5]


@pytest.fixture
def scratch_registry():
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


def _true(expr: sp.Expr, v: float) -> float:
    """The definition at x = v (its exact binary value) in 400-digit mpmath arithmetic, rounded
    to double.

    400 digits resolve any cancellation down to 1e-390; a value below that is far under the
    smallest double (5e-324) whatever |x| <= 1e4 multiplies it, so the rounding is exact.
    """
    f = sp.lambdify(X, expr, modules="mpmath")
    with mpmath.workdps(400):
        return float(f(mpmath.mpf(v)))


def _limit(expr: sp.Expr, side: int) -> float:
    expr = sp.piecewise_fold(expr)  # SELU is lambda * Piecewise(...)
    pieces = expr.args if isinstance(expr, sp.Piecewise) else ((expr, sp.true),)
    for piece, cond in pieces:
        if cond is sp.true or cond.subs(X, side * sp.oo) is sp.true:
            return float(sp.limit(piece, X, side * sp.oo))
    raise AssertionError("no piece at infinity")


def _forms(act):
    return [
        ("numpy phi", lambda v: float(act.numpy(np.array([v]))[0]), act.expr),
        ("numpy dphi", lambda v: float(act.numpy_derivative(np.array([v]))[0]), act.derivative),
        ("scalar phi", act.scalar, act.expr),
        ("scalar dphi", act.scalar_derivative, act.derivative),
    ]


def _close(got: float, want: float) -> bool:
    if math.isinf(want):
        return got == want
    # relative 1e-12; values that underflow double are compared with the subnormal floor
    return abs(got - want) <= 1e-12 * abs(want) + 1e-300


@pytest.mark.parametrize("name", BUILTINS)
def test_forms_are_finite_and_exact_at_extremes(name):
    act = initmath.activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for label, f, expr in _forms(act):
            for v in FINITE:
                want = _true(expr, v)
                got = f(v)
                assert math.isfinite(got) == math.isfinite(want), (label, v, got, want)
                assert _close(got, want), (label, v, got, want)


@pytest.mark.parametrize("name", BUILTINS)
def test_forms_at_infinity_are_the_limits(name):
    act = initmath.activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for label, f, expr in _forms(act):
            for side in (1, -1):
                assert f(side * math.inf) == _limit(expr, side), (label, side)


@pytest.mark.parametrize("name", BUILTINS)
def test_nan_in_nan_out(name):
    act = initmath.activation(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for label, f, _ in _forms(act):
            assert math.isnan(f(math.nan)), label


@pytest.mark.parametrize("name", BUILTINS)
def test_numpy_forms_vectorized_without_warnings(name):
    act = initmath.activation(name)
    x = np.array([[-1e4, -1e3, -700.0, -1.0], [0.0, 1.0, 1e3, 1e4], [np.nan, np.inf, -np.inf, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y, dy = act.numpy(x), act.numpy_derivative(x)
    assert y.shape == x.shape and dy.shape == x.shape and y.dtype == np.float64
    for i, j in np.ndindex(x.shape):
        assert y[i, j] == act.numpy(np.array(x[i, j])) or (np.isnan(y[i, j]) and np.isnan(x[i, j]))


def test_the_issue_examples():
    # softplus(1e3) was inf with derivative NaN; sigmoid/silu derivatives NaN at -1e3; the
    # scalar forms raised OverflowError; elu and selu gave phi'(NaN) = 1.
    sp_ = initmath.activation("softplus")
    assert sp_.numpy(np.array([1e3]))[0] == 1e3
    assert sp_.numpy_derivative(np.array([1e3]))[0] == 1.0
    assert sp_.scalar(1e3) == 1e3
    for name in ("sigmoid", "silu"):
        act = initmath.activation(name)
        assert act.numpy_derivative(np.array([-1e3]))[0] == 0.0
        assert act.scalar_derivative(-1e3) == 0.0
        assert act.scalar(-1e3) in (0.0, -0.0)
    for name in ("elu", "selu"):
        act = initmath.activation(name)
        assert math.isnan(act.numpy_derivative(np.array([math.nan]))[0])
        assert math.isnan(act.scalar_derivative(math.nan))


def test_branch_not_evaluated_elu_large_x():
    act = initmath.activation("elu")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert act.numpy(np.array([800.0, -800.0])).tolist() == [800.0, -1.0]
        assert act.numpy_derivative(np.array([800.0, -800.0])).tolist() == [1.0, 0.0]


def test_length_map_softplus_at_large_q():
    # V(q) = E[softplus(sqrt(q) z)^2] ~ q/2 for large q: 5000 at q = 1e4 (was inf)
    from initmath.theory import meanfield

    v = meanfield.length_map("softplus", 1e4, 1.0, 0.0)
    assert math.isfinite(float(np.asarray(v)))
    ref = float(initmath.moment("softplus", q=1e4).value)  # mpmath quadrature of the definition
    assert float(np.asarray(v)) == pytest.approx(ref, rel=1e-6)
    assert ref == pytest.approx(5000, rel=1e-3)


# --- stable() ------------------------------------------------------------------------------
def _plain(expr: sp.Expr) -> sp.Expr:
    """``expr`` with the guards (false for every real x) and log1p/expm1 written out."""
    expr = expr.replace(lambda e: isinstance(e, (A.isnan, A.isinf)), lambda e: sp.false)
    expr = expr.replace(lambda e: isinstance(e, log1p), lambda e: sp.log(1 + e.args[0]))
    return expr.replace(lambda e: isinstance(e, expm1), lambda e: sp.exp(e.args[0]) - 1)


def _is_zero(e: sp.Expr) -> bool:
    e = sp.simplify(e)
    if e == 0:
        return True
    if sp.simplify(e.rewrite(sp.erf)) == 0:
        return True
    return sp.simplify(sp.exp(e)) == 1  # e real, so e^e = 1 means e = 0


def _equal_on_reals(a: sp.Expr, b: sp.Expr) -> bool:
    diff = sp.piecewise_fold(_plain(a) - b)
    pieces = diff.args if isinstance(diff, sp.Piecewise) else ((diff, sp.true),)
    seen = sp.S.EmptySet
    for piece, cond in pieces:
        region = (sp.S.Reals if cond is sp.true else cond.as_set()) - seen
        seen = seen | region
        if region.is_empty:
            continue
        inf, sup = region.inf, region.sup
        if inf >= 0:  # write x = y >= 0 or x = -y <= 0, so Abs and the sign are known
            y = sp.Symbol("y", nonnegative=True)
            piece = piece.subs(X, y)
        elif sup <= 0:
            y = sp.Symbol("y", nonnegative=True)
            piece = piece.subs(X, -y)
        if not _is_zero(piece):
            return False
    return True


@pytest.mark.parametrize("name", BUILTINS)
def test_stable_is_symbolically_equal(name):
    family = _REGISTRY[name]  # with its parameters as symbols
    for expr in (family.expr, family.derivative):
        s = stable(expr)
        assert s != expr or name == "linear"
        assert _equal_on_reals(s, expr), (name, expr, s)


def test_stable_forms_are_the_textbook_ones():
    x = X
    soft = _plain(stable(sp.log(1 + sp.exp(x))))
    assert soft == sp.Piecewise((x + sp.log(1 + sp.exp(-x)), x >= 0), (sp.log(1 + sp.exp(x)), True))
    assert stable(sp.log(1 + sp.exp(x))).has(log1p)
    assert stable(sp.exp(x) - 1).has(expm1)


def _kernel_style(expr: sp.Expr):
    # What the kernel generator does: constants at 20 digits, math-module functions only.
    code = sp.pycode(sp.N(stable(expr), 20), fully_qualified_modules=True)
    names = {n for n in __import__("re").findall(r"[A-Za-z_][A-Za-z_0-9.]*", code)}
    assert all(
        n.startswith("math.") or n in {"x", "a", "alpha", "if", "else", "and", "or", "abs"}
        for n in names
    ), code
    return code


@pytest.mark.parametrize("name", BUILTINS)
def test_printed_family_code_is_stable(name):
    family = _REGISTRY[name]
    params = {s.name: float(v) for s, v in family.params.items()}
    for expr in (family.expr, family.derivative):
        code = _kernel_style(expr)
        for v in [*FINITE, math.inf, -math.inf]:
            got = eval(code, {"math": math}, {"x": v, **params})  # our own generated code
            bound = expr.subs({s: sp.Float(v_) for s, v_ in family.params.items()})
            want = _limit(bound, 1 if v > 0 else -1) if math.isinf(v) else _true(bound, v)
            assert _close(float(got), want), (name, v, got, want)
        assert math.isnan(eval(code, {"math": math}, {"x": math.nan, **params}))


def test_stable_refuses_unprintable():
    with pytest.raises(ValueError, match="expr"):
        stable(sp.Function("f")(X))
    with pytest.raises(TypeError, match="expr"):
        stable("log(1 + exp(x))")


def test_silu_net_does_not_diverge_at_tiny_learning_rate():
    # std 1.0 (not scaled by fan-in) makes pre-activations of order -1e3; silu' was NaN
    # there, so training "diverged" at the first step even at learning rate 1e-12.
    from initmath.practice.training import network, train

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 200)
    x = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])[y] + 0.5 * rng.standard_normal((200, 2))
    net = network([2, 256, 256, 256, 3], "silu", "normal", std=1.0, seed=0)
    h = train(net, x, y, epochs=2, learning_rate=1e-12)
    assert h.diverged_at is None
    assert all(math.isfinite(v) for v in h.train_loss)
    assert h.train_loss[-1] == pytest.approx(h.train_loss[0], rel=1e-6)


# --- register_activation refuses what it cannot handle (item 9) -----------------------------
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


# --- moment's k (item 7) ---------------------------------------------------------------------
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


@pytest.mark.parametrize("name", ["linear", "relu", "tanh"])
def test_numpy_form_returns_a_fresh_array(name):
    # the fast path hands back the ufunc's own result; it must never be the caller's input
    x = np.array([-1.0, 0.5, 2.0])
    y = initmath.activation(name).numpy(x)
    assert not np.shares_memory(x, y)
    y[:] = 7.0
    assert x.tolist() == [-1.0, 0.5, 2.0]


def test_tanh_derivative_exact_in_both_tails():
    # tanh' has halves 4e^{-2x}/(1+e^{-2x})^2 (x >= 0) and its mirror: merged into |x|,
    # still correct to 1e-15 relative far in both tails (where 1 - tanh^2 would give 0)
    d = initmath.activation("tanh").numpy_derivative
    x = np.array([-30.0, -5.0, 0.0, 5.0, 30.0])
    want = np.array(
        [
            4 * math.exp(-60) / (1 + math.exp(-60)) ** 2,
            1 / math.cosh(5) ** 2,
            1.0,
            1 / math.cosh(5) ** 2,
            4 * math.exp(-60) / (1 + math.exp(-60)) ** 2,
        ]
    )
    np.testing.assert_allclose(d(x), want, rtol=1e-14)


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
    owners = [p.name for p in package.glob("*.py") if '"swish"' in p.read_text()]
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
