"""Activations, each defined once as a SymPy expression.

Every other form is generated from that one expression: the derivative (by
:func:`sympy.diff`), a NumPy function, a Numba-compilable scalar function and an mpmath
function (all by :func:`sympy.lambdify`). Nothing is typed twice, so the forms cannot disagree.

Parameters (the slope of leaky ReLU, ELU's :math:`\\alpha`) are SymPy symbols with a default
value; :meth:`Activation.bind` substitutes numbers for them.

Users add their own with :func:`register_activation`, passing a SymPy expression. Strings are
refused: nothing here ever evaluates or sympifies user text.

This module holds the :class:`Activation` class and the registry of named activations; the
code generation behind the forms is in its submodules, each using only the ones before it:

* :mod:`~initmath.theory.activations.expressions`: the variable :data:`X` and what an
  activation may be written with, checked before any code is generated;
* :mod:`~initmath.theory.activations.stable_forms`: :func:`stable`, exact rewrites whose
  printed code cannot overflow;
* :mod:`~initmath.theory.activations.numeric_forms`: the NumPy and ``math`` (Numba) functions
  printed from the stable expression.

It is a little over 400 lines because the class is defined here, in the package itself (so
``initmath.theory.activations.Activation`` stays its name), and the registry, which builds and
binds Activation objects, with it.
"""

from __future__ import annotations

import functools
import keyword
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import mpmath
import numpy as np
import sympy as sp

# isnan and isinf are attributes of this module that initmath.engine.kernels reads: the guards
# that stable() writes, which the kernels print as math.isnan and math.isinf.
from sympy.codegen.cfunctions import isnan as isnan

from ...weights.torch_gain import ACTIVATION_ALIASES, canonical_name, split_spec
from .expressions import X, check_expr, parameter_value
from .expressions import isinf as isinf
from .numeric_forms import numpy_form, scalar_form
from .stable_forms import stable

__all__ = [
    "SLOPE",
    "X",
    "Activation",
    "activation",
    "activation_names",
    "register_activation",
    "registered",
    "selu_constants",
    "stable",
]


#: The slope :math:`a` of leaky ReLU (PReLU) for :math:`x < 0`, the parameter of the registered
#: ``"leaky_relu"``; :mod:`initmath.theory.derivations` derives in it (as its ``SLOPE``).
SLOPE = sp.Symbol("a", nonnegative=True)
_ALPHA = sp.Symbol("alpha", positive=True)


def selu_constants() -> tuple[sp.Expr, sp.Expr]:
    """SELU's :math:`(\\alpha_{01}, \\lambda_{01})` in closed form (Klambauer et al. 2017, eq. 14).

    They make mean 0, variance 1 the fixed point of a layer with LeCun-normal weights:

    .. math::
        \\alpha_{01} = -\\frac{\\sqrt{2/\\pi}}{\\operatorname{erfc}(1/\\sqrt2)\\, e^{1/2} - 1},
        \\quad
        \\lambda_{01} = \\bigl(1-\\operatorname{erfc}(1/\\sqrt2)\\sqrt e\\bigr)\\sqrt{2\\pi}
        \\bigl(2\\operatorname{erfc}(\\sqrt2)e^2 + \\pi\\operatorname{erfc}(1/\\sqrt2)^2 e
        - 2(2+\\pi)\\operatorname{erfc}(1/\\sqrt2)\\sqrt e + \\pi + 2\\bigr)^{-1/2}

    (about 1.6732632423543772 and 1.0507009873554805).
    """
    e, pi = sp.E, sp.pi
    c = sp.erfc(1 / sp.sqrt(2))
    alpha = -sp.sqrt(2 / pi) / (c * sp.sqrt(e) - 1)
    lam = (
        (1 - c * sp.sqrt(e))
        * sp.sqrt(2 * pi)
        / sp.sqrt(
            2 * sp.erfc(sp.sqrt(2)) * e**2 + pi * c**2 * e - 2 * (2 + pi) * c * sp.sqrt(e) + pi + 2
        )
    )
    return alpha, lam


