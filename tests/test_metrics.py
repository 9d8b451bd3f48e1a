"""The offline GLUE metrics agree with scikit-learn and SciPy."""

import numpy as np
import pytest
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from spafit_course.metrics import (accuracy, average_ranks, f1_binary, matthews_correlation, pearson, spearman,
                                   task_metrics)
from spafit_course.tasks import TASKS

rng = np.random.default_rng(0)


@pytest.mark.parametrize("seed", range(5))
def test_classification_metrics_match_sklearn(seed):
    r = np.random.default_rng(seed)
    labels, predictions = r.integers(0, 2, 200), r.integers(0, 2, 200)
    assert accuracy(predictions, labels) == pytest.approx(accuracy_score(labels, predictions))
    assert f1_binary(predictions, labels) == pytest.approx(f1_score(labels, predictions))
    assert matthews_correlation(predictions, labels) == pytest.approx(matthews_corrcoef(labels, predictions))


def test_multiclass_matthews_matches_sklearn():
    labels, predictions = rng.integers(0, 3, 300), rng.integers(0, 3, 300)
    assert matthews_correlation(predictions, labels) == pytest.approx(matthews_corrcoef(labels, predictions))


def test_degenerate_cases_match_sklearn():
    labels = np.array([0, 1, 1, 0])
    constant = np.zeros(4, dtype=int)
    assert matthews_correlation(constant, labels) == matthews_corrcoef(labels, constant) == 0.0
    assert f1_binary(constant, labels) == f1_score(labels, constant, zero_division=0) == 0.0


def test_correlations_match_scipy_including_ties():
    x = rng.normal(size=100)
    y = x + rng.normal(size=100)
    tied = np.round(y, 0)
    assert pearson(x, y) == pytest.approx(pearsonr(x, y)[0])
    assert spearman(x, tied) == pytest.approx(spearmanr(x, tied)[0])
    assert list(average_ranks([3, 1, 3, 2])) == [3.5, 1.0, 3.5, 2.0]


@pytest.mark.parametrize("task", sorted(TASKS))
def test_every_task_reports_its_glue_metrics(task):
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
    expected = {"accuracy": lambda: accuracy_score(labels, predictions),
                "f1": lambda: f1_score(labels, predictions),
                "matthews_correlation": lambda: matthews_corrcoef(labels, predictions)}
    assert set(out) == set(t.metrics)
    for name, value in out.items():
        assert value == pytest.approx(expected[name]())


def test_glue_metric_names_per_task():
    assert TASKS["cola"].metrics == ("matthews_correlation",)
    assert set(TASKS["mrpc"].metrics) == set(TASKS["qqp"].metrics) == {"accuracy", "f1"}
    assert TASKS["stsb"].metrics == ("pearson", "spearmanr")
    assert TASKS["mnli"].eval_splits == ("validation_matched", "validation_mismatched")
    for name in ("sst2", "qnli", "rte", "wnli"):
        assert TASKS[name].metrics == ("accuracy",)
