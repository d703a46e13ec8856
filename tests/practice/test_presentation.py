"""The presentation layer (initmath.practice.presentation): textbook LaTeX of derived formulas.

The expected LaTeX strings are written by hand from the textbook form of each formula (the
independent reference: how a person typesets it); the equality of every displayed form with
the derived expression is checked by SymPy, and on random expressions by Hypothesis.
"""

from __future__ import annotations

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import initmath
import initmath.theory.finite_width as fw
from initmath.practice.presentation import NormalPdf, equation, latex, plain, textbook
from initmath.theory import derivations as d
from initmath.theory.moments import Q

F = initmath.formulas
N = fw.N


# --- every formula the registry shows -----------------------------------------------------
@pytest.mark.parametrize("name", list(F))
def test_displayed_form_equals_the_derived_one(name):
    f = F[name]
    shown = plain(f.display)
    assert not shown.has(NormalPdf, sp.Order, sp.UnevaluatedExpr)
    assert sp.simplify(shown - f.rhs) == 0


@pytest.mark.parametrize("name", list(F))
def test_displayed_form_agrees_numerically(name):
    """An independent check of the symbolic one: both sides at a generic point."""
    f = F[name]
    symbols = sorted(f.rhs.free_symbols, key=str)
    point = {s: sp.Rational(3 + 2 * i, 7) for i, s in enumerate(symbols)}
    t = sp.Dummy("t")
    functions = {d.M: sp.Lambda(t, 1 + t / 5), d.D: sp.Lambda(t, 2 + t / 3)}
    derived = f.rhs.subs(functions).subs(point).doit()
    shown = plain(f.display).subs(functions).subs(point).doit()
    assert derived.is_number and shown.is_number
    assert complex(sp.N(shown - derived, 30)) == pytest.approx(0, abs=1e-25)


# --- the examples, by hand -----------------------------------------------------------
def test_truncated_normal_factor_names_the_normal_density():
    # 1 - 2 a phi(a) / (2 Phi(a) - 1) at a = 2, with 2 Phi(2) - 1 = erf(sqrt 2)
    expected = (
        r"\beta = \sqrt{1 - \frac{4 \varphi\left(2\right)}"
        r"{\operatorname{erf}{\left(\sqrt{2} \right)}}}"
    )
    assert F["truncated_normal.factor"].latex == expected


def test_relu_variance_constant_first():
    relu_var = sp.simplify(F["relu.second_moment"].rhs - F["relu.mean"].rhs ** 2)
    assert sp.latex(relu_var) == r"\frac{q \left(-1 + \pi\right)}{2 \pi}"  # SymPy's, the issue's
    assert latex(relu_var) == r"\frac{\left(\pi - 1\right) q}{2 \pi}"


def test_relu_mean_is_one_radical():
    assert F["relu.mean"].latex == r"\mu = \sqrt{\frac{q}{2 \pi}}"


def test_tanh_moment_is_a_truncated_series():
    assert F["tanh.linearized_moment"].latex == r"M = q - 2 q^{2} + O\left(q^{3}\right)"


def test_uniform_bounds_are_one_radical():
    assert F["uniform.bound"].latex == r"A = \sqrt{3 v}"
    xavier_bound = d.uniform_bound().subs(d.V, F["xavier.variance"].rhs)
    assert sp.latex(xavier_bound) == r"\frac{\sqrt{6}}{\sqrt{n_{in} + n_{out}}}"
    assert latex(xavier_bound) == r"\sqrt{\frac{6}{n_{in} + n_{out}}}"


def test_logs_of_numbers_are_collected():
    mean_relu, _ = fw.log_ratio_exprs("relu")
    mean_linear, var_linear = fw.log_ratio_exprs("linear")
    shown = latex(mean_relu)
    assert shown.startswith(r"\log{\left(\frac{4}{n} \right)} + \sum_{k=1}^{n}")
    assert r"\log{\left(2 \right)}" not in shown
    assert latex(mean_linear) == r"\log{\left(\frac{2}{n} \right)} + \psi\left(\frac{n}{2}\right)"
    assert latex(var_linear) == r"\psi'\left(\frac{n}{2}\right)"


