"""Input-output Jacobians of deep random networks and the spread of their singular values.

A fully connected network of constant width :math:`n` and depth :math:`L` maps
:math:`x_0` to :math:`x_L` by :math:`z_\\ell = W_\\ell x_{\\ell-1} + b_\\ell`,
:math:`x_\\ell = \\phi(z_\\ell)`. Its input-output Jacobian is the product

.. math:: J = D_L W_L \\cdots D_1 W_1, \\qquad D_\\ell = \\operatorname{diag}\\phi'(z_\\ell).

The network is *dynamically isometric* (Saxe et al. 2014; Pennington, Schoenholz and Ganguli
2017) when every squared singular value :math:`\\lambda` of :math:`J` is close to 1. This
module draws networks with Gaussian or orthogonal weights of mean square
:math:`\\sigma_w^2/n` (through :func:`initmath.init`), computes :math:`J` one network at a
time with NumPy's matrix products (BLAS), and records per network the moments
:math:`m_1 = \\operatorname{tr}(J^\\top J)/n` and :math:`m_2 = \\operatorname{tr}((J^\\top J)^2)/n`
of its spectrum, and the spectrum itself at chosen depths.

It also predicts the relative variance
:math:`r_L = \\operatorname{Var}[\\lambda]/E[\\lambda]^2` in two ways:

* **large width, mean field** (:func:`predicted_relative_variance`): treating each
  :math:`D_\\ell^2` as independent of the weights (asymptotically free of them), with
  :math:`A_\\ell = \\sigma_w^2 D_\\ell^2` of normalized moments :math:`\\mu_1, \\mu_2`, the
  standard free-probability rule for a product of free variables,
  :math:`\\varphi(ABAB) = \\varphi(A^2)\\varphi(B)^2 + \\varphi(A)^2\\varphi(B^2) -
  \\varphi(A)^2\\varphi(B)^2`, gives for Haar-orthogonal weights
  :math:`r_\\ell = r_{\\ell-1} + \\mu_2/\\mu_1^2 - 1`; a Gaussian :math:`W^\\top A W` spreads
  one unit more per layer, :math:`r_\\ell = r_{\\ell-1} + \\mu_2/\\mu_1^2`
  (see :func:`relative_variance_recursion`);
* **exactly at finite width** for linear networks with Gaussian weights
  (:func:`linear_gaussian_relative_variance`), from the Wick (Isserlis) moments of one
  Gaussian layer.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, cast

import numpy as np
import sympy as sp
from threadpoolctl import threadpool_limits

from ..core.checks import choice, fits_in_memory, integer, nonnegative_real, positive_real
from ..theory.activations import Activation
from ..theory.activations import activation as get_activation
from ..theory.moments import Q, symbolic_moment
from ..theory.quadrature import gaussian_expectation
from ..weights.samplers import init
from ..weights.schemes import Distribution
from ..weights.torch_gain import ActivationSpec
from .network import Network
from .stats import Estimate

__all__ = [
    "JACOBIAN_DISTRIBUTIONS",
    "JacobianSpectrum",
    "MeanField",
    "L_SYM",
    "MAX_DEPTH",
    "MU1",
    "MU2",
    "N_SYM",
    "R_PREV",
    "R_SYM",
    "derivative_moment_ratio",
    "forward",
    "input_output_jacobian",
    "mean_field",
    "jacobian_spectrum",
    "linear_gaussian_recursion",
    "linear_gaussian_relative_variance",
    "predicted_mean_lambda",
    "predicted_relative_variance",
    "relative_variance_closed_form",
    "relative_variance_recursion",
    "sample_network",
]

#: The deepest network (and the largest entry of ``depths``) accepted anywhere in this module.
#: Every function here is linear in depth (a mean-field prediction takes about 10 µs to 1 ms
#: per layer, a simulated network a few matrix products per layer); deeper requests are
#: refused up front with a ``ValueError`` instead of running for hours.
MAX_DEPTH = 100_000
#: Bytes of one float64.
_F64 = 8

#: Weight distributions for which the Jacobian is simulated.
JACOBIAN_DISTRIBUTIONS: tuple[str, ...] = ("normal", "orthogonal")
_ALIASES = {"gaussian": "normal"}

#: The first moment of :math:`\sigma_w^2\phi'(z)^2` (a SymPy symbol of the derivations).
MU1 = sp.Symbol(r"\mu_{1}", positive=True)
#: The second moment of :math:`\sigma_w^2\phi'(z)^2` (a SymPy symbol).
MU2 = sp.Symbol(r"\mu_{2}", positive=True)
#: The depth (a SymPy symbol).
L_SYM = sp.Symbol("L", positive=True, integer=True)
#: The width (a SymPy symbol).
N_SYM = sp.Symbol("n", positive=True, integer=True)
#: The relative variance of the spectrum after :math:`\ell` layers (a SymPy symbol).
R_SYM = sp.Symbol(r"r_{\ell}", nonnegative=True)
#: The relative variance after :math:`\ell - 1` layers (a SymPy symbol).
R_PREV = sp.Symbol(r"r_{\ell-1}", nonnegative=True)
_RL = sp.Symbol("r_{L}", nonnegative=True)
# The first coefficient s_1 of the S-transform of W^T W: -1 for Gaussian, 0 for orthogonal.
_S1 = {"normal": -1, "orthogonal": 0}


# -- symbolic predictions -------------------------------------------------------------------
def _dist(distribution: object) -> Distribution:
    return cast(
        Distribution, choice(distribution, "distribution", JACOBIAN_DISTRIBUTIONS, _ALIASES)
    )


def relative_variance_recursion(distribution: str = "normal") -> sp.Eq:
    """Large-width recursion of :math:`r_\\ell = \\operatorname{Var}[\\lambda]/E[\\lambda]^2`.

    .. math:: r_\\ell = r_{\\ell-1} + \\frac{\\mu_2}{\\mu_1^2} - 1 - s_1,

    :math:`s_1 = -1` for Gaussian, :math:`0` for orthogonal weights, where
    :math:`\\mu_k = E[(\\sigma_w^2\\phi'(z_\\ell)^2)^k]`.

    Examples
    --------
    >>> relative_variance_recursion("orthogonal").rhs - R_PREV
    -1 + \\mu_{2}/\\mu_{1}**2
    """
    s1 = _S1[_dist(distribution)]
    return sp.Eq(R_SYM, R_PREV + MU2 / MU1**2 - 1 - s1)


def derivative_moment_ratio(act: ActivationSpec | Activation) -> sp.Expr | None:
    """:math:`E[\\phi'^4]/E[\\phi'^2]^2` as a SymPy expression in :data:`initmath.theory.moments.Q`,
    or None when the package has no closed form for the derivative moments.

    :math:`\\sigma_w^2` cancels from :math:`\\mu_2/\\mu_1^2`.

    Examples
    --------
    >>> derivative_moment_ratio("relu"), derivative_moment_ratio("linear")
    (2, 1)
    """
    a = _activation(act)
    d2 = symbolic_moment(a, 2, derivative=True)
    d4 = symbolic_moment(a, 4, derivative=True)
    if d2 is None or d4 is None:
        return None
    return sp.simplify(d4 / d2**2)


def relative_variance_closed_form(
    act: ActivationSpec | Activation, distribution: str = "normal"
) -> sp.Eq | None:
    """:math:`r_L` in closed form when :math:`\\mu_2/\\mu_1^2` does not depend on :math:`q`.

    Summing :func:`relative_variance_recursion` from :math:`r_0 = 0` (:math:`J = I`).
    Returns None for activations (tanh, ...) whose ratio changes with depth.

    Examples
    --------
    >>> relative_variance_closed_form("relu", "normal")
    Eq(r_{L}, 2*L)
    """
    ratio = derivative_moment_ratio(act)
    if ratio is None or Q in ratio.free_symbols:
        return None
    step = relative_variance_recursion(distribution).rhs - R_PREV
    return sp.Eq(_RL, sp.expand(L_SYM * step.subs({MU2: ratio, MU1: 1})))


def linear_gaussian_recursion() -> sp.Eq:
    """Exact one-layer map of :math:`(E[m_1^2], E[m_2])` for a linear Gaussian layer.

    For :math:`W` with i.i.d. :math:`N(0, 1/n)` entries, :math:`M` symmetric and
    :math:`G = W^\\top W`, Isserlis' theorem gives
    :math:`E[\\operatorname{tr}(GMGM)] = (1 + 1/n)\\operatorname{tr}M^2 + (\\operatorname{tr}M)^2/n`
    and :math:`E[(\\operatorname{tr}GM)^2] = (\\operatorname{tr}M)^2 + 2\\operatorname{tr}M^2/n`,
    so with :math:`x = (\\operatorname{tr}M/n)^2` and :math:`y = \\operatorname{tr}M^2/n`
    (:math:`x_0 = y_0 = 1`; :math:`E[m_1] = 1` at every depth):

    .. math:: \\begin{pmatrix}x_\\ell\\\\ y_\\ell\\end{pmatrix} =
              \\begin{pmatrix}1 & 2/n^2\\\\ 1 & 1 + 1/n\\end{pmatrix}
              \\begin{pmatrix}x_{\\ell-1}\\\\ y_{\\ell-1}\\end{pmatrix}
    """
    x, y = sp.Symbol(r"x_{\ell}"), sp.Symbol(r"y_{\ell}")
    xp, yp = sp.Symbol(r"x_{\ell-1}"), sp.Symbol(r"y_{\ell-1}")
    return sp.Eq(
        sp.Matrix([x, y]), sp.MatMul(_linear_matrix(N_SYM), sp.Matrix([xp, yp])), evaluate=False
    )


def _linear_matrix(n: sp.Expr) -> sp.Matrix:
    return sp.Matrix([[1, 2 / n**2], [1, 1 + 1 / n]])


def linear_gaussian_relative_variance(depths: Sequence[int], width: int) -> np.ndarray:
    """Exact :math:`E[m_2]/E[m_1]^2 - 1` of a linear Gaussian network of finite ``width``.

    Iterates :func:`linear_gaussian_recursion` (:math:`E[m_1] = 1`, so it is
    :math:`y_L - 1`); for large width it tends to :math:`L`.

    Examples
    --------
    >>> linear_gaussian_relative_variance([1, 2, 50], 10**8).round(4)   # tends to L
    array([ 1.,  2., 50.])
    >>> linear_gaussian_relative_variance([1, 2], 4)     # 1 + 1/n at L = 1
    array([1.25  , 2.9375])
    """
    ds = _depth_list(depths, "depths")
    n = integer(width, "width", 1)
    a = np.array(_linear_matrix(sp.Integer(n)).evalf(), dtype=float)
    state, out, cur = np.array([1.0, 1.0]), {}, 0
    for d in sorted(set(ds)):
        while cur < d:
            state, cur = a @ state, cur + 1
        out[d] = state[1] - 1.0
    return np.array([out[d] for d in ds])


class MeanField(NamedTuple):
    """A square network in the mean-field parameters of the Jacobian literature."""

    activation: Activation
    depth: int
    width: int
    distribution: Distribution
    sigma_w2: float
    sigma_b2: float
    input_q: float


def mean_field(network: Network) -> MeanField:
    """The mean-field parameters of ``network``: depth :math:`L`, width :math:`n`,
    :math:`\\sigma_w^2 = n \\operatorname{Var}(W)`, :math:`\\sigma_b^2` and :math:`q_0`.

    The Jacobian functions take such a network (all widths equal, the same
    :math:`\\sigma_w^2` in every layer, Gaussian or orthogonal weights) instead of their
    ``activation, depth, width, sigma_w2=..., ...`` arguments.

    Raises
    ------
    ValueError
        Widths that differ, layers whose :math:`\\sigma_w^2` differ, or a distribution the
        Jacobian functions do not model.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, got {network!r}")
    if len(set(network.widths)) != 1:
        raise ValueError(
            f"the Jacobian functions need a square network (all widths equal), got widths "
            f"{list(network.widths)!r}"
        )
    if len(set(network.sigma_w2)) != 1:
        raise ValueError(
            f"the Jacobian functions need the same sigma_w2 in every layer, got "
            f"{network.sigma_w2!r}"
        )
    return MeanField(
        network.activation,
        network.depth,
        network.widths[0],
        _dist(network.distribution),
        network.sigma_w2[0],
        network.sigma_b2,
        network.input_q,
    )


