r"""Helpers for the book chapter on gains for any activation (``book/gains.md``).

For each activation :math:`\phi` (with :math:`z \sim N(0, 1)`):

* the exact forward gain :math:`1/\sqrt{E[\phi(z)^2]}` and backward gain
  :math:`1/\sqrt{E[\phi'(z)^2]}` (:func:`initmath.gain`, :func:`initmath.backward_gain`), and
  whether the moment behind each is a closed form from SymPy or a numerical integral;
* PyTorch's ``calculate_gain`` value :math:`g_t` where it has one, and the factor
  :math:`g_t^2\, E[\phi(z)^2]` by which a layer with weight variance :math:`g_t^2/n` changes
  the pre-activation second moment at :math:`q = 1`;
* for activations with a non-zero mean, the split
  :math:`E[\phi^2] = \operatorname{Var}[\phi] + E[\phi]^2`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from initmath.theory.gains import backward_gain, gain
from initmath.theory.moments import derivative_moment, moment
from initmath.weights.torch_gain import spec_label

if TYPE_CHECKING:
    from initmath.engine.simulation import SimulationResult

__all__ = [
    "ACTIVATIONS",
    "DriftRun",
    "GainRow",
    "MeanRow",
    "drift_runs",
    "drift_table",
    "gain_rows",
    "gain_table",
    "label",
    "mean_row",
    "mean_table",
    "torch_gain_or_none",
]

#: The activations of the chapter's table, PyTorch's default leaky-ReLU slope 0.01 and 0.2.
ACTIVATIONS: tuple[object, ...] = (
    "linear",
    "relu",
    ("leaky_relu", 0.01),
    ("leaky_relu", 0.2),
    "tanh",
    "sigmoid",
    "softplus",
    "elu",
    "selu",
    "gelu",
    "silu",
    "lecun_tanh",
)


#: ``"tanh"``, or ``"leaky_relu(0.2)"`` for a parametrized activation.
label = spec_label


def torch_gain_or_none(activation: object) -> float | None:
    """PyTorch's ``calculate_gain`` value, or ``None`` where :func:`initmath.gain` raises."""
    try:
        return gain(activation)
    except ValueError:
        return None


@dataclass(frozen=True)
class GainRow:
    """One activation's gains; ``torch``/``drift`` are ``None`` where PyTorch has no value.

    ``drift`` is :math:`g_t^2 E[\\phi(z)^2]`, the per-layer factor of the second moment at
    :math:`q = 1`; ``forward_exact``/``backward_exact`` say whether the moment is a closed form.
    """

    activation: object
    forward: float
    backward: float
    forward_exact: bool
    backward_exact: bool
    torch: float | None
    drift: float | None


def gain_rows(activations: Sequence[object] = ACTIVATIONS) -> list[GainRow]:
    """A :class:`GainRow` per activation."""
    rows = []
    for act in activations:
        m = moment(act, 1.0, 2)
        g_t = torch_gain_or_none(act)
        rows.append(
            GainRow(
                activation=act,
                forward=gain(act, convention="exact"),
                backward=backward_gain(act),
                forward_exact=bool(m.exact),
                backward_exact=bool(derivative_moment(act, 1.0, 2).exact),
                torch=g_t,
                drift=None if g_t is None else g_t**2 * float(m.value),
            )
        )
    return rows


def _kind(exact: bool) -> str:
    return "closed form" if exact else "numeric"


