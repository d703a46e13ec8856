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

:func:`best_learning_rate` picks the learning rate of a sweep by a stated criterion (the
median over seeds of the final training loss, :func:`median_final_loss`), and
:func:`reach_sentence` says in English how many seeds of each configuration reached the
target and when.

>>> from initmath.practice.training import History
>>> h = History(train_loss=[2.3, 0.4], test_accuracy=[0.1, 0.95], grad_norms=[[1e-3, 0.5]])
>>> o = outcome([h, h], target=0.9)
>>> o.final_accuracy, o.epochs_to_target, o.reached, o.trained
(0.95, 1.0, 2, True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .training import History

__all__ = [
    "Outcome",
    "best_learning_rate",
    "median_final_loss",
    "outcome",
    "reach_clause",
    "reach_sentence",
]


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


def median_final_loss(histories: Sequence[History]) -> float:
    r"""Median over seeds of the training loss after the last epoch.

    A run that diverged (``diverged_at`` set, or a final loss that is not finite) counts as
    :math:`+\infty`, so a learning rate at which most seeds diverge is never the best.

    Raises
    ------
    ValueError
        No histories, or a history without a training loss.
    """
    if len(histories) == 0:
        raise ValueError("median_final_loss needs at least one history")
    if any(not h.train_loss for h in histories):
        raise ValueError("every history needs a training loss")
    finals = [
        h.train_loss[-1] if h.diverged_at is None and math.isfinite(h.train_loss[-1]) else math.inf
        for h in histories
    ]
    return float(np.median(finals))


def best_learning_rate(sweep: Mapping[float, Sequence[History]]) -> float:
    r"""The learning rate of a sweep whose runs end with the smallest median training loss.

    Parameters
    ----------
    sweep : mapping of float to sequence of History
        For each learning rate of the grid, the runs from every seed.

    Returns
    -------
    float
        :math:`\arg\min_\eta` :func:`median_final_loss` (the smaller rate on a tie).

    Raises
    ------
    ValueError
        An empty sweep, or one whose every rate diverged for most seeds.
    """
    if len(sweep) == 0:
        raise ValueError("best_learning_rate needs at least one learning rate")
    scores = {float(eta): median_final_loss(h) for eta, h in sweep.items()}
    eta = min(sorted(scores), key=lambda e: scores[e])
    if not math.isfinite(scores[eta]):
        raise ValueError("every learning rate of the sweep diverged for most seeds")
    return eta


def _epochs(value: float) -> str:
    return f"{value:g} epoch" + ("" if value == 1 else "s")


def reach_clause(o: Outcome, goal: str) -> str:
    """How many seeds of ``o`` reached ``goal`` and, when defined, the median epoch.

    ``goal`` names the target (e.g. ``"90 % test accuracy"`` or ``"it"``). The clause has
    no capital and no full stop; the median is given only when more than half of the seeds
    reached the target (the ``epochs_to_target`` of an :class:`Outcome`).

    >>> from initmath.practice.outcomes import Outcome
    >>> o = Outcome(0.9, 0.01, 0.3, 2.3, 4.0, 3, 3, 1.0, 1.0)
    >>> reach_clause(o, "90 %")
    'all 3 seeds reach 90 %, after a median of 4 epochs'
    """
    k, s, median = o.reached, o.seeds, o.epochs_to_target
    if s == 1:
        if k == 0:
            return f"the single seed does not reach {goal}"
        when = "before any training" if median == 0 else f"after {_epochs(float(median or 0))}"
        return f"the single seed reaches {goal} {when}"
    if k == 0:
        return f"none of the {s} seeds reaches {goal}"
    who = (
        f"all {s} seeds reach"
        if k == s
        else f"{k} of the {s} seeds reaches"
        if k == 1
        else f"{k} of the {s} seeds reach"
    )
    if median is None:
        return f"{who} {goal}, too few for a median number of epochs"
    if median == 0:
        return f"{who} {goal}, the median seed before any training"
    return f"{who} {goal}, after a median of {_epochs(median)}"


def reach_sentence(parts: Sequence[tuple[str, Outcome]], goal: str) -> str:
    """One English sentence on the target for several configurations.

    Parameters
    ----------
    parts : sequence of (str, Outcome)
        A lead-in for each configuration (e.g. ``"from Xavier's initialization"``) and its
        outcome.
    goal : str
        The target, named in the first clause; the later ones say "it".

    Returns
    -------
    str
        The clauses :func:`reach_clause` joined by semicolons, capitalized, with a full stop:
        ``"From Xavier's initialization, none of the 3 seeds reaches 90 % test accuracy;
        from He's, all 3 seeds reach it, after a median of 6 epochs."``

    Raises
    ------
    ValueError
        No parts.
    """
    if len(parts) == 0:
        raise ValueError("reach_sentence needs at least one configuration")
    clauses = [
        f"{lead}, {reach_clause(o, goal if i == 0 else 'it')}" if lead else reach_clause(o, goal)
        for i, (lead, o) in enumerate(parts)
    ]
    text = "; ".join(clauses)
    return text[0].upper() + text[1:] + "."