@dataclass(frozen=True)
class Activation:
    """An activation :math:`\\phi(x)` given by a SymPy expression in :data:`X`.

    Attributes
    ----------
    name : str
        Registry name.
    expr : sympy.Expr
        :math:`\\phi(x)`, possibly with parameter symbols.
    params : Mapping[sympy.Symbol, float]
        The parameters still free in ``expr``, with their default values.
    citation : str or None
        Key into the book's bibliography.
    description : str
        One line for tables.
    """

    name: str
    expr: sp.Expr
    params: Mapping[sp.Symbol, float] = field(default_factory=dict)
    citation: str | None = None
    description: str = ""
    #: The expression before :meth:`bind` substituted numbers for its parameters
    #: (``expr`` itself for an activation that has none or is not bound yet).
    family: sp.Expr | None = None
    #: The ``(symbol, value)`` pairs :meth:`bind` substituted into ``family``, in order.
    bound: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()

    # -- parameters ------------------------------------------------------------------------
    def bind(self, *values: float, **named: float) -> Activation:
        """A copy with numbers substituted for the parameters (defaults for those not given)."""
        syms = list(self.params)
        if len(values) > len(syms):
            raise ValueError(
                f"activation {self.name!r} takes {len(syms)} parameter(s), got {values!r}"
            )
        chosen = dict(zip(syms, values, strict=False))  # values may bind a prefix
        by_name = {s.name: s for s in syms}
        for key, val in named.items():
            if key not in by_name:
                raise ValueError(f"activation {self.name!r} has no parameter {key!r}")
            chosen[by_name[key]] = val
        subs = {}
        for s in syms:
            val = chosen.get(s, self.params[s])
            subs[s] = parameter_value(val, f"{self.name} {s.name}")
        return Activation(
            self.name,
            self.expr.subs(subs),
            {},
            self.citation,
            self.description,
            family=self.expr,
            bound=tuple(subs.items()),
        )

    @property
    def is_bound(self) -> bool:
        """True when no parameter is left free."""
        return not self.params

    def _bound(self) -> Activation:
        return self if self.is_bound else self.bind()

    # -- generated forms -------------------------------------------------------------------
    @functools.cached_property
    def derivative(self) -> sp.Expr:
        """:math:`\\phi'(x)`, by :func:`sympy.diff`."""
        return _piecewise_safe(sp.diff(self.expr, X))

    @functools.cached_property
    def numpy(self) -> Callable[[np.ndarray], np.ndarray]:
        """Vectorized NumPy :math:`\\phi` (parameters at their defaults)."""
        return numpy_form(self._bound().expr)

    @functools.cached_property
    def numpy_derivative(self) -> Callable[[np.ndarray], np.ndarray]:
        """Vectorized NumPy :math:`\\phi'` (parameters at their defaults)."""
        return numpy_form(self._bound().derivative)

    @functools.cached_property
    def scalar(self) -> Callable[[float], float]:
        """Scalar :math:`\\phi` using only :mod:`math`: Numba's ``njit`` compiles it as is."""
        return scalar_form(self._bound().expr)

    @functools.cached_property
    def scalar_derivative(self) -> Callable[[float], float]:
        """Scalar :math:`\\phi'` using only :mod:`math`, for Numba."""
        return scalar_form(self._bound().derivative)

    @functools.cached_property
    def mpmath(self) -> Callable[[Any], Any]:
        """:math:`\\phi` on mpmath numbers, for high-precision quadrature."""
        return sp.lambdify(X, self._bound().expr, modules="mpmath")

    def latex(self) -> str:
        """LaTeX of :math:`\\phi(x)`."""
        return sp.latex(self.expr)

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, {self.expr})"


def _piecewise_safe(expr: sp.Expr) -> sp.Expr:
    # diff of a Piecewise is a Piecewise; of Max/Abs it would bring Heaviside/sign, which the
    # quadrature and code printers handle badly. All built-ins are written with Piecewise.
    return sp.piecewise_fold(expr)


