"""Checks of lesson 03's practice: per-layer features, a probe curve over many samples, where the rule of thumb's
boundaries move, and a randomly initialised model as the probes' control."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ...runs.models import tiny_model
from ...runs.probes import probe_accuracy
from ..practice import boundaries_from_curve, draw
from ...runs.overrides import is_int, is_number
from .answers import answer_check, check_paired, decision_reading, judge_decision, single_threaded
from .models import compare_tensors, diagnose, sample_inputs
from .readings import Option, Reading, Statement, judge_choice
from .setup import synthetic_pool
from .tools import CheckFailed, as_list, as_number, learner_check, safe_repr
from .values import pairs_of, require, shown


def reference_layer_features(model: nn.Module, input_ids, attention_mask) -> torch.Tensor:
    """Mean of each layer's token vectors over the real (unpadded) tokens: shape (L + 1, batch, hidden).

    Row 0 is the embeddings' output, row k the output of layer k (lesson 03's probes read these).
    """
    with torch.no_grad():
        hidden = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
    mask = attention_mask.unsqueeze(-1).to(hidden[0].dtype)
    return torch.stack([(h * mask).sum(1) / mask.sum(1) for h in hidden])


@learner_check("shape (L + 1, batch, hidden), padding left out of the mean")
@single_threaded
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


def reference_probe_curve(pool: dict, train_rows) -> list[float]:
    """Test accuracy of the lessons' probe (`probe_accuracy`: standardised, C = 0.1) on every layer's mean of the
    tokens, embeddings first: fitted on the pool's training rows `train_rows`, scored on all its test rows."""
    train, test = pool["train"], pool["test"]
    rows = np.asarray(train_rows)
    return [probe_accuracy(train["mean"][k][rows], train["labels"][rows], test["mean"][k], test["labels"])
            for k in range(len(train["mean"]))]


def _plain_curve(pool, rows):
    from sklearn.linear_model import LogisticRegression

    train, test = pool["train"], pool["test"]
    return [float(LogisticRegression(max_iter=1000).fit(train["mean"][k][rows], train["labels"][rows])
                  .score(test["mean"][k], test["labels"])) for k in range(len(train["mean"]))]


@learner_check("the lessons' probe per layer, fitted on the sample's rows, scored on the held-out rows")
def check_probe_curve(curve_fn):
    """Exercise 3.2: `curve_fn(pool, train_rows)` gives one held-out probe accuracy per layer (embeddings first)."""
    pool = synthetic_pool(seed=1, sizes=(150, 0, 80))
    for seed, size in ((0, 60), (3, 90)):
        rows = draw(len(pool["train"]["labels"]), size, seed)
        expected = reference_probe_curve(pool, rows)
        got = curve_fn(pool, rows)
        got_list = as_list(got)
        label = f"{size} training rows (seed {seed}), {len(pool['test']['labels'])} test rows"
        if not isinstance(got_list, list) or not all(is_number(v) for v in got_list):
            raise CheckFailed(f"{label}: one accuracy per layer, embeddings first",
                              f"a list of {len(expected)} numbers (a tuple or NumPy array works too)",
                              f"a {type(got).__name__}: {safe_repr(got)[:80]}")
        if len(got_list) != len(expected):
            raise CheckFailed(f"{label}: one accuracy per layer, embeddings first", f"{len(expected)} accuracies",
                              f"{len(got_list)} accuracies",
                              "row 0 of the features is the embeddings: it gets a probe too")
        if np.allclose(got_list, expected, atol=1e-9):
            continue
        train = pool["train"]
        causes = [(_plain_curve(pool, rows), "a plain LogisticRegression: use the lessons' probe_accuracy, which "
                   "standardises each layer's features and regularises (C = 0.1); with more features than snippets a "
                   "plain fit can separate the training rows perfectly, and the layers' scales differ, so one C "
                   "would not mean the same for every layer"),
                  ([probe_accuracy(train["mean"][k][rows], train["labels"][rows], train["mean"][k][rows],
                                   train["labels"][rows]) for k in range(len(expected))],
                   "scored on the training rows: score on the pool's test rows (held out)"),
                  (reference_probe_curve(pool, np.arange(len(train["labels"]))),
                   "fitted on every training row: fit on train_rows only, the sample a seed drew")]
        hint = next((cause for values, cause in causes if np.allclose(got_list, values, atol=1e-9)), None)
        raise CheckFailed(f"{label}: held-out accuracy per layer", [round(v, 3) for v in expected],
                          [round(v, 3) for v in got_list], hint)


DEPTH = decision_reading("the claim 'the top layer reads sentiment better than the embeddings'", "the top layer",
                         "the embeddings", unit="samples")


@answer_check(reading=DEPTH)
def check_depth_claim(top_scores, embedding_scores, difference, decision):
    """Exercise 3.2: the paired difference top layer - embeddings over samples, and what its interval allows."""
    expected = check_paired("top layer minus embeddings", require(top_scores, "top-layer scores"),
                            require(embedding_scores, "embedding scores"), require(difference, "difference"),
                            unit="sample")
    return judge_decision(DEPTH, decision, expected)