def test_powers_of_functions_are_unambiguous():
    _, var_relu = fw.log_ratio_exprs("relu")
    shown = latex(var_relu)
    assert r"\psi\left(\frac{k}{2}\right)^{2} + \psi'\left(\frac{k}{2}\right)" in shown
    assert r"\psi^{2}" not in shown and "polygamma" not in shown
    x = sp.Symbol("x")
    assert latex(sp.sin(x) ** 2) == r"\sin{\left(x \right)}^{2}"
    assert latex(sp.sqrt(sp.gamma(x))) == r"\sqrt{\Gamma\left(x\right)}"


def test_constant_first_then_increasing_order():
    assert sp.latex(fw.kurtosis_first_order("linear", "normal")) == r"\frac{6 L}{n} + 3"
    assert latex(fw.kurtosis_first_order("linear", "normal")) == r"3 + \frac{6 L}{n}"
    assert latex(fw.kurtosis_first_order("relu", "normal")) == (
        r"3 + \frac{3 \left(5 L - 3\right)}{n}"
    )
    assert latex(1 + 5 / N) == r"1 + \frac{5}{n}"
    # a sum with fractional coefficients gives its content to the product's number
    assert sp.latex(fw.kurtosis_first_order("relu", "uniform")) == (
        r"3 + \frac{3 \left(5 L - \frac{27}{5}\right)}{n}"
    )
    assert latex(fw.kurtosis_first_order("relu", "uniform")) == (
        r"3 + \frac{3 \left(25 L - 27\right)}{5 n}"
    )


def test_series_in_inverse_width():
    expr = 7 / N**2 + 1 + 5 / N + 2 / N**3
    assert latex(expr, small=1 / N) == r"1 + \frac{5}{n} + \frac{7}{n^{2}} + \frac{2}{n^{3}}"
    assert latex(expr, small=1 / N, series=2) == (
        r"1 + \frac{5}{n} + O\left(\frac{1}{n^{2}}\right)"
    )
    assert latex(expr, small=1 / N, order="decreasing") == (
        r"\frac{2}{n^{3}} + \frac{7}{n^{2}} + \frac{5}{n} + 1"
    )


def test_series_in_q_drops_the_higher_terms():
    q = Q
    assert latex(q - 2 * q**2 + 17 * q**3 / 15, small=q, series=3) == (
        r"q - 2 q^{2} + O\left(q^{3}\right)"
    )
    # the series SymPy computes, with its own order term
    assert latex(sp.sin(q).series(q, 0, 4), small=q) == (
        r"q - \frac{q^{3}}{6} + O\left(q^{4}\right)"
    )


def test_equations_and_symbol_names():
    v = sp.Symbol("v", positive=True)
    assert equation(sp.Symbol("A"), sp.sqrt(3) * sp.sqrt(v)) == r"A = \sqrt{3 v}"
    assert latex(sp.Eq(sp.Symbol("M"), -2 * Q**2 + Q, evaluate=False), small=Q, series=3) == (
        r"M = q - 2 q^{2} + O\left(q^{3}\right)"
    )
    assert latex(d.Q_GRAD * d.V, names={d.Q_GRAD: r"\tilde{q}"}) == r"\tilde{q} v"
    assert F["backward_map"].latex == (
        r"\tilde{q}_{in} = n_{out} v D{\left(q \right)} \tilde{q}_{out}"
    )


def test_given_order_is_kept():
    x, y = sp.symbols("x y", positive=True)
    built = sp.Add(y, sp.Integer(1), x, evaluate=False)
    assert latex(built) == r"1 + x + y"
    assert latex(built, order="given") == r"y + 1 + x"


def test_normal_density_is_a_named_constant():
    x = sp.Symbol("x", real=True)
    assert latex(NormalPdf(x)) == r"\varphi\left(x\right)"
    assert sp.simplify(NormalPdf(x).doit() - sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)) == 0
    assert float(NormalPdf(2).evalf()) == pytest.approx(0.05399096651318806, rel=1e-15)
    assert sp.simplify(NormalPdf(x).rewrite(sp.exp) - NormalPdf(x).doit()) == 0
    # only where it removes pi: a bare e^{-2} stays as it is
    assert latex(sp.exp(-2) * x) == r"\frac{x}{e^{2}}"