def gain_table(rows: Sequence[GainRow]) -> str:
    """The rows as a GitHub-flavoured Markdown table."""
    lines = [
        "| activation | forward gain | moment | backward gain | moment | PyTorch gain "
        "| per-layer factor at q = 1 |",
        "| :-- | --: | :-- | --: | :-- | --: | --: |",
    ]
    for r in rows:
        g_t = "none" if r.torch is None else f"{r.torch:.4f}"
        drift = "–" if r.drift is None else f"{r.drift:.4f}"
        lines.append(
            f"| `{label(r.activation)}` | {r.forward:.4f} | {_kind(r.forward_exact)} "
            f"| {r.backward:.4f} | {_kind(r.backward_exact)} | {g_t} | {drift} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class DriftRun:
    """Deep networks with PyTorch's gain, started at :math:`q^1 = 1`: prediction and simulation."""

    activation: object
    gain: float
    predicted: np.ndarray
    result: SimulationResult

    @property
    def z(self) -> float:
        """``(measured - predicted) / se`` of the last layer's second moment."""
        return float(self.result.z(self.predicted)[-1])

    @property
    def relative(self) -> float:
        """``measured / predicted - 1`` at the last layer."""
        return float(self.result.q[-1] / self.predicted[-1] - 1.0)


def drift_runs(
    rows: Sequence[GainRow],
    *,
    width: int = 256,
    depth: int = 50,
    n_networks: int = 200,
    seed: int = 0,
) -> list[DriftRun]:
    """Simulate and predict every activation of ``rows`` that has a PyTorch gain.

    Weight variance :math:`g_t^2/n` (scheme ``"lecun"`` with ``gain``) in every layer, inputs
    of standard deviation :math:`1/g_t` so that the first layer's pre-activations have
    second moment exactly 1; ``depth`` layers of ``width`` units.
    """
    from initmath.engine.simulation import simulate
    from initmath.practice.verification import predict

    widths = [width] * (depth + 1)
    runs = []
    for r in rows:
        if r.torch is None:
            continue
        g, s = r.torch, 1.0 / r.torch
        q, _ = predict(widths, r.activation, scheme="lecun", gain=g, input_std=s)
        res = simulate(
            widths,
            r.activation,
            n_networks=n_networks,
            seed=seed,
            scheme="lecun",
            gain=g,
            input_std=s,
        )
        runs.append(DriftRun(r.activation, r.torch, q, res))
    return runs


def drift_table(runs: Sequence[DriftRun]) -> str:
    """Markdown table: per-layer factor, predicted and measured last-layer second moment, z."""
    n_layers = len(runs[0].predicted) if runs else 0
    lines = [
        f"| activation | PyTorch gain | q after {n_layers} layers, predicted "
        "| measured ± se | z | measured / predicted − 1 |",
        "| :-- | --: | --: | --: | --: | --: |",
    ]
    for run in runs:
        res = run.result
        lines.append(
            f"| `{label(run.activation)}` | {run.gain:.4f} | {run.predicted[-1]:.4g} "
            f"| {res.q[-1]:.4g} ± {res.q_se[-1]:.2g} | {run.z:+.2f} | {run.relative:+.3f} |"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class MeanRow:
    """Mean, second moment and variance of :math:`\\phi(z)`, :math:`z\\sim N(0,1)`, and the gains
    that preserve the second moment (``forward``) or only the variance (``variance_gain``)."""

    activation: object
    mean: float
    second: float

    @property
    def variance(self) -> float:
        """:math:`E[\\phi^2] - E[\\phi]^2`."""
        return self.second - self.mean**2

    @property
    def mean_share(self) -> float:
        """:math:`E[\\phi]^2 / E[\\phi^2]`: the share of the second moment due to the mean."""
        return self.mean**2 / self.second

    @property
    def forward(self) -> float:
        """:math:`1/\\sqrt{E[\\phi^2]}`."""
        return 1.0 / math.sqrt(self.second)

    @property
    def variance_gain(self) -> float:
        """:math:`1/\\sqrt{\\operatorname{Var}[\\phi]}`."""
        return 1.0 / math.sqrt(self.variance)

    @property
    def variance_gain_factor(self) -> float:
        """:math:`E[\\phi^2]/\\operatorname{Var}[\\phi]`: what the variance gain does to q = 1."""
        return self.second / self.variance


def mean_row(activation: object) -> MeanRow:
    """The :class:`MeanRow` of an activation at :math:`q = 1`."""
    return MeanRow(
        activation, float(moment(activation, 1.0, 1).value), float(moment(activation, 1.0, 2).value)
    )


def mean_table(rows: Sequence[MeanRow]) -> str:
    """Markdown table of :class:`MeanRow` values."""
    lines = [
        "| activation | E[φ] | E[φ²] | Var[φ] | E[φ]² / E[φ²] | gain 1/√E[φ²] "
        "| gain 1/√Var[φ] | its factor on q = 1 |",
        "| :-- | --: | --: | --: | --: | --: | --: | --: |",
    ]
    for r in rows:
        lines.append(
            f"| `{label(r.activation)}` | {r.mean:.4f} | {r.second:.4f} | {r.variance:.4f} "
            f"| {r.mean_share:.3f} | {r.forward:.4f} | {r.variance_gain:.4f} "
            f"| {r.variance_gain_factor:.3f} |"
        )
    return "\n".join(lines)
