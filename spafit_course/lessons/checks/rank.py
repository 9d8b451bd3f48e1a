"""Checks of lesson 02's practice experiments: what rank an update needs (the best any rank-r update can do, and
what LoRA reaches), and how the alpha convention changes a comparison of ranks."""

from __future__ import annotations

import math

import torch

from ...tuning.lora import LoRALinear
from ..practice import fit_update, low_rank_update
from ...runs.overrides import is_int, is_number
from .answers import answer_check, single_threaded
from .readings import Option, Reading
from .tools import CheckFailed, as_number, learner_check, safe_repr
from .values import number_of, require, shown

# ---------------------------------------------------------------- exercise 2.2


def reference_best_error(delta: torch.Tensor, r: int) -> float:
    """Relative error of the best rank-r approximation of `delta` (Eckart-Young): the share of its Frobenius norm
    that lies in the singular values beyond the r largest."""
    s = torch.linalg.svdvals(delta.detach().double())
    return float(s[r:].square().sum().sqrt() / s.square().sum().sqrt())


@learner_check("the best rank-r error matches the singular values' bound on four updates")
@single_threaded
def check_best_error(best_fn):
    """Exercise 2.2: `best_fn(delta, r)` is the relative error of the best rank-r approximation of delta."""
    generator = torch.Generator().manual_seed(0)
    for rows, cols, rank, r in ((12, 10, 5, 2), (8, 8, 3, 3), (16, 6, 6, 1), (9, 9, 4, 0)):
        delta = torch.randn(rows, rank, generator=generator) @ torch.randn(rank, cols, generator=generator)
        expected = reference_best_error(delta, r)
        got = as_number(best_fn(delta.clone(), r))
        if not is_number(got):
            raise CheckFailed(f"a {rows} x {cols} update of rank {rank}, r = {r}", f"a number: {expected:.4f}",
                              f"a {type(got).__name__}: {safe_repr(got)}")
        value = float(got)
        if abs(value - expected) > 1e-4:
            s = torch.linalg.svdvals(delta.double())
            causes = {float(s[r:].square().sum().sqrt()): "that is the error's size itself: divide by the norm of "
                                                             "delta, so 0 is a perfect fit and 1 no fit at all",
                      float(s[r:].sum() / s.sum()): "the Frobenius norm is the square root of the sum of squared "
                                                    "singular values, not their plain sum",
                      float(s[:r].square().sum().sqrt() / s.square().sum().sqrt()):
                          "that is the part the best rank-r update keeps (the r largest singular values); the error "
                          "is what it leaves out"}
            hint = next((cause for v, cause in causes.items() if abs(value - v) <= 1e-4), None)
            raise CheckFailed(f"a {rows} x {cols} update of rank {rank}, r = {r}", f"{expected:.4f}",
                              f"{value:.4f}", hint)


RANK_OPTIONS = {
    "a": Option("only r = 8, the course's default rank", "a rank-r product B A can represent any update of rank "
                                                         "up to r, so a smaller rank than 8 can suffice"),
    "b": Option("every r at least as large as the update's own rank",
                "B A has rank at most r, and any update of rank up to r can be written as B A"),
    "c": Option("all of them: training finds a way",
                "B A has rank at most r, so a rank-1 or rank-2 product cannot equal a rank-4 update however long "
                "it trains"),
    "d": Option("none: 300 steps are not enough", "on this small problem Adam converges well within 300 steps"),
}


def errors_by_rank(errors, at_least: int = 2) -> dict[int, float]:
    """{rank: fitted error}: whole ranks of at least 1, each error a finite number of at least 0; or a FAIL."""
    errors = require(errors, "fitted errors")
    if not isinstance(errors, dict) or len(errors) < at_least or not all(
            is_int(as_number(r)) and as_number(r) >= 1 for r in errors):
        raise CheckFailed("the fitted errors", "a dict {rank: error}, as fit_update filled it" + (
            f", over {at_least} ranks or more" if at_least > 1 else ""), shown(errors))
    return {int(as_number(r)): number_of(e, f"the fitted error at r = {r}", low=0.0) for r, e in errors.items()}


def _ranks_that_fit(tried, fitted) -> str:
    return "d" if not fitted else "c" if fitted == tried else "a" if fitted == [8] else "b"


RANK = Reading("ranks that fit a rank-4 update", RANK_OPTIONS, _ranks_that_fit,
               "of the ranks {tried}, these fit (error under 0.02): {fitted}")


@answer_check(reading=RANK)
def check_rank_prediction(prediction, errors):
    """Exercise 2.2: which ranks fit a rank-4 update (the learner's fitted errors decide)."""
    errors = errors_by_rank(errors)
    return RANK.judge(prediction, tried=sorted(errors), fitted=sorted(r for r, e in errors.items() if e < 0.02))


LIMIT_OPTIONS = {
    "a": Option("its rank: it sits at the best error any rank-2 update can have",
                "the fitted error equals the bound from the singular values: no training can go below it"),
    "b": Option("training: more steps would take it to zero",
                "compare the fitted error with the best any rank-2 update can do: there is no room left"),
    "c": Option("its scale alpha / r", "the scale changes how fast LoRA learns, not which updates B A can express"),
}


LIMIT = Reading("what limits LoRA at rank 2", LIMIT_OPTIONS,
                lambda fitted, bound: "a" if abs(fitted - bound) <= 0.02 else "b",
                "fitted {fitted:.3f}, best any rank-2 update can do {bound:.3f}")


