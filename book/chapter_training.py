"""Helpers for the book chapter "Does it train?" (``book/training.md``): train the same
network from several initializations and seeds on the digits, and summarize the runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from initmath.practice.datasets import Dataset
from initmath.practice.training import History, network, train
from initmath.weights.schemes import Distribution, Scheme

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["Config", "Outcome", "curves_figure", "outcome", "run_configs"]


@dataclass(frozen=True)
class Config:
    """One network and initialization: ``depth`` hidden layers of ``width`` units."""

    activation: str
    scheme: Scheme
    depth: int
    width: int = 64
    distribution: Distribution = "normal"

    @property
    def label(self) -> str:
        return f"{self.activation}, {self.depth} layers, {self.scheme}"


def run_configs(
    configs: Iterable[Config],
    data: Dataset,
    seeds: Sequence[int],
    *,
    epochs: int,
    learning_rate: float,
    momentum: float = 0.9,
    batch_size: int = 64,
) -> dict[Config, list[History]]:
    """Train every configuration from every seed (weights and batch order both from it)."""
    runs: dict[Config, list[History]] = {}
    for c in configs:
        widths = [data.x_train.shape[1]] + [c.width] * c.depth + [data.n_classes]
        runs[c] = []
        for seed in seeds:
            net = network(widths, c.activation, c.scheme, distribution=c.distribution, seed=seed)
            runs[c].append(
                train(
                    net,
                    data.x_train,
                    data.y_train,
                    x_test=data.x_test,
                    y_test=data.y_test,
                    epochs=epochs,
                    learning_rate=learning_rate,
                    momentum=momentum,
                    batch_size=batch_size,
                    seed=seed,
                )
            )
    return runs


@dataclass(frozen=True)
class Outcome:
    """Summary of the runs of one configuration over seeds."""

    final_accuracy: float  # mean test accuracy after the last epoch
    final_accuracy_sd: float  # its standard deviation over seeds
    final_loss: float  # mean training loss after the last epoch
    initial_loss: float  # mean training loss before training
    epochs_to_target: float | None  # median over seeds; None if half or more never reach it
    reached: int  # seeds that reached the target
    seeds: int
    first_layer_grad: float  # mean norm of layer 1's weight gradient at the first step
    last_layer_grad: float  # and of the output layer's

    @property
    def trained(self) -> bool:
        """Training loss below half its initial value on average."""
        return self.final_loss < 0.5 * self.initial_loss


def outcome(histories: Sequence[History], target: float) -> Outcome:
    """Final accuracy, losses, epochs to reach ``target`` test accuracy, first gradients."""
    final = np.array([h.test_accuracy[-1] for h in histories])
    hits = [h.epochs_to(target) for h in histories]
    reached = [e for e in hits if e is not None]
    median = float(np.median(reached)) if len(reached) * 2 > len(hits) else None
    return Outcome(
        final_accuracy=float(final.mean()),
        final_accuracy_sd=float(final.std(ddof=1)) if final.size > 1 else 0.0,
        final_loss=float(np.mean([h.train_loss[-1] for h in histories])),
        initial_loss=float(np.mean([h.train_loss[0] for h in histories])),
        epochs_to_target=median,
        reached=len(reached),
        seeds=len(hits),
        first_layer_grad=float(np.mean([h.grad_norms[0][0] for h in histories])),
        last_layer_grad=float(np.mean([h.grad_norms[0][-1] for h in histories])),
    )


def curves_figure(runs: dict[Config, list[History]], configs: Sequence[Config]) -> Figure:
    """Training loss (left) and test accuracy (right) against epoch: the mean over seeds as a
    line, the range over seeds as a band."""
    import matplotlib.pyplot as plt

    from initmath.practice.plotting import COLORS, style

    style()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.6), sharex=True)
    for color, c in zip(COLORS, configs, strict=False):
        hs = runs[c]
        for ax, key in ((left, "train_loss"), (right, "test_accuracy")):
            values = np.array([getattr(h, key) for h in hs])
            epochs = np.arange(values.shape[1])
            ax.plot(epochs, values.mean(axis=0), color=color, lw=1.5, label=c.label)
            ax.fill_between(
                epochs, values.min(axis=0), values.max(axis=0), color=color, alpha=0.2, lw=0
            )
    left.set_ylabel("training loss (cross-entropy)")
    right.set_ylabel("test accuracy")
    right.set_ylim(0, 1)
    for ax in (left, right):
        ax.set_xlabel("epoch")
    right.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
