"""stable() (initmath.theory.activations.stable_forms): equal to the definition on the reals,
the textbook stable forms, and printed code that is exact at the extremes (issue 11, item 8).

References are independent of the generated forms: the SymPy definition evaluated at 400
digits by mpmath, and its limits at +-oo by sympy.limit.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from initmath.theory import activations as A
from initmath.theory.activations import _REGISTRY, X, stable
from tests.theory.activations.references import BUILTINS, FINITE, close, limit_value, true_value


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
    if sp.simplify(e.rewrite(sp.exp)) == 0:  # tanh(log(1 + e^x)) of mish: rational in e^x
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
            want = limit_value(bound, 1 if v > 0 else -1) if math.isinf(v) else true_value(bound, v)
            assert close(float(got), want), (name, v, got, want)
        assert math.isnan(eval(code, {"math": math}, {"x": math.nan, **params}))