def _from_network(network: Network, given: dict[str, object]) -> MeanField:
    """:func:`mean_field`, refusing the separate arguments it replaces."""
    extra = sorted(k for k, v in given.items() if v is not None)
    if extra:
        raise ValueError(
            f"got a Network and {extra[0]}: the network's description says it (use "
            f"network.replace(...) to change it)"
        )
    return mean_field(network)


# -- numeric moments and the mean-field prediction ------------------------------------------
def _activation(act: object) -> Activation:
    return get_activation(act)


def _gauss_moment(a: Activation, k: int, derivative: bool) -> Callable[[float], float]:
    """:math:`q \\mapsto E[f(\\sqrt q\\,\\xi)^k]` for :math:`f = \\phi` or :math:`\\phi'`."""
    closed = symbolic_moment(a, k, derivative=derivative)
    if closed is not None:
        fn = sp.lambdify(Q, closed, modules="math")
        return lambda q: float(fn(q))
    # the package's one Gaussian rule (Gauss-Hermite would lose digits for tanh at large q)
    f = a.numpy_derivative if derivative else a.numpy
    return lambda q: float(gaussian_expectation(lambda x: f(x) ** k, np.asarray(q)))


def _mean_field_layers(
    a: Activation,
    max_depth: int,
    sw2: float,
    sb2: float,
    input_q: float,
    moments: bool,
) -> Iterator[tuple[int, float, float, float]]:
    """Yield ``(layer, q_layer, E[phi'^2], E[phi'^4])`` along the infinite-width forward map.

    :math:`q_1 = \\sigma_w^2 q_0 + \\sigma_b^2`,
    :math:`q_{\\ell+1} = \\sigma_w^2 E[\\phi(\\sqrt{q_\\ell}\\xi)^2] + \\sigma_b^2`;
    the fourth moment is computed only when ``moments`` is true (else NaN).
    """
    q = sw2 * input_q + sb2
    m2_fn, d2_fn = _gauss_moment(a, 2, False), _gauss_moment(a, 2, True)
    d4_fn = _gauss_moment(a, 4, True) if moments else None
    for layer in range(1, max_depth + 1):
        d2 = d2_fn(q)
        d4 = d4_fn(q) if d4_fn is not None else math.nan
        if d2 <= 0:
            raise ValueError(f"E[phi'^2] vanishes at layer {layer} (q={q!r}): no Jacobian")
        yield layer, q, d2, d4
        if layer == max_depth:
            return
        q = sw2 * m2_fn(q) + sb2
        if not 0 < q < math.inf:
            what = "underflowed to" if q == 0 else "overflowed to" if q == math.inf else "is"
            raise ValueError(
                f"the pre-activation second moment {what} {q!r} after layer {layer} "
                f"(sigma_w2={sw2!r}, sigma_b2={sb2!r}): no prediction deeper than that"
            )


