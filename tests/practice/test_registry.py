"""The formula registry's display forms (initmath.practice.registry with the presentation layer).

Each formula's LaTeX is the printing of its displayed form, and that form equals the
derivation (SymPy); the hand-arranged forms print in the order they were built, written out
here by hand.
"""

from __future__ import annotations

import pytest
import sympy as sp

import initmath
from initmath.practice.presentation import equation, plain
from initmath.practice.registry import Formula
from initmath.theory import derivations as d
from initmath.theory.moments import Q

F = initmath.formulas
ARRANGED = [name for name, f in F.items() if f.arrange is not None]


@pytest.mark.parametrize("name", list(F))
def test_latex_is_the_displayed_form(name):
    f = F[name]
    assert isinstance(f.latex, str)
    assert f.latex == equation(f.lhs, f.display, order="given", names=f.names)
    assert f.latex.startswith(sp.latex(f.lhs) + " = ")
    assert set(f.names) <= f.rhs.free_symbols, "a name for a symbol the formula lacks"


def test_some_formulas_are_hand_arranged():
    assert set(ARRANGED) == {
        "backward_map",
        "conv.zero_padding",
        "elu.second_moment",
        "residual.forward_map",
        "residual.backward_map",
    }


@pytest.mark.parametrize("name", ARRANGED)
def test_arranged_form_equals_the_derivation(name):
    f = F[name]
    assert f.arrange is not None
    arranged = f.arrange()
    assert isinstance(arranged, sp.Expr)
    assert sp.simplify(arranged - f.rhs) == 0
    assert sp.simplify(plain(f.display) - f.rhs) == 0


def test_elu_second_moment_prints_as_arranged():
    assert F["elu.second_moment"].latex == (
        r"M = \frac{q}{2} + \frac{\alpha^{2}}{2} \left(1 - 2 e^{\frac{q}{2}} "
        r"\operatorname{erfc}{\left(\sqrt{\frac{q}{2}} \right)} + e^{2 q} "
        r"\operatorname{erfc}{\left(\sqrt{2 q} \right)}\right)"
    )


def test_backward_map_in_the_books_notation():
    f = F["backward_map"]
    assert sp.latex(f.lhs) == r"\tilde{q}_{in}"
    assert f.names == {d.Q_GRAD: r"\tilde{q}_{out}"}
    assert f.latex == r"\tilde{q}_{in} = n_{out} v D{\left(q \right)} \tilde{q}_{out}"
    assert f.equation == sp.Eq(f.lhs, d.N_OUT * d.V * d.D(Q) * d.Q_GRAD, evaluate=False)


def test_series_formula_keeps_its_derivation():
    f = F["tanh.linearized_moment"]
    assert f.small == Q and f.series == 3
    assert f.rhs == Q - 2 * Q**2  # the derivation itself is not truncated further
    assert f.display.has(sp.Order)


def test_plain_formula_defaults():
    f = Formula("test.x", sp.Symbol("y"), lambda: 2 * sp.sqrt(3) / sp.sqrt(Q), (), None, "x")
    assert f.arrange is None and f.small is None and f.series is None and f.names == {}
    assert f.latex == r"y = 2 \sqrt{\frac{3}{q}}"
    assert sp.simplify(plain(f.display) - f.rhs) == 0