# ---------------------------------------------------------------- exercise 3.3

FLIP_OPTIONS = {
    "a": Option("every sample gives the same (N1, N2)", "a rule applied to a curve measured on a few hundred "
                "snippets inherits the curve's noise"),
    "b": Option("two or three different (N1, N2)", "count the distinct pairs in the table above"),
    "c": Option("four or more different (N1, N2)", "count the distinct pairs in the table above"),
}


def distinct_band(count: int, pairs=None) -> str:
    """The option for `count` distinct (N1, N2) over the samples."""
    return "a" if count == 1 else "b" if count <= 3 else "c"


FLIP_COUNT = Reading("how many different boundaries the samples give", FLIP_OPTIONS, distinct_band,
                     "your samples gave {count:d} different pairs: {pairs}")


@answer_check(reading=FLIP_COUNT)
def check_flip_prediction(prediction, boundaries):
    """Exercise 3.3: how many different (N1, N2) the rule picks over the samples (the learner's table decides)."""
    boundaries = pairs_of(require(boundaries, "boundaries"), "the boundaries, one (N1, N2) per sample",
                          "the rule's (N1, N2) for each sample, as the table above lists them")
    if any(not 0 <= n1 <= n2 for n1, n2 in boundaries) or len(boundaries) < 2:
        raise CheckFailed("the boundaries: one (N1, N2) with 0 <= N1 <= N2 per sample, two samples or more",
                          "pairs like (1, 3), one per sample", boundaries[:4],
                          "the rule's boundaries satisfy 0 <= N1 <= N2")
    distinct = sorted(set(boundaries))
    return FLIP_COUNT.judge(prediction, count=len(distinct), pairs=distinct)


def _differ(seed_a, first, seed_b, second) -> None:
    if first == second:
        raise CheckFailed(f"the rule's boundaries on seeds {seed_a} and {seed_b}", "two different (N1, N2)",
                          f"{first} on both", "pick two rows of the table whose (N1, N2) differ (same train_size "
                                              "as the table)")


FLIP = Statement("seed {seed_a:d} gives (N1, N2) = {first}, seed {seed_b:d} gives {second}: same model, same snippet "
                 "pool, another sample", _differ)


def _pool_rows(pool) -> int:
    """How many training rows a snippet pool holds, once it is seen to be one (practice.snippet_pool's dict)."""
    parts = pool if isinstance(pool, dict) else {}
    if not all(isinstance(parts.get(split), dict) and {"mean", "labels"} <= set(parts[split])
               for split in ("train", "test")):
        raise CheckFailed("the pool", "practice.snippet_pool(profile): a dict with 'train' and 'test' parts",
                          shown(pool), "pass the pool the table above was made from")
    return len(parts["train"]["labels"])


@answer_check(reading=FLIP)
def check_flip(pool, train_size, seeds):
    """Exercise 3.3: two seeds whose samples make the rule pick different boundaries, verified by a rerun."""
    n = _pool_rows(require(pool, "pool"))
    size = as_number(train_size)
    if not is_int(size) or not 2 <= size <= n:
        raise CheckFailed("the sample size", f"a whole number from 2 to {n}, as in the table", shown(train_size))
    found = as_list(sorted(seeds, key=repr) if isinstance(seeds, (set, frozenset)) else seeds)
    found = [as_number(s) for s in found] if isinstance(found, list) else None
    if found is None or len(found) != 2 or not all(is_int(s) for s in found) or found[0] == found[1]:
        raise CheckFailed("two different seeds", "(seed_a, seed_b), two whole numbers", shown(seeds),
                          "name two seeds from the table above whose (N1, N2) differ")
    first, second = (boundaries_from_curve(reference_probe_curve(pool, draw(n, int(size), int(s)))) for s in found)
    return FLIP.judge(None, seed_a=int(found[0]), first=first, seed_b=int(found[1]), second=second)


READ_FLIP_OPTIONS = {
    "a": Option("on this model the rule reads noise: the curve is nearly flat, so where it crosses a third and two "
                "thirds of its rise moves with the sample",
                "the rise from the embeddings to the best layer is a few points, about the size of the noise of "
                "one accuracy on a few hundred snippets; boundaries should come from trained runs scored on "
                "validation (lesson 05), not from a single probe curve"),
    "b": Option("one of the two samples is faulty and should be dropped",
                "both are honest draws from the same snippets; dropping the one you dislike is choosing on noise"),
    "c": Option("the model differs between the samples", "the checkpoint is frozen: only the sample changed"),
}


@answer_check
def check_flip_reading(reading):
    """Exercise 3.3: what two samples with different boundaries say about the rule."""
    return judge_choice("what the flip says", reading, READ_FLIP_OPTIONS, "a")