def predicted_relative_variance(
    activation: ActivationSpec | Activation | Network,
    depths: Sequence[int] | None = None,
    *,
    distribution: str | None = None,
    sigma_w2: float | None = None,
    sigma_b2: float | None = None,
    input_q: float | None = None,
) -> np.ndarray:
    """Large-width mean-field :math:`r_L` at each of ``depths``.

    :math:`q_1 = \\sigma_w^2 q_0 + \\sigma_b^2`,
    :math:`q_{\\ell+1} = \\sigma_w^2 E[\\phi(\\sqrt{q_\\ell}\\xi)^2] + \\sigma_b^2`, and
    :math:`r_L = \\sum_{\\ell\\le L} (\\mu_2/\\mu_1^2 - 1 - s_1)` with
    :math:`\\mu_2/\\mu_1^2 = E[\\phi'(\\sqrt{q_\\ell}\\xi)^4]/E[\\phi'(\\sqrt{q_\\ell}\\xi)^2]^2`
    (:func:`relative_variance_recursion`). Moments are the package's closed forms where they
    exist, else 160-point Gauss-Hermite quadrature.

    Examples
    --------
    >>> predicted_relative_variance("relu", [1, 10], sigma_w2=2.0)
    array([ 2., 20.])
    >>> predicted_relative_variance("linear", [5], distribution="orthogonal")
    array([0.])
    """
    if isinstance(activation, Network):
        mf = _from_network(
            activation,
            {
                "distribution": distribution,
                "sigma_w2": sigma_w2,
                "sigma_b2": sigma_b2,
                "input_q": input_q,
            },
        )
        a, sw2, sb2, q0 = mf.activation, mf.sigma_w2, mf.sigma_b2, mf.input_q
        ds = _depth_list(
            list(range(1, mf.depth + 1)) if depths is None else depths, "depths", mf.depth
        )
        s1 = _S1[mf.distribution]
    else:
        if depths is None:
            raise TypeError("depths is required unless a Network gives the depth")
        a = _activation(activation)
        ds = _depth_list(depths, "depths")
        s1 = _S1[_dist("normal" if distribution is None else distribution)]
        sw2 = positive_real(1.0 if sigma_w2 is None else sigma_w2, "sigma_w2")
        sb2 = nonnegative_real(0.0 if sigma_b2 is None else sigma_b2, "sigma_b2")
        q0 = positive_real(1.0 if input_q is None else input_q, "input_q")
    r, out = 0.0, {}
    for layer, _q, d2, d4 in _mean_field_layers(a, max(ds), sw2, sb2, q0, True):
        r += d4 / d2**2 - 1 - s1
        out[layer] = r
    return np.array([out[d] for d in ds])


