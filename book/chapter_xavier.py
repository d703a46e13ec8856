"""Helpers for the book chapter on LeCun and Xavier/Glorot initialization (``book/xavier.md``).

Per-layer z-scores of a simulation against a prediction, the geometric per-layer factor of a
second-moment curve, and the two-row histogram figures that reproduce Glorot and Bengio
(2010), Figures 6 and 7.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from initmath.practice.plotting import COLORS, plot_histograms, plot_moments

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from initmath.engine.simulation import SimulationResult

__all__ = ["geometric_factor", "histogram_rows", "moments_figure"]


def geometric_factor(values: Sequence[float] | np.ndarray) -> float:
    """The mean per-layer ratio of a positive curve,
    ``(values[-1] / values[0]) ** (1 / (L - 1))``."""
    v = np.asarray(values, dtype=float)
    if v.size < 2 or np.any(v <= 0):
        raise ValueError("need at least two positive values")
    return float((v[-1] / v[0]) ** (1.0 / (v.size - 1)))


def histogram_rows(
    results: Mapping[str, SimulationResult],
    kind: str,
    *,
    xlabel: str,
    figsize: tuple[float, float] = (7.0, 5.2),
) -> Figure:
    """One row of per-layer histograms (:func:`initmath.practice.plotting.plot_histograms`)
    per result.

    Parameters
    ----------
    results : mapping of str to SimulationResult
        Row title -> simulation recorded with ``record=("histograms",)``.
    kind : {"pre", "act", "grad"}
        Which histograms to draw.
    xlabel : str
        Label of the shared x axis.
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 1, figsize=figsize, sharex=True, layout="constrained")
    for ax, (title, res) in zip(np.atleast_1d(axes), results.items(), strict=True):
        plot_histograms(res, kind, ax=ax)
        ax.set_title(title)
    np.atleast_1d(axes)[-1].set_xlabel(xlabel)
    return fig


def moments_figure(
    rows: Mapping[str, Mapping[str, tuple[SimulationResult, np.ndarray, np.ndarray]]],
    *,
    figsize: tuple[float, float] = (9.0, 3.6),
) -> Figure:
    """Forward (left) and backward (right) prediction-versus-simulation panels, one row each.

    Parameters
    ----------
    rows : mapping of str to mapping of str to (SimulationResult, q_pred, grad_pred)
        Row title (may be empty) -> curve label -> a simulation run with ``backward=True``
        and its per-layer predictions (as returned by :func:`initmath.predict`).
    figsize : tuple of float
        Figure size in inches.

    Returns
    -------
    matplotlib.figure.Figure
        With one legend below the panels (colour = curve label).
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    fig, axes = plt.subplots(
        len(rows), 2, figsize=figsize, squeeze=False, sharex=True, layout="constrained"
    )
    labels: list[str] = []
    for (title, runs), (ax_f, ax_b) in zip(rows.items(), axes, strict=True):
        for (label, (sim, q_pred, g_pred)), color in zip(runs.items(), COLORS, strict=False):
            plot_moments(ax_f, sim, q_pred, label=label, color=color)
            plot_moments(ax_b, sim, g_pred, quantity="grad", label=label, color=color)
            if label not in labels:
                labels.append(label)
        ax_f.set_title(f"{title}: forward" if title else "forward")
        ax_b.set_title(f"{title}: backward" if title else "backward")
    for ax in axes.flat:
        ax.xaxis.get_major_locator().set_params(integer=True)
    handles = [
        Line2D([], [], color=c, marker="o", ms=3, label=f"{lab}")
        for lab, c in zip(labels, COLORS, strict=False)
    ]
    handles.append(Line2D([], [], color="grey", label="predicted (line)"))
    handles.append(
        Line2D([], [], color="grey", marker="o", ls="", ms=3, label="simulated ±2 se (points)")
    )
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    return fig
