r"""Textbook LaTeX for derived SymPy expressions: the formulas as a reader meets them.

SymPy prints what its canonical form happens to be: :math:`\sqrt{2}\sqrt{q}/(2\sqrt{\pi})`
for the mean of a ReLU unit, :math:`-2q^2 + q` for a series in :math:`q`, constants last in
:math:`6L/n + 3`. :func:`textbook` rearranges an expression into the form a textbook prints,
without changing its value, and :func:`latex` prints that form:

* **Radicals collected.** A product of square roots (with its rational coefficient, when a
  numeric root is among them) is one root: :math:`\sqrt{3}\sqrt{v} \to \sqrt{3v}`,
  :math:`\sqrt{2}\sqrt{q}/(2\sqrt{\pi}) \to \sqrt{q/(2\pi)}`.
* **Constants first.** In a product, numbers, then factors free of symbols such as
  :math:`(\pi - 1)`, then the rest: :math:`(\pi - 1)q/(2\pi)`. In a sum, the terms free of
  symbols first (positive before negative), then the others with a positive one leading:
  :math:`3 + 6L/n`, :math:`\pi - 1`, :math:`q - 2q^2`.
* **Increasing order in a small quantity** ``small`` (a symbol such as :math:`q`, or
  :math:`1/n`), and a truncated series closed by :math:`O(\text{small}^{\,k})` (``series=k``).
* **Logarithms of numbers collected** into the logarithm they multiply:
  :math:`\log(2/n) + \log 2 \to \log(4/n)`.
* **Named constants.** A Gaussian factor :math:`e^{-a}/\sqrt{\pi}` is written with the
  standard normal density :math:`\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}` (:class:`NormalPdf`):
  :math:`2\sqrt{2}e^{-2}/\sqrt{\pi} = 4\varphi(2)`. :func:`plain` substitutes it back.
* **Unambiguous powers of functions**: :math:`\psi(k/2)^2`, not :math:`\psi^2(k/2)`; the
  digamma and trigamma functions as :math:`\psi` and :math:`\psi'`.

The rearranged expression is a SymPy tree built unevaluated (``evaluate=False``,
:class:`sympy.UnevaluatedExpr`), never a parsed string, so that

>>> import sympy as sp
>>> q = sp.Symbol("q", positive=True)
>>> e = sp.sqrt(2) * sp.sqrt(q) / (2 * sp.sqrt(sp.pi))
>>> latex(e)
'\\sqrt{\\frac{q}{2 \\pi}}'
>>> sp.simplify(plain(textbook(e)) - e)
0

Printing keeps the tree's order (SymPy's printer with ``order="none"``), so a hand-arranged
display form built with ``evaluate=False`` prints as built (``order="given"``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sympy as sp
from sympy.core.relational import Relational
from sympy.printing.latex import LatexPrinter

__all__ = ["NormalPdf", "equation", "latex", "plain", "textbook"]

_ORDERS = (None, "given", "increasing", "decreasing")


class NormalPdf(sp.Function):
    r"""The standard normal density :math:`\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}`, kept by name.

    A named constant of the presentation layer: ``NormalPdf(2)`` stays unevaluated and prints
    as :math:`\varphi(2)`; ``.doit()`` (or :func:`plain`) gives its value
    :math:`e^{-2}/\sqrt{2\pi}`.
    """

    nargs = 1

    @classmethod
    def eval(cls, x: sp.Expr) -> None:
        """Never evaluates on construction: the name is the point."""
        return None

    def doit(self, **hints: Any) -> sp.Expr:
        """The density's value, :math:`e^{-x^2/2}/\\sqrt{2\\pi}`."""
        (x,) = self.args
        if hints.get("deep", True):
            x = x.doit(**hints)
        return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)

    def _eval_rewrite_as_exp(self, x: sp.Expr, **kwargs: Any) -> sp.Expr:
        return sp.exp(-(x**2) / 2) / sp.sqrt(2 * sp.pi)

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.doit()._eval_evalf(prec)

    def _eval_is_positive(self) -> bool:
        return bool(self.args[0].is_extended_real)

    def _latex(self, printer: LatexPrinter, exp: str | None = None) -> str:
        tex = rf"\varphi\left({printer._print(self.args[0])}\right)"
        return tex if exp is None else f"{tex}^{{{exp}}}"


