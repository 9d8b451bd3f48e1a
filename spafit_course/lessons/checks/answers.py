"""Checks of answers that are values, not code: a prediction among lettered options, a number within a tolerance,
a decision read off a paired interval; and `try_run`, which runs an experiment the learner wrote without stopping
the notebook when it raises (practice notebooks 00-06).

A choice is checked against the right option, which may depend on the learner's own measurements (a decision is
right when the learner's interval says so, whatever the numbers came out to be); a wrong option FAILs with the
reasoning that rules it out.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np

from ..practice import one_thread
from ..stats import CONFIDENCE, PairedDifference, paired_difference
from ...runs.overrides import is_number
from .tools import CheckFailed, as_list, as_number, safe_repr, verdict


def single_threaded(function):
    """`function` run under `one_thread()` (for check bodies and helpers that train tiny models)."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        with one_thread():
            return function(*args, **kwargs)

    return run


def answer_check(body):
    """Make `body(*answers) -> summary` a notebook check: `check(*answers)` prints PASS/FAIL, returns None;
    `check.verdict(*answers)` gives (passed, text) without printing."""
    name = body.__name__

    @functools.wraps(body)
    def check(*answers, verbose: bool = True) -> None:
        passed, text = check.verdict(*answers)
        if verbose:
            print(text)

    check.verdict = lambda *answers: verdict(name, lambda _: body(*answers), None)
    return check


def try_run(function, *args, **kwargs):
    """`function(*args, **kwargs)`, or None with a one-line note when it raises (an exercise not written yet), so
    the notebook goes on; the check that reads the result then says what is missing."""
    try:
        return function(*args, **kwargs)
    except Exception as error:  # the learner's code: report it in one line, never stop "Run All"
        name = getattr(function, "__name__", "your function")
        print(f"note: {name} raised {type(error).__name__}: {str(error) or '(no message)'}; the checks that need "
              "its result say so, and the notebook goes on")
        return None


def require(result, what: str):
    """Fail with a clear message when an experiment's result is missing (its function raised or never ran)."""
    if result is None:
        raise CheckFailed(f"no {what} to check yet", f"the {what} your experiment cell computed", None,
                          "run the experiment cell above; while your function raises, its result is None")
    return result


@dataclass(frozen=True)
class Option:
    """One lettered answer: what it says, and why it is right (the PASS line) or wrong (the FAIL's reasoning)."""
    text: str
    why: str


def read_letter(answer, options: dict[str, Option], what: str) -> str:
    """The option a learner chose ("b", "(b)", "B" or "b) ..." all read as "b"); a missing or unknown one fails."""
    letters = ", ".join(f'"{k}"' for k in options)
    if answer is None:
        raise CheckFailed(f"{what}: no answer yet", f"one of {letters}", None,
                          f"replace None with your choice, e.g. {next(iter(options))!r}")
    match = re.fullmatch(r"\s*\(?([a-zA-Z])\)?(?:[\s).:].*)?", str(answer), re.S) if isinstance(answer, str) else None
    letter = match.group(1).lower() if match else None
    if letter not in options:
        raise CheckFailed(f"{what}: not one of the options", f"one of {letters}", safe_repr(answer),
                          "answer with the letter of one option")
    return letter


def judge_choice(what: str, answer, options: dict[str, Option], right: str, measured: str | None = None) -> str:
    """PASS summary when `answer` is the `right` option; else CheckFailed explaining why the chosen one is wrong.

    Where the right option depends on the learner's own measurements, `measured` says what they were: it leads
    the reasoning of a FAIL and, with the right option's text, makes the PASS line (an option's `why` is written
    for when it is chosen wrongly, so it cannot be the PASS line then).
    """
    letter = read_letter(answer, options, what)
    if letter != right:
        why = f"{measured}; {options[letter].why}" if measured else options[letter].why
        raise CheckFailed(what, f"({right}) {options[right].text}", f"({letter}) {options[letter].text}", why)
    return f"({right}) {options[right].text}: {measured}" if measured else f"({right}) {options[right].why}"


def compare_number(what: str, expected: float, got, tolerance: float, hint: str | None = None) -> None:
    """Fail unless `got` is a number within `tolerance` of `expected`."""
    value = as_number(got)
    if not is_number(value):
        raise CheckFailed(what, f"a number near {expected:.4g}", f"a {type(got).__name__}: {safe_repr(got)}", hint)
    if abs(value - expected) > tolerance:
        raise CheckFailed(what, f"{expected:.4g} (± {tolerance:.2g})", f"{value:.4g}", hint)


def scores_of(values, what: str) -> list[float]:
    """A list of finite numbers, one per seed or draw, or a FAIL saying what came back instead."""
    scores = as_list(values)
    if not isinstance(scores, list) or not all(is_number(v) for v in scores):
        raise CheckFailed(f"{what}: one number per seed", "a list of numbers (a tuple or NumPy array works too)",
                          f"a {type(values).__name__}: {safe_repr(values)[:80]}")
    scores = [float(v) for v in scores]
    if len(scores) < 2:
        raise CheckFailed(f"{what}: at least two finite numbers, one per seed", "two or more numbers", scores)
    return scores