def test_radicals_keep_their_sign_and_lone_roots():
    q = Q
    assert latex(-sp.sqrt(2) * sp.sqrt(q) / 2) == r"- \sqrt{\frac{q}{2}}"
    assert latex(2 * sp.sqrt(q)) == r"2 \sqrt{q}"
    assert latex(sp.sqrt(2) / 2) == r"\frac{\sqrt{2}}{2}"


def test_matrices_piecewise_and_integrals_are_rearranged_inside():
    x = sp.Symbol("x", positive=True)
    matrix = sp.Matrix([[sp.sqrt(2) * sp.sqrt(x), -1 + x], [0, 6 * x / N + 3]])
    assert latex(matrix) == (
        r"\left[\begin{matrix}\sqrt{2 x} & x - 1\\0 & 3 + \frac{6 x}{n}\end{matrix}\right]"
    )
    piecewise = sp.Piecewise((sp.sqrt(3) * sp.sqrt(x), x > 1), (0, True))
    assert latex(piecewise) == (
        r"\begin{cases} \sqrt{3 x} & \text{for}\: x > 1 \\0 & \text{otherwise} \end{cases}"
    )
    integral = sp.Integral(sp.sqrt(2) * sp.sqrt(x), (x, 0, 1))
    assert latex(integral) == r"\int\limits_{0}^{1} \sqrt{2 x}\, dx"
    assert sp.simplify(plain(textbook(integral)) - integral.doit()) == 0


# --- equality on random expressions -----------------------------------------------------------
_x, _y = sp.symbols("x y", positive=True)
_atoms = st.sampled_from(
    [_x, _y, sp.pi, sp.Integer(2), sp.Integer(3), sp.Rational(1, 2), sp.exp(-2), sp.log(2)]
)


def _combine(children: st.SearchStrategy[sp.Expr]) -> st.SearchStrategy[sp.Expr]:
    pair = st.tuples(children, children)
    return st.one_of(
        pair.map(lambda p: p[0] + p[1]),
        pair.map(lambda p: p[0] * p[1]),
        pair.map(lambda p: p[0] - p[1]),
        children.map(sp.sqrt),
        children.map(lambda e: 1 / (1 + e)),
        children.map(lambda e: sp.log(1 + e)),
    )


@settings(max_examples=60, deadline=None)
@given(st.recursive(_atoms, _combine, max_leaves=6))
def test_textbook_form_equals_the_expression(expr):
    shown = plain(textbook(expr))
    point = {_x: sp.Rational(5, 3), _y: sp.Rational(2, 7)}
    assert complex(sp.N((shown - expr).subs(point), 40)) == pytest.approx(0, abs=1e-30)
    assert isinstance(latex(expr), str)


# --- bad input --------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["x + 1", 3, 2.5, None, [sp.Symbol("x")]])
def test_non_sympy_input_is_refused(bad):
    with pytest.raises(TypeError, match="expr must be a SymPy expression"):
        latex(bad)
    with pytest.raises(TypeError, match="expr must be a SymPy expression"):
        textbook(bad)
    with pytest.raises(TypeError, match="lhs must be a SymPy expression"):
        equation(bad, Q)
    with pytest.raises(TypeError, match="rhs must be a SymPy expression"):
        equation(Q, bad)


def test_bad_keywords_are_refused():
    with pytest.raises(TypeError, match="small must be"):
        latex(Q, small="q")
    with pytest.raises(ValueError, match="small must be a symbol"):
        latex(Q, small=Q + 1)
    with pytest.raises(ValueError, match="series must be at least 1, got 0"):
        latex(Q, small=Q, series=0)
    with pytest.raises(TypeError, match="series must be an int"):
        latex(Q, small=Q, series=2.0)
    with pytest.raises(ValueError, match="needs the small quantity"):
        latex(Q, series=3)
    with pytest.raises(ValueError, match="order must be one of"):
        latex(Q, order="lex")
    with pytest.raises(ValueError, match="needs the small quantity"):
        latex(Q, order="increasing")
    with pytest.raises(TypeError, match="names must map SymPy symbols"):
        latex(Q, names={"q": "x"})
    with pytest.raises(TypeError, match="names must be a mapping"):
        latex(Q, names=[(Q, "x")])
