"""The formula registry: every formula the book shows, derived, with its provenance.

Each :class:`Formula` has a stable name, the SymPy derivation that produces it (run lazily,
once), its assumptions in words, its LaTeX and the key of the paper it comes from in the
book's bibliography (``book/references.bib``). Its LaTeX is the textbook form of the derived
expression, by :mod:`initmath.practice.presentation` (collected radicals, constants first,
named constants, series in increasing order), or of a hand-arranged display form built in
code from the same symbols; ``tests/practice/test_registry.py`` checks that every displayed
form equals the derived one. :attr:`Formula.check` is how
:mod:`initmath.practice.verification` checks it against simulation, and
:meth:`Formula.verify` runs that check. The registry sits above verification, so nothing
is attached at import time.

>>> import initmath
>>> f = initmath.formulas["he.variance"]
>>> f.rhs
2/n_in
>>> f.latex
'v = \\\\frac{2}{n_{in}}'
>>> f.cite
'he2015'
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import sympy as sp

from ..theory import convolution as conv
from ..theory import derivations as d
from ..theory import residual
from ..theory.activations import registered
from ..theory.moments import Q, symbolic_moment
from . import presentation
from .verification import CHECKS, LEVEL, Check, Verification, verify

__all__ = ["CHAPTERS", "Formula", "FormulaRegistry", "formulas"]

#: The chapter of the book that shows each formula, by name, as its MyST source file, which
#: quotes the formula's name (``tests/test_book.py`` checks both ways). Formulas missing here
#: are in no chapter yet.
CHAPTERS: Mapping[str, str] = MappingProxyType(
    {
        "forward_map": "book/random_init.md",
        "backward_map": "book/random_init.md",
        "linear.second_moment": "book/xavier.md",
        "relu.second_moment": "book/xavier.md",
        "leaky_relu.second_moment": "book/he.md",
        "relu.mean": "book/he.md",
        "relu.derivative_moment": "book/xavier.md",
        "tanh.linearized_moment": "book/random_init.md",
        "lecun.variance": "book/xavier.md",
        "xavier.variance": "book/xavier.md",
        "he.variance": "book/he.md",
        "he.variance_fan_out": "book/he.md",
        "prelu.variance": "book/he.md",
        "standard.variance": "book/random_init.md",
        "gain.exact": "book/gains.md",
        "gain.backward": "book/gains.md",
        "uniform.bound": "book/xavier.md",
        "truncated_normal.factor": "book/xavier.md",
        "residual.forward_map": "book/residual.md",
        "residual.backward_map": "book/residual.md",
        "residual.he_growth": "book/residual.md",
    }
)


@dataclass(eq=False)
class Formula:
    r"""One derived formula: ``lhs = rhs``.

    Attributes
    ----------
    name : str
        Stable key, e.g. ``"he.variance"``.
    lhs : sympy.Expr
        What the formula gives (a symbol such as :math:`v`).
    assumptions : tuple of str
        The assumptions of the derivation, in words.
    cite : str or None
        Citation key into ``book/references.bib``.
    description : str
        One line.
    chapter : str or None
        The book's chapter that shows it (its source file, e.g. ``"book/he.md"``), or None
        when no chapter does yet (:data:`CHAPTERS`).
    arrange : callable or None
        Builds a hand-arranged display form of :attr:`rhs` (a SymPy tree with
        ``evaluate=False``, printed in the order it was built), for formulas whose textbook
        form the presentation rules do not find; None:
        :func:`~initmath.practice.presentation.textbook` of :attr:`rhs`.
    small : sympy.Expr or None
        The small quantity of an expansion (:math:`q`), whose increasing powers order the
        displayed terms.
    series : int or None
        The displayed form is a series truncated before ``small**series``, closed by
        :math:`O(\cdot)`.
    names : mapping of sympy.Symbol to str
        The book's LaTeX for symbols the derivation names otherwise (the gradient's second
        moment :math:`\tilde q`).
    """

    name: str
    lhs: sp.Expr
    derive: Callable[[], sp.Expr] = field(repr=False)
    assumptions: tuple[str, ...]
    cite: str | None
    description: str
    arrange: Callable[[], sp.Expr] | None = field(default=None, repr=False)
    small: sp.Expr | None = None
    series: int | None = None
    names: Mapping[sp.Symbol, str] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def rhs(self) -> sp.Expr:
        """The derived right-hand side (computed on first use, then cached)."""
        return self.derive()

    @property
    def chapter(self) -> str | None:
        """The chapter that shows the formula (:data:`CHAPTERS`), or None."""
        return CHAPTERS.get(self.name)

    @property
    def check(self) -> Check | None:
        """How the formula is checked against simulation (:data:`CHECKS`), or None."""
        return CHECKS.get(self.name)

    def verify(
        self,
        *,
        n_networks: int | None = None,
        seed: int = 0,
        level: float = LEVEL,
        threads: int | None = None,
        scale: float = 1.0,
    ) -> Verification:
        """Check the formula against simulation: :func:`initmath.verify` of its name.

        Raises
        ------
        ValueError
            If the formula has no simulation check.
        """
        if self.check is None:
            raise ValueError(f"formula {self.name!r} has no simulation check")
        return verify(
            self.name, n_networks=n_networks, seed=seed, level=level, threads=threads, scale=scale
        )

    @property
    def expr(self) -> sp.Expr:
        """Alias of :attr:`rhs`."""
        return self.rhs

    @property
    def equation(self) -> sp.Eq:
        """``sympy.Eq(lhs, rhs)``, unevaluated."""
        return sp.Eq(self.lhs, self.rhs, evaluate=False)

    @functools.cached_property
    def display(self) -> sp.Expr:
        """The displayed right-hand side, the textbook form of :attr:`rhs` (or of the
        hand-arranged form).

        An unevaluated tree equal to :attr:`rhs`
        (:func:`~initmath.practice.presentation.plain` of it simplifies to it).
        """
        expr, order = self._shown()
        shown = presentation.textbook(expr, order=order, small=self.small, series=self.series)
        assert isinstance(shown, sp.Expr), self.name
        return shown

    def _shown(self) -> tuple[sp.Expr, str | None]:
        if self.arrange is None:
            return self.rhs, None
        return self.arrange(), "given"

    @property
    def latex(self) -> str:
        """LaTeX of the equation in textbook form, by
        :func:`initmath.practice.presentation.equation`."""
        expr, order = self._shown()
        return presentation.equation(
            self.lhs, expr, order=order, small=self.small, series=self.series, names=self.names
        )

    def __repr__(self) -> str:
        return f"Formula({self.name!r}: {self.lhs} = {self.rhs})"


class FormulaRegistry(Mapping[str, Formula]):
    """Read-only mapping of formula name to :class:`Formula`, in the order they were added."""

    def __init__(self) -> None:
        self._items: dict[str, Formula] = {}

    def _add(self, formula: Formula) -> None:
        if formula.name in self._items:
            raise ValueError(f"duplicate formula {formula.name!r}")
        self._items[formula.name] = formula

    def __getitem__(self, name: str) -> Formula:
        if not isinstance(name, str):
            raise TypeError(f"name must be a formula name (a str), got {name!r}")
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"unknown formula {name!r}; known: {', '.join(self._items)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)


def _sym(name: str, **assumptions: bool) -> sp.Symbol:
    return sp.Symbol(name, **assumptions)


def _moment(name: str, k: int = 2, derivative: bool = False) -> Callable[[], sp.Expr]:
    def derive() -> sp.Expr:
        result = symbolic_moment(registered(name), k, derivative=derivative)
        assert result is not None, name
        return result

    return derive


def _at_unit_q(derive: Callable[[], sp.Expr]) -> Callable[[], sp.Expr]:
    """``derive``'s expression in :math:`q`, at :math:`q = 1`."""
    return lambda: sp.simplify(derive().subs(Q, 1))


