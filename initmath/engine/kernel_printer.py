"""SymPy to Python: the activation and its derivative as source for the generated kernels.

:func:`print_expression` prints an expression that uses only identifiers it generates: the
pre-activation ``x``, the parameter array ``p`` (``p[0]``, ``p[1]``, ... in the order of
:attr:`~initmath.theory.activations.Activation.bound`), ``math.<function>`` for a whitelist
of functions (:data:`MATH_FUNCTIONS`), ``max``/``min`` and float literals. Any other
function or symbol is refused with a :class:`ValueError` before anything is written, and the
printed code is parsed (with Python's ``ast``) to check it contains nothing else
(:func:`check_printed`): no name of a symbol, no string, ever reaches the kernel's source.
:func:`as_returned` lays the code out within the line length of the generated module.
"""

from __future__ import annotations

import ast
import io
import math
import tokenize

import sympy as sp
from sympy.codegen import cfunctions
from sympy.codegen.cfunctions import expm1, log1p

from ..theory import activations
from ..theory.activations import X

__all__ = ["MATH_FUNCTIONS", "as_returned", "check_printed", "print_expression"]

#: The SymPy functions a kernel may contain, and the :mod:`math` function each prints as.
MATH_FUNCTIONS: dict[type, str] = {
    sp.exp: "exp",
    sp.log: "log",
    log1p: "log1p",
    expm1: "expm1",
    sp.tanh: "tanh",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.asinh: "asinh",
    sp.atan: "atan",
    sp.sin: "sin",
    sp.cos: "cos",
    sp.tan: "tan",
    sp.erf: "erf",
    sp.erfc: "erfc",
    sp.Abs: "fabs",
}
_MINMAX: dict[type, str] = {sp.Max: "max", sp.Min: "min"}
_RELATIONS: dict[type, str] = {
    sp.StrictLessThan: "<",
    sp.LessThan: "<=",
    sp.StrictGreaterThan: ">",
    sp.GreaterThan: ">=",
    sp.Equality: "==",
    sp.Unequality: "!=",
}
#: Tests on the value, allowed in conditions (the activations' NaN/inf guards).
_PREDICATES: dict[type, str] = {cfunctions.isnan: "isnan", cfunctions.isinf: "isinf"}
for _cls in (getattr(activations, "isnan", None), getattr(activations, "isinf", None)):
    if isinstance(_cls, type) and issubclass(_cls, (cfunctions.isnan, cfunctions.isinf)):
        _PREDICATES[_cls] = "isnan" if issubclass(_cls, cfunctions.isnan) else "isinf"
_STRUCTURE = (
    sp.Add,
    sp.Mul,
    sp.Pow,
    sp.Piecewise,
    sp.core.containers.Tuple,
    sp.functions.elementary.piecewise.ExprCondPair,
    sp.And,
    sp.Or,
    sp.Not,
)
_ALLOWED_TYPES = frozenset(
    [
        *MATH_FUNCTIONS,
        *_MINMAX,
        *_RELATIONS,
        *_PREDICATES,
        *_STRUCTURE,
        sp.Symbol,
        type(sp.true),
        type(sp.false),
    ]
)
_MATH_ATTRS = frozenset([*MATH_FUNCTIONS.values(), *_PREDICATES.values(), "sqrt", "inf", "nan"])


def _is_number(node: sp.Basic) -> bool:
    return isinstance(node, (sp.Number, sp.NumberSymbol)) and type(node).__module__.startswith(
        "sympy.core."
    )


def _check_whitelist(expr: sp.Basic, names: dict[sp.Symbol, str], what: str) -> None:
    for node in sp.preorder_traversal(expr):
        if _is_number(node):
            continue
        if type(node) not in _ALLOWED_TYPES:
            raise ValueError(
                f"cannot compile the activation's {what} {expr}: {type(node).__name__} "
                f"({node}) is not one of the supported functions "
                f"({', '.join(sorted({*MATH_FUNCTIONS.values(), 'Max', 'Min', 'Piecewise'}))})"
            )
        if type(node) is sp.Symbol and node not in names:
            raise ValueError(
                f"cannot compile the activation's {what} {expr}: symbol {str(node)!r} is "
                f"neither its variable nor one of its parameters"
            )


def _enclosed(code: str) -> str:
    """``code`` in parentheses, unless one pair already encloses all of it."""
    depth = 0
    for i, ch in enumerate(code):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return code if i == len(code) - 1 and code[0] == "(" else f"({code})"
    return f"({code})"


def _bare(code: str) -> str:
    """``code`` without the one pair of parentheses that encloses all of it, if any (for an
    argument of a call, where no expression of the printer needs them)."""
    enclosed = _enclosed(code)
    return code[1:-1] if enclosed == code else code