def interval_of(difference) -> tuple[float, float, float]:
    """(mean, low, high) of a PairedDifference, or of a (mean, low, high) tuple."""
    if isinstance(difference, PairedDifference):
        return difference.mean, difference.low, difference.high
    values = as_list(difference)
    if not isinstance(values, list) or len(values) != 3 or not all(is_number(v) for v in values):
        raise CheckFailed("the paired difference", "stats.paired_difference(a, b) (or its mean, low, high)",
                          f"a {type(difference).__name__}: {safe_repr(difference)[:80]}")
    return tuple(float(v) for v in values)


def _unpaired(a, b):
    from scipy import stats as scipy_stats

    a, b = np.asarray(a), np.asarray(b)
    mean = a.mean() - b.mean()
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    dof = (va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1)) if va + vb > 0 else len(a) + len(b) - 2
    half = scipy_stats.t.ppf((1 + CONFIDENCE) / 2, dof) * se
    return mean, mean - half, mean + half


def _likely_interval_mistake(a, b, got) -> str | None:
    """The usual ways a paired interval goes wrong, when `got` is one of them."""
    from scipy import stats as scipy_stats

    d = np.asarray(a) - np.asarray(b)
    n, mean = len(d), float(d.mean())
    sd = float(d.std(ddof=1))
    t = scipy_stats.t.ppf((1 + CONFIDENCE) / 2, n - 1)
    candidates = {
        "the two lists were treated as unpaired samples: difference them seed by seed, then take the interval of "
        "those differences (stats.paired_difference)": _unpaired(a, b),
        f"a normal interval (± 1.96 SE) with {n} seeds: with so few, the t distribution's wider factor "
        f"({t:.2f}) applies": (mean, mean - 1.96 * sd / math.sqrt(n), mean + 1.96 * sd / math.sqrt(n)),
        "the standard deviation was used where the standard error (sd / sqrt(n)) belongs":
            (mean, mean - t * sd, mean + t * sd),
        "a and b are swapped: the difference is a - b, in the order the claim names them": (-mean, -mean - t * sd /
                                                                                              math.sqrt(n),
                                                                                              -mean + t * sd /
                                                                                              math.sqrt(n)),
    }
    for cause, values in candidates.items():
        if np.allclose(got, values, atol=1e-6):
            return cause
    return None


def check_paired(what: str, a, b, difference) -> PairedDifference:
    """Fail unless `difference` is stats.paired_difference(a, b) of the learner's own lists; return it."""
    a, b = scores_of(a, f"{what}: the first list"), scores_of(b, f"{what}: the second list")
    if len(a) != len(b):
        raise CheckFailed(f"{what}: the two lists pair up seed by seed", "lists of the same length",
                          f"{len(a)} and {len(b)} numbers", "score both on the same seeds, in the same order")
    expected = paired_difference(a, b)
    got = interval_of(difference)
    if not np.allclose(got, (expected.mean, expected.low, expected.high), atol=1e-6):
        raise CheckFailed(f"{what}: mean difference and its 95 % interval, from your own scores",
                          f"{expected.mean:+.4f} [{expected.low:+.4f}, {expected.high:+.4f}]",
                          f"{got[0]:+.4f} [{got[1]:+.4f}, {got[2]:+.4f}]", _likely_interval_mistake(a, b, got))
    return expected


#: The three readings of a paired interval of a - b.
DECISIONS = ("higher", "undetectable", "lower")


def decision_options(a: str, b: str) -> dict[str, Option]:
    """The three things a paired interval of a - b can say, as options "a", "b", "c"."""
    return {
        "a": Option(f"{a} scores higher than {b}",
                    "a claim of 'higher' needs the whole 95 % interval above zero; a positive mean alone is not "
                    "enough, and neither are most seeds pointing one way"),
        "b": Option(f"no difference between {a} and {b} is detectable at this budget",
                    "'not detectable' is the reading only when the interval includes zero; here it does not, so "
                    "the data do support a direction"),
        "c": Option(f"{b} scores higher than {a}",
                    "a claim of 'lower' needs the whole 95 % interval below zero"),
    }


def interval_text(difference: PairedDifference, unit: str = "seeds") -> str:
    """"+0.012 [-0.004, +0.028], higher on 5 and lower on 3 of 8 seeds" (`unit`: what was paired)."""
    return (f"{difference.mean:+.3f} [{difference.low:+.3f}, {difference.high:+.3f}], higher on {difference.higher} "
            f"and lower on {difference.lower} of {difference.n} {unit}")


def judge_decision(what: str, decision, a: str, b: str, difference: PairedDifference, unit: str = "seeds") -> str:
    """PASS when the decision is the one the interval allows (stats.verdict's rule), else the reasoning."""
    options = decision_options(a, b)
    right = "a" if difference.low > 0 else "c" if difference.high < 0 else "b"
    letter = read_letter(decision, options, what)
    if letter != right:
        raise CheckFailed(f"{what}: what your interval {difference.low:+.3f} to {difference.high:+.3f} allows",
                          f"({right}) {options[right].text}", f"({letter}) {options[letter].text}",
                          options[letter].why)
    return f"({right}) {options[right].text}: {interval_text(difference, unit)}"