@answer_check(reading=LIMIT)
def check_rank_reading(reading, delta, errors):
    """Exercise 2.2: what limits the rank-2 LoRA (its fitted error against the best rank-2 error)."""
    errors = errors_by_rank(errors, at_least=1)
    if 2 not in errors:
        raise CheckFailed("the fitted error at r = 2", "an entry for r = 2", sorted(errors))
    delta = require(delta, "delta")
    if not isinstance(delta, torch.Tensor) or delta.ndim != 2:
        raise CheckFailed("delta", "the update the LoRAs were fitted to (a 2-D tensor)", shown(delta))
    below = [r for r, e in errors.items() if e < reference_best_error(delta, r) - 0.005]
    if below:
        raise CheckFailed("each fitted error against the best any update of its rank can do (the singular values' "
                          "bound)", "no error below its bound", f"below it at r = {below}",
                          "no rank-r update beats the bound: were these errors fitted to this delta?")
    return LIMIT.judge(reading, fitted=round(errors[2], 3), bound=round(reference_best_error(delta, 2), 3))


# ---------------------------------------------------------------- exercise 2.3

#: Exercise 2.3's settings: a rank-4 update that both ranks can express, a short run at a small learning rate.
ALPHA_SETTINGS = {"ranks": (8, 32), "steps": 100, "lr": 1e-3, "size": 32, "rank": 4, "seed": 0}


def alpha_for(convention: str, r: int) -> float:
    """alpha under a convention: "fixed" keeps 16 for every rank, "2r" sets alpha = 2r (scale 2 for every rank)."""
    if convention not in ("fixed", "2r"):
        raise ValueError(f"convention must be 'fixed' or '2r', got {convention!r}")
    return 16.0 if convention == "fixed" else 2.0 * r


def reference_alpha_errors(lora_class=LoRALinear, settings=ALPHA_SETTINGS) -> dict:
    """{(convention, r): fitted error} at exercise 2.3's settings."""
    base, delta = low_rank_update(settings["size"], settings["rank"], settings["seed"])
    return {(c, r): fit_update(lora_class, base, delta, r, alpha_for(c, r), settings["steps"], settings["lr"],
                               settings["seed"])
            for c in ("fixed", "2r") for r in settings["ranks"]}


def faster(errors: dict, convention: str) -> str:
    """How r = 32 compares with r = 8 under a convention: "much faster", "close" or "slower"."""
    small, large = (errors[(convention, r)] for r in ALPHA_SETTINGS["ranks"])
    ratio = small / large if large > 0 else math.inf
    return "much faster" if ratio > 1.5 else "close" if ratio >= 0.8 else "slower"


ALPHA_OPTIONS = {
    "a": Option("with alpha = 2r the higher rank fits much faster; with alpha fixed the two ranks are close",
                "with Adam every entry of A and B moves by about the learning rate per step, so the update's "
                "growth scales with alpha / r: alpha fixed shrinks the scale as r grows and cancels most of what "
                "the extra directions add"),
    "b": Option("r = 32 fits much faster under both conventions",
                "with alpha fixed the scale alpha / r is four times smaller at r = 32, which takes back most of "
                "the extra rank's speed"),
    "c": Option("both ranks fit alike under both conventions",
                "with alpha = 2r the scale stays 2 at every rank, so the 32 directions of the larger LoRA all "
                "move at full speed"),
    "d": Option("r = 8 fits faster under both conventions",
                "under neither convention does the smaller LoRA learn faster: at best the scale cancels the "
                "larger one's advantage"),
}


def _field(convention: str, r: int) -> str:
    return f"{'fixed' if convention == 'fixed' else 'two_r'}_{r}"


def _alpha_pattern(**errors) -> str:
    by_key = {(c, r): errors[_field(c, r)] for c in ("fixed", "2r") for r in ALPHA_SETTINGS["ranks"]}
    pattern = (faster(by_key, "fixed"), faster(by_key, "2r"))
    return {("close", "much faster"): "a", ("much faster", "much faster"): "b", ("close", "close"): "c"}.get(
        pattern, "d")


ALPHA = Reading("rank 32 against rank 8 under the two conventions", ALPHA_OPTIONS, _alpha_pattern,
                f"errors after {ALPHA_SETTINGS['steps']} steps: " + ", ".join(
                    f"alpha {c} r = {r}: {{{_field(c, r)}:.3f}}" for c in ("fixed", "2r")
                    for r in ALPHA_SETTINGS["ranks"]))


@answer_check(reading=ALPHA)
@single_threaded
def check_alpha_prediction(prediction, errors):
    """Exercise 2.3: the measured errors (against a rerun at the notebook's settings) and the predicted pattern."""
    errors = require(errors, "fitted errors")
    expected = reference_alpha_errors()
    if not isinstance(errors, dict) or set(expected) - set(errors):
        raise CheckFailed("one error per convention and rank", sorted(expected),
                          sorted(errors, key=str) if isinstance(errors, dict) else shown(errors),
                          "fill errors[(convention, r)] for convention in ('fixed', '2r') and r in (8, 32)")
    got = {k: number_of(errors[k], f"the error at {k}", low=0.0) for k in expected}
    off = [k for k in expected if abs(got[k] - expected[k]) > 1e-3]
    if off:
        raise CheckFailed(f"fitted errors at the notebook's settings ({ALPHA_SETTINGS})",
                          {k: round(expected[k], 4) for k in off}, {k: round(got[k], 4) for k in off},
                          "use alpha_for(convention, r) and the settings given; a different alpha, step count or "
                          "learning rate gives other numbers")
    return ALPHA.judge(prediction, **{_field(c, r): round(e, 3) for (c, r), e in expected.items()})
