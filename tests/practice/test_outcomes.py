"""initmath.practice.outcomes: the summary of a configuration's training runs over seeds,
checked on histories written by hand against values computed with the statistics module."""

from __future__ import annotations

import statistics

import pytest

from initmath.practice.outcomes import (
    Outcome,
    best_learning_rate,
    median_final_loss,
    outcome,
    reach_clause,
    reach_sentence,
)
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


# --- the learning-rate sweep ----------------------------------------------------------------
def test_median_final_loss_counts_a_divergence_as_infinite():
    runs = [_history([0.1, 0.2], [2.3, loss]) for loss in (0.5, 0.1, 0.3)]
    assert median_final_loss(runs) == 0.3
    diverged = History(train_loss=[2.3, float("nan")], diverged_at=1)
    assert median_final_loss([*runs[:2], diverged]) == 0.5  # sorted: 0.1, 0.5, inf
    assert median_final_loss([runs[0], diverged, diverged]) == float("inf")
    with pytest.raises(ValueError, match="at least one"):
        median_final_loss([])


def test_best_learning_rate_minimizes_the_median_and_breaks_ties_low():
    def runs(*finals):
        return [_history([0.1, 0.2], [2.3, f]) for f in finals]

    sweep = {0.1: runs(0.9, 0.05, 0.95), 0.01: runs(0.2, 0.3, 0.25), 0.001: runs(1.0, 1.1, 1.2)}
    # the best single run (0.05) is at 0.1, but the best median (0.25) at 0.01
    assert best_learning_rate(sweep) == 0.01
    assert best_learning_rate({0.3: runs(0.5), 0.03: runs(0.5)}) == 0.03
    nan = History(train_loss=[2.3, float("inf")], diverged_at=1)
    with pytest.raises(ValueError, match="diverged"):
        best_learning_rate({0.1: [nan]})
    with pytest.raises(ValueError, match="at least one"):
        best_learning_rate({})


# --- the sentences the chapter prints -------------------------------------------------------
def _reached(epochs, seeds=None):
    """An Outcome whose seeds reach 0.9 at the given epochs (None: never), 4 epochs each."""
    hs = [
        _history([0.5] * 4 if e is None else [0.5] * e + [0.95] * (4 - e), [2.3, 1.0, 0.5, 0.3])
        for e in epochs
    ]
    return outcome(hs, 0.9)


@pytest.mark.parametrize(
    ("epochs", "clause"),
    [
        ([None, None, None], "none of the 3 seeds reaches 90 %"),
        ([2, None, None], "1 of the 3 seeds reaches 90 %, too few for a median number of epochs"),
        ([2, 3, None, None], "2 of the 4 seeds reach 90 %, too few for a median number of epochs"),
        ([2, 3, None], "2 of the 3 seeds reach 90 %, after a median of 2.5 epochs"),
        ([1, 1, 3], "all 3 seeds reach 90 %, after a median of 1 epoch"),
        ([2, 3, 3], "all 3 seeds reach 90 %, after a median of 3 epochs"),
        ([0, 0, 2], "all 3 seeds reach 90 %, the median seed before any training"),
        ([None], "the single seed does not reach 90 %"),
        ([1], "the single seed reaches 90 % after 1 epoch"),
        ([0], "the single seed reaches 90 % before any training"),
    ],
)
def test_reach_clause_for_every_combination(epochs, clause):
    assert reach_clause(_reached(epochs), "90 %") == clause


def test_reach_sentence_names_the_goal_once_and_never_says_never_and():
    never, all_ = _reached([None, None, None]), _reached([2, 3, 3])
    text = reach_sentence(
        [("from Xavier's initialization", never), ("from He's", all_)], "90 % test accuracy"
    )
    assert text == (
        "From Xavier's initialization, none of the 3 seeds reaches 90 % test accuracy; "
        "from He's, all 3 seeds reach it, after a median of 3 epochs."
    )
    assert reach_sentence([("", all_)], "the target") == (
        "All 3 seeds reach the target, after a median of 3 epochs."
    )
    with pytest.raises(ValueError, match="at least one"):
        reach_sentence([], "it")