# -- checks ---------------------------------------------------------------------------------


def _check_expr(expr: object, name: str = "expr") -> sp.Basic:
    if isinstance(expr, sp.MatrixBase):
        return expr
    if not isinstance(expr, sp.Basic):
        raise TypeError(
            f"{name} must be a SymPy expression (strings are never parsed; wrap a Python "
            f"number, e.g. sympy.Integer(3)), got {expr!r}"
        )
    return expr


def _check_small(small: object) -> tuple[sp.Symbol, int] | None:
    """``small`` as ``(symbol, sign)``: the small quantity is ``symbol**sign``."""
    if small is None:
        return None
    if isinstance(small, sp.Symbol):
        return small, 1
    if isinstance(small, sp.Pow) and isinstance(small.base, sp.Symbol) and small.exp == -1:
        return small.base, -1
    if isinstance(small, sp.Basic):
        raise ValueError(
            f"small must be a symbol such as q or its inverse such as 1/n, got {small}"
        )
    raise TypeError(f"small must be a SymPy symbol or 1/symbol, got {small!r}")


def _check_series(series: object, small: tuple[sp.Symbol, int] | None) -> int | None:
    if series is None:
        return None
    if isinstance(series, bool) or not isinstance(series, int):
        raise TypeError(
            f"series must be an int (the order of the first dropped term), got {series!r}"
        )
    if series < 1:
        raise ValueError(f"series must be at least 1, got {series}")
    if small is None:
        raise ValueError(f"series={series} needs the small quantity small= it is a series in")
    return series


def _check_order(order: object) -> str | None:
    if order is None:
        return None
    if not isinstance(order, str) or order not in _ORDERS:
        raise ValueError(f"order must be one of {_ORDERS}, got {order!r}")
    return order


# -- rearrangement ----------------------------------------------------------------------------


def _free(e: sp.Basic) -> bool:
    """Whether ``e`` has free symbols (is not a constant)."""
    return bool(e.free_symbols)


def _degree(term: sp.Expr, small: tuple[sp.Symbol, int]) -> sp.Expr:
    """The power of the small quantity in ``term`` (0 for a term without it)."""
    sym, sign = small
    if isinstance(term, sp.Order):
        return sp.oo
    s = sp.Dummy("s", positive=True)
    t = term.subs(sym, s**sign) if sign == 1 else term.subs(sym, 1 / s)
    exponent = sp.expand(t).as_coeff_exponent(s)[1] if t.has(s) else sp.Integer(0)
    return exponent if exponent.is_number else sp.Integer(0)


def _gaussian_names(expr: sp.Basic) -> sp.Basic:
    """Write :math:`e^{-a}` as :math:`\\sqrt{2\\pi}\\,\\varphi(\\sqrt{2a})` where that removes
    :math:`\\pi` from the expression (the signature of a normal density)."""
    for power in sorted(expr.atoms(sp.exp), key=sp.default_sort_key):
        a = -power.args[0]
        if not (a.is_number and a.is_positive):
            continue
        named = expr.xreplace({power: sp.sqrt(2 * sp.pi) * NormalPdf(sp.sqrt(2 * a))})
        if named.count(sp.pi) < expr.count(sp.pi):
            expr = named
    return expr


def _collect_logs(terms: list[sp.Expr]) -> list[sp.Expr]:
    """Merge the logarithms of numbers into one other logarithm of the sum, if there is one."""
    logs = [t for t in terms if isinstance(t, sp.log)]
    numeric = [t for t in logs if t.args[0].is_number and t.args[0].is_positive]
    target = [t for t in logs if t not in numeric]
    if not numeric or (len(numeric) == 1 and not target):
        return terms
    merged_arg = sp.Mul(*(t.args[0] for t in numeric))
    rest = [t for t in terms if t not in numeric]
    if target:
        first = target[0]
        merged = sp.log(sp.together(first.args[0] * merged_arg))
        return [merged if t is first else t for t in rest]
    return [sp.log(merged_arg), *rest]


def _is_radical(f: sp.Expr) -> bool:
    return isinstance(f, sp.Pow) and f.exp in (sp.S.Half, -sp.S.Half)


