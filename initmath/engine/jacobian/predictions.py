"""Mean-field predictions of the Jacobian's spectrum, for a network or its parameters.

At large width the pre-activations of layer :math:`\\ell` are Gaussian with second moment
:math:`q_\\ell` (:math:`q_1 = \\sigma_w^2 q_0 + \\sigma_b^2`,
:math:`q_{\\ell+1} = \\sigma_w^2 E[\\phi(\\sqrt{q_\\ell}\\xi)^2] + \\sigma_b^2`), and the moments
of :math:`\\phi'` along that forward map give :math:`E[\\lambda]`
(:func:`~initmath.engine.jacobian.predicted_mean_lambda`) and the relative variance
:math:`r_L` (:func:`~initmath.engine.jacobian.predicted_relative_variance`, by
:func:`~initmath.engine.jacobian.relative_variance_recursion`). Both take either the separate
parameters or a square :class:`~initmath.engine.network.Network`, read by
:func:`~initmath.engine.jacobian.mean_field`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import sympy as sp

from ...theory.activations import Activation
from ...theory.activations import activation as get_activation
from ...theory.moments import Q, symbolic_moment
from ...theory.quadrature import gaussian_expectation
from ...weights.schemes import Distribution
from ...weights.torch_gain import ActivationSpec
from ..network import Network
from .arguments import checked_distribution, depth_list, mean_field_arguments
from .recursions import S1

__all__ = [
    "MeanField",
    "from_network",
    "mean_field",
    "predicted_mean_lambda",
    "predicted_relative_variance",
]


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
        Widths that differ, layers whose :math:`\\sigma_w^2` differ, a residual or
        convolutional network, or a distribution the Jacobian functions do not model.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a Network, got {network!r}")
    network.require_plain("initmath.engine.jacobian")
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
        checked_distribution(network.distribution),
        network.sigma_w2[0],
        network.sigma_b2,
        network.input_q,
    )


def from_network(network: Network, given: Mapping[str, object]) -> MeanField:
    """:func:`mean_field`, refusing the separate arguments it replaces.

    ``given`` maps each such argument's name to its value, ``None`` when not given.
    """
    extra = sorted(k for k, v in given.items() if v is not None)
    if extra:
        raise ValueError(
            f"got a Network and {extra[0]}: the network's description says it (use "
            f"network.replace(...) to change it)"
        )
    return mean_field(network)


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


def _prediction(
    activation: ActivationSpec | Activation | Network,
    depths: Sequence[int] | None,
    given: Mapping[str, object],
) -> tuple[Activation, list[int], Distribution, float, float, float]:
    """``(activation, depths, distribution, sigma_w2, sigma_b2, input_q)`` of a prediction.

    From a Network (:func:`from_network`, refusing the arguments in ``given``; ``depths``
    default every layer), or from the separate arguments, checked (``depths`` required, then
    the arguments in ``given``: a ``distribution`` left out is ``"normal"``).
    """
    if isinstance(activation, Network):
        mf = from_network(activation, given)
        ds = depth_list(
            list(range(1, mf.depth + 1)) if depths is None else depths, "depths", mf.depth
        )
        return mf.activation, ds, mf.distribution, mf.sigma_w2, mf.sigma_b2, mf.input_q
    if depths is None:
        raise TypeError("depths is required unless a Network gives the depth")
    a = get_activation(activation)
    ds = depth_list(depths, "depths")
    dist, sw2, sb2, q0 = mean_field_arguments(
        given.get("distribution"), given["sigma_w2"], given["sigma_b2"], given["input_q"]
    )
    return a, ds, dist, sw2, sb2, q0


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
    given = {
        "distribution": distribution,
        "sigma_w2": sigma_w2,
        "sigma_b2": sigma_b2,
        "input_q": input_q,
    }
    a, ds, dist, sw2, sb2, q0 = _prediction(activation, depths, given)
    s1 = S1[dist]
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
    given = {"sigma_w2": sigma_w2, "sigma_b2": sigma_b2, "input_q": input_q}
    a, ds, _dist, sw2, sb2, q0 = _prediction(activation, depths, given)
    log_m, out = 0.0, {}
    for layer, _q, d2, _d4 in _mean_field_layers(a, max(ds), sw2, sb2, q0, False):
        log_m += math.log(sw2 * d2)
        out[layer] = math.exp(log_m) if log_m < 709.0 else math.inf
    return np.array([out[d] for d in ds])
