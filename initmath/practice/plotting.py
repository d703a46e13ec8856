"""Small plotting helpers shared by the book's chapters (matplotlib, imported lazily).

One style for every figure (:func:`style`), prediction-versus-simulation curves with error
bars (:func:`plot_moments`) and per-layer histograms (:func:`plot_histograms`). Figures have
a white background so that they read the same in the book's light and dark themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..core.checks import choice, nonnegative_real

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure

    from ..engine.simulation import SimulationResult

__all__ = ["COLORS", "plot_histograms", "plot_moments", "style"]

#: A colour-blind-safe cycle (Okabe and Ito).
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")


def style() -> None:
    """Apply the book's matplotlib style."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 100,
            "figure.facecolor": "white",
            "axes.facecolor": "white",
            "savefig.facecolor": "white",
            "font.size": 10,
            "axes.titlesize": 10,
            "axes.labelsize": 10,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "legend.frameon": False,
            "axes.prop_cycle": cycler(color=list(COLORS)),
        }
    )


def plot_moments(
    ax: Axes,
    result: SimulationResult,
    predicted: Sequence[float] | np.ndarray,
    *,
    quantity: str = "q",
    label: str = "",
    color: str | None = None,
    z: float = 2.0,
    logy: bool = True,
) -> None:
    """Simulated per-layer estimates with ``z``-standard-error bars, and the prediction.

    ``result`` is a :class:`~initmath.SimulationResult` or any object with the same per-layer
    arrays (``q``, ``q_se``; ``grad_q``, ``grad_q_se``). ``quantity`` is ``"q"``
    (pre-activation second moment) or ``"grad"`` (gradient second moment). Layers are numbered
    from 1. ``predicted`` has one real value per layer (not NaN), ``z`` is >= 0.

    Raises
    ------
    TypeError, ValueError
        For an invalid argument (named in the message), before anything is drawn.
    """
    _check_axes(ax, "ax")
    quantity = choice(quantity, "quantity", ("q", "grad"))
    _check_estimates(result, ("q", "q_se") if quantity == "q" else ("grad_q", "grad_q_se"))
    if not isinstance(label, str):
        raise TypeError(f"label must be a string, got {label!r}")
    z = nonnegative_real(z, "z")
    _check_bool(logy, "logy")
    est = result.q if quantity == "q" else result.grad_q
    se = result.q_se if quantity == "q" else result.grad_q_se
    if est is None or se is None:
        raise ValueError(f"the simulation did not record {quantity!r}")
    layers = np.arange(1, len(est) + 1)
    pred = _predicted(predicted, len(est))
    line = ax.plot(layers, pred, "-", color=color, lw=1.5, label=f"{label} predicted".strip())[0]
    ax.errorbar(
        layers,
        est,
        yerr=z * se,
        fmt="o",
        ms=3,
        color=line.get_color(),
        capsize=2,
        label=f"{label} simulated (±{z:g} se)".strip(),
    )
    ax.set_xlabel("layer")
    ax.set_ylabel(
        {"q": "second moment of pre-activations", "grad": "second moment of gradients"}[quantity]
    )
    if logy:
        ax.set_yscale("log")


def plot_histograms(
    result: SimulationResult,
    kind: str = "act",
    *,
    layers: Sequence[int] | None = None,
    ax: Axes | None = None,
    density: bool = True,
) -> Figure | SubFigure:
    """Per-layer histograms (``kind`` ``"pre"``, ``"act"`` or ``"grad"``) as outlined curves.

    They are drawn in the manner of Glorot and Bengio (2010), Figures 6 and 7. ``layers`` are
    1-based.
    """
    import matplotlib.pyplot as plt

    _check_result(result)
    kind = choice(kind, "kind", ("pre", "act", "grad"))
    if ax is not None:
        _check_axes(ax, "ax")
    _check_bool(density, "density")
    hist = result.histograms
    if hist is None or result.hist_edges is None:
        raise ValueError("the simulation did not record histograms")
    counts = hist[kind]
    edges = result.hist_edges[kind]
    centers = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    fig: Figure | SubFigure
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.2))
    else:
        fig = ax.figure  # a SubFigure when ``ax`` is in one
    chosen = _layers(layers, counts.shape[0])
    for layer in chosen:
        c = counts[layer - 1].astype(float)
        y = c / (c.sum() * width) if density and c.sum() > 0 else c
        ax.plot(centers, y, lw=1.2, label=f"layer {layer}")
    ax.set_ylabel("density" if density else "count")
    ax.legend(fontsize=8)
    return fig


def _check_estimates(result: object, attrs: tuple[str, str]) -> None:
    # Anything with per-layer estimates and standard errors as attributes: a
    # SimulationResult, or a chapter's own record of one (e.g. a fitted curve).
    for attr in attrs:
        value = getattr(result, attr, None)
        if isinstance(value, (str, bytes)) or value is None or np.ndim(value) != 1:
            raise TypeError(
                f"result must have per-layer arrays {attrs[0]!r} and {attrs[1]!r} (e.g. an "
                f"initmath.SimulationResult), got {result!r}"
            )


def _check_result(result: object) -> None:
    from ..engine.simulation import SimulationResult

    if not isinstance(result, SimulationResult):
        raise TypeError(f"result must be an initmath.SimulationResult, got {result!r}")


def _check_axes(ax: object, name: str) -> None:
    if not (hasattr(ax, "plot") and hasattr(ax, "errorbar") and hasattr(ax, "figure")):
        raise TypeError(f"{name} must be a matplotlib Axes, got {ax!r}")


def _check_bool(value: object, name: str) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")


def _predicted(predicted: object, n_layers: int) -> np.ndarray:
    if isinstance(predicted, (str, bytes)) or predicted is None:
        raise TypeError(f"predicted must be a sequence of numbers, got {predicted!r}")
    try:
        arr = np.asarray(predicted, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"predicted must be a sequence of numbers, got {predicted!r}") from None
    if arr.shape != (n_layers,):
        raise ValueError(
            f"predicted must have one value per layer ({n_layers}), got shape {arr.shape}"
        )
    if np.any(np.isnan(arr)):
        raise ValueError(f"predicted must not contain NaN, got {predicted!r}")
    return arr


def _layers(layers: object, n_layers: int) -> list[int]:
    if layers is None:
        return list(range(1, n_layers + 1))
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise TypeError(f"layers must be a sequence of 1-based layer numbers, got {layers!r}")
    out = []
    for layer in layers:
        if isinstance(layer, (bool, np.bool_)) or not isinstance(layer, (int, np.integer)):
            raise TypeError(f"layers must contain integers, got {layers!r}")
        if not 1 <= layer <= n_layers:
            raise ValueError(f"layers must be in 1..{n_layers}, got {layers!r}")
        out.append(int(layer))
    return out
