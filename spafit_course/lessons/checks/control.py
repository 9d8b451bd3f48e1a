"""Checks of exercise 3.4: a randomly initialised model of the same shape as the probes' control (Hewitt & Liang,
2019, argue that a probe's accuracy means something only beside a control)."""

from __future__ import annotations

import numpy as np

from ..stats import mean_and_se, paired_difference
from .answers import Option, answer_check, judge_choice, require
from .tools import CheckFailed


def _curves(curves, what: str) -> np.ndarray:
    array = np.asarray(require(curves, what), dtype=float)
    if array.ndim != 2 or len(array) < 2:
        raise CheckFailed(f"{what}: one probe curve per sample", "a list of curves (samples x layers)",
                          f"shape {array.shape}")
    return array


def control_reading(pretrained, control, majority: float) -> dict:
    """What the control says at the embeddings and at the top layer: paired gaps and where the control lands."""
    pretrained, control = _curves(pretrained, "pretrained curves"), _curves(control, "control curves")
    if pretrained.shape != control.shape:
        raise CheckFailed("pretrained and control curves pair up sample by sample", f"shape {pretrained.shape}",
                          f"shape {control.shape}", "use the same seeds (the same training rows) for both models")
    spread = mean_and_se(control[:, 0])
    return {"control_0": spread, "above_majority": spread.mean - majority > 2 * max(spread.se, 1e-3),
            "gap_0": paired_difference(pretrained[:, 0], control[:, 0]),
            "gap_top": paired_difference(pretrained[:, -1], control[:, -1])}


PREDICTION_OPTIONS = {
    "a": Option("about the majority rate: random vectors carry nothing",
                "each word piece still gets its own vector, random or not, so the mean of a snippet's vectors "
                "says which words it contains, and a linear probe can weigh words"),
    "b": Option("above the majority rate, but below the pretrained embeddings",
                "word identity alone carries sentiment; pretraining adds what similar words share"),
    "c": Option("as high as the pretrained embeddings",
                "pretrained embeddings place related words near each other, so a probe trained on a few hundred "
                "snippets generalises to words it saw rarely; random vectors do not"),
}


def _band(reading: dict) -> str:
    if not reading["above_majority"]:
        return "a"
    return "b" if reading["gap_0"].low > 0 else "c"


@answer_check
def check_control_prediction(prediction, pretrained, control, majority):
    """Exercise 3.4: the random model's embedding probe against the majority rate and the pretrained one."""
    reading = control_reading(pretrained, control, majority)
    summary = (f"control at the embeddings {reading['control_0']} (majority {majority:.3f}); pretrained minus "
               f"control {reading['gap_0']}")
    return judge_choice("a probe on a random model's embeddings", prediction, PREDICTION_OPTIONS, _band(reading),
                        summary)


WHERE_OPTIONS = {
    "a": Option("at the top layer", "pretrained layers build features on top of the embeddings that a probe can "
                                    "read; random layers of the same shape do not"),
    "b": Option("at the embeddings", "compare the two paired gaps: the one at the embeddings is the smaller"),
    "c": Option("about equally (within 2 points)", "the two gaps differ by more than 2 points"),
}


@answer_check
def check_control_reading(reading, pretrained, control, majority):
    """Exercise 3.4: where pretraining adds most over the control, by the paired gaps at layer 0 and at the top."""
    measured = control_reading(pretrained, control, majority)
    gap_0, gap_top = measured["gap_0"].mean, measured["gap_top"].mean
    right = "c" if abs(gap_top - gap_0) <= 0.02 else "a" if gap_top > gap_0 else "b"
    gaps = f"pretrained minus control: embeddings {measured['gap_0']}; top layer {measured['gap_top']}"
    options = dict(WHERE_OPTIONS)
    if right == "b":
        options["a"] = Option(options["a"].text, "the gap at the top is the smaller one here")
    return judge_choice("where pretraining adds most over the control", reading, options, right, gaps)
