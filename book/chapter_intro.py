"""Helpers for the book's introduction (``book/introduction.md``): the second moment of the
signal and of the gradient through a deep ReLU network under a bad and a good weight variance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from initmath.engine.simulation import SimulationResult, simulate
from initmath.practice.verification import predict

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["DepthCase", "DepthRuns", "depth_figure", "depth_runs"]


@dataclass(frozen=True)
class DepthCase:
    """One weight variance: its simulation, its predictions and how well they agree."""

    label: str
    simulation: SimulationResult
    predicted_q: np.ndarray
    predicted_grad: np.ndarray
    factor: float  # predicted rho = q^l / q^(l-1) for l >= 2 (not Poole's chi_1)
    max_abs_z: float  # over layers, forward and backward


@dataclass(frozen=True)
class DepthRuns:
    """The three cases of the introduction's figure, keyed ``lecun``, ``fixed`` and ``he``."""

    width: int
    layers: int
    n_networks: int
    fixed_std: float
    cases: dict[str, DepthCase] = field(default_factory=dict)


class _Scale(TypedDict, total=False):
    """The keyword arguments of :func:`simulate` and :func:`predict` that set the weights."""

    scheme: str
    std_value: float


def depth_runs(
    width: int = 256,
    layers: int = 30,
    n_networks: int = 400,
    fixed_std: float = 0.1,
    seed: int = 1,
) -> DepthRuns:
    """Simulate ReLU networks of ``layers`` layers of ``width`` units, forward and backward,
    with LeCun's variance :math:`1/n`, a fixed standard deviation and He's :math:`2/n`."""
    widths = [width] * (layers + 1)
    settings: dict[str, tuple[str, _Scale]] = {
        "lecun": ("LeCun, $1/n$", {"scheme": "lecun"}),
        "fixed": (f"fixed std {fixed_std:g}", {"scheme": "normal", "std_value": fixed_std}),
        "he": ("He, $2/n$", {"scheme": "he"}),
    }
    runs = DepthRuns(width, layers, n_networks, fixed_std)
    for i, (key, (label, kw)) in enumerate(settings.items()):
        # Independent seeds: with one seed the three networks would be the same network
        # scaled (the ReLU is positively homogeneous), with the same errors.
        sim = simulate(widths, "relu", n_networks=n_networks, seed=seed + i, backward=True, **kw)
        q, g = predict(widths, "relu", backward=True, **kw)
        assert g is not None and sim.grad_q is not None and sim.grad_q_se is not None
        worst = max(sim.max_abs_z(q, "q"), sim.max_abs_z(g, "grad"))
        runs.cases[key] = DepthCase(label, sim, q, g, float(q[1] / q[0]), worst)
    return runs


def depth_figure(runs: DepthRuns) -> Figure:
    """Forward (left) and backward (right) second moments against depth, one curve per case."""
    import matplotlib.pyplot as plt

    from initmath.practice.plotting import COLORS, plot_moments, style

    style()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharex=True)
    for color, case in zip(COLORS, runs.cases.values(), strict=False):
        plot_moments(axes[0], case.simulation, case.predicted_q, label=case.label, color=color)
        plot_moments(
            axes[1],
            case.simulation,
            case.predicted_grad,
            quantity="grad",
            label=case.label,
            color=color,
        )
    axes[0].set_title("forward: pre-activations")
    axes[1].set_title("backward: gradients")
    handles, labels = axes[0].get_legend_handles_labels()
    keep = [i for i, text in enumerate(labels) if "simulated" not in text]
    axes[1].legend(
        [handles[i] for i in keep], [labels[i].replace(" predicted", "") for i in keep], fontsize=8
    )
    fig.tight_layout()
    return fig