def _collect_radicals(factors: list[sp.Expr]) -> list[sp.Expr]:
    """One square root for a product of square roots (and its rational coefficient when a
    numeric root is among them)."""
    radicals = [f for f in factors if _is_radical(f)]
    if not radicals:
        return factors
    coeff = sp.Mul(*(f for f in factors if f.is_Rational))
    numeric_root = any(f.base.is_number for f in radicals)
    fold = numeric_root and coeff.is_Rational and abs(coeff.p) == 1
    if len(radicals) < 2 and not (fold and coeff != 1 and coeff != -1 and _free(radicals[0])):
        return factors
    radicand = sp.Mul(*(f.base ** (2 * f.exp) for f in radicals))
    sign = sp.Integer(1)
    if fold:
        radicand = radicand * coeff**2
        sign = sp.sign(coeff)
    if radicand.is_number:
        return factors  # a number's root: SymPy's own form is the textbook one
    root = sp.Pow(sp.UnevaluatedExpr(_rearrange(radicand, None, None)), sp.S.Half, evaluate=False)
    rest = [f for f in factors if not _is_radical(f) and not (fold and f.is_Rational)]
    if fold and sign == -1:
        rest = [sp.Integer(-1), *rest]
    return [*rest, root]


def _integral_sums(factors: list[sp.Expr]) -> list[sp.Expr]:
    """A sum factor with fractional coefficients gives its content to the product's number:
    :math:`3(5L - 27/5)/n \\to 3(25L - 27)/(5n)`."""
    content = sp.Integer(1)
    out = []
    for f in factors:
        if isinstance(f, sp.Add):
            c, primitive = f.primitive()
            if c != 1 and not c.is_Integer:
                content, f = content * c, primitive
        out.append(f)
    if content == 1:
        return factors
    numbers = [f for f in out if f.is_Number]
    number = sp.Mul(content, *numbers)
    rest = [f for f in out if not f.is_Number]
    return rest if number == 1 else [number, *rest]


def _factor_key(f: sp.Expr) -> tuple[int, int]:
    if f.is_Number:
        return (0, 0)
    if not _free(f):
        return (1, 0)
    if isinstance(f, sp.Add):
        return (2, 0)  # (1 + a^2) q: a sum before the plain factors
    if _is_radical(f) or isinstance(f, sp.Pow) and isinstance(f.base, sp.UnevaluatedExpr):
        return (3, 0)
    return (2, 1)


def _order_terms(
    terms: list[sp.Expr], order: str | None, small: tuple[sp.Symbol, int] | None
) -> list[sp.Expr]:
    if order == "given":
        return terms
    # SymPy's printing order first (terms it would merge keep their place), then the rules
    canonical = list(sp.Add(*terms).as_ordered_terms()) if len(terms) > 1 else terms
    ranked = sorted(
        terms,
        key=lambda t: canonical.index(t) if t in canonical else len(canonical),
    )
    orders = [t for t in ranked if isinstance(t, sp.Order)]
    ranked = [t for t in ranked if not isinstance(t, sp.Order)]
    if small is not None:
        ranked.sort(key=lambda t: _degree(t, small), reverse=order == "decreasing")
        return ranked + orders
    numbers = [t for t in ranked if not _free(t)]
    numbers.sort(key=lambda t: bool(t.could_extract_minus_sign()))
    others = [t for t in ranked if _free(t)]
    if others and others[0].could_extract_minus_sign():
        positive = [t for t in others if not t.could_extract_minus_sign()]
        if positive:
            others.remove(positive[0])
            others.insert(0, positive[0])
    if numbers and numbers[0].could_extract_minus_sign() and others:
        # "q - 1", not "-1 + q"
        return others + numbers + orders
    return numbers + others + orders


