"""The printer of ``initmath.engine.kernel_printer``: SymPy expressions to Python that uses only
the identifiers it generates, laid out within the line length."""

from __future__ import annotations

import ast

import pytest
import sympy as sp

from initmath.engine import kernel_printer as kp
from initmath.theory.activations import X

LINE = 100  # pyproject's [tool.ruff] line-length


# The activations module refuses most of these at construction already; the printer is the
# kernels' own, independent line of defence, so it is tested on the expressions directly.
def test_symbol_names_never_reach_the_source():
    evil = sp.Symbol("a\nimport os; os.system('false')\n", positive=True)
    code = kp.print_expression(sp.Piecewise((evil * X, X < 0), (X, True)), (evil,), "expression")
    assert code == "((x*p[0]) if (x < 0.0) else (x))"
    strange_x = sp.Symbol("x", positive=True)  # same name as the variable, another symbol
    with pytest.raises(ValueError, match="neither its variable"):
        kp.print_expression(strange_x + X, (), "expression")


@pytest.mark.parametrize(
    "expr",
    [
        X + sp.Symbol("y\n__import__('os').system('false')"),  # a foreign symbol
        sp.Function("__import__('os').system")(X),  # an undefined function
        sp.sign(X),
        sp.Heaviside(X),
        sp.DiracDelta(X),  # outside the whitelist
        sp.I * X,  # complex
        sp.Function("f")(X).diff(X),  # a Derivative
    ],
)
def test_unprintable_expressions_are_refused(expr):
    with pytest.raises(ValueError, match="cannot compile|not a real number"):
        kp.print_expression(expr, (), "expression")


def test_subclass_of_a_whitelisted_function_is_refused():
    class sneaky(sp.exp):  # noqa: N801 - prints as its name
        pass

    with pytest.raises(ValueError, match="sneaky"):
        kp.print_expression(sneaky(X), (), "expression")


@pytest.mark.parametrize(
    "code",
    [
        "__import__('os')",
        "x.__class__",
        "p[1]",
        "p[x]",
        "'s'",
        "math.system(x)",
        "exec(x)",
        "(lambda: 1)()",
        "x @ x",
    ],
)
def test_printed_code_check_refuses_other_names(code):
    with pytest.raises(ValueError, match="internal error"):
        kp.check_printed(code, 1)


def test_the_printer_never_doubles_parentheses():
    code = kp.print_expression(
        sp.Piecewise((0.5 * X, X < 0), (sp.exp(X + 1), True)), (), "expression"
    )
    assert code == "((0.5*x) if (x < 0.0) else (math.exp(1.0 + x)))"


@pytest.mark.parametrize(
    "code",
    [
        " + ".join(f"math.exp((x*{k}.0))" for k in range(40)),  # breaks after spaces
        "*".join(["x"] * 80),  # no space at all: breaks between tokens
        "(" + " + ".join(["p[0]"] * 30) + ")",  # one pair around it all: reused
    ],
)
def test_long_expressions_are_wrapped_between_tokens(code):
    text = kp.as_returned(code)
    lines = f"    return {text}".splitlines()
    assert max(len(line) for line in lines) <= LINE and len(lines) > 3
    assert ast.dump(ast.parse(text, mode="eval")) == ast.dump(ast.parse(code, mode="eval"))
    assert not lines[1].startswith("        (p[0]")  # the enclosing pair is not doubled