def predicted_mean_lambda(
    activation: ActivationSpec | Activation | Network,
    depths: Sequence[int] | None = None,
    *,
    sigma_w2: float | None = None,
    sigma_b2: float | None = None,
    input_q: float | None = None,
) -> np.ndarray:
    """Large-width mean-field :math:`E[\\lambda]` after each of ``depths`` layers.

    One layer maps :math:`\\operatorname{tr}(J^\\top J)/n` to
    :math:`\\operatorname{tr}(J^\\top W^\\top D^2 W J)/n`, on average
    :math:`\\sigma_w^2 E[\\phi'(\\sqrt{q_\\ell}\\xi)^2]` times the old value, so

    .. math:: E[\\lambda_L] = \\prod_{\\ell=1}^{L} \\sigma_w^2\\,
              E[\\phi'(\\sqrt{q_\\ell}\\,\\xi)^2],

    along the forward map of :func:`predicted_relative_variance` (the same for Gaussian and
    orthogonal weights). At a fixed point :math:`q^*` every factor is Poole et al.'s
    :math:`\\chi_1` (:func:`initmath.theory.meanfield.chi1`), and :math:`E[\\lambda_L] = \\chi_1^L`
    (Pennington, Schoenholz and Ganguli 2017). This equals the ratio
    :math:`q_{L+1}/q_1` of second moments only when :math:`x_L = J x_0`, i.e. for bias-free
    positively homogeneous activations (linear, ReLU, leaky ReLU).

    Examples
    --------
    >>> predicted_mean_lambda("relu", [1, 4], sigma_w2=3.0)   # (3/2)^L
    array([1.5   , 5.0625])
    >>> predicted_mean_lambda("linear", [2], sigma_w2=1.0)
    array([1.])
    """
    if isinstance(activation, Network):
        mf = _from_network(
            activation, {"sigma_w2": sigma_w2, "sigma_b2": sigma_b2, "input_q": input_q}
        )
        a, sw2, sb2, q0 = mf.activation, mf.sigma_w2, mf.sigma_b2, mf.input_q
        ds = _depth_list(
            list(range(1, mf.depth + 1)) if depths is None else depths, "depths", mf.depth
        )
    else:
        if depths is None:
            raise TypeError("depths is required unless a Network gives the depth")
        a = _activation(activation)
        ds = _depth_list(depths, "depths")
        sw2 = positive_real(1.0 if sigma_w2 is None else sigma_w2, "sigma_w2")
        sb2 = nonnegative_real(0.0 if sigma_b2 is None else sigma_b2, "sigma_b2")
        q0 = positive_real(1.0 if input_q is None else input_q, "input_q")
    log_m, out = 0.0, {}
    for layer, _q, d2, _d4 in _mean_field_layers(a, max(ds), sw2, sb2, q0, False):
        log_m += math.log(sw2 * d2)
        out[layer] = math.exp(log_m) if log_m < 709.0 else math.inf
    return np.array([out[d] for d in ds])