def _rearrange(expr: sp.Basic, order: str | None, small: tuple[sp.Symbol, int] | None) -> sp.Basic:
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: _rearrange(e, order, small))
    if isinstance(expr, Relational):
        return expr.func(
            _rearrange(expr.lhs, order, small), _rearrange(expr.rhs, order, small), evaluate=False
        )
    if expr.is_Atom or isinstance(expr, sp.UnevaluatedExpr):
        return expr
    if isinstance(expr, sp.Add):
        terms = _order_terms(_collect_logs(list(expr.args)), order, small)
        return sp.Add(*(_rearrange(t, order, small) for t in terms), evaluate=False)
    if isinstance(expr, sp.Mul):
        factors = [_rearrange(f, order, small) for f in _integral_sums(list(expr.args))]
        factors = _collect_radicals(factors)
        if order != "given":
            factors.sort(key=_factor_key)
        return sp.Mul(*factors, evaluate=False)
    if isinstance(expr, sp.Pow):
        return sp.Pow(_rearrange(expr.base, order, small), expr.exp, evaluate=False)
    if isinstance(expr, sp.Piecewise):
        pieces = ((_rearrange(e, order, small), c) for e, c in expr.args)
        return sp.Piecewise(*pieces, evaluate=False)
    if isinstance(expr, (sp.Order, sp.Sum, sp.Integral)) or expr.is_Function:
        return expr.func(*(_rearrange(a, order, small) for a in expr.args))
    return expr


def _truncated(expr: sp.Expr, small: tuple[sp.Symbol, int], series: int) -> sp.Expr:
    """``expr``'s terms below ``small**series``, plus the order term."""
    sym, sign = small
    kept = [t for t in sp.Add.make_args(sp.expand(expr)) if not isinstance(t, sp.Order)]
    kept = [t for t in kept if _degree(t, small) < series]
    if sign == 1:
        big_o = sp.Order(sym**series, sym)
    else:
        big_o = sp.Order(sym ** (-series), (sym, sp.oo))
    return sp.Add(*kept, big_o)


def textbook(
    expr: sp.Basic,
    *,
    order: str | None = None,
    small: sp.Expr | None = None,
    series: int | None = None,
) -> sp.Basic:
    r"""``expr`` rearranged into its textbook form (equal in value; see the module docstring).

    Parameters
    ----------
    expr : sympy.Basic
        An expression, an equation (:class:`sympy.Eq`) or a matrix (elementwise).
    order : {None, "given", "increasing", "decreasing"}
        Order of the terms of sums. None: the textbook rules (constants first; by increasing
        power of ``small`` when it is given); ``"increasing"``/``"decreasing"``: by the power
        of ``small``; ``"given"``: as the tree has them (a display form built with
        ``evaluate=False``).
    small : sympy.Symbol or 1/sympy.Symbol, optional
        The small quantity :math:`s` of an expansion (:math:`q`, or :math:`1/n`).
    series : int, optional
        Truncate to a series in ``small``: terms of order :math:`s^k`, :math:`k \ge`
        ``series``, are dropped and :math:`O(s^{\,\mathrm{series}})` is appended.

    Returns
    -------
    sympy.Basic
        An unevaluated tree (it may contain :class:`sympy.UnevaluatedExpr`,
        :class:`NormalPdf` and :class:`sympy.Order`); :func:`plain` gives back an ordinary
        expression equal to ``expr`` (to the order of the series).

    Raises
    ------
    TypeError
        If ``expr`` is not a SymPy object, ``small`` not a SymPy expression or ``series`` not
        an int.
    ValueError
        If ``order`` is not one of its values, ``small`` is not a symbol or its inverse, or
        ``series`` is below 1 or given without ``small``.
    """
    e = _check_expr(expr)
    o = _check_order(order)
    s = _check_small(small)
    k = _check_series(series, s)
    if o in ("increasing", "decreasing") and s is None:
        raise ValueError(f"order={o!r} needs the small quantity small=")
    if k is not None and s is not None:
        if isinstance(e, Relational):
            e = e.func(e.lhs, _truncated(e.rhs, s, k), evaluate=False)
        elif isinstance(e, sp.Expr):
            e = _truncated(e, s, k)
        else:
            raise TypeError(f"series= needs a scalar expression or an equation, got {expr!r}")
    return _rearrange(_gaussian_names(e), o, s)


def plain(expr: sp.Basic) -> sp.Basic:
    """An ordinary SymPy expression from a :func:`textbook` form.

    Named constants are substituted back, :class:`sympy.UnevaluatedExpr` wrappers removed and
    order terms dropped, so that ``sympy.simplify(plain(textbook(e)) - e) == 0`` (for a
    truncated series, up to the dropped terms).
    """
    e = _check_expr(expr)
    e = e.replace(lambda x: isinstance(x, sp.Order), lambda x: sp.Integer(0))
    e = e.replace(lambda x: isinstance(x, NormalPdf), lambda x: x.doit())
    return e.doit(deep=True) if hasattr(e, "doit") else e


