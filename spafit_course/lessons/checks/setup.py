"""Checks of lesson 00's practice: where bigger BERTs keep their parameters, and what one seed can tell you (the
head-only control on many training samples, and a paired comparison of two readouts)."""

from __future__ import annotations

import numpy as np
from torch import nn

from ...runs.models import meta_model, tiny_model
from ...runs.probes import probe_accuracy
from ..practice import draw
from ...runs.overrides import is_number
from .answers import answer_check, check_paired, decision_reading, judge_decision, single_threaded
from .readings import Option, Reading, judge_choice
from .tools import CheckFailed, as_list, as_number, learner_check, safe_repr
from .values import accuracies_of, require

# ---------------------------------------------------------------- exercise 0.1


def reference_embedding_share(model: nn.Module) -> float:
    """The share of a model's parameters that sit in its embeddings (every tensor named "...embeddings...")."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for name, p in model.named_parameters() if "embeddings" in name) / total


@learner_check("the embeddings' share matches on tiny BERT, RoBERTa and DistilBERT models")
@single_threaded
def check_embedding_share(share_fn):
    """Exercise 0.1: `share_fn(model)` is the share (0 to 1) of the model's parameters in its embeddings."""
    for family, layers, hidden in (("bert", 2, 16), ("roberta", 3, 32), ("distilbert", 2, 16)):
        model = tiny_model(family, num_layers=layers, hidden=hidden)
        expected = reference_embedding_share(model)
        got = as_number(share_fn(model))
        words = sum(p.numel() for n, p in model.named_parameters() if "word_embeddings" in n)
        total = sum(p.numel() for p in model.parameters())
        causes = {100 * expected: "a percentage came back: return the share as a fraction between 0 and 1",
                  words / total: "only the word embeddings were counted: positions (and token types, LayerNorm) "
                                 "are embeddings too",
                  1 - expected: "that is the share of everything except the embeddings"}
        if not is_number(got):
            raise CheckFailed(f"embeddings' share of a tiny {family} ({layers} layers, hidden {hidden})",
                              f"a number: {expected:.4f}", f"a {type(got).__name__}: {safe_repr(got)}")
        if abs(float(got) - expected) > 1e-6:  # float32 is close enough
            hint = next((cause for v, cause in causes.items() if abs(float(got) - v) < 1e-6), None)
            raise CheckFailed(f"embeddings' share of a tiny {family} ({layers} layers, hidden {hidden})",
                              f"{expected:.4f}", f"{float(got):.4f}", hint)


EMBEDDING_OPTIONS = {
    "a": Option("more than half, as in the course's model",
                "the embeddings grow like V·H (one H-vector per vocabulary entry), the layers like L·12·H², so a "
                "deeper, wider model is mostly layers"),
    "b": Option("between a quarter and a half",
                "even bert-base-cased (12 layers, H = 768) is down to about a fifth; bert-large doubles L and "
                "widens H, and the layers' L·12·H² grows much faster than the embeddings' V·H"),
    "c": Option("between a tenth and a quarter",
                "that is bert-base-cased; bert-large has 24 layers of width 1,024, so its layers outweigh the "
                "embeddings about ten to one"),
    "d": Option("under a tenth",
                "the layers grow like L·12·H² and the embeddings like V·H: at 24 layers of width 1,024 the "
                "embeddings are a small part, so what a method does to the layers dominates the count"),
}


def share_band(share: float) -> str:
    return "a" if share > 0.5 else "b" if share > 0.25 else "c" if share > 0.1 else "d"


@answer_check
def check_embedding_prediction(prediction):
    """Exercise 0.1: the embeddings' share in bert-large-cased, predicted before measuring."""
    right = share_band(reference_embedding_share(meta_model("bert-large-cased")))
    return judge_choice("the embeddings' share of bert-large-cased", prediction, EMBEDDING_OPTIONS, right)


# ---------------------------------------------------------------- exercises 0.2 and 0.3


def readout_features(part: dict, readout: str) -> np.ndarray:
    """One split's features for a head: the top layer's mean of the tokens ("mean") or its [CLS] vector ("cls")."""
    if readout not in ("mean", "cls"):
        raise ValueError(f"readout must be 'mean' or 'cls', got {readout!r}")
    return part["mean"][-1] if readout == "mean" else part["cls"]


def reference_head_scores(pool: dict, seeds, train_size: int, readout: str = "mean") -> list[float]:
    """Test accuracy of the head alone (a probe on frozen top-layer features) for each seed: each seed draws its
    own `train_size` training rows from the pool; every seed is scored on the same test rows."""
    train, test = pool["train"], pool["test"]
    scores = []
    for seed in seeds:
        rows = draw(len(train["labels"]), train_size, seed)
        scores.append(probe_accuracy(readout_features(train, readout)[rows], train["labels"][rows],
                                     readout_features(test, readout), test["labels"]))
    return scores


