"""What fine-tuning forgets (lesson 06): a probe on an unrelated task, TREC question types, reads the frozen,
mean-pooled features of the last layer before and after fine-tuning; per-layer drift (1 - linear CKA) says how far
each layer's representation of the same questions moved from the checkpoint's."""

from __future__ import annotations

import numpy as np

from ..runs.models import load_model
from ..runs.probes import layer_features, probe_accuracy
from ..runs.profiles import Profile
from .questions import question_sample

#: Questions the probe trains on (from the TREC train split) and is scored on (from its test split); drift is
#: measured on the same test questions.
PROBE_SIZES = {"train": 1000, "test": 500}


def linear_cka(x, y) -> float:
    """Linear centred kernel alignment of two representations of the same n inputs (Kornblith et al. 2019):
    1 for the same representation up to rotation and scale, near 0 for unrelated ones (lesson 06)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"need two (n, features) arrays with the same n, got shapes {x.shape} and {y.shape}")
    x = x - x.mean(0)
    y = y - y.mean(0)
    cross = np.linalg.norm(y.T @ x) ** 2
    return float(cross / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


def drift_by_layer(before, after) -> list[float]:
    """1 - linear CKA between the checkpoint's and a fine-tuned model's features, layer by layer (lesson 06)."""
    if len(before) != len(after):
        raise ValueError(f"need the same number of layers, got {len(before)} and {len(after)}")
    return [max(0.0, 1.0 - linear_cka(b, a)) for b, a in zip(before, after)]


def _by_length(texts, labels):
    # a probe and CKA ignore the order of the questions; batches of similar lengths pad less, so run faster
    pairs = sorted(zip(texts, labels), key=lambda pair: len(pair[0]))
    return [t for t, _ in pairs], [y for _, y in pairs]


def probe_set(small: Profile):
    """TREC questions and labels for the probe: (train texts, train labels, test texts, test labels)."""
    return (*_by_length(*question_sample("train", PROBE_SIZES["train"])),
            *_by_length(*question_sample("test", PROBE_SIZES["test"])))


def probe_features(model, small: Profile, tokenizer) -> tuple[np.ndarray, np.ndarray]:
    """The last layer's mean-pooled features of the probe's training questions, and every layer's of its test
    questions (the drift is measured on those)."""
    train_x, _, test_x, _ = probe_set(small)
    return (layer_features(model, tokenizer, train_x, small.max_length)[1][-1],
            layer_features(model, tokenizer, test_x, small.max_length)[1])


_CHECKPOINT: dict[tuple, tuple] = {}


def checkpoint_features(small: Profile, tokenizer):
    key = (small.model_name, small.max_length)
    if key not in _CHECKPOINT:
        from .setup import lesson_device

        checkpoint = load_model(small.model_name).to(lesson_device())
        _CHECKPOINT[key] = probe_features(checkpoint, small, tokenizer)
    return _CHECKPOINT[key]


def probe_score(small: Profile, features) -> float:
    _, train_y, _, test_y = probe_set(small)
    train_last, test_layers = features
    return probe_accuracy(train_last, train_y, test_layers[-1], test_y)