# -- printing -------------------------------------------------------------------------------


class _TextbookPrinter(LatexPrinter):
    """SymPy's LaTeX printer, in the tree's order, with textbook functions and powers."""

    def __init__(self, names: Mapping[sp.Symbol, str] | None = None) -> None:
        super().__init__({"order": "none", "symbol_names": dict(names or {})})

    def _print_Order(self, expr: sp.Order) -> str:
        return rf"O\left({self._print(expr.expr)}\right)"

    def _print_polygamma(self, expr: sp.Expr, exp: str | None = None) -> str:
        n, x = expr.args
        names = {0: r"\psi", 1: r"\psi'"}
        if not n.is_Integer:
            return str(super()._print_polygamma(expr, exp))
        name = names.get(int(n), rf"\psi^{{({self._print(n)})}}")
        tex = rf"{name}\left({self._print(x)}\right)"
        return tex if exp is None else f"{tex}^{{{exp}}}"

    def _print_Pow(self, expr: sp.Pow) -> str:
        base, e = expr.base, expr.exp
        root = e.is_Rational and abs(e.p) == 1 and e.q != 1
        if base.is_Function and not isinstance(base, sp.exp) and not root:
            # f(x)^2, never the ambiguous f^2(x)
            return f"{self._print(base)}^{{{self._print(e)}}}"
        return str(super()._print_Pow(expr))


def _check_names(names: object) -> Mapping[sp.Symbol, str] | None:
    if names is None:
        return None
    if not isinstance(names, Mapping):
        raise TypeError(f"names must be a mapping of SymPy symbols to LaTeX, got {names!r}")
    for key, value in names.items():
        if not isinstance(key, sp.Symbol) or not isinstance(value, str):
            raise TypeError(
                f"names must map SymPy symbols to LaTeX strings, got {key!r}: {value!r}"
            )
    return names


def latex(
    expr: sp.Basic,
    *,
    order: str | None = None,
    small: sp.Expr | None = None,
    series: int | None = None,
    names: Mapping[sp.Symbol, str] | None = None,
) -> str:
    r"""Textbook LaTeX of ``expr``: :func:`sympy.latex` of its :func:`textbook` form.

    Parameters
    ----------
    expr, order, small, series
        As :func:`textbook`.
    names : mapping of sympy.Symbol to str, optional
        LaTeX for some symbols (SymPy's ``symbol_names``), e.g. ``{q_g: r"\tilde q"}``: the
        book's notation for a symbol the derivation names otherwise.

    Returns
    -------
    str
        The LaTeX, without math delimiters.

    Raises
    ------
    TypeError, ValueError
        As :func:`textbook`; a ``TypeError`` too if ``names`` is not a mapping of symbols to
        strings.

    Examples
    --------
    >>> import sympy as sp
    >>> q = sp.Symbol("q", positive=True)
    >>> latex(-2 * q**2 + q, small=q, series=3)
    'q - 2 q^{2} + O\\left(q^{3}\\right)'
    >>> latex(q * (sp.pi - 1) / (2 * sp.pi))
    '\\frac{\\left(\\pi - 1\\right) q}{2 \\pi}'
    """
    printer = _TextbookPrinter(_check_names(names))
    return str(printer.doprint(textbook(expr, order=order, small=small, series=series)))


def equation(
    lhs: sp.Basic,
    rhs: sp.Basic,
    *,
    order: str | None = None,
    small: sp.Expr | None = None,
    series: int | None = None,
    names: Mapping[sp.Symbol, str] | None = None,
) -> str:
    r"""Textbook LaTeX of the equation ``lhs = rhs`` (each side by :func:`latex`; ``small``
    and ``series`` apply to ``rhs``).

    >>> import sympy as sp
    >>> v = sp.Symbol("v", positive=True)
    >>> equation(sp.Symbol("A"), sp.sqrt(3) * sp.sqrt(v))
    'A = \\sqrt{3 v}'
    """
    _check_expr(lhs, "lhs")
    _check_expr(rhs, "rhs")
    left = latex(lhs, order=order, names=names)
    return f"{left} = {latex(rhs, order=order, small=small, series=series, names=names)}"