# -- the registry --------------------------------------------------------------------------
def _builtin() -> dict[str, Activation]:
    x, a, alpha = X, SLOPE, _ALPHA
    sel_alpha, sel_lambda = selu_constants()
    sigmoid = 1 / (1 + sp.exp(-x))
    acts = [
        Activation("linear", x, description="identity"),
        Activation(
            "relu",
            sp.Piecewise((0, x <= 0), (x, True)),
            citation="he2015",
            description="rectified linear unit",
        ),
        Activation(
            "leaky_relu",
            sp.Piecewise((a * x, x <= 0), (x, True)),
            {a: 0.01},
            citation="he2015",
            description="leaky ReLU / PReLU, slope a",
        ),
        Activation("tanh", sp.tanh(x), citation="glorot2010", description="hyperbolic tangent"),
        Activation("sigmoid", sigmoid, citation="glorot2010", description="logistic sigmoid"),
        Activation("softplus", sp.log(1 + sp.exp(x)), description="softplus"),
        Activation(
            "elu",
            sp.Piecewise((alpha * (sp.exp(x) - 1), x <= 0), (x, True)),
            {alpha: 1},
            citation="clevert2016",
            description="exponential linear unit",
        ),
        Activation(
            "selu",
            sel_lambda * sp.Piecewise((sel_alpha * (sp.exp(x) - 1), x <= 0), (x, True)),
            citation="klambauer2017",
            description="scaled ELU (exact constants)",
        ),
        Activation(
            "gelu",
            x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
            citation="hendrycks2016",
            description="Gaussian error linear unit (exact, erf)",
        ),
        Activation(
            "silu",
            x * sigmoid,
            citation="ramachandran2017",
            description="sigmoid-weighted linear unit (swish)",
        ),
        Activation(
            "mish",
            x * sp.tanh(sp.log(1 + sp.exp(x))),
            citation="misra2019",
            description="self-regularized x tanh(softplus(x))",
        ),
        Activation(
            "lecun_tanh",
            sp.Rational(17159, 10000) * sp.tanh(sp.Rational(2, 3) * x),
            citation="lecun1998",
            description="1.7159 tanh(2x/3)",
        ),
    ]
    return {act.name: act for act in acts}


_REGISTRY: dict[str, Activation] = _builtin()
_PROBE = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
#: Names a parameter may not have: the generated code uses them.
_RESERVED = frozenset({"math", "numpy", "np", "mpmath", "scipy", "numba", "p", "nan", "inf"})


def activation_names() -> tuple[str, ...]:
    """Names of every registered activation, built-in and user-registered."""
    return tuple(_REGISTRY)