def _solved(condition: Callable[[], sp.Eq], symbol: sp.Symbol = d.V) -> Callable[[], sp.Expr]:
    """The ``symbol`` (default the weight variance :math:`v`) that solves ``condition()``."""
    return lambda: d.solve_for(condition(), symbol)


_GAUSSIAN = "z ~ N(0, 1); the pre-activation is sqrt(q) z with q > 0"
_LAYER = (
    "i.i.d. zero-mean weights of variance v, independent of the layer's input",
    "zero-mean inputs; bias of variance sigma_b^2 independent of everything else",
)
_BACKWARD = (
    "i.i.d. zero-mean weights of variance v",
    "gradients independent of the forward weights (mean-field approximation)",
)
_LINEAR_REGIME = "phi(0) = 0, phi'(0) = 1, linear regime"
_RESIDUAL = (
    "residual block h_e = h_s + alpha F(h_s), pre-activation ordering; the branch's last "
    "weights zero-mean and independent of the stream"
)


def _forward_variance(name: str, act: object, regime: str, cite: str, description: str) -> Formula:
    """The weight variance :math:`v` that preserves the forward second moment of ``act``.

    LeCun's for linear networks, He's for ReLU and for PReLU.
    """
    assumptions = (*_LAYER, regime, "forward second moment preserved")
    return Formula(
        name, d.V, _solved(lambda: d.forward_condition(act)), assumptions, cite, description
    )


