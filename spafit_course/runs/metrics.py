"""GLUE metrics (lesson 05), taken from the libraries that define them: scikit-learn and SciPy.

These are the same calls the Hub's `evaluate` GLUE metric makes (accuracy_score, f1_score, matthews_corrcoef,
pearsonr, spearmanr), minus its download, so the numbers agree and work offline. A correlation of a constant
prediction is undefined: SciPy returns nan, and so does this module.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.stats import ConstantInputWarning, pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from .tasks import get_task


def _correlation(function):
    def metric(predictions, labels) -> float:
        with warnings.catch_warnings():  # nan already says "constant input"; the warning adds only noise
            warnings.simplefilter("ignore", ConstantInputWarning)
            return float(function(np.asarray(predictions, dtype=np.float64),
                                  np.asarray(labels, dtype=np.float64))[0])

    return metric


METRIC_FUNCTIONS = {
    "accuracy": lambda predictions, labels: float(accuracy_score(labels, predictions)),
    # zero_division=0: no true and no predicted positives scores 0, as GLUE's leaderboard does, without a warning
    "f1": lambda predictions, labels: float(f1_score(labels, predictions, zero_division=0)),
    "matthews_correlation": lambda predictions, labels: float(matthews_corrcoef(labels, predictions)),
    "pearson": _correlation(pearsonr),
    "spearmanr": _correlation(spearmanr),
}


def metric(name: str, predictions, labels) -> float:
    """One GLUE metric by its name (a key of METRIC_FUNCTIONS); predictions are class ids or STS-B scores."""
    if name not in METRIC_FUNCTIONS:
        raise ValueError(f"unknown metric {name!r}; choose from {', '.join(METRIC_FUNCTIONS)}")
    return METRIC_FUNCTIONS[name](predictions, labels)


def task_metrics(task_name: str, predictions, labels) -> dict[str, float]:
    """Every metric of the task, e.g. {"f1": ..., "accuracy": ...} for MRPC (lesson 05).

    `predictions` are class ids, or for STS-B the predicted scores; logits are reduced here if given.
    """
    task = get_task(task_name)
    predictions = np.asarray(predictions)
    labels = np.asarray(labels)
    if len(predictions) != len(labels):
        raise ValueError(f"{len(predictions)} predictions for {len(labels)} labels; they must pair up")
    if task.is_regression:
        predictions = predictions.reshape(-1)
    elif predictions.ndim == 2:
        predictions = predictions.argmax(axis=-1)
    return {name: metric(name, predictions, labels) for name in task.metrics}
