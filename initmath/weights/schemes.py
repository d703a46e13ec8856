"""Initialization schemes: the weight variance each one prescribes.

Every scheme is "variance :math:`= g^2 \\cdot c / \\mathrm{fan}`" for some fan, constant and
default gain, except the fixed-scale ``"fixed"`` (accepted under its old name ``"normal"``,
which clashed with the distribution of that name):

===========  ====================  ===========  ======================  =========================
scheme       default fan           :math:`c`    default gain :math:`g`  source
===========  ====================  ===========  ======================  =========================
lecun        fan_in                1            1 (linear)              LeCun et al. 1998
xavier       fan_avg               1            1 (linear)              Glorot & Bengio 2010
he           fan_in                1            :math:`\\sqrt2` (ReLU)   He et al. 2015
standard     fan_in                1/3          1                       :math:`U(\\pm1/\\sqrt{n})`
fixed        --                    --           1                       std fixed (0.01)
===========  ====================  ===========  ======================  =========================

with fan_avg :math:`= (\\mathrm{fan_{in}} + \\mathrm{fan_{out}})/2`, so Xavier is
:math:`2/(\\mathrm{fan_{in}} + \\mathrm{fan_{out}})`; JAX's ``fan_geo_avg`` divides by
:math:`\\sqrt{\\mathrm{fan_{in}}\\,\\mathrm{fan_{out}}}`. Keras's and JAX's ``VarianceScaling(scale,
mode)`` is the same with ``scale`` :math:`= g^2 c`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Literal

from ..core.checks import choice, nonnegative_real, positive_real, shape_tuple
from .distributions import (
    DISTRIBUTIONS,
    TRUNCATION,
    truncated_normal_std,
    uniform_half_width,
)
from .shapes import (
    FAN_CONVENTIONS,
    FanConvention,
    Layout,
    WeightShape,
    as_weight_shape,
    matrix_shape,
)
from .torch_gain import ActivationSpec
from .torch_gain import torch_gain as activation_gain

__all__ = [
    "DEFAULT_MODE",
    "MODES",
    "SCHEMES",
    "SCHEME_ACTIVATION",
    "Distribution",
    "Mode",
    "Scheme",
    "bound",
    "resolve_gain",
    "std",
    "variance",
    "weight_std",
]

Scheme = Literal["lecun", "xavier", "glorot", "he", "kaiming", "standard", "fixed", "normal"]
Mode = Literal["fan_in", "fan_out", "fan_avg", "fan_geo_avg"]
Distribution = Literal["normal", "uniform", "truncated_normal", "orthogonal"]

#: Canonical scheme names.
SCHEMES: tuple[str, ...] = ("lecun", "xavier", "he", "standard", "fixed")
#: Other names accepted for a scheme: the papers' first authors' other names, and
#: ``"normal"``, the fixed-std scheme's name before it was renamed ``"fixed"`` (it clashed with
#: the distribution ``"normal"``; kept so that old code runs unchanged).
SCHEME_ALIASES = {"glorot": "xavier", "kaiming": "he", "normal": "fixed"}
#: Fan modes.
MODES: tuple[str, ...] = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")

#: The fan each scheme divides by unless a ``mode`` is given (``"fixed"``, a fixed std,
#: has none). Read-only; :mod:`initmath.theory.derivations` derives from the same table.
DEFAULT_MODE: Mapping[str, str] = MappingProxyType(
    {"lecun": "fan_in", "xavier": "fan_avg", "he": "fan_in", "standard": "fan_in"}
)
#: The activation each scheme was derived for, whose gain is the scheme's default gain
#: (:func:`resolve_gain`): LeCun and Glorot-Bengio assume a unit-slope (linear) regime, He
#: the ReLU. ``"fixed"`` (a fixed std) has none and uses gain 1. The one table of it: the
#: derivations use it, and :func:`initmath.verify` checks each scheme in a network of this
#: activation except where :data:`initmath.practice.formula_checks.CHECKED_WITH` says
#: otherwise and why.
SCHEME_ACTIVATION: Mapping[str, str] = MappingProxyType(
    {"lecun": "linear", "xavier": "linear", "he": "relu", "standard": "linear"}
)
# Variance of the "standard" U(-1/sqrt(n), 1/sqrt(n)) times n: the variance of U(-1, 1), 1/3.
_STANDARD_CONSTANT = 1.0 / uniform_half_width(1.0) ** 2
_DEFAULT_NORMAL_STD = 0.01


def _scheme(scheme: object) -> str:
    return choice(scheme, "scheme", SCHEMES, SCHEME_ALIASES)


def _distribution(distribution: object) -> str:
    return choice(distribution, "distribution", DISTRIBUTIONS)


def resolve_gain(
    scheme: str, activation: ActivationSpec | None = None, gain: float | None = None
) -> float:
    """The gain a scheme uses: explicit ``gain``, else the activation's, else the scheme's own."""
    s = _scheme(scheme)
    if gain is not None and activation is not None:
        raise ValueError(f"give either gain={gain!r} or activation={activation!r}, not both")
    if gain is not None:
        return nonnegative_real(gain, "gain")
    if activation is None:
        activation = SCHEME_ACTIVATION.get(s, "linear")
    return activation_gain(activation)


def _fan(scheme: str, fan_in: float, fan_out: float | None, mode: str | None) -> tuple[str, float]:
    """The mode in force and the fan it divides by."""
    m = DEFAULT_MODE[scheme] if mode is None else choice(mode, "mode", MODES)
    if m == "fan_in":
        return m, fan_in
    if fan_out is None:
        raise ValueError(f"mode {m!r} needs fan_out, got fan_out=None")
    if m == "fan_geo_avg":
        return m, math.sqrt(fan_in) * math.sqrt(fan_out)
    return m, (fan_out if m == "fan_out" else (fan_in + fan_out) / 2)


def _std(
    scheme: str,
    fan_in: float,
    fan_out: float | None,
    g: float,
    mode: str | None,
    fixed_std: float | None,
) -> float:
    """Standard deviation of a scheme, in the arithmetic order PyTorch uses (g / sqrt(fan)).

    Refuses a standard deviation that overflows float64 or underflows to 0 from a nonzero
    gain and std: the weights would be inf or silently all zero.
    """
    if scheme == "fixed":
        if mode is not None:
            raise ValueError(f"scheme 'fixed' has a fixed std and takes no mode, got mode={mode!r}")
        s = _DEFAULT_NORMAL_STD if fixed_std is None else nonnegative_real(fixed_std, "std")
        sigma = g * s
    elif fixed_std is not None:
        raise ValueError(f"std= only applies to scheme 'fixed', not {scheme!r}")
    else:
        m, fan = _fan(scheme, fan_in, fan_out, mode)
        if scheme == "standard":
            sigma = g * math.sqrt(_STANDARD_CONSTANT / fan)
        elif m == "fan_avg":
            assert fan_out is not None
            sigma = g * math.sqrt(2.0 / (fan_in + fan_out))  # PyTorch's xavier_* arithmetic
        elif m == "fan_geo_avg":
            sigma = g / math.sqrt(fan)  # fan = sqrt(fan_in) * sqrt(fan_out), no overflow
        else:
            sigma = g / math.sqrt(fan)  # PyTorch's kaiming_* arithmetic
    if not math.isfinite(sigma) or (sigma == 0.0 and g > 0.0 and fixed_std != 0.0):
        what = "overflows" if sigma else "underflows to 0"
        raise ValueError(
            f"the standard deviation of scheme {scheme!r} {what} in float64 for "
            f"{_arguments(scheme, fan_in, fan_out, g, fixed_std)}"
        )
    return sigma


def variance(
    scheme: Scheme,
    fan_in: float,
    fan_out: float | None = None,
    *,
    gain: float | None = None,
    mode: Mode | None = None,
    std: float | None = None,
) -> float:
    """Weight variance prescribed by a scheme.

    Parameters
    ----------
    scheme : {"lecun", "xavier", "glorot", "he", "kaiming", "standard", "fixed"}
        ``"lecun"``: :math:`g^2/\\mathrm{fan_{in}}`; ``"xavier"`` (``"glorot"``):
        :math:`2g^2/(\\mathrm{fan_{in}}+\\mathrm{fan_{out}})`; ``"he"`` (``"kaiming"``):
        :math:`g^2/\\mathrm{fan_{in}}` with :math:`g=\\sqrt2` by default, i.e.
        :math:`2/\\mathrm{fan_{in}}`; ``"standard"``: the variance of
        :math:`U(\\pm g/\\sqrt{\\mathrm{fan_{in}}})`, :math:`g^2/(3\\,\\mathrm{fan_{in}})`;
        ``"fixed"`` (alias ``"normal"``): :math:`(g\\cdot\\mathrm{std})^2` whatever the fans.
    fan_in : float
        Inputs per unit, > 0.
    fan_out : float, optional
        Outputs per unit, > 0; needed by ``mode="fan_out"``/``"fan_avg"`` and so by Xavier.
    gain : float, optional
        Multiplies the standard deviation. ``None`` is the scheme's own activation's gain:
        :math:`\\sqrt2` for He (ReLU, as in the paper and PyTorch's default), 1 otherwise.
    mode : {"fan_in", "fan_out", "fan_avg", "fan_geo_avg"}, optional
        Which fan divides (``fan_geo_avg``, JAX's, is :math:`\\sqrt{\\mathrm{fan_{in}}
        \\mathrm{fan_{out}}}`); ``None`` is the scheme's own (``fan_avg`` for Xavier,
        ``fan_in`` for the others). Not accepted by ``"fixed"``.
    std : float, optional
        The fixed standard deviation of scheme ``"fixed"`` (default 0.01).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Unknown scheme or mode, a fan that is not > 0, a negative or NaN gain, ``mode``
        needing a missing ``fan_out``; a standard deviation or variance that overflows
        float64 (``variance("he", 1e-320)``, ``gain=1e200``) or underflows to 0 from a
        nonzero gain: the result is always finite, and 0 only for a zero gain or std.

    Examples
    --------
    >>> variance("he", 512)
    0.00390625
    >>> variance("xavier", 300, 100)
    0.005
    """
    s = _scheme(scheme)
    fi = positive_real(fan_in, "fan_in")
    fo = None if fan_out is None else positive_real(fan_out, "fan_out")
    g = resolve_gain(s, None, gain)
    sigma = _std(s, fi, fo, g, mode, std)
    v = sigma * sigma
    if not math.isfinite(v) or (v == 0.0 and sigma > 0.0):
        what = "overflows" if v else "underflows to 0"
        raise ValueError(
            f"the variance of scheme {scheme!r} {what} in float64 (std {sigma!r}) for "
            f"{_arguments(s, fi, fo, g, std)}"
        )
    return v


def _arguments(
    scheme: str, fan_in: float | None, fan_out: float | None, g: float, fixed_std: float | None
) -> str:
    """``fan_in=..., gain=...``: the arguments a std or variance was computed from."""
    parts = [] if scheme == "fixed" or fan_in is None else [f"fan_in={fan_in!r}"]
    if fan_out is not None and scheme != "fixed":
        parts.append(f"fan_out={fan_out!r}")
    parts.append(f"gain={g!r}")
    if scheme == "fixed":
        parts.append(f"std={_DEFAULT_NORMAL_STD if fixed_std is None else fixed_std!r}")
    return ", ".join(parts)


def std(
    shape: Sequence[int] | WeightShape,
    scheme: Scheme,
    *,
    layout: Layout = "torch",
    activation: ActivationSpec | None = None,
    mode: Mode | None = None,
    distribution: Distribution = "normal",
    gain: float | None = None,
    std: float | None = None,
    fan_convention: FanConvention = "true",
) -> float:
    """Standard deviation of the weights :func:`initmath.init` draws for ``shape``.

    This is the standard deviation of the final weights whatever the distribution: the
    truncated normal's underlying normal is wider by :math:`1/\\beta \\approx 1.137`
    (:func:`initmath.weights.distributions.truncated_normal_std`) so that, after truncation, the
    weights have exactly this value.

    Parameters
    ----------
    shape : sequence of int or WeightShape
        Weight shape (see :func:`initmath.fans`); a :class:`~initmath.WeightShape` also says
        which layer it is (grouped, strided, transposed, packed), and its fans are used.
        Scheme ``"fixed"`` needs no fans and takes any shape (0-d, 1-d, zero-size).
    scheme : str
        See :func:`variance`.
    layout : {"torch", "keras", "jax"}
        Where the input and output dimensions are in ``shape``. PyTorch and JAX refuse
        fan-based schemes on shapes of fewer than 2 dimensions; Keras reads a 0-d shape as
        fans 1 and ``(n,)`` as fans ``n`` and divides by at least 1 (``max(1, fan)``), and
        so does ``layout="keras"``.
    activation : str or (str, float), optional
        The nonlinearity that follows the layer; its gain (PyTorch's convention,
        :func:`initmath.gain`) replaces the scheme's own. ``None``: the scheme's own.
    mode : {"fan_in", "fan_out", "fan_avg", "fan_geo_avg"}, optional
        See :func:`variance`.
    distribution : {"normal", "uniform", "truncated_normal", "orthogonal"}
        For ``"orthogonal"`` the weights are :math:`gQ` with :math:`Q` having orthonormal
        rows or columns (PyTorch's ``orthogonal_``, Keras's ``Orthogonal``); the scale is
        set by the gain alone and every entry has mean square :math:`g^2/\\max(r, c)` for the
        :math:`r\\times c` matrix view (:func:`initmath.weights.shapes.matrix_shape`), which is the
        value returned. No ``mode`` applies, and schemes ``"standard"`` and ``"fixed"``,
        which have no gain-based scale, are refused.
    gain : float, optional
        An explicit gain, instead of ``activation``.
    std : float, optional
        Scheme ``"fixed"``'s fixed standard deviation (default 0.01).
    fan_convention : {"true", "framework"}
        ``"true"`` (default): the fans of the layer (:meth:`initmath.WeightShape.true_fans`);
        ``"framework"``: the ones the layout's framework computes from the shape alone, to
        reproduce it (they differ for grouped, strided, transposed and packed layers).

    Returns
    -------
    float
        Finite; 0 only for a zero gain or std (one that overflows float64, or underflows
        to 0 from a nonzero gain, is refused with a ``ValueError`` naming the gain).

    Notes
    -----
    The frameworks agree on the formulas but not on the defaults: PyTorch's
    ``kaiming_normal_``/``xavier_normal_`` are untruncated normals, while Keras and JAX
    mean a variance-corrected truncated normal by "normal" in ``he_normal`` and friends;
    PyTorch's ``trunc_normal_`` cuts at absolute values and does not correct the variance.
    PyTorch's default for ``nn.Linear`` and ``nn.ConvNd`` is ``kaiming_uniform_(a=sqrt(5))``,
    which is exactly :math:`U(\\pm 1/\\sqrt{\\mathrm{fan_{in}}})`, scheme ``"standard"``
    here, with variance :math:`1/(3\\,\\mathrm{fan_{in}})`: a third of LeCun's.

    Examples
    --------
    >>> round(std((256, 128), "he"), 6)           # sqrt(2/128)
    0.125
    >>> std((256, 128), "he", distribution="uniform") == std((256, 128), "he")
    True
    """
    return weight_std(
        shape, scheme, layout, activation, mode, distribution, gain, std, fan_convention
    )


def weight_std(
    shape: Sequence[int] | WeightShape,
    scheme: object,
    layout: Layout = "torch",
    activation: ActivationSpec | None = None,
    mode: str | None = None,
    distribution: object = "normal",
    gain: float | None = None,
    fixed_std: float | None = None,
    fan_convention: FanConvention = "true",
    *,
    empty: bool = False,
) -> float:
    """:func:`std` with positional arguments, for :func:`initmath.init`.

    ``empty=True`` (the weight has no entries, so nothing is drawn) validates every argument
    but lets a fan of 0 stand for 1 instead of refusing it.
    """
    s = _scheme(scheme)
    d = _distribution(distribution)
    g = resolve_gain(s, activation, gain)
    if s == "fixed" and d != "orthogonal":
        shape_tuple(
            shape.dims if isinstance(shape, WeightShape) else shape,
            "shape",
            min_ndim=0,
            allow_zero=True,
        )
        choice(fan_convention, "fan_convention", FAN_CONVENTIONS)
        return _std(s, 1.0, 1.0, g, mode, fixed_std)
    if d == "orthogonal":
        if s in ("standard", "fixed"):
            raise ValueError(
                f"distribution 'orthogonal' is scaled by a gain; scheme {scheme!r} has none "
                "(use 'lecun', 'xavier' or 'he' with the gain or activation you want)"
            )
        if mode is not None:
            raise ValueError(
                "distribution 'orthogonal' takes no mode (its scale is the gain), "
                f"got mode={mode!r}"
            )
        if fixed_std is not None:
            raise ValueError(f"std= only applies to scheme 'fixed', not {scheme!r}")
        ws = as_weight_shape(shape, layout)
        choice(fan_convention, "fan_convention", FAN_CONVENTIONS)
        if empty:  # nothing is drawn; the shape must still be a matrix or more
            shape_tuple(ws.dims, "shape", allow_zero=True)
            rows, cols = 1, 1
        else:
            rows, cols = matrix_shape(ws)
        sigma = g / math.sqrt(max(rows, cols))
        if sigma == 0.0 and g > 0.0:
            raise ValueError(
                f"the standard deviation of orthogonal weights of shape {ws.dims!r} "
                f"underflows to 0 in float64 for gain={g!r}"
            )
        return sigma
    ws = as_weight_shape(shape, layout)
    fan_in, fan_out = ws.fans(fan_convention)
    if ws.layout == "keras" or empty:  # Keras's VarianceScaling divides by max(1, fan)
        fan_in, fan_out = max(1, fan_in), max(1, fan_out)
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if value == 0:
            raise ValueError(
                f"{name} of shape {ws.dims!r} is 0 (a zero-size dimension): its std is "
                "undefined; initmath.init returns the empty array"
            )
    return _std(s, fan_in, fan_out, g, mode, fixed_std)


def bound(
    shape: Sequence[int] | WeightShape,
    scheme: Scheme,
    *,
    layout: Layout = "torch",
    activation: ActivationSpec | None = None,
    mode: Mode | None = None,
    distribution: Distribution = "uniform",
    gain: float | None = None,
    std: float | None = None,
    fan_convention: FanConvention = "true",
) -> float:
    """Half-width of the support of the weights :func:`initmath.init` draws.

    For ``"uniform"`` the weights are :math:`U(-a, a)` with :math:`a = \\sqrt3\\,\\sigma`,
    :math:`\\sigma` from :func:`std`: the ``bound`` of PyTorch's ``kaiming_uniform_`` and
    ``xavier_uniform_`` and the ``limit`` of Keras's ``VarianceScaling``. For
    ``"truncated_normal"`` it is the cut, :math:`2\\sigma/\\beta`. Parameters as for
    :func:`std`.

    Raises
    ------
    ValueError
        For scheme ``"fixed"`` and distribution ``"orthogonal"``, whose entries have no fixed
        bound set by the scheme, and for every invalid argument :func:`std` refuses.

    Examples
    --------
    >>> bound((256, 128), "he") == 3 ** 0.5 * std((256, 128), "he")
    True
    """
    d = _distribution(distribution)
    if d not in ("uniform", "truncated_normal"):
        raise ValueError(
            "bound() is defined for distribution 'uniform' or 'truncated_normal', "
            f"got {distribution!r}"
        )
    sigma = weight_std(shape, scheme, layout, activation, mode, d, gain, std, fan_convention)
    if d == "uniform":
        return uniform_half_width(sigma)
    return TRUNCATION * sigma / truncated_normal_std(TRUNCATION)
