r"""What training from several seeds did: one summary of the histories of one configuration.

A configuration (a network, an initialization, an optimizer setting) trained from :math:`S`
seeds gives :math:`S` :class:`~initmath.practice.training.History` objects.
:func:`outcome` reduces them to the numbers that say whether and how fast it trained: with
:math:`a_s` the final test accuracy of seed :math:`s`, the mean :math:`\bar a` and the sample
standard deviation :math:`\sqrt{\sum_s (a_s - \bar a)^2/(S-1)}`; the mean training loss before
and after training; the median over seeds of the first epoch at which the test accuracy
reaches a target (only when more than half of the seeds reach it); and the mean norm of the
first and of the last layer's weight gradient at the first step, where a vanishing or
exploding gradient shows before any training.

>>> from initmath.practice.training import History
>>> h = History(train_loss=[2.3, 0.4], test_accuracy=[0.1, 0.95], grad_norms=[[1e-3, 0.5]])
>>> o = outcome([h, h], target=0.9)
>>> o.final_accuracy, o.epochs_to_target, o.reached, o.trained
(0.95, 1.0, 2, True)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .training import History

__all__ = ["Outcome", "outcome"]


@dataclass(frozen=True)
class Outcome:
    """Summary of the training runs of one configuration over seeds (:func:`outcome`).

    Attributes
    ----------
    final_accuracy, final_accuracy_sd : float
        Mean test accuracy after the last epoch and its standard deviation over seeds
        (``ddof=1``; 0 for a single seed).
    final_loss, initial_loss : float
        Mean training loss after the last epoch and before training.
    epochs_to_target : float or None
        Median over the seeds that reached the target test accuracy of the first epoch at
        which they did; ``None`` if half of the seeds or more never reached it.
    reached, seeds : int
        How many seeds reached the target, out of how many.
    first_layer_grad, last_layer_grad : float
        Mean Frobenius norm of the first and of the output layer's weight gradient on the
        first mini-batch (epoch 0).
    """

    final_accuracy: float
    final_accuracy_sd: float
    final_loss: float
    initial_loss: float
    epochs_to_target: float | None
    reached: int
    seeds: int
    first_layer_grad: float
    last_layer_grad: float

    @property
    def trained(self) -> bool:
        """The mean training loss fell below half its initial value."""
        return self.final_loss < 0.5 * self.initial_loss


def outcome(histories: Sequence[History], target: float) -> Outcome:
    """Summarize the histories of one configuration trained from several seeds.

    Parameters
    ----------
    histories : sequence of History
        One per seed, each with a test set (:func:`initmath.practice.training.train` with
        ``x_test``, ``y_test``) and at least the epoch-0 gradient norms.
    target : float
        The test accuracy whose first epoch is counted
        (:meth:`~initmath.practice.training.History.epochs_to`).

    Returns
    -------
    Outcome

    Raises
    ------
    ValueError
        No histories, or a history without test accuracies or gradient norms.
    """
    if len(histories) == 0:
        raise ValueError("outcome needs at least one history")
    if any(not h.test_accuracy or not h.grad_norms for h in histories):
        raise ValueError("every history needs test accuracies and gradient norms")
    if not math.isfinite(target):
        raise ValueError(f"target must be finite, got {target!r}")
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