def _elu_arranged() -> sp.Expr:
    r"""ELU's second moment as :math:`q/2 + (\alpha^2/2)\,[1 - 2e^{q/2}\operatorname{erfc}
    \sqrt{q/2} + e^{2q}\operatorname{erfc}\sqrt{2q}]`: the linear part, then the
    saturation's correction, a bracket that vanishes at :math:`q = 0`."""
    derived = _moment("elu")()
    (alpha,) = (s for s in derived.free_symbols if s != Q)
    bracket = sp.Add(
        1,
        sp.Mul(-2, sp.exp(Q / 2), sp.erfc(sp.sqrt(Q / 2)), evaluate=False),
        sp.Mul(sp.exp(2 * Q), sp.erfc(sp.sqrt(2 * Q)), evaluate=False),
        evaluate=False,
    )
    return sp.Add(Q / 2, sp.Mul(alpha**2 / 2, bracket, evaluate=False), evaluate=False)


#: Hand-arranged display forms of the second moments, by activation.
_ARRANGED: Mapping[str, Callable[[], sp.Expr]] = MappingProxyType({"elu": _elu_arranged})


def _formulas() -> tuple[Formula, ...]:
    """Every formula, in the order of the registry."""
    v, g = d.V, d.GAIN
    m_of_q, mu = _sym("M"), _sym("mu")  # placeholders for the left-hand sides
    gradient_in = _sym("qtilde_in", positive=True)  # printed \tilde{q}_{in}, the book's notation
    stem = _sym("q_0", positive=True)  # the stream's second moment before the first block
    second_moments = tuple(
        Formula(
            f"{act}.second_moment",
            m_of_q,
            _moment(act),
            (_GAUSSIAN,),
            cite,
            f"E[phi(sqrt(q) z)^2] for {act}",
            arrange=_ARRANGED.get(act),
        )
        for act, cite in (
            ("linear", None),
            ("relu", "he2015"),
            ("leaky_relu", "he2015"),
            ("elu", "clevert2016"),
        )
    )
    return (
        Formula(
            "forward_map",
            _sym("q_out", positive=True),
            d.forward_map,
            _LAYER,
            "glorot2010",
            "second moment of the pre-activations, layer to layer",
        ),
        Formula(
            "backward_map",
            gradient_in,
            d.backward_map,
            _BACKWARD,
            "glorot2010",
            "second moment of back-propagated gradients, layer to layer",
            arrange=lambda: sp.Mul(d.N_OUT, v, d.D(Q), d.Q_GRAD, evaluate=False),
            names={d.Q_GRAD: r"\tilde{q}_{out}"},
        ),
        *second_moments,
        Formula(
            "relu.mean",
            mu,
            _moment("relu", k=1),
            (_GAUSSIAN,),
            "he2015",
            "mean of a ReLU unit: the reason its second moment, not variance, is tracked",
        ),
        Formula(
            "relu.derivative_moment",
            _sym("D"),
            _moment("relu", derivative=True),
            (_GAUSSIAN,),
            "he2015",
            "E[phi'(sqrt(q) z)^2] for ReLU",
        ),
        Formula(
            "tanh.linearized_moment",
            m_of_q,
            lambda: d.linearized_moment("tanh", 2),
            (_GAUSSIAN, "small q: expansion to O(q^3)"),
            "glorot2010",
            "tanh's second moment near q = 0: linear to first order",
            small=Q,
            series=3,
        ),
        Formula(
            "selu.second_moment",
            m_of_q,
            _at_unit_q(_moment("selu")),
            (_GAUSSIAN, "q = 1"),
            "klambauer2017",
            "SELU's constants make E[selu(z)^2] = 1 at q = 1",
        ),
        Formula(
            "selu.mean",
            mu,
            _at_unit_q(_moment("selu", k=1)),
            (_GAUSSIAN, "q = 1"),
            "klambauer2017",
            "and E[selu(z)] = 0",
        ),
        _forward_variance(
            "lecun.variance", "linear", "linear activation", "lecun1998", "LeCun: 1/fan_in"
        ),
        Formula(
            "xavier.forward",
            v,
            _solved(lambda: d.xavier_conditions()[0]),
            (*_LAYER, _LINEAR_REGIME, "forward preserved"),
            "glorot2010",
            "Glorot-Bengio forward condition",
        ),
        Formula(
            "xavier.backward",
            v,
            _solved(lambda: d.xavier_conditions()[1]),
            (*_BACKWARD, _LINEAR_REGIME, "backward preserved"),
            "glorot2010",
            "Glorot-Bengio backward condition",
        ),
        Formula(
            "xavier.variance",
            v,
            lambda: d.xavier_conditions()[2],
            (*_LAYER, _LINEAR_REGIME, "the average of the forward and backward conditions"),
            "glorot2010",
            "Glorot-Bengio compromise",
        ),
        _forward_variance("he.variance", "relu", "ReLU activation", "he2015", "He: 2/fan_in"),
        Formula(
            "he.variance_fan_out",
            v,
            _solved(lambda: d.backward_condition("relu")),
            (*_BACKWARD, "ReLU activation", "gradient second moment preserved"),
            "he2015",
            "He, backward: 2/fan_out",
        ),
        _forward_variance(
            "prelu.variance",
            registered("leaky_relu"),  # its slope a still a free symbol
            "leaky ReLU / PReLU of slope a",
            "he2015",
            "He for PReLU: 2/((1 + a^2) fan_in)",
        ),
        Formula(
            "standard.variance",
            v,
            lambda: d.scheme_variance("standard"),
            ("weights U(-1/sqrt(n_in), 1/sqrt(n_in))",),
            "glorot2010",
            "the 'standard' initialization: a third of LeCun's variance",
        ),
        Formula(
            "gain.exact",
            g,
            _solved(lambda: sp.Eq(g**2 * d.M(1), 1), g),
            (*_LAYER, "no bias", "q = 1 is a fixed point of the forward map"),
            None,
            "exact forward gain: 1/sqrt(E[phi(z)^2])",
        ),
        Formula(
            "gain.backward",
            g,
            _solved(lambda: sp.Eq(g**2 * d.D(1), 1), g),
            (*_BACKWARD, "q = 1"),
            None,
            "exact backward gain: 1/sqrt(E[phi'(z)^2])",
        ),
        Formula(
            "uniform.variance",
            _sym("sigma^2"),
            d.uniform_variance,
            ("weights U(-A, A)",),
            None,
            "variance of a uniform distribution",
        ),
        Formula(
            "uniform.bound",
            d.A,
            d.uniform_bound,
            ("weights U(-A, A) of variance v",),
            "glorot2010",
            "half-width of the uniform with variance v",
        ),
        Formula(
            "truncated_normal.factor",
            _sym("beta"),
            d.truncated_normal_factor,
            ("unit normal truncated to (-2, 2)",),
            None,
            "std of the truncated normal; the underlying normal is widened by 1/beta",
        ),
        Formula(
            "residual.forward_map",
            _sym("q_e", positive=True),
            residual.residual_forward_map,
            (*_LAYER, _RESIDUAL),
            "he2016identity",
            "second moment at a residual block's end: the stream's plus the branch's",
            arrange=lambda: sp.Add(
                residual.Q_STREAM,
                sp.Mul(
                    residual.ALPHA**2,
                    sp.Add(sp.Mul(d.N_IN, d.V, d.M(Q), evaluate=False), d.SIGMA_B2, evaluate=False),
                    evaluate=False,
                ),
                evaluate=False,
            ),
            names={residual.Q_STREAM: "q_s", Q: "q_{e-1}"},
        ),
        Formula(
            "residual.backward_map",
            _sym("qtilde_s", positive=True),
            residual.residual_backward_map,
            (*_BACKWARD, _RESIDUAL),
            "he2016identity",
            "gradient at the stream before a block: the block end's plus the branch's",
            arrange=lambda: sp.Add(
                residual.Q_GRAD_END,
                sp.Mul(d.N_OUT, d.V, d.D(Q), d.Q_GRAD, evaluate=False),
                evaluate=False,
            ),
            names={
                residual.Q_GRAD_END: r"\tilde{q}_e",
                d.Q_GRAD: r"\tilde{q}_{s+1}",
                Q: "q_s",
            },
        ),
        Formula(
            "residual.he_growth",
            _sym("q_B", positive=True),
            lambda: stem * residual.he_relu_growth(),
            (*_LAYER, _RESIDUAL, "He-initialized ReLU branches, no biases", "B blocks"),
            "he2016identity",
            "growth of the second moment over B blocks: (1 + alpha^2) per block",
        ),
        Formula(
            "conv.forward_map",
            _sym("q_out", positive=True),
            conv.conv_forward_map,
            (*_LAYER, "convolution, C input channels in G groups, k^d taps, circular padding"),
            "he2015",
            "second moment of a convolution's outputs: the dense map at fan-in (C/G) k^d",
        ),
        Formula(
            "conv.zero_padding",
            _sym("q_1", positive=True),
            lambda: conv.zero_padding_first_layer(2),
            (
                "first layer, inputs of second moment q_0 at every position, no biases",
                "'same' zero padding of a k x k kernel, k = 2r + 1, stride 1, H x H inputs, H >= r",
            ),
            None,
            "mean second moment of a zero-padded convolution's outputs: the taps outside "
            "the input are missing",
            arrange=lambda: sp.Mul(
                conv.SIGMA_W2,
                conv.Q0,
                sp.Pow(
                    sp.Add(
                        1,
                        -conv.RADIUS * (conv.RADIUS + 1) / ((2 * conv.RADIUS + 1) * conv.SIZE),
                        evaluate=False,
                    ),
                    2,
                    evaluate=False,
                ),
                evaluate=False,
            ),
        ),
        Formula(
            "orthogonal.mean_square",
            _sym("sigma^2"),
            d.orthogonal_mean_square,
            ("r x c matrix with orthonormal rows (r <= c) or columns",),
            "saxe2014",
            "mean square entry of an orthogonal weight matrix",
        ),
    )


def _build() -> FormulaRegistry:
    reg = FormulaRegistry()
    for formula in _formulas():
        reg._add(formula)
    return reg


#: Every registered formula, by name.
formulas: FormulaRegistry = _build()
