"""What an activation may be written with, and the check run before any code is generated.

It may be written with the variable :data:`X` and the allowed SymPy classes.

An activation is a SymPy expression in :data:`X`. Before anything is printed or evaluated from
one, ``check_expr`` walks it: every node's class must be one of a fixed set (compared exactly,
never by ``isinstance``), and every symbol name a plain identifier that is not a keyword, so
that nothing user-chosen reaches generated source as code. ``isinf`` is the one function of
the set defined here: the guard at :math:`\\pm\\infty` that
:func:`~initmath.theory.activations.stable` writes. ``parameter_value`` checks the numbers
substituted for an activation's parameters.
"""

from __future__ import annotations

import keyword
import numbers

import sympy as sp
from sympy.codegen import cfunctions
from sympy.codegen.cfunctions import expm1, isnan, log1p
from sympy.core.function import AppliedUndef

from ...core.checks import nonnegative_real

__all__ = ["X", "check_expr", "isinf", "parameter_value"]


#: The variable every activation is written in.
X = sp.Symbol("x", real=True)


class isinf(cfunctions.isinf):  # noqa: N801 - the printers look the name up as "isinf"
    """``isinf(x)``, left undecided for a real symbol.

    SymPy's own ``isinf`` is False for any real symbol (real means finite there), so a
    ``Piecewise`` branch on it would vanish; this one stays and prints as ``math.isinf`` or
    ``numpy.isinf``. For every real number it is False, so :func:`stable` stays exact.
    """

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Basic | None:
        """SymPy's ``true`` if a number ``arg`` is infinite, ``false`` if finite, else None."""
        if arg.is_number:
            return sp.true if arg.is_infinite else sp.false
        return None


#: Functions an activation may use: each one is printed by SymPy's math, NumPy and mpmath
#: printers, and its derivative stays in the set. (``Abs``, ``Max`` and ``Min`` are rewritten
#: as ``Piecewise`` by :func:`register_activation`: their derivatives would be ``sign`` and
#: ``Heaviside``.)
_FUNCTIONS: frozenset[type] = frozenset(
    {
        sp.exp,
        sp.log,
        sp.sin,
        sp.cos,
        sp.tanh,
        sp.sinh,
        sp.cosh,
        sp.atan,
        sp.asinh,
        sp.erf,
        sp.erfc,
        sp.Abs,
        sp.Max,
        sp.Min,
        sp.Piecewise,
        expm1,
        log1p,
    }
)
#: Arithmetic, numbers and logic allowed around them. Classes are compared exactly, never by
#: isinstance: a subclass could carry its own printing method, i.e. its own code.
_STRUCTURE: frozenset[type] = frozenset(
    {
        sp.Add,
        sp.Mul,
        sp.Pow,
        sp.Symbol,
        sp.Dummy,
        sp.Integer,
        sp.Rational,
        sp.Float,
        type(sp.S.Zero),
        type(sp.S.One),
        type(sp.S.NegativeOne),
        type(sp.S.Half),
        type(sp.pi),
        type(sp.E),
        type(sp.EulerGamma),
        sp.StrictLessThan,
        sp.LessThan,
        sp.StrictGreaterThan,
        sp.GreaterThan,
        sp.And,
        sp.Or,
        sp.Not,
        type(sp.true),
        type(sp.false),
        sp.functions.elementary.piecewise.ExprCondPair,
    }
)
#: Only in expressions :func:`stable` generated (its NaN and infinity guards).
_GUARDS: frozenset[type] = frozenset(
    {isnan, isinf, type(sp.nan), type(sp.oo), type(sp.S.NegativeInfinity)}
)
_REFUSED_HINT = {
    "sign": "write it with Piecewise",
    "Heaviside": "write it with Piecewise",
    "DiracDelta": "a distribution is not an activation",
}


def check_expr(expr: sp.Basic, what: str = "expr", *, guards: bool = True) -> None:
    """Refuse anything the printers, the derivative or the moments cannot handle.

    Runs before any code is generated from ``expr``. Every node's class must be one of a
    fixed set (compared exactly, so a ``Function`` or subclass whose name is Python code is
    refused), and every symbol name must be a plain identifier that is not a keyword, so that
    nothing user-chosen reaches generated source as code.
    """
    allowed = _FUNCTIONS | _STRUCTURE | (_GUARDS if guards else frozenset())
    for node in sp.preorder_traversal(expr):
        kind = type(node)
        if kind in (sp.Symbol, sp.Dummy):
            name = node.name
            if not (isinstance(name, str) and name.isidentifier()) or keyword.iskeyword(name):
                raise ValueError(
                    f"{what} has a symbol whose name {name!r} is not a plain Python identifier"
                )
            continue
        if kind is sp.Float and not node.is_finite:
            raise ValueError(f"{what} contains the non-finite number {node}: {expr!r}")
        if kind in allowed:
            continue
        if node is sp.I or (
            isinstance(node, sp.Expr) and node.is_number and (node.is_extended_real is False)
        ):
            raise ValueError(
                f"{what} is complex ({node!r} appears in {expr!r}); an activation is real"
            )
        if node in (sp.oo, -sp.oo, sp.zoo, sp.nan):
            raise ValueError(f"{what} contains the non-finite number {node}: {expr!r}")
        if isinstance(node, AppliedUndef):
            raise ValueError(
                f"{what} uses the undefined function {kind.__name__!r} in {expr!r}; write it "
                "out with SymPy's functions"
            )
        label = getattr(kind, "__name__", "?")
        hint = _REFUSED_HINT.get(label, "")
        names = ", ".join(sorted(f.__name__ for f in _FUNCTIONS))
        raise ValueError(
            f"{what} uses {label!r}{' (' + hint + ')' if hint else ''}, which initmath cannot "
            f"print, differentiate and integrate reliably; allowed functions: {names}. "
            f"Got {expr!r}"
        )


def parameter_value(value: object, name: str) -> sp.Expr:
    """``value`` as the SymPy number substituted for a parameter (``name`` in messages).

    It must be a real number >= 0; the number is exact if it is integral, else a float at its
    binary value.
    """
    if isinstance(value, sp.Basic):
        if not value.is_real or value.free_symbols:
            raise ValueError(f"{name} must be a real number, got {value!r}")
        if value.is_negative:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
        return value
    x = nonnegative_real(value, name)
    # Integers stay exact; a float is taken at its binary value.
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    return sp.Float(x, 17) if x != int(x) else sp.Integer(int(x))
