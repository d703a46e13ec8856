"""Numbers read off a simulation: per-layer factors, spread over networks, saturation.

Small summaries of a :class:`~initmath.engine.simulation.SimulationResult` (or of any
per-layer curve) that the book's chapters quote:

* :func:`geometric_factor`: the mean factor by which a curve changes per layer;
* :func:`coefficient_of_variation`: how much single networks scatter around the average;
* :func:`saturated_fraction`: the fraction of activations outside an interval, from the
  recorded histograms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core.checks import choice, integer

if TYPE_CHECKING:
    from ..engine.simulation import SimulationResult

__all__ = ["coefficient_of_variation", "geometric_factor", "saturated_fraction"]


def geometric_factor(values: Sequence[float] | np.ndarray) -> float:
    """The mean per-layer factor of a positive curve.

    .. math::
        \\bar\\rho = \\Bigl(\\frac{v_L}{v_1}\\Bigr)^{1/(L-1)},

    the geometric mean of the ratios :math:`v_{\\ell+1}/v_\\ell` of consecutive layers: a
    curve that changes by :math:`\\rho` per layer has :math:`\\bar\\rho = \\rho`.

    Parameters
    ----------
    values : array_like
        :math:`v_1, \\ldots, v_L`, at least two, all > 0 (e.g. ``result.q``).

    Returns
    -------
    float

    Examples
    --------
    >>> geometric_factor([1.0, 0.5, 0.25, 0.125])
    0.5
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size < 2 or not np.all(v > 0):
        raise ValueError(f"values must be at least two positive numbers, got {values!r}")
    return float((v[-1] / v[0]) ** (1.0 / (v.size - 1)))


def coefficient_of_variation(result: SimulationResult, quantity: str, layer: int) -> float:
    """Spread over networks of the per-network second moment at ``layer``.

    The standard deviation over the simulated networks of each network's second moment,
    divided by its mean:

    .. math::
        \\mathrm{CV} = \\frac{\\operatorname{sd}_{\\text{networks}}(q)}{\\bar q}
        = \\frac{\\operatorname{se}(\\bar q)\\,\\sqrt N}{\\bar q},

    from the estimate :math:`\\bar q` and its standard error over the :math:`N` networks.

    Parameters
    ----------
    result : SimulationResult
    quantity : {"q", "grad"}
        The pre-activations' second moment, or the gradients' (``backward=True``).
    layer : int
        1-based.

    Returns
    -------
    float
        :math:`\\mathrm{CV} \\ge 0`, dimensionless.

    Examples
    --------
    >>> import initmath
    >>> r = initmath.simulate([64] * 4, "relu", scheme="he", n_networks=400, seed=1)
    >>> round(coefficient_of_variation(r, "q", 3), 1)  # about sqrt(5 * 3 / 64)
    0.5
    """
    quantity = choice(quantity, "quantity", ("q", "grad"))
    est = result.q if quantity == "q" else result.grad_q
    se = result.q_se if quantity == "q" else result.grad_q_se
    if est is None or se is None:
        raise ValueError(f"the simulation did not record {quantity!r}")
    layer = integer(layer, "layer", 1)
    if layer > len(est):
        raise ValueError(f"layer must be at most {len(est)}, got {layer}")
    return float(se[layer - 1] * np.sqrt(result.n_networks) / est[layer - 1])


def saturated_fraction(
    result: SimulationResult, lo: float, hi: float, layer: int | None = None
) -> float:
    """Fraction of a layer's activations outside ``[lo, hi)``, from the histograms.

    Counts every activation the simulation produced (``widths[layer]`` units times
    ``n_inputs`` inputs times ``n_networks``), including those outside the histogram's
    range, which the histogram does not hold:

    .. math::
        1 - \\frac{\\#\\{\\phi(z^\\ell_i) \\in [lo, hi)\\}}{n_\\ell \\cdot n_{inputs}
        \\cdot N}.

    Parameters
    ----------
    result : SimulationResult
        Run with ``record=("histograms",)``.
    lo, hi : float
        Bin edges of the ``"act"`` histogram, ``lo < hi``.
    layer : int, optional
        1-based; default the last.

    Returns
    -------
    float
        In :math:`[0, 1]`.

    Examples
    --------
    >>> import initmath
    >>> r = initmath.simulate([256] * 3, "tanh", scheme="fixed", std=1.0, n_networks=4,
    ...                       record=("histograms",), bins=202,
    ...                       hist_range={"act": (-1.01, 1.01)})
    >>> round(saturated_fraction(r, -0.99, 0.99), 2)  # |tanh(z)| > 0.99 for most units
    0.87
    """
    hist = result.histograms
    if hist is None or result.hist_edges is None:
        raise ValueError("the simulation did not record histograms")
    edges = result.hist_edges["act"]
    counts = hist["act"]
    layer = counts.shape[0] if layer is None else integer(layer, "layer", 1)
    if layer > counts.shape[0]:
        raise ValueError(f"layer must be at most {counts.shape[0]}, got {layer}")
    i, j = (int(np.argmin(np.abs(edges - x))) for x in (lo, hi))
    tol = 1e-9 * (edges[-1] - edges[0])
    if not (abs(edges[i] - lo) < tol and abs(edges[j] - hi) < tol and i < j):
        raise ValueError(f"{lo} and {hi} must be edges of the activation histogram, lo < hi")
    cfg = result.config
    total = cfg["widths"][layer] * cfg["n_inputs"] * result.n_networks
    inside = int(counts[layer - 1, i:j].sum())
    return 1.0 - inside / total
