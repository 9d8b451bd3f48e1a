"""GLUE metrics: each task gets its metrics, from scikit-learn and SciPy, on hand-worked examples."""

import math

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from spafit_course.runs.metrics import METRIC_FUNCTIONS, metric, task_metrics
from spafit_course.runs.tasks import TASKS

rng = np.random.default_rng(0)
LABELS = [1, 1, 1, 1, 1, 1, 1, 0, 0, 0]


def test_hand_worked_binary_example():
    # 5 true positives, 1 false positive, 2 false negatives, 2 true negatives
    predictions = [1, 1, 0, 1, 0, 1, 1, 0, 1, 0]
    out = task_metrics("mrpc", predictions, LABELS)
    assert out == pytest.approx({"f1": 2 * 5 / (2 * 5 + 1 + 2), "accuracy": 0.7})
    mcc = (5 * 2 - 1 * 2) / math.sqrt((5 + 1) * (5 + 2) * (2 + 1) * (2 + 2))
    assert task_metrics("cola", predictions, LABELS)["matthews_correlation"] == pytest.approx(mcc)


def test_constant_predictions():
    always_yes = [1] * 10
    assert task_metrics("cola", always_yes, LABELS) == {"matthews_correlation": 0.0}
    assert task_metrics("sst2", always_yes, LABELS) == {"accuracy": 0.7}
    assert metric("f1", [0] * 10, LABELS) == 0.0  # no predicted positives: 0, no warning
    out = task_metrics("stsb", [2.0] * 4, [0.0, 1.0, 2.5, 3.0])
    assert math.isnan(out["pearson"]) and math.isnan(out["spearmanr"])  # undefined, as in SciPy


def test_correlations_with_ties():
    x = [0.1, 1.2, 2.0, 2.0, 4.5]
    y = [0.0, 1.0, 2.5, 3.0, 4.0]
    # ranks of x with the tie averaged: 1, 2, 3.5, 3.5, 5 against 1..5
    rx, ry = np.array([1, 2, 3.5, 3.5, 5]), np.arange(1, 6)
    expected = np.corrcoef(rx, ry)[0, 1]
    assert task_metrics("stsb", x, y)["spearmanr"] == pytest.approx(expected)
    assert task_metrics("stsb", x, y)["pearson"] == pytest.approx(np.corrcoef(x, y)[0, 1])


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_task_reports_its_glue_metrics_from_logits_or_scores(task):
    t = TASKS[task]
    if t.is_regression:
        labels = rng.uniform(0, 5, 50)
        scores = (labels + rng.normal(size=50)).reshape(-1, 1)  # a regression head's (n, 1) output
        out = task_metrics(task, scores, labels)
        assert out == pytest.approx({"pearson": pearsonr(scores[:, 0], labels)[0],
                                     "spearmanr": spearmanr(scores[:, 0], labels)[0]})
        return
    labels = rng.integers(0, t.num_labels, 50)
    logits = rng.normal(size=(50, t.num_labels))
    out = task_metrics(task, logits, labels)
    predictions = logits.argmax(-1)
    expected = {"accuracy": accuracy_score, "f1": f1_score, "matthews_correlation": matthews_corrcoef}
    assert list(out) == list(t.metrics)
    assert out == pytest.approx({name: expected[name](labels, predictions) for name in t.metrics})


def test_bad_input_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="3 predictions for 2 labels"):
        task_metrics("sst2", [1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="choose from accuracy, f1, matthews_correlation, pearson, spearmanr"):
        metric("bleu", [1], [1])
    with pytest.raises(ValueError, match="unknown task"):
        task_metrics("squad", [1], [1])
    assert set(METRIC_FUNCTIONS) == {m for t in TASKS.values() for m in t.metrics}


def test_glue_metric_names_per_task():
    assert TASKS["cola"].metrics == ("matthews_correlation",)
    assert TASKS["mrpc"].metrics == TASKS["qqp"].metrics == ("f1", "accuracy")
    assert TASKS["stsb"].metrics == ("pearson", "spearmanr")
    assert TASKS["mnli"].eval_splits == ("validation_matched", "validation_mismatched")
    for name in ("sst2", "qnli", "rte", "wnli"):
        assert TASKS[name].metrics == ("accuracy",)
