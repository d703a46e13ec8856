"""initmath.practice.outcomes: the summary of a configuration's training runs over seeds,
checked on histories written by hand against values computed with the statistics module."""

from __future__ import annotations

import statistics

import pytest

from initmath.practice.outcomes import Outcome, outcome
from initmath.practice.training import History


def _history(acc, loss, grads=(1e-3, 0.5)):
    return History(
        train_loss=list(loss),
        train_accuracy=list(acc),
        test_accuracy=list(acc),
        grad_norms=[list(grads)] + [[1.0, 1.0]] * (len(acc) - 1),
    )


HISTORIES = [
    _history([0.1, 0.5, 0.92, 0.95], [2.3, 1.0, 0.4, 0.2], (1e-3, 0.4)),
    _history([0.1, 0.91, 0.93, 0.96], [2.2, 0.6, 0.3, 0.1], (2e-3, 0.6)),
    _history([0.1, 0.3, 0.6, 0.8], [2.4, 1.9, 1.5, 1.2], (3e-3, 0.8)),
]


def test_summary_against_the_statistics_module():
    o = outcome(HISTORIES, 0.9)
    finals = [0.95, 0.96, 0.8]
    assert o.final_accuracy == pytest.approx(statistics.mean(finals), rel=1e-15)
    assert o.final_accuracy_sd == pytest.approx(statistics.stdev(finals), rel=1e-12)
    assert o.initial_loss == pytest.approx(statistics.mean([2.3, 2.2, 2.4]), rel=1e-15)
    assert o.final_loss == pytest.approx(statistics.mean([0.2, 0.1, 1.2]), rel=1e-15)
    assert o.first_layer_grad == pytest.approx(2e-3, rel=1e-12)
    assert o.last_layer_grad == pytest.approx(0.6, rel=1e-12)
    # seeds 0 and 1 reach 0.9 at epochs 2 and 1; 2 of 3 is more than half
    assert (o.reached, o.seeds, o.epochs_to_target) == (2, 3, 1.5)
    assert o.trained and isinstance(o, Outcome)


def test_no_median_unless_more_than_half_reach_the_target():
    o = outcome(HISTORIES[1:], 0.9)  # one of two
    assert o.reached == 1 and o.epochs_to_target is None
    assert outcome(HISTORIES, 0.99).epochs_to_target is None
    assert outcome(HISTORIES, 0.0).epochs_to_target == 0.0


def test_a_single_seed_has_no_spread_and_a_flat_loss_did_not_train():
    flat = _history([0.1, 0.1, 0.1], [2.3, 2.3, 2.3])
    o = outcome([flat], 0.5)
    assert o.final_accuracy_sd == 0.0 and o.seeds == 1 and o.reached == 0
    assert not o.trained


def test_outcome_is_a_function_of_its_histories():
    assert outcome(HISTORIES, 0.9) == outcome(list(HISTORIES), 0.9)


def test_outcome_refuses_what_it_cannot_summarize():
    with pytest.raises(ValueError, match="at least one"):
        outcome([], 0.9)
    with pytest.raises(ValueError, match="test accuracies"):
        outcome([History(train_loss=[1.0], grad_norms=[[1.0]])], 0.9)
    with pytest.raises(ValueError, match="finite"):
        outcome(HISTORIES, float("nan"))
