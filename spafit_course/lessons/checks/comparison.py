"""Checks of lesson 05's practice: choosing SPAFIT's boundaries on the validation split and reading the test split
once (exercise 5.1), and how much choosing on the test split would flatter a result (exercise 5.2)."""

from __future__ import annotations

import numpy as np

from ..practice_runs import fitted_probe
from ...runs.overrides import is_number
from .answers import answer_check, check_paired, decision_reading, judge_decision
from .readings import Option, judge_choice
from .setup import synthetic_pool
from .tools import CheckFailed, as_list, as_number, learner_check, safe_repr
from .values import accuracies_of, require

# ---------------------------------------------------------------- exercise 5.1

#: Fake cells for the check: validation and test scores that disagree on the best cell.
FAKE_RUNS = [({(0, 4): 0.70, (2, 4): 0.74, (4, 4): 0.71}, {(0, 4): 0.73, (2, 4): 0.69, (4, 4): 0.72}),
             ({(1, 2): 0.61, (1, 3): 0.58}, {(1, 2): 0.57, (1, 3): 0.66})]


def reference_choose_and_report(cells, train_cell, score) -> dict:
    """Train every cell, score each on validation, choose the best (the first on a tie), then score the chosen
    cell on test, once: {"validation": {cell: score}, "chosen": cell, "test": score}."""
    models = {tuple(cell): train_cell(*cell) for cell in cells}
    validation = {cell: score(model, "validation") for cell, model in models.items()}
    chosen = max(validation, key=lambda cell: validation[cell])
    return {"validation": validation, "chosen": chosen, "test": score(models[chosen], "test")}


def _cell(value):
    """A cell as a tuple of numbers (a list, tuple or NumPy array of them), else the value as it came."""
    cell = as_list(value)
    return tuple(as_number(v) for v in cell) if isinstance(cell, list) else value


@learner_check("every cell scored on validation, the best chosen, the test split read once, for it alone")
def check_choose_and_report(choose_fn):
    """Exercise 5.1: `choose_fn(cells, train_cell, score)` chooses on validation and reads test once."""
    for validation, test in FAKE_RUNS:
        reads = []

        def train_cell(n1, n2):
            return ("model", n1, n2)

        def score(model, split, validation=validation, test=test, reads=reads):
            reads.append((split, tuple(model[1:])))
            return {"validation": validation, "test": test}[split][tuple(model[1:])]

        got = choose_fn(list(validation), train_cell, score)
        best = max(validation, key=validation.get)
        test_reads = [cell for split, cell in reads if split == "test"]
        label = f"cells {list(validation)}"
        if not isinstance(got, dict) or not {"validation", "chosen", "test"} <= set(got):
            raise CheckFailed(f"{label}: the result", "a dict with 'validation', 'chosen' and 'test'",
                              f"a {type(got).__name__}: {safe_repr(got)[:80]}")
        if len(test_reads) != 1 or test_reads[0] != best:
            hint = ("every cell was scored on test: choosing by test scores makes the test split part of the choice"
                    if len(set(test_reads)) > 1 else "the test split is read once, for the chosen cell only"
                    if len(test_reads) != 1 else "the chosen cell is the one with the best validation score")
            raise CheckFailed(f"{label}: which cells were scored on test", [best], test_reads, hint)
        chosen = _cell(got["chosen"])
        if chosen != best:
            raise CheckFailed(f"{label}: the chosen cell", best, chosen, "choose the best validation score")
        reported = as_number(got["test"])
        if not is_number(reported) or abs(float(reported) - test[best]) > 1e-12:
            hint = ("that is its validation score" if is_number(reported) and
                    abs(float(reported) - validation[best]) < 1e-12 else None)
            raise CheckFailed(f"{label}: the reported test score", test[best], got["test"], hint)
        scores = got["validation"]
        scores = {_cell(k): as_number(v) for k, v in scores.items()} if isinstance(scores, dict) else scores
        if scores != validation:
            raise CheckFailed(f"{label}: every cell's validation score", validation, got["validation"],
                              "a dict {cell: validation score} of every cell")