class _Printer:
    """Python source of a whitelisted SymPy expression (see :func:`_check_whitelist`). Every
    operand is parenthesized, but never twice."""

    def __init__(self, names: dict[sp.Symbol, str]):
        self.names = names

    def expr(self, e: sp.Basic) -> str:
        if type(e) is sp.Symbol:
            return self.names[e]
        if not e.free_symbols:
            return self.const(e)
        t = type(e)
        if t in (sp.Add, sp.Mul):
            # all constant factors (terms) become one float, rounded once
            consts = [a for a in e.args if not a.free_symbols]
            parts = [self.expr(a) for a in e.args if a.free_symbols]
            if consts:
                c = t(*consts)
                if c != (1 if t is sp.Mul else 0):
                    parts.insert(0, self.const(c))
            return _enclosed((" + " if t is sp.Add else "*").join(parts))
        if t is sp.Pow:
            return self.pow(*e.args)
        if t in MATH_FUNCTIONS and len(e.args) == 1:
            return f"math.{MATH_FUNCTIONS[t]}({_bare(self.expr(e.args[0]))})"
        if t in _MINMAX:
            out = _bare(self.expr(e.args[0]))
            for a in e.args[1:]:
                out = f"{_MINMAX[t]}({out}, {_bare(self.expr(a))})"
            return out
        if t is sp.Piecewise:
            out = "math.nan"  # SymPy's value outside every condition
            for value, cond in reversed(e.args):
                if cond is sp.true:
                    out = self.expr(value)
                else:
                    value_code = _enclosed(self.expr(value))
                    out = f"({value_code} if {self.cond(cond)} else {_enclosed(out)})"
            return out
        raise ValueError(f"cannot print {t.__name__} ({e}) into a kernel")

    def pow(self, base: sp.Basic, exp: sp.Basic) -> str:
        b = self.expr(base)
        if exp == sp.S.Half:
            return f"math.sqrt({_bare(b)})"
        if exp == -sp.S.Half:
            return f"(1.0/math.sqrt({_bare(b)}))"
        if exp == -1:
            return f"(1.0/{b})"
        if isinstance(exp, sp.Integer) and abs(int(exp)) <= 64:
            return f"{_enclosed(b)}**({int(exp)})"
        return f"{_enclosed(b)}**{_enclosed(self.expr(exp))}"

    def cond(self, c: sp.Basic) -> str:
        t = type(c)
        if c is sp.true:
            return "True"
        if c is sp.false:
            return "False"
        if t in _RELATIONS:
            return f"({self.expr(c.lhs)} {_RELATIONS[t]} {self.expr(c.rhs)})"
        if t in _PREDICATES and len(c.args) == 1:
            return f"math.{_PREDICATES[t]}({_bare(self.expr(c.args[0]))})"
        if t in (sp.And, sp.Or):
            word = " and " if t is sp.And else " or "
            return "(" + word.join(self.cond(a) for a in c.args) + ")"
        if t is sp.Not:
            return f"(not {self.cond(c.args[0])})"
        raise ValueError(f"cannot print the condition {c} into a kernel")

    @staticmethod
    def const(e: sp.Basic) -> str:
        if e is sp.nan:
            return "math.nan"
        if e == sp.oo:
            return "math.inf"
        if e == -sp.oo:
            return "(-math.inf)"
        v = sp.N(e, 30)
        if not (isinstance(v, sp.Number) and v.is_real):
            raise ValueError(f"the constant {e} is not a real number (it evaluates to {v})")
        f = float(v)
        if math.isnan(f):
            return "math.nan"
        if math.isinf(f):
            return "math.inf" if f > 0 else "(-math.inf)"
        text = repr(f)
        return f"({text})" if text.startswith("-") else text