def synthetic_pool(seed: int = 0, layers: int = 3, hidden: int = 6, sizes=(120, 0, 60)) -> dict:
    """A pool shaped like `practice.snippet_pool`'s, of random features with a weak label signal (for checks)."""
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=hidden)
    pool = {}
    for split, n in zip(("train", "validation", "test"), sizes):
        labels = rng.integers(0, 2, n)
        signal = np.linspace(0.2, 0.8, layers + 1)[:, None, None] * (2 * labels - 1)[None, :, None] * centre
        pool[split] = {"mean": rng.normal(size=(layers + 1, n, hidden)) + signal,
                       "cls": rng.normal(size=(n, hidden)) + 0.3 * (2 * labels - 1)[:, None] * centre,
                       "labels": labels}
    return pool


@learner_check("each seed draws its own training rows; every seed is scored on the same test rows")
def check_head_scores(scores_fn):
    """Exercise 0.2: `scores_fn(pool, seeds, train_size, readout)` gives the head-only control's test accuracy
    on every seed's own training sample, all scored on the same test rows."""
    pool = synthetic_pool()
    for seeds, size, readout in (((0, 1, 2), 40, "mean"), ((5, 9), 60, "cls")):
        expected = reference_head_scores(pool, seeds, size, readout)
        answer = scores_fn(pool, list(seeds), size, readout)
        got = as_list(answer)
        if not isinstance(got, list) or not all(is_number(v) for v in got):
            raise CheckFailed(f"one score per seed for seeds {list(seeds)}",
                              f"a list of {len(expected)} numbers (a tuple or NumPy array works too)",
                              f"a {type(answer).__name__}: {safe_repr(answer)[:80]}")
        if len(got) != len(expected):
            raise CheckFailed(f"one score per seed for seeds {list(seeds)}", f"{len(expected)} scores",
                              f"{len(got)} scores")
        if not np.allclose(got, expected, atol=1e-9):
            same_rows = reference_head_scores(pool, [seeds[0]] * len(seeds), size, readout)
            hint = ("every seed drew the same rows: draw(n, train_size, seed) with each seed in turn"
                    if np.allclose(got, same_rows) else
                    "fit on the seed's training rows with the lesson's probe (probe_accuracy) and score on all of "
                    "the pool's test rows; read the top layer's features for the readout asked")
            raise CheckFailed(f"{readout} readout, {size} training rows, seeds {list(seeds)}",
                              [round(v, 4) for v in expected], [round(float(v), 4) for v in got], hint)


SPREAD_OPTIONS = {
    "a": Option("under 1 point", "every training sample is a different draw of snippets, and a probe fitted on a "
                                 "few hundred of them moves by more than that"),
    "b": Option("1 to under 5 points", "the best and the worst seed are that close only when the samples are large"),
    "c": Option("5 to 15 points", "a spread that wide needs very small samples or an unstable fit"),
    "d": Option("more than 15 points", "a linear probe on frozen features is stable enough not to swing so far"),
}


def spread_band(spread: float) -> str:
    """The option for a spread of `spread` points, best seed to worst."""
    return "a" if spread < 1 else "b" if spread < 5 else "c" if spread <= 15 else "d"


SPREAD = Reading("how far apart the seeds land", SPREAD_OPTIONS, spread_band,
                 measured="your seeds spread over {spread:.1f} points, best to worst",
                 passed="your seeds span {spread:.1f} points: one seed's score is one draw, so a difference between "
                        "two methods on one seed can be this large by chance alone")


@answer_check(reading=SPREAD)
def check_spread_prediction(prediction, scores):
    """Exercise 0.2: the predicted distance between the best and the worst seed, against the measured one."""
    scores = accuracies_of(require(scores, "scores"), "your scores")
    return SPREAD.judge(prediction, spread=round(100 * (max(scores) - min(scores)), 1))


READOUT = decision_reading("the claim 'the mean of the tokens beats [CLS]'", "the mean readout",
                           "the [CLS] readout")


@answer_check(reading=READOUT)
def check_readout_claim(mean_scores, cls_scores, difference, decision):
    """Exercise 0.3: the paired difference mean - [CLS] over the learner's seeds, and what its interval allows."""
    require(mean_scores, "mean-readout scores")
    require(cls_scores, "[CLS]-readout scores")
    expected = check_paired("mean readout minus [CLS] readout", mean_scores, cls_scores, require(difference,
                                                                                                  "difference"))
    return judge_decision(READOUT, decision, expected)