ESTIMATE_OPTIONS = {
    "a": Option("its test score: measured once, after the choice",
                "the validation score of the chosen cell is the best of several noisy scores, so it is biased "
                "upward; the test snippets played no part in the choice"),
    "b": Option("its validation score, the one the choice was made on",
                "the choice picked this cell because its validation score came out high, partly by luck: that "
                "score is biased upward (the winner's curse)"),
    "c": Option("the mean of its validation and test scores",
                "averaging with a biased number keeps half the bias; only the test score was not used to choose"),
}


@answer_check
def check_estimate_reading(reading):
    """Exercise 5.1: which score estimates how the chosen boundaries do on new data."""
    return judge_choice("the score to report for the chosen boundaries", reading, ESTIMATE_OPTIONS, "a")


# ---------------------------------------------------------------- exercise 5.2


def reference_selection_scores(pool: dict, train_rows) -> tuple[float, float]:
    """(test accuracy of the layer chosen on validation, best test accuracy over the layers) for one sample: one
    probe per layer, fitted on the sample's training rows, scored on the validation and the test rows."""
    train, rows = pool["train"], np.asarray(train_rows)
    validation, test = [], []
    for k in range(len(train["mean"])):
        probe = fitted_probe(train["mean"][k][rows], train["labels"][rows])
        validation.append(probe.score(pool["validation"]["mean"][k], pool["validation"]["labels"]))
        test.append(probe.score(pool["test"]["mean"][k], pool["test"]["labels"]))
    return float(test[int(np.argmax(validation))]), float(max(test))


@learner_check("the choice is made on validation; the best test score is what choosing on test would report")
def check_selection_scores(selection_fn):
    """Exercise 5.2: `selection_fn(pool, train_rows)` gives the test score of the layer chosen on validation and
    the best test score over the layers."""
    pool = synthetic_pool(seed=2, sizes=(120, 40, 40))  # validation and test disagree on the best layer
    for seed in (0, 1, 2):
        rows = np.random.default_rng(seed).choice(120, size=70, replace=False)
        expected = reference_selection_scores(pool, rows)
        answer = selection_fn(pool, rows)
        got = as_list(answer)
        if not isinstance(got, list) or not all(is_number(v) for v in got):
            raise CheckFailed(f"sample {seed}: two scores", "a tuple of two numbers",
                              f"a {type(answer).__name__}: {safe_repr(answer)[:80]}")
        got = tuple(float(v) for v in got)
        if len(got) != 2 or not np.allclose(got, expected, atol=1e-9):
            hint = ("both numbers chose on test: the first chooses the layer by its validation score"
                    if len(got) == 2 and np.isclose(got[0], expected[1]) else
                    "the first number must be the chosen layer's test score, not its validation score"
                    if len(got) == 2 and np.isclose(got[1], expected[1]) else None)
            raise CheckFailed(f"sample {seed}: (test score of the validation choice, best test score)",
                              tuple(round(v, 4) for v in expected), tuple(round(v, 4) for v in got), hint)


OPTIMISM = decision_reading("the claim 'choosing on test reports a higher score'", "choosing on test",
                            "choosing on validation", unit="samples")


@answer_check(reading=OPTIMISM)
def check_optimism_claim(best_on_test, chosen_on_validation, difference, decision):
    """Exercise 5.2: the paired difference (best on test) - (chosen on validation), and what it allows."""
    best = accuracies_of(require(best_on_test, "best-on-test scores"), "best on test", unit="sample")
    chosen = accuracies_of(require(chosen_on_validation, "chosen-on-validation scores"), "chosen on validation",
                           unit="sample")
    below = [i for i, (b, c) in enumerate(zip(best, chosen)) if b < c]
    if below:  # the best test score over the layers is at least any one layer's, the chosen one's included
        raise CheckFailed("the best test score is at least the chosen layer's test score, on every sample",
                          "best_on_test[i] >= chosen_on_validation[i]", f"lower on samples {below[:5]}",
                          "the two lists are swapped: the best on test comes first" if len(below) == len(best)
                          else "the best over the layers cannot be below one of them: check each sample's pair")
    expected = check_paired("best on test minus chosen on validation", best, chosen, require(difference, "difference"),
                            unit="sample", distinct=False)  # validation may pick the best layer on every sample
    return judge_decision(OPTIMISM, decision, expected)
