"""GLUE metrics that work offline (lesson 05), written with NumPy and tested against scikit-learn and SciPy.

`evaluate.load("glue", ...)` fetches its script from the Hub, so the course computes the same numbers itself.
"""

from __future__ import annotations

import numpy as np

from .tasks import get_task


def accuracy(predictions, labels) -> float:
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    return float((predictions == labels).mean())


def f1_binary(predictions, labels, positive: int = 1) -> float:
    """F1 of the positive class (MRPC, QQP); 0 when there are no true or predicted positives."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    tp = np.sum((predictions == positive) & (labels == positive))
    fp = np.sum((predictions == positive) & (labels != positive))
    fn = np.sum((predictions != positive) & (labels == positive))
    return float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0


def matthews_correlation(predictions, labels) -> float:
    """Matthews correlation (CoLA), multi-class form; 0 when either side is constant."""
    predictions, labels = np.asarray(predictions), np.asarray(labels)
    classes = np.union1d(predictions, labels)
    confusion = np.array([[np.sum((labels == a) & (predictions == b)) for b in classes] for a in classes],
                         dtype=np.float64)
    t, p = confusion.sum(axis=1), confusion.sum(axis=0)
    n, correct = confusion.sum(), np.trace(confusion)
    denominator = np.sqrt((n * n - p @ p) * (n * n - t @ t))
    return float((correct * n - t @ p) / denominator) if denominator else 0.0


def pearson(x, y) -> float:
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    x, y = x - x.mean(), y - y.mean()
    denominator = np.sqrt((x * x).sum() * (y * y).sum())
    return float((x * y).sum() / denominator) if denominator else 0.0


def average_ranks(values) -> np.ndarray:
    """Ranks 1..n, ties sharing the mean of their positions (as Spearman's rho needs)."""
    values = np.asarray(values)
    order = np.argsort(values, kind="mergesort")
    ranks = np.empty(len(values), dtype=np.float64)
    sorted_values = values[order]
    start = 0
    while start < len(values):
        end = start
        while end + 1 < len(values) and sorted_values[end + 1] == sorted_values[start]:
            end += 1
        ranks[order[start:end + 1]] = (start + end) / 2 + 1
        start = end + 1
    return ranks


def spearman(x, y) -> float:
    return pearson(average_ranks(x), average_ranks(y))


METRIC_FUNCTIONS = {
    "accuracy": accuracy,
    "f1": f1_binary,
    "matthews_correlation": matthews_correlation,
    "pearson": pearson,
    "spearmanr": spearman,
}


def task_metrics(task_name: str, predictions, labels) -> dict[str, float]:
    """Every metric of the task, e.g. {"f1": ..., "accuracy": ...} for MRPC.

    `predictions` are class ids, or for STS-B the predicted scores; logits are reduced here if given.
    """
    task = get_task(task_name)
    predictions = np.asarray(predictions)
    if task.is_regression:
        predictions = predictions.reshape(-1)
    elif predictions.ndim == 2:
        predictions = predictions.argmax(axis=-1)
    return {name: METRIC_FUNCTIONS[name](predictions, labels) for name in task.metrics}
