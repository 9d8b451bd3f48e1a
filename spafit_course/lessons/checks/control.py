"""Checks of exercise 3.4: a randomly initialised model of the same shape as the probes' control (Hewitt & Liang,
2019, argue that a probe's accuracy means something only beside a control)."""

from __future__ import annotations

import numpy as np

from .answers import answer_check, paired
from .readings import Option, Reading
from .tools import CheckFailed, as_list
from .values import number_of, numbers_of, require, shown


def _curves(curves, what: str) -> np.ndarray:
    """One probe curve (an accuracy per layer, embeddings first) per sample, all of one length; or a FAIL."""
    rows = as_list(require(curves, what))
    if not isinstance(rows, list) or len(rows) < 2:
        raise CheckFailed(f"{what}: one probe curve per sample", "a list of curves (samples x layers), two or more",
                          shown(curves))
    rows = [numbers_of(row, f"{what}, sample {i}", 0.0, 1.0, unit="layer") for i, row in enumerate(rows)]
    if len({len(row) for row in rows}) > 1:
        raise CheckFailed(f"{what}: every curve has one accuracy per layer", "curves of one length",
                          sorted({len(row) for row in rows}), "pass the curves as curves_over returned them")
    return np.asarray(rows)


def _interval(prefix: str, difference) -> dict:
    return {f"{prefix}_mean": difference.mean, f"{prefix}_low": difference.low, f"{prefix}_high": difference.high,
            f"{prefix}_higher": difference.higher, f"{prefix}_n": difference.n}


def _template(prefix: str) -> str:
    return (f"{{{prefix}_mean:+.3f}} [{{{prefix}_low:bound}}, {{{prefix}_high:bound}}], higher on "
            f"{{{prefix}_higher:d}} of {{{prefix}_n:d}} seeds")


def control_values(pretrained, control, majority) -> dict:
    """The paired intervals the readings rest on: the control's embeddings against the majority rate, and
    pretrained minus control at the embeddings (z), at the top layer (t), and top gap minus embeddings' gap (d)."""
    pretrained, control = _curves(pretrained, "pretrained curves"), _curves(control, "control curves")
    majority = number_of(majority, "the majority rate", 0.0, 1.0)
    if pretrained.shape != control.shape:
        raise CheckFailed("pretrained and control curves pair up sample by sample", f"shape {pretrained.shape}",
                          f"shape {control.shape}", "use the same seeds (the same training rows) for both models")
    if np.array_equal(pretrained, control):
        raise CheckFailed("pretrained and control curves", "two different models' curves", "the same curves twice",
                          "pass the pretrained model's curves and the random model's, each once")
    gap_0, gap_top = pretrained[:, 0] - control[:, 0], pretrained[:, -1] - control[:, -1]
    return {"c_mean": float(control[:, 0].mean()), "majority": majority,
            **_interval("m", paired(control[:, 0], np.full(len(control), majority), "control minus majority")),
            **_interval("z", paired(pretrained[:, 0], control[:, 0], "the embeddings' gap")),
            **_interval("t", paired(pretrained[:, -1], control[:, -1], "the top layer's gap")),
            **_interval("d", paired(gap_top, gap_0, "top gap minus embeddings' gap"))}


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


def _band(m_low, z_low, **_) -> str:
    return "a" if m_low <= 0 else "b" if z_low > 0 else "c"


CONTROL_PREDICTION = Reading(
    "a probe on a random model's embeddings", PREDICTION_OPTIONS, _band,
    "control at the embeddings {c_mean:.3f}, minus the majority rate {majority:.3f}: " + _template("m")
    + "; pretrained minus control " + _template("z"))


@answer_check(reading=CONTROL_PREDICTION)
def check_control_prediction(prediction, pretrained, control, majority):
    """Exercise 3.4: the random model's embedding probe against the majority rate (its paired interval over the
    samples must lie above zero) and against the pretrained embeddings."""
    return CONTROL_PREDICTION.judge(prediction, **control_values(pretrained, control, majority))


WHERE_OPTIONS = {
    "a": Option("at the top layer", "'at the top' needs the interval of the top gap minus the embeddings' gap "
                                    "wholly above zero"),
    "b": Option("at the embeddings", "'at the embeddings' needs the interval of the top gap minus the embeddings' "
                                     "gap wholly below zero"),
    "c": Option("about equally: no difference between the two gaps is detectable",
                "'about equally' is the reading only when the interval of the top gap minus the embeddings' gap "
                "includes zero; here it does not"),
}

CONTROL_READING = Reading(
    "where pretraining adds most over the control", WHERE_OPTIONS,
    lambda d_low, d_high, **_: "a" if d_low > 0 else "b" if d_high < 0 else "c",
    "pretrained minus control: embeddings " + _template("z") + "; top layer " + _template("t")
    + "; top gap minus embeddings' gap " + _template("d"))


@answer_check(reading=CONTROL_READING)
def check_control_reading(reading, pretrained, control, majority):
    """Exercise 3.4: where pretraining adds most over the control: the paired interval of the top layer's gap
    minus the embeddings' gap, sample by sample (the course's rule for every comparison)."""
    return CONTROL_READING.judge(reading, **control_values(pretrained, control, majority))