def registered(name: str) -> Activation:
    """The activation registered under ``name`` (or an alias) as it was registered: its
    parameters still free symbols (``leaky_relu``'s slope ``a``), for derivations in them.

    >>> registered("prelu").expr.free_symbols == {X, *registered("prelu").params}
    True

    Raises
    ------
    ValueError
        No activation has that name.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r}")
    key = canonical_name(name)
    if key not in _REGISTRY:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {', '.join(map(repr, _REGISTRY))}"
        )
    return _REGISTRY[key]


def activation(spec: object, param: object = None) -> Activation:
    """Look up an activation and bind its parameters.

    Parameters
    ----------
    spec : str, (str, float) or Activation
        A registered name (``"relu"``, ``"tanh"``, ...; see :func:`activation_names`),
        ``(name, parameter)`` such as ``("leaky_relu", 0.2)``, or an :class:`Activation`.
    param : float, optional
        The parameter, instead of giving it in ``spec``.

    Returns
    -------
    Activation
        With every parameter bound (defaults where not given).

    Raises
    ------
    ValueError
        Unknown name, a parameter for an activation without one, a negative or NaN parameter.
    """
    # bind() validates its values (parameter_value), whatever their type.
    if isinstance(spec, Activation):
        return spec.bind(cast(float, param)) if param is not None else spec._bound()
    name, value = split_spec(spec, param)
    key = canonical_name(name)
    if key not in _REGISTRY:
        raise ValueError(
            f"unknown activation {spec!r}; expected one of {', '.join(map(repr, _REGISTRY))} "
            "or an Activation (see register_activation)"
        )
    act = _REGISTRY[key]
    if value is None:
        return act.bind()
    if not act.params:
        raise ValueError(f"activation {name!r} takes no parameter, got param={value!r}")
    return act.bind(cast(float, value))


def register_activation(
    name: str,
    expr: sp.Expr,
    *,
    symbol: sp.Symbol | None = None,
    params: Mapping[sp.Symbol, float] | None = None,
    citation: str | None = None,
    description: str = "",
    replace: bool = False,
) -> Activation:
    """Add an activation given as a SymPy expression.

    Parameters
    ----------
    name : str
        Registry name; an existing name needs ``replace=True``.
    expr : sympy.Expr
        :math:`\\phi` in one variable. Never a string: strings are refused, not sympified.
    symbol : sympy.Symbol, optional
        The variable of ``expr``; by default its only free symbol that is not a parameter.
    params : mapping of sympy.Symbol to float, optional
        Parameters and their default values.

    Returns
    -------
    Activation

    Examples
    --------
    >>> import sympy as sp, initmath
    >>> t = sp.Symbol("t", real=True)
    >>> act = register_activation("cube_doc", t**3, replace=True)
    >>> initmath.moment("cube_doc").value      # E[z^6] = 15
    15.0
    """
    if isinstance(expr, (str, bytes)):
        raise TypeError(
            f"expr must be a SymPy expression, got the string {expr!r}; build it with SymPy "
            "(strings are never evaluated or sympified)"
        )
    if not isinstance(expr, sp.Expr):
        raise TypeError(f"expr must be a SymPy expression, got {type(expr).__name__}: {expr!r}")
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"name must be a Python identifier that is not a keyword, got {name!r}")
    key = name.lower()
    if key in ACTIVATION_ALIASES:
        raise ValueError(
            f"name {name!r} is an alias of the built-in {ACTIVATION_ALIASES[key]!r}: an activation "
            "registered under it could never be looked up; choose another name"
        )
    if key in _REGISTRY and not replace:
        raise ValueError(f"activation {name!r} is already registered; pass replace=True")
    for arg, val in (("citation", citation), ("description", description)):
        if val is not None and not isinstance(val, str):
            raise TypeError(f"{arg} must be a string, got {val!r}")
    # Nothing below generates or runs code before this check: classes are whitelisted
    # exactly, symbol names must be identifiers.
    check_expr(expr, "expr", guards=False)
    if not isinstance(replace, (bool, np.bool_)):
        raise TypeError(f"replace must be a bool, got {replace!r}")
    if params is not None and not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of SymPy symbols to numbers, got {params!r}")
    params = dict(params or {})
    for p, v in params.items():
        if type(p) is not sp.Symbol:
            raise TypeError(f"params keys must be SymPy symbols, got {p!r}")
        check_expr(p, "params")
        if p not in expr.free_symbols:
            raise ValueError(f"params has {p!r}, which does not appear in expr {expr!r}")
        parameter_value(v, f"params[{p.name!r}]")
    if symbol is not None and type(symbol) not in (sp.Symbol, sp.Dummy):
        raise TypeError(f"symbol must be a SymPy Symbol, got {symbol!r}")
    free = expr.free_symbols - set(params)
    if symbol is None:
        if len(free) != 1:
            raise ValueError(
                "expr must have exactly one variable besides its params, got "
                f"{sorted(map(str, free))} in {expr!r}"
            )
        (symbol,) = free
    elif symbol not in free or len(free) != 1:
        raise ValueError(f"symbol {symbol!r} must be the only free variable of expr {expr!r}")
    names = [s.name for s in params] + [X.name]
    if len(set(names)) != len(names) or any(n in _RESERVED for n in names[:-1]):
        raise ValueError(
            f"params names must be distinct, not {X.name!r} and not one of "
            f"{sorted(_RESERVED)}; got {names[:-1]}"
        )
    # |u|, max, min become Piecewise, whose derivative is again a Piecewise (not sign or
    # Heaviside, which neither the printers nor the moments handle).
    body = sp.piecewise_fold(
        expr.subs(symbol, X).rewrite(sp.Piecewise)
        if expr.has(sp.Abs, sp.Max, sp.Min)
        else expr.subs(symbol, X)
    )
    act = Activation(key, body, params, citation, description)
    check_expr(act.derivative, "the derivative of expr", guards=False)
    values = [mpmath.mpmathify(act.mpmath(mpmath.mpf(float(v)))) for v in _PROBE]
    if not all(isinstance(v, mpmath.mpf) for v in values):
        raise ValueError(f"expr {expr!r} takes complex values on [-2, 2]: {values}")
    with np.errstate(all="ignore"):
        probe = act.numpy(_PROBE)
    if not np.all(np.isfinite(probe)):
        raise ValueError(f"expr {expr!r} is not finite on [-2, 2]: {probe}")
    _REGISTRY[key] = act
    return act
