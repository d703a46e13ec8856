"""Every initializer in PyTorch, Keras 3 and JAX: what it draws, side by side.

One table, :data:`INITIALIZERS`, transcribed from the frameworks' sources (PyTorch 2.13
``torch/nn/init.py`` and ``torch/nn/modules/linear.py``; Keras ``keras/src/initializers/
random_initializers.py`` at commit ``107f5a8``; JAX ``jax/_src/nn/initializers.py`` at
commit ``04f6bfa``; Flax's layer defaults for JAX's layer-level rows). Each cell names the
function, its law and truncation, and computes the standard deviation of what it draws for
a weight with given fans using initmath's own functions, so the sampling chapter can print
the table and check every number by drawing it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ..weights.distributions import truncated_normal_std, uniform_half_width
from ..weights.schemes import std as scheme_std

__all__ = ["FRAMEWORKS", "INITIALIZERS", "Cell", "cell_std", "disagreements"]

#: The frameworks of the table, in column order.
FRAMEWORKS: tuple[str, ...] = ("torch", "keras", "jax")

_BETA = truncated_normal_std(2.0)  # std of N(0, 1) cut at +-2: 0.8796...


@dataclass(frozen=True)
class Cell:
    """One framework's version of an initializer.

    ``function`` is its name with the defaults that matter; ``law`` a LaTeX description of
    what it draws; ``truncation`` where it cuts (``""`` if it does not); ``std`` the standard
    deviation of the entries as a function of ``(fan_in, fan_out)`` (``None`` where it is
    not a scale, e.g. a permutation-like ``eye``).
    """

    function: str
    law: str
    truncation: str = ""
    std: Callable[[int, int], float] | None = None


def _shape(fan_in: int, fan_out: int) -> tuple[int, int]:
    return (fan_out, fan_in)  # torch layout of a dense layer


def _scheme(scheme: str, distribution: str, **kw: object) -> Callable[[int, int], float]:
    def f(fan_in: int, fan_out: int) -> float:
        return scheme_std(_shape(fan_in, fan_out), scheme, distribution=distribution, **kw)  # type: ignore[arg-type]

    return f


def _const(value: float) -> Callable[[int, int], float]:
    return lambda fan_in, fan_out: value


def _uniform_std(a: float, b: float) -> float:
    """Standard deviation of :math:`U(a, b)`: :math:`(b - a)/\\sqrt{12}`."""
    return uniform_half_width((b - a) / 2) / 3.0  # sqrt(3)*(b-a)/2/3 = (b-a)/sqrt(12)


_NONE = None

#: For each initializer, each framework's :class:`Cell` (``None`` where it has none).
INITIALIZERS: dict[str, dict[str, Cell | None]] = {
    "zeros": {
        "torch": Cell("zeros_", "0", std=_const(0.0)),
        "keras": Cell("Zeros()", "0", std=_const(0.0)),
        "jax": Cell("zeros", "0", std=_const(0.0)),
    },
    "ones": {
        "torch": Cell("ones_", "1", std=_const(0.0)),
        "keras": Cell("Ones()", "1", std=_const(0.0)),
        "jax": Cell("ones", "1", std=_const(0.0)),
    },
    "constant": {
        "torch": Cell("constant_(val)", "val (a scalar)", std=_const(0.0)),
        "keras": Cell("Constant(value=0.0)", "value (a scalar)", std=_const(0.0)),
        "jax": Cell("constant(value)", "value (array-like)", std=_const(0.0)),
    },
    "identity": {
        "torch": Cell("eye_", r"$I$ (2-d)"),
        "keras": Cell("Identity(gain=1.0)", r"$g I$ (2-d)"),
        "jax": _NONE,
    },
    "dirac": {
        "torch": Cell("dirac_(groups=1)", "identity at the kernel centre (3-5-d)"),
        "keras": _NONE,
        "jax": _NONE,
    },
    "uniform": {
        "torch": Cell("uniform_(a=0, b=1)", r"$U(a, b)$", std=_const(_uniform_std(0.0, 1.0))),
        "keras": Cell(
            "RandomUniform(-0.05, 0.05)",
            r"$U(\mathrm{minval}, \mathrm{maxval})$",
            std=_const(_uniform_std(-0.05, 0.05)),
        ),
        "jax": Cell(
            "uniform(scale=0.01)", r"$U(0, \mathrm{scale})$", std=_const(_uniform_std(0.0, 0.01))
        ),
    },
    "normal": {
        "torch": Cell("normal_(mean=0, std=1)", r"$N(\mu, s^2)$", std=_const(1.0)),
        "keras": Cell("RandomNormal(0, 0.05)", r"$N(\mu, s^2)$", std=_const(0.05)),
        "jax": Cell("normal(stddev=0.01)", r"$N(0, s^2)$", std=_const(0.01)),
    },
    "truncated normal": {
        "torch": Cell(
            "trunc_normal_(0, 1, a=-2, b=2)",
            r"$N(\mu, s^2)$ cut to $[a, b]$",
            "absolute bounds $a, b$; no correction",
            std=_const(_BETA * 1.0),
        ),
        "keras": Cell(
            "TruncatedNormal(0, 0.05)",
            r"$N(\mu, s^2)$ cut at $\mu \pm 2s$",
            r"$\pm 2s$; no correction",
            std=_const(_BETA * 0.05),
        ),
        "jax": Cell(
            "truncated_normal(stddev=0.01)",
            r"$s\,N(0, 1)$ cut to $[-2, 2]$",
            r"$\pm 2s$; no correction",
            std=_const(_BETA * 0.01),
        ),
    },
    "LeCun normal": {
        "torch": Cell(
            "kaiming_normal_(nonlinearity='linear')",
            r"$N(0, 1/\mathrm{fan_{in}})$",
            std=_scheme("lecun", "normal"),
        ),
        "keras": Cell(
            "LecunNormal()",
            r"$N(0, s^2)$ cut at $\pm 2s$, $s = 1/(\beta\sqrt{\mathrm{fan_{in}}})$",
            r"$\pm 2s$; corrected",
            std=_scheme("lecun", "truncated_normal"),
        ),
        "jax": Cell(
            "lecun_normal()",
            r"as Keras",
            r"$\pm 2s$; corrected",
            std=_scheme("lecun", "truncated_normal"),
        ),
    },
    "LeCun uniform": {
        "torch": Cell(
            "kaiming_uniform_(nonlinearity='linear')",
            r"$U(\pm\sqrt{3/\mathrm{fan_{in}}})$",
            std=_scheme("lecun", "uniform"),
        ),
        "keras": Cell(
            "LecunUniform()", r"$U(\pm\sqrt{3/\mathrm{fan_{in}}})$", std=_scheme("lecun", "uniform")
        ),
        "jax": Cell(
            "lecun_uniform()",
            r"$U(\pm\sqrt{3/\mathrm{fan_{in}}})$",
            std=_scheme("lecun", "uniform"),
        ),
    },
    "Glorot normal": {
        "torch": Cell(
            "xavier_normal_(gain=1)",
            r"$N(0, 2/(\mathrm{fan_{in}} + \mathrm{fan_{out}}))$",
            std=_scheme("xavier", "normal"),
        ),
        "keras": Cell(
            "GlorotNormal()",
            r"truncated, variance $2/(\mathrm{fan_{in}} + \mathrm{fan_{out}})$",
            r"$\pm 2s$; corrected",
            std=_scheme("xavier", "truncated_normal"),
        ),
        "jax": Cell(
            "glorot_normal()",
            r"as Keras",
            r"$\pm 2s$; corrected",
            std=_scheme("xavier", "truncated_normal"),
        ),
    },
    "Glorot uniform": {
        "torch": Cell(
            "xavier_uniform_(gain=1)",
            r"$U(\pm\sqrt{6/(\mathrm{fan_{in}} + \mathrm{fan_{out}})})$",
            std=_scheme("xavier", "uniform"),
        ),
        "keras": Cell("GlorotUniform()", "as PyTorch", std=_scheme("xavier", "uniform")),
        "jax": Cell("glorot_uniform()", "as PyTorch", std=_scheme("xavier", "uniform")),
    },
    "He normal": {
        "torch": Cell(
            "kaiming_normal_()", r"$N(0, 2/\mathrm{fan_{in}})$", std=_scheme("he", "normal")
        ),
        "keras": Cell(
            "HeNormal()",
            r"truncated, variance $2/\mathrm{fan_{in}}$",
            r"$\pm 2s$; corrected",
            std=_scheme("he", "truncated_normal"),
        ),
        "jax": Cell(
            "he_normal()", "as Keras", r"$\pm 2s$; corrected", std=_scheme("he", "truncated_normal")
        ),
    },
    "He uniform": {
        "torch": Cell(
            "kaiming_uniform_()",
            r"$U(\pm\sqrt{6/\mathrm{fan_{in}}})$",
            std=_scheme("he", "uniform"),
        ),
        "keras": Cell("HeUniform()", "as PyTorch", std=_scheme("he", "uniform")),
        "jax": Cell("he_uniform()", "as PyTorch", std=_scheme("he", "uniform")),
    },
    "orthogonal": {
        "torch": Cell(
            "orthogonal_(gain=1)",
            r"$gQ$, view $(d_0, \prod_{i>0} d_i)$",
            std=_scheme("lecun", "orthogonal"),
        ),
        "keras": Cell(
            "Orthogonal(gain=1.0)",
            r"$gQ$, view $(\prod_{i<-1} d_i, d_{-1})$",
            std=_scheme("lecun", "orthogonal"),
        ),
        "jax": Cell(
            "orthogonal(scale=1.0)",
            "as Keras (`column_axis=-1`)",
            std=_scheme("lecun", "orthogonal"),
        ),
    },
    "sparse": {
        "torch": Cell(
            "sparse_(sparsity, std=0.01)",
            r"$N(0, s^2)$, $\lceil \mathrm{sparsity}\cdot\mathrm{rows}\rceil$ zeros per column",
        ),
        "keras": _NONE,
        "jax": _NONE,
    },
    "delta orthogonal": {
        "torch": _NONE,
        "keras": _NONE,
        "jax": Cell("delta_orthogonal(scale=1.0)", "orthogonal at the kernel centre, 0 elsewhere"),
    },
    "layer default, weight": {
        "torch": Cell(
            "nn.Linear / nn.ConvNd: kaiming_uniform_(a=sqrt(5))",
            r"$U(\pm 1/\sqrt{\mathrm{fan_{in}}})$",
            std=_scheme("standard", "uniform"),
        ),
        "keras": Cell(
            "Dense / Conv: glorot_uniform", "as Glorot uniform", std=_scheme("xavier", "uniform")
        ),
        "jax": Cell(
            "Flax Dense / Conv: lecun_normal",
            "as LeCun normal (truncated)",
            r"$\pm 2s$; corrected",
            std=_scheme("lecun", "truncated_normal"),
        ),
    },
    "layer default, bias": {
        "torch": Cell(
            "nn.Linear / nn.ConvNd",
            r"$U(\pm 1/\sqrt{\mathrm{fan_{in}}})$",
            std=lambda fan_in, fan_out: 1.0 / math.sqrt(3.0 * fan_in),
        ),
        "keras": Cell("Dense / Conv: zeros", "0", std=_const(0.0)),
        "jax": Cell("Flax Dense / Conv: zeros_init()", "0", std=_const(0.0)),
    },
}


def cell_std(initializer: str, framework: str, fan_in: int, fan_out: int) -> float | None:
    """The standard deviation of ``framework``'s ``initializer`` for the given fans.

    ``None`` where the framework has no such initializer or it is not set by a scale.
    """
    if initializer not in INITIALIZERS:
        raise ValueError(
            f"unknown initializer {initializer!r}; expected one of {list(INITIALIZERS)}"
        )
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
    c = INITIALIZERS[initializer][framework]
    if c is None or c.std is None:
        return None
    return float(c.std(fan_in, fan_out))


def disagreements(fan_in: int, fan_out: int, rel: float = 1e-12) -> list[str]:
    """Initializers whose frameworks draw entries of different standard deviation."""
    out = []
    for name in INITIALIZERS:
        values = [cell_std(name, f, fan_in, fan_out) for f in FRAMEWORKS]
        known = [v for v in values if v is not None]
        if len(known) > 1 and max(known) - min(known) > rel * max(known):
            out.append(name)
    return out