def check_printed(code: str, n_params: int) -> None:
    """Parse printed code and refuse anything but the generated identifiers and literals.

    Parameters
    ----------
    code : str
        A Python expression, as :func:`print_expression` prints it.
    n_params : int
        How many parameters ``p[0]``, ``p[1]``, ... it may read.

    Raises
    ------
    ValueError
        ("internal error") If it does not parse as an expression, or contains anything but
        the names ``x``, ``p``, ``math``, ``max``, ``min``, attributes ``math.<function>`` of
        :data:`MATH_FUNCTIONS` (and ``sqrt``, ``inf``, ``nan``, ``isnan``, ``isinf``),
        subscripts ``p[i]`` with ``0 <= i < n_params``, numbers, arithmetic, comparisons,
        ``and``/``or``/``not`` and conditional expressions.
    """
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"internal error: printed kernel code does not parse: {code!r}") from exc
    ok = (
        ast.Expression,
        ast.BinOp,
        ast.UnaryOp,
        ast.BoolOp,
        ast.Compare,
        ast.IfExp,
        ast.Call,
        ast.Attribute,
        ast.Subscript,
        ast.Name,
        ast.Constant,
        ast.Load,
        ast.operator,
        ast.unaryop,
        ast.boolop,
        ast.cmpop,
    )
    for node in ast.walk(tree):
        bad = not isinstance(node, ok)
        if isinstance(
            node,
            (ast.MatMult, ast.BitOr, ast.BitAnd, ast.BitXor, ast.LShift, ast.RShift, ast.Invert),
        ):
            bad = True
        elif isinstance(node, ast.Name):
            bad = node.id not in ("x", "p", "math", "max", "min")
        elif isinstance(node, ast.Attribute):
            bad = not (
                isinstance(node.value, ast.Name)
                and node.value.id == "math"
                and node.attr in _MATH_ATTRS
            )
        elif isinstance(node, ast.Subscript):
            s = node.slice
            bad = not (
                isinstance(node.value, ast.Name)
                and node.value.id == "p"
                and isinstance(s, ast.Constant)
                and type(s.value) is int
                and 0 <= s.value < n_params
            )
        elif isinstance(node, ast.Call):
            f = node.func
            bad = bool(node.keywords) or not (
                isinstance(f, ast.Attribute) or (isinstance(f, ast.Name) and f.id in ("max", "min"))
            )
        elif isinstance(node, ast.Constant):
            bad = type(node.value) not in (int, float, bool)
        if bad:
            raise ValueError(
                f"internal error: printed kernel code {code!r} contains {ast.dump(node)}"
            )


def print_expression(expr: sp.Basic, params: tuple[sp.Symbol, ...], what: str) -> str:
    """Python source of an activation's expression, in the generated identifiers only.

    Parameters
    ----------
    expr : sympy.Basic
        In the variable :data:`initmath.theory.activations.expressions.X` (printed ``x``)
        and the symbols ``params`` (printed ``p[0]``, ``p[1]``, ...).
    params : tuple of sympy.Symbol
        The parameters, in the order of the kernel's ``params`` array.
    what : str
        What ``expr`` is ("expression", "derivative"), for the error messages.

    Returns
    -------
    str
        One line of Python: every constant a float literal rounded once, every operand
        parenthesized (never twice), functions as ``math.<name>`` (:data:`MATH_FUNCTIONS`).

    Raises
    ------
    ValueError
        If ``expr`` contains a function outside :data:`MATH_FUNCTIONS`, ``Max``, ``Min``,
        ``Piecewise`` and arithmetic, another symbol, or a constant that is not real; or
        (an internal error) if the printed code fails :func:`check_printed`.

    Examples
    --------
    >>> import sympy as sp
    >>> from initmath.theory.activations import X
    >>> a = sp.Symbol("a", positive=True)
    >>> print_expression(sp.Piecewise((a * X, X < 0), (X, True)), (a,), "expression")
    '((x*p[0]) if (x < 0.0) else (x))'
    """
    names = {X: "x", **{s: f"p[{i}]" for i, s in enumerate(params)}}
    _check_whitelist(expr, names, what)
    code = _Printer(names).expr(expr)
    check_printed(code, max(len(params), 1))
    return code


def as_returned(code: str, line: int = 100) -> str:
    """A printed expression laid out as the operand of a ``return`` four spaces in.

    Parameters
    ----------
    code : str
        One line of Python, from :func:`print_expression`.
    line : int, optional
        The longest line allowed (the project's line length).

    Returns
    -------
    str
        ``code`` itself when ``"    return " + code`` fits; else ``code`` in parentheses (the
        pair that encloses it all, if any, reused), over lines eight spaces in, each broken
        after a space where possible, else between two tokens: the same expression (the
        same syntax tree) within the line length.

    Examples
    --------
    >>> print(as_returned(" + ".join(["x"] * 12), line=30))
    (
            x + x + x + x + x + x
            + x + x + x + x + x +
            x
        )
    """
    if len("    return ") + len(code) <= line:
        return code
    code = _bare(code)  # the pair around the lines replaces it
    indent = " " * 8
    width = line - len(indent)
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    starts = sorted({t.start[1] for t in tokens if 0 < t.start[1] < len(code)})
    lines = []
    start = 0
    while len(code) - start > width:
        fits = [b for b in starts if start < b and len(code[start:b].rstrip()) <= width]
        spaced = [b for b in fits if code[b - 1] == " "]
        end = (spaced or fits or [min(b for b in [*starts, len(code)] if b > start)])[-1]
        lines.append(code[start:end].rstrip())
        start = end
    lines.append(code[start:])
    return "(\n" + "".join(f"{indent}{line}\n" for line in lines) + "    )"
