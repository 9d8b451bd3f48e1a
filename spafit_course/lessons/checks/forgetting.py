"""Checks of lesson 06's practice: forgetting measured with a probe, question by question (exercise 6.1), and what
drift (1 - linear CKA) does and does not measure (exercise 6.2)."""

from __future__ import annotations

import numpy as np

from ..practice_runs import fitted_probe
from .answers import answer_check, check_paired, decision_reading, judge_decision
from .readings import Option, Reading, judge_choice
from .tools import CheckFailed, learner_check
from .values import answers_of, number_of, pair_up, require

# ---------------------------------------------------------------- exercise 6.1


def reference_question_correct(features: dict, layer: int) -> np.ndarray:
    """1 for every test question the lessons' probe on `layer` labels right, else 0: the probe is fitted on the
    training questions' features of that layer (row 0: the embeddings, row L: the top layer)."""
    probe = fitted_probe(features["train"][layer], features["train_labels"])
    return (probe.predict(features["test"][layer]) == features["test_labels"]).astype(int)


def synthetic_questions(seed: int = 0, layers: int = 3, hidden: int = 6, classes: int = 3, sizes=(90, 60)) -> dict:
    """Features shaped like `practice_runs.question_features`' (for checks): a class signal growing with depth."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, hidden))
    out = {}
    for split, n in zip(("train", "test"), sizes):
        labels = rng.integers(0, classes, n)
        strength = np.linspace(0.2, 1.2, layers + 1)[:, None, None]
        out[split] = rng.normal(size=(layers + 1, n, hidden)) + strength * centres[labels][None]
        out[f"{split}_labels"] = labels
    return out


@learner_check("the lessons' probe, fitted on the training questions, answers each test question")
def check_question_correct(correct_fn):
    """Exercise 6.1: `correct_fn(features, layer)` gives the probe's 1/0 answer for every test question (True and
    False are answers too)."""
    features = synthetic_questions()
    top = len(features["train"]) - 1
    for layer in (top, 1):
        expected = reference_question_correct(features, layer)
        got = answers_of(correct_fn(features, layer), f"layer {layer}")
        if got.shape != expected.shape or not np.array_equal(got, expected):
            neighbours = {k: reference_question_correct(features, k) for k in range(top + 1) if k != layer}
            other = next((k for k, v in neighbours.items() if got.shape == v.shape and np.array_equal(got, v)), None)
            hint = (f"those are layer {other}'s answers: row k of the features is layer k, row 0 the embeddings"
                    if other is not None else "fit the lessons' probe (practice_runs.fitted_probe) on the training "
                    "questions' features of the layer and predict the test questions")
            raise CheckFailed(f"layer {layer}: the probe's answers", f"{int(expected.sum())} of {len(expected)} right",
                              f"{int(got.sum())} of {got.size} right", hint)


FORGETTING_OPTIONS = {
    "a": Option("yes: it loses more than 5 points", "a short fine-tuning run on another task moves the top layers "
                                                    "most, yet what a linear probe reads there can survive it"),
    "b": Option("no: it loses 5 points or less, or gains", "the fine-tuned top layer lost more than that: this run "
                                                           "did overwrite what the probe reads"),
}


FORGETTING = Reading("a loss of more than 5 points at the top layer", FORGETTING_OPTIONS,
                     lambda before, after, change: "a" if change < -0.05 else "b",
                     "the top layer's probe went from {before:.3f} to {after:.3f} ({change:+.3f})")


@answer_check(reading=FORGETTING)
def check_forgetting_prediction(prediction, after, before):
    """Exercise 6.1: whether the top layer's probe loses more than 5 points (the learner's answers decide)."""
    after = answers_of(require(after, "answers after"), "the answers after fine-tuning")
    before = answers_of(require(before, "answers before"), "the checkpoint's answers")
    pair_up(after, before, "answers after and before fine-tuning", unit="question")
    return FORGETTING.judge(prediction, before=round(before.mean(), 3), after=round(after.mean(), 3),
                            change=round(after.mean() - before.mean(), 3))


QUESTIONS = decision_reading("the top layer's question types after fine-tuning", "the fine-tuned model",
                             "the checkpoint", unit="questions")


@answer_check(reading=QUESTIONS)
def check_forgetting(after, before, difference, decision):
    """Exercise 6.1: the paired difference after - before over the test questions, and what its interval allows."""
    expected = check_paired("fine-tuned minus checkpoint, question by question", require(after, "answers after"),
                            require(before, "answers before"), require(difference, "difference"), kind="answers",
                            unit="question")
    return judge_decision(QUESTIONS, decision, expected)


# ---------------------------------------------------------------- exercise 6.2

STRETCH_OPTIONS = {
    "a": Option("no drift, and the probe no worse", "the stretch is invertible but not a rotation or a uniform "
                                                     "rescaling: CKA registers it as a change of representation"),
    "b": Option("large drift, and the probe no worse (within 3 points, or better)", "a linear probe can undo any invertible linear map, so what it "
                                                    "reads is intact; CKA is blind only to rotations and uniform "
                                                    "rescaling, so the same map reads as drift"),
    "c": Option("large drift, and the probe more than 3 points worse", "an invertible linear map loses nothing a linear probe needs: "
                                                    "it can learn the inverse"),
}


STRETCH = Reading("drift and probe after stretching the features", STRETCH_OPTIONS,
                  # a regularised probe is not exactly invariant: a stretch can move it a little, either way
                  lambda drift, change: "a" if drift < 0.05 else "b" if change >= -0.03 else "c",
                  "measured drift {drift:.3f}, probe change {change:+.3f}")


@answer_check(reading=STRETCH)
def check_stretch(prediction, drift, probe_change):
    """Exercise 6.2: what an invertible stretch of the features does to drift and to the probe."""
    drift = number_of(require(drift, "drift"), "the drift (1 - linear CKA)", 0.0, 1.0, slack=1e-9)
    change = number_of(require(probe_change, "probe change"), "the probe's accuracy change", -1.0, 1.0,
                       "a change of accuracy, after minus before: a fraction between -1 and 1")
    return STRETCH.judge(prediction, drift=round(drift, 3), change=round(change, 3))


CKA_OPTIONS = {
    "a": Option("drift measures change, not loss: a layer can move far while everything a probe reads stays",
                "your stretch moved the features by a drift that large and cost the probe nothing"),
    "b": Option("large drift in a layer proves it forgot", "the stretch drifted as far and forgot nothing"),
    "c": Option("CKA ignores every invertible linear map, so any drift it shows is a real loss",
                "CKA ignores only rotations and uniform rescaling: your stretch is invertible and still drifted"),
}


@answer_check
def check_cka_reading(reading):
    """Exercise 6.2: what lesson 06's drift measure can say about forgetting."""
    return judge_choice("what drift says about forgetting", reading, CKA_OPTIONS, "a")
