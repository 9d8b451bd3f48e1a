"""Checks of answers that are values, not code: a prediction among lettered options, a decision read off a paired
interval; and `try_run`, which runs an experiment the learner wrote without stopping the notebook when it raises
(practice notebooks 00-06).

A choice is checked against the right option, which may depend on the learner's own measurements (a decision is
right when the learner's interval says so, whatever the numbers came out to be); a wrong option FAILs with the
reasoning that rules it out. Before a reading is judged, the values it rests on are checked: finite, in range,
paired, not one list passed twice, and whatever must hold between them.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..practice import one_thread
from ..stats import CONFIDENCE, PairedDifference, paired_difference
from ...runs.overrides import is_number
from .readings import Option, Reading
from .tools import CheckFailed, as_list, safe_repr, verdict
from .values import accuracies_of, answers_of, pair_up


def single_threaded(function):
    """`function` run under `one_thread()` (for check bodies and helpers that train tiny models)."""

    @functools.wraps(function)
    def run(*args, **kwargs):
        with one_thread():
            return function(*args, **kwargs)

    return run


def answer_check(body=None, *, reading=None):
    """Make `body(*answers) -> summary` a notebook check: `check(*answers)` prints PASS/FAIL, returns None;
    `check.verdict(*answers)` gives (passed, text) without printing. `reading` (a `Reading` or `Statement`) is
    what the body judges with: kept as `check.reading`, so a stored PASS line can be read back into its numbers."""

    def make(body):
        name = body.__name__

        @functools.wraps(body)
        def check(*answers, verbose: bool = True) -> None:
            passed, text = check.verdict(*answers)
            if verbose:
                print(text)

        check.verdict = lambda *answers: verdict(name, lambda _: body(*answers), None)
        check.reading = reading
        return check

    return make(body) if body is not None else make


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


# ---------------------------------------------------------------- paired differences and what they allow


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
    half = t * sd / math.sqrt(n)
    candidates = {
        "the two lists were treated as unpaired samples: difference them seed by seed, then take the interval of "
        "those differences (stats.paired_difference)": _unpaired(a, b),
        f"a normal interval (± 1.96 SE) with {n} seeds: with so few, the t distribution's wider factor "
        f"({t:.2f}) applies": (mean, mean - 1.96 * sd / math.sqrt(n), mean + 1.96 * sd / math.sqrt(n)),
        "the standard deviation was used where the standard error (sd / sqrt(n)) belongs":
            (mean, mean - t * sd, mean + t * sd),
        "a and b are swapped: the difference is a - b, in the order the claim names them": (-mean, -mean - half,
                                                                                              -mean + half),
    }
    for cause, values in candidates.items():
        if np.allclose(got, values, atol=1e-6):
            return cause
    return None


def paired(a, b, what: str, unit: str = "seed") -> PairedDifference:
    """stats.paired_difference(a, b), or a FAIL where it refuses them (the same nonzero difference on every seed:
    its interval would have zero width, a certainty no handful of seeds gives)."""
    try:
        return paired_difference(a, b)
    except ValueError as error:
        raise CheckFailed(f"{what}: differences that vary from {unit} to {unit}", "scores of separate runs",
                          "the same difference every time", str(error)) from None


def check_paired(what: str, a, b, difference, kind: str = "accuracies", unit: str = "seed",
                 distinct: bool = True) -> PairedDifference:
    """Fail unless `a` and `b` are measurements that pair up (accuracies in [0, 1], or 0/1 answers per item with
    `kind="answers"`; two different lists with `distinct`) and `difference` is stats.paired_difference(a, b) of
    them; return it."""
    if kind == "answers":
        a, b = answers_of(a, f"{what}: the first list"), answers_of(b, f"{what}: the second list")
    else:
        a = accuracies_of(a, f"{what}: the first list", unit=unit)
        b = accuracies_of(b, f"{what}: the second list", unit=unit)
    pair_up(a, b, what, unit, distinct)
    expected = paired(a, b, what, unit)
    got = interval_of(difference)
    if not np.allclose(got, (expected.mean, expected.low, expected.high), atol=1e-6):
        raise CheckFailed(f"{what}: mean difference and its 95 % interval, from your own scores",
                          f"{expected.mean:+.4f} [{expected.low:+.4f}, {expected.high:+.4f}]",
                          f"{got[0]:+.4f} [{got[1]:+.4f}, {got[2]:+.4f}]", _likely_interval_mistake(a, b, got))
    return expected


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


def interval_template(unit: str = "seeds") -> str:
    """"+0.012 [-0.004, +0.028], higher on 5 and lower on 3 of 8 seeds" as a template (`unit`: what was paired)."""
    return "{mean:+.3f} [{low:bound}, {high:bound}], higher on {higher:d} and lower on {lower:d} of {n:d} " + unit


def interval_values(difference: PairedDifference) -> dict:
    return {"mean": difference.mean, "low": difference.low, "high": difference.high, "higher": difference.higher,
            "lower": difference.lower, "n": difference.n}


def _interval_allows(mean, low, high, higher, lower, n) -> str:
    return "a" if low > 0 else "c" if high < 0 else "b"  # stats.verdict's rule


def decision_reading(what: str, a: str, b: str, unit: str = "seeds") -> Reading:
    """What a paired interval of a - b allows, as a reading of the interval's numbers."""
    return Reading(f"{what}: what your interval allows", decision_options(a, b), _interval_allows,
                   interval_template(unit))


def judge_decision(reading: Reading, decision, difference: PairedDifference) -> str:
    """PASS when the decision is the one the interval allows (stats.verdict's rule), else the reasoning."""
    return reading.judge(decision, **interval_values(difference))