# -- networks -------------------------------------------------------------------------------
def _depth_list(depths: object, name: str, maximum: int | None = None) -> list[int]:
    if isinstance(depths, (str, bytes)) or not isinstance(depths, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a sequence of integers, got {depths!r}")
    if len(depths) > MAX_DEPTH:
        raise ValueError(
            f"{name} must have at most MAX_DEPTH={MAX_DEPTH} entries, got {len(depths)}"
        )
    ds = [integer(d, name, 1) for d in depths]
    if not ds:
        raise ValueError(f"{name} must not be empty, got {depths!r}")
    if max(ds) > MAX_DEPTH:
        raise ValueError(f"every entry of {name} must be <= MAX_DEPTH={MAX_DEPTH}, got {depths!r}")
    if maximum is not None and max(ds) > maximum:
        raise ValueError(f"every entry of {name} must be <= depth={maximum}, got {depths!r}")
    return ds


def _depth(depth: object) -> int:
    """``depth`` as an int in ``1..MAX_DEPTH``."""
    d = integer(depth, "depth", 1)
    if d > MAX_DEPTH:
        raise ValueError(f"depth must be <= MAX_DEPTH={MAX_DEPTH}, got {depth!r}")
    return d


def sample_network(
    depth: int,
    width: int,
    *,
    distribution: str = "normal",
    sigma_w2: float = 1.0,
    sigma_b2: float = 0.0,
    rng: np.random.Generator,
    input_q: float = 1.0,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """One input :math:`x_0 \\sim N(0, q_0 I_n)`, weights and biases of a ``depth``-layer network.

    Weights are ``initmath.init((width, width), "lecun", distribution=..., gain=sqrt(sigma_w2))``:
    :math:`N(0, \\sigma_w^2/n)` or :math:`\\sigma_w Q` with :math:`Q` Haar-orthogonal.
    Biases are :math:`N(0, \\sigma_b^2)` (zeros, drawing nothing, when ``sigma_b2 == 0``).
    ``input_q`` is the second moment :math:`q_0` of the input's entries (default 1).

    Raises
    ------
    ValueError
        ``depth`` above :data:`MAX_DEPTH`, or ``depth`` weight matrices of ``width**2``
        entries that do not fit in the available memory (checked before drawing anything).
    """
    dist = _dist(distribution)
    big_l, n = _depth(depth), integer(width, "width", 1)
    gain = math.sqrt(positive_real(sigma_w2, "sigma_w2"))
    sb = math.sqrt(nonnegative_real(sigma_b2, "sigma_b2"))
    q0 = positive_real(input_q, "input_q")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {rng!r}")
    # the weights, their orthogonalization's workspace (a few n x n), biases and input
    fits_in_memory(_F64 * (big_l * (n * n + n) + 4 * n * n + n), f"depth={big_l!r} and width={n!r}")
    x0 = rng.standard_normal(n)
    if q0 != 1.0:
        x0 *= math.sqrt(q0)
    weights, biases = [], []
    for _ in range(big_l):
        weights.append(init((n, n), "lecun", distribution=dist, gain=gain, rng=rng))
        biases.append(rng.standard_normal(n) * sb if sb > 0 else np.zeros(n))
    return x0, weights, biases


def _real_array(value: object, name: str, ndims: tuple[int, ...]) -> np.ndarray:
    """``value`` as a float64 array with one of ``ndims`` dimensions, non-empty and finite."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be an array of real numbers, got {value!r}") from exc
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be an array of real numbers, got dtype {arr.dtype} ({value!r})"
        )
    if arr.ndim not in ndims:
        dims = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {dims}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = arr.astype(float, copy=False)
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite entries")
    return arr


def _array_list(value: object, name: str) -> list[object]:
    if (
        value is None
        or isinstance(value, (str, bytes))
        or not isinstance(value, (Sequence, np.ndarray))
    ):
        raise TypeError(f"{name} must be a sequence of arrays, one per layer, got {value!r}")
    return list(value)


def _network(
    x: object,
    weights: object,
    biases: object,
    batch: bool,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Validate an input and a network: layer ``l`` maps ``n_{l-1}`` entries to ``n_l``.

    ``x`` has shape ``(n_0,)`` or ``(n_0, k)`` (``k`` inputs as columns; ``k == 1`` unless
    ``batch``), ``weights[l]`` shape ``(n_{l+1}, n_l)``, ``biases[l]`` shape ``(n_{l+1},)``.
    """
    h = _real_array(x, "x", (1, 2))
    if h.ndim == 2 and not batch and h.shape[1] != 1:
        raise ValueError(f"x must be one input, of shape (n_0,) or (n_0, 1), got shape {h.shape}")
    ws = [
        _real_array(w, f"weights[{i}]", (2,)) for i, w in enumerate(_array_list(weights, "weights"))
    ]
    if not ws:
        raise ValueError("weights must hold at least one layer's matrix, got an empty sequence")
    bs = [_real_array(b, f"biases[{i}]", (1,)) for i, b in enumerate(_array_list(biases, "biases"))]
    if len(bs) != len(ws):
        raise ValueError(
            f"biases must have one vector per layer: got {len(bs)} for {len(ws)} weight matrices"
        )
    if ws[0].shape[1] != h.shape[0]:
        raise ValueError(
            f"x has {h.shape[0]} entries (shape {h.shape}) but weights[0] has "
            f"shape {ws[0].shape}, for {ws[0].shape[1]} inputs"
        )
    for i in range(1, len(ws)):
        if ws[i].shape[1] != ws[i - 1].shape[0]:
            raise ValueError(
                f"weights[{i}] has shape {ws[i].shape}, but weights[{i - 1}] "
                f"has {ws[i - 1].shape[0]} outputs (shape {ws[i - 1].shape})"
            )
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"biases[{i}] has shape {b.shape}, expected ({w.shape[0]},) "
                f"like the outputs of weights[{i}]"
            )
    return h, ws, bs


def forward(
    activation: ActivationSpec | Activation,
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
) -> np.ndarray:
    """The network's output :math:`x_L` for input ``x``.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        See :func:`initmath.activation`.
    x : array_like
        One input of shape ``(n_0,)``, or ``k`` inputs as the columns of an ``(n_0, k)``
        array; real and finite.
    weights : sequence of array_like
        ``weights[l]`` of shape ``(n_{l+1}, n_l)``, at least one; real and finite.
    biases : sequence of array_like
        One per weight matrix, ``biases[l]`` of shape ``(n_{l+1},)``; real and finite.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_L,)`` or ``(n_L, k)``, like ``x``.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong kind, NaN or infinite entries, or shapes that do not chain
        (the message names the argument and the layer).

    Examples
    --------
    >>> forward("relu", [1.0, -1.0], [np.eye(2)], [np.zeros(2)])
    array([1., 0.])
    """
    phi = _activation(activation).numpy
    h, ws, bs = _network(x, weights, biases, batch=True)
    for w, b in zip(ws, bs, strict=True):
        h = phi(w @ h + (b[:, None] if h.ndim == 2 else b))
    return h


def input_output_jacobian(
    activation: ActivationSpec | Activation,
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
) -> np.ndarray:
    """:math:`J = D_L W_L \\cdots D_1 W_1` at input ``x`` (shape ``(n_L, n_0)``).

    ``x`` is one input, of shape ``(n_0,)`` or ``(n_0, 1)``; ``weights`` and ``biases`` are
    as in :func:`forward`, and are validated the same way.

    Examples
    --------
    >>> w = [np.array([[2.0, 0.0], [0.0, -1.0]])]
    >>> input_output_jacobian("relu", np.array([1.0, 1.0]), w, [np.zeros(2)])
    array([[2., 0.],
           [0., 0.]])
    """
    a = _activation(activation)
    phi, dphi = a.numpy, a.numpy_derivative
    h, ws, bs = _network(x, weights, biases, batch=False)
    h = h.reshape(-1)
    jac = np.eye(h.size)
    for w, b in zip(ws, bs, strict=True):
        z = w @ h + b
        jac = (dphi(z)[:, None] * w) @ jac
        h = phi(z)
    return jac


# -- simulation -----------------------------------------------------------------------------
@dataclass(frozen=True)
class JacobianSpectrum:
    """Per-network spectral moments of :math:`J^\\top J` of many random networks.

    Attributes
    ----------
    activation, distribution : str
        What was simulated.
    width, sigma_w2, sigma_b2, seed
        Parameters of :func:`jacobian_spectrum`.
    depths : tuple of int
        Depths at which the moments were recorded.
    m1, m2 : numpy.ndarray
        ``(n_networks, len(depths))``: :math:`\\operatorname{tr}(J^\\top J)/n` and
        :math:`\\operatorname{tr}((J^\\top J)^2)/n`, i.e. the mean of :math:`\\lambda` and of
        :math:`\\lambda^2` over the spectrum of each network.
    spectra : dict of int to numpy.ndarray
        Depth -> ``(n_networks, width)`` squared singular values, descending.
    input_q : float
        Second moment of the input's entries.
    """

    activation: str
    distribution: str
    width: int
    sigma_w2: float
    sigma_b2: float
    seed: int
    depths: tuple[int, ...]
    m1: np.ndarray
    m2: np.ndarray
    spectra: dict[int, np.ndarray] = field(default_factory=dict)
    input_q: float = 1.0

    @property
    def n_networks(self) -> int:
        return int(self.m1.shape[0])

    def mean_lambda(self) -> tuple[np.ndarray, np.ndarray]:
        """:math:`E[\\lambda]` per depth and its standard error over networks."""
        return self.m1.mean(axis=0), self.m1.std(axis=0, ddof=1) / math.sqrt(self.n_networks)

    def mean_lambda2(self) -> tuple[np.ndarray, np.ndarray]:
        """:math:`E[\\lambda^2]` per depth and its standard error over networks."""
        return self.m2.mean(axis=0), self.m2.std(axis=0, ddof=1) / math.sqrt(self.n_networks)

    def relative_variance(self) -> tuple[np.ndarray, np.ndarray]:
        """:math:`r = E[\\lambda^2]/E[\\lambda]^2 - 1` of the spectrum pooled over networks.

        Standard errors by the delta method from the covariance of :math:`(m_1, m_2)` over
        networks.
        """
        a, b = self.m1.mean(axis=0), self.m2.mean(axis=0)
        r = b / a**2 - 1.0
        n = self.n_networks
        ca = self.m1 - a
        cb = self.m2 - b
        vaa = (ca * ca).sum(0) / (n - 1)
        vbb = (cb * cb).sum(0) / (n - 1)
        vab = (ca * cb).sum(0) / (n - 1)
        ga, gb = -2.0 * b / a**3, 1.0 / a**2
        var = ga * ga * vaa + 2 * ga * gb * vab + gb * gb * vbb
        return r, np.sqrt(np.maximum(var, 0.0) / n)

    def slope(self, max_depth: int | None = None) -> Estimate:
        """Least-squares slope of :math:`r` against depth, with a jackknife standard error.

        Fits the recorded depths up to ``max_depth`` (all by default). Leaving out one
        network at a time keeps the correlation between depths (the same networks at every
        depth) in the error.
        """
        n = self.n_networks
        top = max(self.depths) if max_depth is None else integer(max_depth, "max_depth", 1)
        sel = np.array([d <= top for d in self.depths])
        if n < 3 or sel.sum() < 2:
            raise ValueError(
                f"the slope needs >= 3 networks and >= 2 depths <= max_depth, got {n} "
                f"networks and depths {self.depths} with max_depth={max_depth!r}"
            )
        x = np.asarray(self.depths, dtype=float)[sel]

        def fit(m1: np.ndarray, m2: np.ndarray) -> float:
            r = m2[:, sel].mean(0) / m1[:, sel].mean(0) ** 2 - 1.0
            return float(np.polyfit(x, r, 1)[0])

        full = fit(self.m1, self.m2)
        keep = ~np.eye(n, dtype=bool)
        jack = np.array([fit(self.m1[k], self.m2[k]) for k in keep])
        se = math.sqrt((n - 1) / n * float(((jack - jack.mean()) ** 2).sum()))
        return Estimate(full, se, n)


def jacobian_spectrum(
    activation: ActivationSpec | Activation | Network,
    depth: int | None = None,
    width: int | None = None,
    *,
    distribution: str | None = None,
    sigma_w2: float | None = None,
    sigma_b2: float | None = None,
    n_networks: int = 20,
    seed: int = 0,
    depths: Sequence[int] | None = None,
    spectrum_depths: Sequence[int] | None = None,
    input_q: float | None = None,
) -> JacobianSpectrum:
    """Simulate ``n_networks`` random networks and record the spectrum of their Jacobians.

    Parameters
    ----------
    activation : str, (str, float), Activation or Network
        See :func:`initmath.activation`; or a square
        :class:`~initmath.engine.network.Network`, which then gives everything the
        following arguments say (:func:`mean_field`), and they must not be given.
    depth, width : int
        Number of layers :math:`L` and their common width :math:`n` (input included).
    distribution : {"normal", "orthogonal"}
        Gaussian weights of variance :math:`\\sigma_w^2/n` or :math:`\\sigma_w` times a
        Haar-orthogonal matrix (``"gaussian"`` is accepted for ``"normal"``).
    sigma_w2, sigma_b2 : float
        Weight scale :math:`\\sigma_w^2 > 0` (the gain squared) and bias variance.
    n_networks : int
        Independent networks, >= 2. Network ``i`` uses
        ``numpy.random.default_rng([seed, i])`` for its input, weights and biases, so results
        do not depend on how networks are batched.
    seed : int
        >= 0.
    depths : sequence of int, optional
        Depths (1..``depth``) at which :math:`m_1, m_2` are recorded; default every layer.
    spectrum_depths : sequence of int, optional
        Depths at which all squared singular values are kept (``numpy.linalg.svd``);
        default ``(depth,)``; ``()`` for none.
    input_q : float
        Second moment :math:`q_0 > 0` of the Gaussian input's entries (default 1); the first
        layer's pre-activations then have second moment :math:`\\sigma_w^2 q_0 + \\sigma_b^2`.

    Returns
    -------
    JacobianSpectrum

    Raises
    ------
    ValueError
        A bad argument; ``depth`` above :data:`MAX_DEPTH`; or a run whose arrays (the
        ``depth`` weight matrices of one network, the Jacobian and the per-network outputs)
        do not fit in the available memory, all before anything is drawn.
    FloatingPointError
        The Jacobian overflowed.

    Examples
    --------
    >>> s = jacobian_spectrum("linear", 6, 8, distribution="orthogonal", sigma_w2=1.21,
    ...                       n_networks=2, seed=1)
    >>> bool(np.allclose(s.spectra[6], 1.21 ** 6, rtol=1e-12))
    True
    """
    if isinstance(activation, Network):
        mf = _from_network(
            activation,
            {
                "depth": depth,
                "width": width,
                "distribution": distribution,
                "sigma_w2": sigma_w2,
                "sigma_b2": sigma_b2,
                "input_q": input_q,
            },
        )
        act, big_l, n, dist = mf.activation, _depth(mf.depth), mf.width, mf.distribution
        sw2, sb2, q0 = mf.sigma_w2, mf.sigma_b2, mf.input_q
    else:
        if depth is None or width is None:
            raise TypeError("depth and width are required unless a Network gives them")
        act = _activation(activation)
        big_l = _depth(depth)
        n = integer(width, "width", 1)
        dist = _dist("normal" if distribution is None else distribution)
        sw2 = positive_real(1.0 if sigma_w2 is None else sigma_w2, "sigma_w2")
        sb2 = nonnegative_real(0.0 if sigma_b2 is None else sigma_b2, "sigma_b2")
        q0 = positive_real(1.0 if input_q is None else input_q, "input_q")
    n_net = integer(n_networks, "n_networks", 2)
    s = integer(seed, "seed", 0)
    ds = (
        list(range(1, big_l + 1))
        if depths is None
        else sorted(set(_depth_list(depths, "depths", big_l)))
    )
    if spectrum_depths is None:
        sds: list[int] = [big_l]
    elif isinstance(spectrum_depths, Sequence | np.ndarray) and len(spectrum_depths) == 0:
        sds = []
    else:
        sds = sorted(set(_depth_list(spectrum_depths, "spectrum_depths", big_l)))
    # One network's weights, biases and input (sample_network), the Jacobian, its Gram
    # matrix, the product and the SVD's workspace; the outputs of every network.
    fits_in_memory(
        _F64 * (big_l * (n * n + n) + 6 * n * n + n_net * (2 * len(ds) + n * len(sds))),
        f"depth={big_l!r}, width={n!r} and n_networks={n_net!r}",
    )
    column = {d: j for j, d in enumerate(ds)}
    m1 = np.empty((n_net, len(ds)))
    m2 = np.empty((n_net, len(ds)))
    spectra = {d: np.empty((n_net, n)) for d in sds}
    # One network at a time on one BLAS thread: n x n products are too small to gain from
    # threads, and threads competing for busy cores slow QR and SVD down many times over.
    with threadpool_limits(limits=1, user_api="blas"):
        for i in range(n_net):
            _one_network(
                act,
                big_l,
                n,
                dist,
                sw2,
                sb2,
                q0,
                np.random.default_rng([s, i]),
                column,
                spectra,
                m1[i],
                m2[i],
                i,
            )
    if not (np.all(np.isfinite(m1)) and np.all(np.isfinite(m2))):
        raise FloatingPointError("the Jacobian overflowed; use a smaller depth or sigma_w2")
    return JacobianSpectrum(act.name, dist, n, sw2, sb2, s, tuple(ds), m1, m2, spectra, q0)


def _one_network(
    act: Activation,
    big_l: int,
    n: int,
    dist: str,
    sw2: float,
    sb2: float,
    q0: float,
    rng: np.random.Generator,
    column: dict[int, int],
    spectra: dict[int, np.ndarray],
    m1: np.ndarray,
    m2: np.ndarray,
    i: int,
) -> None:
    """Fill row ``i`` of the outputs for one network drawn from ``rng``."""
    phi, dphi = act.numpy, act.numpy_derivative
    h, weights, biases = sample_network(
        big_l, n, distribution=dist, sigma_w2=sw2, sigma_b2=sb2, rng=rng, input_q=q0
    )
    jac = np.eye(n)
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True), start=1):
        z = w @ h + b
        jac = (dphi(z)[:, None] * w) @ jac
        h = phi(z)
        if layer in column:
            gram = jac.T @ jac
            m1[column[layer]] = np.trace(gram) / n
            m2[column[layer]] = float(np.sum(gram * gram)) / n
        if layer in spectra:
            spectra[layer][i] = np.linalg.svd(jac, compute_uv=False) ** 2
