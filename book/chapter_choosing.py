"""Helpers for the book chapter "Choosing an initialization": the activation x scheme grid.

:func:`grid` simulates (:func:`initmath.simulate`) and predicts (:func:`initmath.predict`)
deep, equal-width, bias-free networks for every activation and initialization setting, and
reduces each to per-layer ratios over the last layers: the forward ratio
:math:`\\chi_f = (q^L / q^{L-k})^{1/k}` of the pre-activation second moments and the backward
ratio :math:`\\chi_b = (r^{L-k} / r^L)^{1/k}` of the gradient second moments (the factor by
which one layer multiplies the gradient's second moment on its way back). The standard error
of a measured ratio is a delete-one-group jackknife over independent groups of networks.
:func:`recommend` picks, per activation, the scheme whose predicted ratios are closest to 1,
and :func:`markdown_table` renders the rows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from initmath.theory.gains import gain as _gain
from initmath.weights.schemes import Distribution, Scheme
from initmath.weights.schemes import variance as _variance
from initmath.weights.torch_gain import spec_label

__all__ = [
    "ACTIVATIONS",
    "NAMED_SCHEMES",
    "Row",
    "Setting",
    "activation_label",
    "framework_table",
    "grid",
    "jackknife_ratios",
    "markdown_table",
    "recommend",
    "recommendation_table",
    "settings_for",
]

#: The activations of the chapter's table.
ACTIVATIONS: tuple[object, ...] = (
    "linear",
    "relu",
    ("leaky_relu", 0.2),
    "tanh",
    "sigmoid",
    "selu",
    "gelu",
    "silu",
)
#: The named schemes a recommendation is chosen from (Xavier equals LeCun at equal widths).
NAMED_SCHEMES: tuple[str, ...] = ("lecun", "he", "standard")


@dataclass(frozen=True)
class Setting:
    """One way to initialize: a scheme, an explicit gain (or ``None``) and a distribution."""

    key: str
    label: str
    scheme: Scheme
    gain: float | None = None
    distribution: Distribution = "normal"

    def scale(self, width: int) -> float:
        """The weight scale :math:`\\sigma_w^2 = \\mathrm{fan_{in}} \\cdot v` at equal widths."""
        return width * _variance(self.scheme, width, width, gain=self.gain)


@dataclass
class Row:
    """Predicted and measured per-layer ratios of one activation and one setting."""

    activation: object
    setting: Setting
    sigma_w2: float
    q_last_pred: float
    q_last: float
    q_last_se: float
    fwd_pred: float
    fwd: float
    fwd_se: float
    bwd_pred: float
    bwd: float
    bwd_se: float
    result: object = field(repr=False, default=None)
    predicted: tuple = field(repr=False, default=())

    @property
    def z_fwd(self) -> float:
        """(measured - predicted) / standard error of the forward ratio."""
        return (self.fwd - self.fwd_pred) / self.fwd_se

    @property
    def z_bwd(self) -> float:
        """(measured - predicted) / standard error of the backward ratio."""
        return (self.bwd - self.bwd_pred) / self.bwd_se

    @property
    def score(self) -> float:
        """Distance of the predicted ratios from 1: :math:`\\max(|\\ln\\chi_f|, |\\ln\\chi_b|)`."""
        return max(abs(math.log(self.fwd_pred)), abs(math.log(self.bwd_pred)))


#: ``"tanh"``, or ``"leaky_relu(0.2)"`` for a parametrized activation.
activation_label = spec_label


def _torch_gain(activation: object) -> float | None:
    try:
        return _gain(activation)
    except ValueError:
        return None


def settings_for(activation: object) -> list[Setting]:
    """The settings simulated for ``activation``.

    LeCun (which is Xavier at equal widths), He with its own gain :math:`\\sqrt2`, PyTorch's
    ``"standard"`` default (uniform weights, as ``nn.Linear`` draws them), then LeCun's
    fan-in rule times the exact gain :math:`1/\\sqrt{E[\\phi(z)^2]}` and times PyTorch's gain,
    each only when its weight scale differs from the settings already listed.
    """
    out = [
        Setting("lecun", "lecun / xavier", "lecun"),
        Setting("he", "he", "he"),
        Setting("standard", "standard", "standard", distribution="uniform"),
    ]
    extra = [("exact", _gain(activation, convention="exact")), ("torch", _torch_gain(activation))]
    for key, g in extra:
        if g is None:
            continue
        scales = [s.scale(1) for s in out]
        if all(abs(g * g - s) > 1e-9 for s in scales):
            name = "exact" if key == "exact" else "PyTorch"
            out.append(Setting(key, f"{name} gain {g:.4g}", "lecun", gain=g))
    return out


def _ratios(q: np.ndarray, r: np.ndarray, last: int) -> tuple[float, float]:
    L = len(q)
    fwd = (q[L - 1] / q[L - 1 - last]) ** (1.0 / last)
    bwd = (r[L - 1 - last] / r[L - 1]) ** (1.0 / last)
    return float(fwd), float(bwd)


def jackknife_ratios(groups: Sequence[object], last: int) -> tuple[float, float, float, float]:
    """Forward and backward ratios with delete-one-group jackknife standard errors.

    ``groups`` are :class:`~initmath.engine.simulation.SimulationResult` of equal numbers of
    independent networks (``backward=True``). The estimate is the ratio of the pooled means;
    the jackknife recomputes it with each group left out, which accounts for the correlation
    between the layers' estimates (they come from the same networks).

    Returns
    -------
    (fwd, fwd_se, bwd, bwd_se)
    """
    q = np.array([g.q for g in groups])  # type: ignore[attr-defined]
    r = np.array([g.grad_q for g in groups])  # type: ignore[attr-defined]
    G = len(groups)
    fwd, bwd = _ratios(q.mean(axis=0), r.mean(axis=0), last)
    q_out = (q.sum(axis=0) - q) / (G - 1)
    r_out = (r.sum(axis=0) - r) / (G - 1)
    loo = np.array([_ratios(q_out[i], r_out[i], last) for i in range(G)])
    se = np.sqrt((G - 1) / G * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))
    return fwd, float(se[0]), bwd, float(se[1])


def grid(
    activations: Sequence[object] = ACTIVATIONS,
    *,
    width: int = 256,
    depth: int = 10,
    last: int = 4,
    n_networks: int = 200,
    groups: int = 10,
    seed: int = 0,
) -> list[Row]:
    """Simulate and predict every activation x setting; one :class:`Row` each.

    Parameters
    ----------
    activations : sequence
        Activation specs (:data:`ACTIVATIONS` by default).
    width, depth : int
        Networks of ``depth`` layers, all ``width`` wide, fed unit-variance inputs.
    last : int
        The ratios are geometric means over the last ``last`` layers.
    n_networks, groups : int
        Networks per setting, simulated as ``groups`` runs over consecutive ranges of networks
        (merged into one result, bit for bit the single run) for the jackknife.
    seed : int
        Seed of setting ``i`` is ``seed + i``.
    """
    from initmath.engine.simulation import simulate
    from initmath.practice.verification import predict

    if n_networks % groups:
        raise ValueError("n_networks must be a multiple of groups")
    widths = [width] * (depth + 1)
    size = n_networks // groups
    rows: list[Row] = []
    for act in activations:
        for setting in settings_for(act):
            scheme, gain, dist = setting.scheme, setting.gain, setting.distribution
            parts = [
                simulate(
                    widths,
                    act,
                    scheme=scheme,
                    gain=gain,
                    distribution=dist,
                    n_networks=size,
                    first_network=i * size,
                    seed=seed + len(rows),
                    backward=True,
                )
                for i in range(groups)
            ]
            merged = parts[0]
            for p in parts[1:]:
                merged = merged.merge(p)
            q_pred, r_pred = predict(
                widths, act, scheme=scheme, gain=gain, distribution=dist, backward=True
            )
            assert r_pred is not None  # backward=True
            fwd_pred, bwd_pred = _ratios(q_pred, r_pred, last)
            fwd, fwd_se, bwd, bwd_se = jackknife_ratios(parts, last)
            rows.append(
                Row(
                    act,
                    setting,
                    setting.scale(width),
                    float(q_pred[-1]),
                    float(merged.q[-1]),
                    float(merged.q_se[-1]),
                    fwd_pred,
                    fwd,
                    fwd_se,
                    bwd_pred,
                    bwd,
                    bwd_se,
                    result=merged,
                    predicted=(q_pred, r_pred),
                )
            )
    return rows


def recommend(rows: Sequence[Row]) -> dict[str, Row]:
    """Per activation label, the row of :data:`NAMED_SCHEMES` with the smallest
    :attr:`Row.score` (predicted ratios closest to 1)."""
    best: dict[str, Row] = {}
    for row in rows:
        if row.setting.scheme not in NAMED_SCHEMES or row.setting.gain is not None:
            continue
        key = activation_label(row.activation)
        if key not in best or row.score < best[key].score:
            best[key] = row
    return best


def _pm(value: float, se: float) -> str:
    return f"{value:.4f} ± {se:.4f}"


def markdown_table(rows: Sequence[Row], best: dict[str, Row] | None = None) -> str:
    """The rows as a GitHub-flavoured Markdown table; recommended rows in bold."""
    lines = [
        "| activation | setting | σ_w² | q^L predicted | q^L measured "
        "| χ_f predicted | χ_f measured | χ_b predicted | χ_b measured |",
        "| :-- | :-- | --: | --: | --: | --: | --: | --: | --: |",
    ]
    for row in rows:
        name = activation_label(row.activation)
        label = row.setting.label
        if best is not None and best.get(name) is row:
            label = f"**{label}** ✓"
        lines.append(
            f"| `{name}` | {label} | {row.sigma_w2:.4g} | {row.q_last_pred:.4g} "
            f"| {row.q_last:.4g} ± {row.q_last_se:.2g} | {row.fwd_pred:.4f} "
            f"| {_pm(row.fwd, row.fwd_se)} | {row.bwd_pred:.4f} | {_pm(row.bwd, row.bwd_se)} |"
        )
    return "\n".join(lines)


def recommendation_table(best: dict[str, Row]) -> str:
    """Per activation: the recommended scheme, its predicted ratios and the three gains."""
    from initmath.theory.gains import backward_gain

    lines = [
        "| activation | closest to 1 | χ_f predicted | χ_b predicted "
        "| exact gain | exact backward gain | PyTorch gain |",
        "| :-- | :-- | --: | --: | --: | --: | --: |",
    ]
    for name, row in best.items():
        act = row.activation
        torch = _torch_gain(act)
        lines.append(
            f"| `{name}` | {row.setting.label} | {row.fwd_pred:.4f} | {row.bwd_pred:.4f} "
            f"| {_gain(act, convention='exact'):.4f} | {backward_gain(act):.4f} "
            f"| {'—' if torch is None else f'{torch:.4f}'} |"
        )
    return "\n".join(lines)


# (framework, initializer, scheme, distribution, layout, layout description)
_FRAMEWORKS = (
    (
        "PyTorch",
        "`nn.Linear`, `nn.Conv*` default: `kaiming_uniform_(a=√5)`",
        "standard",
        "uniform",
        "torch",
    ),
    (
        "PyTorch",
        "`kaiming_normal_` (defaults `a=0`, `mode='fan_in'`, `nonlinearity='leaky_relu'`: gain √2)",
        "he",
        "normal",
        "torch",
    ),
    ("PyTorch", "`xavier_uniform_` (`gain=1`)", "xavier", "uniform", "torch"),
    ("Keras 3", "`Dense` default: `glorot_uniform`", "xavier", "uniform", "keras"),
    (
        "Keras 3",
        "`he_normal` = `VarianceScaling(2, 'fan_in', 'truncated_normal')`",
        "he",
        "truncated_normal",
        "keras",
    ),
    (
        "JAX",
        "`jax.nn.initializers.lecun_normal()` = `variance_scaling(1, 'fan_in', "
        "'truncated_normal')`",
        "lecun",
        "truncated_normal",
        "jax",
    ),
    (
        "Flax",
        "`flax.linen.Dense` default `kernel_init`: `lecun_normal()`",
        "lecun",
        "truncated_normal",
        "jax",
    ),
)
_LAYOUT_TEXT = {"torch": "(out, in, *k)", "keras": "(*k, in, out)", "jax": "(*k, in, out)"}


def framework_table(fan_in: int = 512, fan_out: int = 256) -> str:
    """Framework defaults for a dense layer ``fan_in -> fan_out``, every number from
    :func:`initmath.std`, :func:`initmath.bound` and :func:`initmath.variance`."""
    from initmath.weights.schemes import bound, std

    lecun = _variance("lecun", fan_in)
    lines = [
        "| framework | initializer | scheme | distribution | layout: shape "
        "| std | variance / LeCun's | support |",
        "| :-- | :-- | :-- | :-- | :-- | --: | --: | :-- |",
    ]
    for fw, api, scheme, dist, layout in _FRAMEWORKS:
        shape = (fan_out, fan_in) if layout == "torch" else (fan_in, fan_out)
        s = std(shape, scheme, layout=layout, distribution=dist)  # type: ignore[arg-type]
        if dist == "normal":
            support = "unbounded"
        else:
            b = bound(shape, scheme, layout=layout, distribution=dist)  # type: ignore[arg-type]
            support = f"±{b:.5f}" + (" (cut)" if dist == "truncated_normal" else "")
        lines.append(
            f"| {fw} | {api} | `{scheme}` | `{dist}` | {_LAYOUT_TEXT[layout]}: `{shape}` "
            f"| {s:.5f} | {s * s / lecun:.4f} | {support} |"
        )
    return "\n".join(lines)
