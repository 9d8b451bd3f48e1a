"""Checks of lesson 03's practice: per-layer features, probe accuracies, and boundaries from a probe curve."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...runs.models import tiny_model
from ...runs.overrides import is_number
from ...tuning.spafit import check_boundaries
from .tools import CheckFailed, as_list, compare_tensors, diagnose, learner_check, printable, sample_inputs


def reference_layer_features(model: nn.Module, input_ids, attention_mask) -> torch.Tensor:
    """Mean of each layer's token vectors over the real (unpadded) tokens: shape (L + 1, batch, hidden).

    Row 0 is the embeddings' output, row k the output of layer k (lesson 03's probes read these).
    """
    with torch.no_grad():
        hidden = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
    mask = attention_mask.unsqueeze(-1).to(hidden[0].dtype)
    return torch.stack([(h * mask).sum(1) / mask.sum(1) for h in hidden])


@learner_check
def check_layer_features(features_fn):
    """Exercise 3.1: `features_fn(model, input_ids, attention_mask)` mean-pools every layer over real tokens."""
    for family, layers, batch in (("bert", 3, 3), ("distilbert", 2, 4)):
        model = tiny_model(family, num_layers=layers, hidden=16)
        ids, mask = sample_inputs(model, batch=batch)
        mask[-1, 3:] = 0  # a second padded sequence, of another length
        expected = reference_layer_features(model, ids, mask)
        with torch.no_grad():
            got = features_fn(model, ids, mask)
        got = torch.as_tensor(got) if isinstance(got, np.ndarray) else got
        with torch.no_grad():
            hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        causes = {"padding is averaged in: weight the tokens by attention_mask": torch.stack([h.mean(1) for h in hidden]),
                  "only the [CLS] token is used: average over every real token": torch.stack([h[:, 0] for h in hidden]),
                  "the embeddings' row is missing: hidden_states has L + 1 entries": expected[1:]}
        compare_tensors(f"features of a {layers}-layer {family}, batch of {batch} with padding (embeddings + "
                        f"{layers} layers)", expected, got, diagnose(got, causes))
    return "shape (L + 1, batch, hidden), padding left out of the mean"


def reference_probe_accuracies(features, labels, n_train: int) -> list[float]:
    """For each layer: a logistic-regression probe fit on the first `n_train` examples, accuracy on the rest."""
    from sklearn.linear_model import LogisticRegression

    features, labels = np.asarray(features), np.asarray(labels)
    scores = []
    for layer in features:
        probe = LogisticRegression(max_iter=1000).fit(layer[:n_train], labels[:n_train])
        scores.append(float(probe.score(layer[n_train:], labels[n_train:])))
    return scores


def _probe_data(seed: int, examples: int, classes: int, strengths):
    """`len(strengths)` 'layers' of 8-dim features for `examples` examples; each layer's class signal as given."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, examples)
    centres = rng.normal(size=(classes, 8))
    noise = rng.normal(size=(len(strengths), examples, 8))
    return noise + np.asarray(strengths)[:, None, None] * centres[labels][None], labels


# seed, examples, n_train, classes, signal per layer: two and three classes, the best layer not always the last
PROBE_CASES = [(0, 120, 80, 2, (0.0, 0.15, 0.4, 0.8, 1.2)), (1, 150, 99, 3, (0.1, 0.9, 0.5, 0.3))]


@learner_check
def check_probe_accuracies(probe_fn):
    """Exercise 3.2: `probe_fn(features, labels, n_train)` gives one held-out probe accuracy per layer."""
    for seed, examples, n_train, classes, strengths in PROBE_CASES:
        features, labels = _probe_data(seed, examples, classes, strengths)
        expected = reference_probe_accuracies(features, labels, n_train)
        got = probe_fn(features, labels, n_train)
        got_list = as_list(got)
        label = f"{classes} classes, fit on the first {n_train} of {examples}, score on the other {examples - n_train}"
        if not isinstance(got_list, list) or not all(is_number(v) for v in got_list):
            raise CheckFailed(f"{label}: one accuracy per row of features (embeddings + layers)",
                              f"a list of {len(expected)} numbers (a tuple or NumPy array works too)",
                              f"a {type(got).__name__}: {printable(got)}")
        if len(got_list) != len(expected):
            raise CheckFailed(f"{label}: one accuracy per row of features (embeddings + layers)",
                              f"{len(expected)} accuracies", f"{len(got_list)}: {printable(got)}",
                              "row 0 of features is the embeddings: it gets a probe too")
        # within half an example: a probe fit on one example more or fewer is a different answer
        if not np.allclose(got_list, expected, atol=0.5 / (examples - n_train), rtol=0):
            raise CheckFailed(f"{label}: held-out accuracies", [round(v, 3) for v in expected],
                              [round(v, 3) for v in got_list],
                              "fit LogisticRegression(max_iter=1000) on features[:n_train] exactly and score on "
                              "the rest (not on the training rows)")
    return "held-out accuracies match a LogisticRegression probe per layer (2 and 3 classes)"


def reference_choose_boundaries(accuracies, low: float = 1 / 3, high: float = 2 / 3) -> tuple[int, int]:
    """Lesson 03's rule: N1, N2 from probe accuracies a[0] (embeddings), a[1..L] (`boundaries_from_probe_curve`,
    the one implementation the lesson and this check share)."""
    from ..layer_runs import boundaries_from_probe_curve

    return boundaries_from_probe_curve(accuracies, low, high)


# accuracies (embeddings first) and the thresholds: flat, steep, falling after a peak, custom thresholds
BOUNDARY_CASES = [([0.60, 0.61, 0.66, 0.74, 0.80, 0.82, 0.83], None), ([0.55, 0.70, 0.72, 0.90, 0.91], None),
                  ([0.70, 0.69, 0.70, 0.71, 0.75, 0.79, 0.80, 0.80, 0.86, 0.88, 0.89, 0.90, 0.90], None),
                  ([0.50, 0.50, 0.50], None), ([0.52, 0.90, 0.91, 0.91], None),
                  ([0.50, 0.58, 0.66, 0.80, 0.74, 0.70, 0.62], None),
                  ([0.60, 0.63, 0.66, 0.72, 0.78, 0.84, 0.90], (0.5, 0.9))]


@learner_check
def check_choose_boundaries(choose_fn):
    """Exercise 3.3: `choose_fn(accuracies, low, high)` applies lesson 03's rule to pick (N1, N2)."""
    for accuracies, thresholds in BOUNDARY_CASES:
        kwargs = dict(zip(("low", "high"), thresholds or ()))
        expected = reference_choose_boundaries(accuracies, **kwargs)
        got = as_list(choose_fn(list(accuracies), **kwargs))
        if not isinstance(got, list) or len(got) != 2:
            raise CheckFailed(f"(N1, N2) for accuracies {accuracies}", "a tuple (N1, N2) of two integers (a list or "
                              "NumPy array works too)", f"a {type(got).__name__}: {printable(got)}")
        shown = tuple(got)
        if shown != expected:
            from ..layer_runs import boundaries_from_probe_curve

            rise_to_last = boundaries_from_probe_curve(accuracies, *(thresholds or (1 / 3, 2 / 3)),
                                                       top=accuracies[-1])
            hint = ("the rise is max(a) - a[0], up to the best layer, not to the last one" if shown == rise_to_last
                    else "use the low and high passed in, not fixed thresholds" if thresholds else None)
            raise CheckFailed(f"(N1, N2) for accuracies {accuracies}" + (f", low={thresholds[0]}, high={thresholds[1]}"
                                                                           if thresholds else ""),
                              expected, shown, hint)
        check_boundaries(len(accuracies) - 1, *shown)
    return f"(N1, N2) right on {len(BOUNDARY_CASES)} accuracy curves: flat, steep, peaked, custom thresholds"
