"""Seeds, standard errors and paired differences: how the lessons compare methods (lesson 00 teaches them).

Within a seed every method sees the same training subset and the same evaluation snippets, so two methods are
compared seed by seed: the difference on each seed, its mean, a 95 % t-interval for that mean (SciPy), and how
many seeds have each sign. A lesson says "A scores higher than B" only when the interval excludes zero
(`verdict`); otherwise the difference is not detectable at this budget.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

CONFIDENCE = 0.95
MAX_SCORE = 1e100


def _scores(values, what: str, seeds=None) -> np.ndarray:
    """`values` as a float array of one finite number per seed, else a ValueError saying what is wrong.

    Strings, booleans and None are refused rather than converted (np.asarray(["0.8"], float) would read a
    string); `seeds`, when given, must be distinct whole numbers, one per score: one seed listed five times is one
    seed, not five paired ones.
    """
    try:
        array = np.asarray(values)
    except (ValueError, TypeError, RuntimeError):  # ragged lists, a tensor that needs grad
        array = np.asarray(None)
    if array.dtype.kind not in "iuf":
        raise ValueError(f"{what} must be numbers, one score per seed (not strings, booleans or None); got "
                         f"{values!r}")
    array = array.astype(float)
    if array.ndim != 1 or len(array) < 2 or not np.isfinite(array).all():
        raise ValueError(f"{what} must be at least two finite numbers, one per seed; got {values!r}")
    if np.abs(array).max() > MAX_SCORE:  # sums and squares of larger ones overflow to inf ± inf
        raise ValueError(f"{what} must be scores on their own scale (below {MAX_SCORE:g} in size, such as "
                         f"accuracies in 0..1); got {values!r}")
    if seeds is not None:
        seeds = list(seeds)
        if len(seeds) != len(array) or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool)
                                                for s in seeds):
            raise ValueError(f"seeds must be one whole number per score ({len(array)}), got {seeds!r}")
        repeated = sorted({int(s) for s in seeds if seeds.count(s) > 1})
        if repeated:
            raise ValueError(f"seeds {repeated} appear more than once in {seeds}: a repeated seed is the same run "
                             "again, not another paired seed; give each seed once")
    return array


def _no_spread(diff: np.ndarray, a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a - b is the same on every seed (up to float rounding: 0.7 - 0.6 and 0.8 - 0.7 differ in the 17th
    digit); a nonzero such difference is refused, since its zero-width interval would claim certainty."""
    tolerance = 1e-12 * max(float(np.abs(a).max()), float(np.abs(b).max()))
    if np.ptp(diff) > tolerance:
        return False
    if abs(float(diff.mean())) > tolerance:
        raise ValueError(f"a - b is {float(diff.mean()):+.4g} on every one of the {len(diff)} seeds: with no spread "
                         "the interval has zero width and would claim certainty; check that each seed is its own "
                         "run (one seed repeated, or copied scores, give this)")
    return True


def constant_difference(a, b) -> float | None:
    """a - b when it is the same nonzero number on every seed (no interval can be drawn), else None."""
    a, b = _scores(a, "a"), _scores(b, "b")
    if len(a) != len(b):
        return None  # paired_difference says what is wrong
    try:
        _no_spread(a - b, a, b)
    except ValueError:
        return float((a - b).mean())
    return None


@dataclass(frozen=True)
class Spread:
    """One method's scores over seeds: the mean and its standard error."""
    mean: float
    se: float
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.se:.3f}"


def mean_and_se(scores, seeds=None) -> Spread:
    """The mean of one method's scores over seeds and its standard error (sample sd / sqrt(n)); `seeds`, when
    given, are checked to be distinct, one per score."""
    array = _scores(scores, "scores", seeds)
    return Spread(float(array.mean()), float(scipy_stats.sem(array)), len(array))


@dataclass(frozen=True)
class PairedDifference:
    """A - B over paired seeds: the mean difference, its 95 % t-interval, and the sign count."""
    mean: float
    low: float
    high: float
    higher: int  # seeds on which A scored higher
    lower: int  # seeds on which A scored lower
    n: int

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def reversed(self) -> "PairedDifference":
        """B - A: the same comparison read the other way round."""
        return PairedDifference(-self.mean, -self.high, -self.low, self.lower, self.higher, self.n)

    def __str__(self) -> str:
        return (f"{self.mean:+.3f} [{bound(self.low)}, {bound(self.high)}], higher on {self.higher} of {self.n} "
                "seeds")


def bound(value: float) -> str:
    """An interval's end to 3 decimals, or 4 where 3 would print a non-zero end as zero."""
    return f"{value:+.4f}" if value != 0 and abs(value) < 0.0005 else f"{value:+.3f}"


def paired_difference(a, b, confidence: float = CONFIDENCE, seeds=None) -> PairedDifference:
    """A - B seed by seed (same order of seeds in both): mean, t-interval of the mean, and sign counts.

    `seeds`, when given, are checked to be distinct, one per pair. The same nonzero difference on every seed is
    refused: its interval would have zero width, a certainty no handful of seeds gives (one seed repeated, or
    copied scores, are the usual causes).
    """
    a, b = _scores(a, "a", seeds), _scores(b, "b", seeds)
    if len(a) != len(b):
        raise ValueError(f"a and b must pair up seed by seed; got {len(a)} and {len(b)} scores")
    if isinstance(confidence, bool) or not isinstance(confidence, numbers.Real) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a number between 0 and 1, got {confidence!r}")
    diff = a - b
    mean, se = float(diff.mean()), float(scipy_stats.sem(diff))
    if _no_spread(diff, a, b):
        low, high = min(mean, 0.0), max(mean, 0.0)  # the same scores on every seed: no difference, and no claim
    else:
        low, high = scipy_stats.t.interval(confidence, len(diff) - 1, loc=mean, scale=se)
    return PairedDifference(mean, float(low), float(high), int((diff > 0).sum()), int((diff < 0).sum()), len(diff))


def verdict(name_a: str, name_b: str, difference: PairedDifference) -> str:
    """The sentence the interval allows: which is higher and by about how much, or not detectable."""
    if not difference.excludes_zero:
        return (f"{name_a} and {name_b}: no difference detectable at this budget "
                f"({difference})")
    if difference.mean < 0:
        name_a, name_b, difference = name_b, name_a, difference.reversed()
    return f"{name_a} scores higher than {name_b}, by about {difference.mean * 100:.1f} points ({difference})"


def paired_p_value(a, b) -> float:
    """The two-sided p-value of a paired t-test of A against B (SciPy's `ttest_rel`); 1 where the differences
    have no spread, since a t-test then says nothing (lessons 03-06)."""
    a, b = _scores(a, "a"), _scores(b, "b")
    if len(a) != len(b):
        raise ValueError(f"a and b must pair up seed by seed; got {len(a)} and {len(b)} scores")
    if np.ptp(a - b) < 1e-12:
        return 1.0
    p = float(scipy_stats.ttest_rel(a, b).pvalue)
    return 1.0 if p != p else p


def holm_adjusted(p_values) -> list[float]:
    """Holm's adjusted p-values in the given order (`inference.holm`, the one implementation)."""
    from .inference import holm

    return holm(p_values)


def holm_verdicts(named_pairs, alpha: float = 1 - CONFIDENCE) -> list[str]:
    """The sentence each of a family of paired comparisons [(name A, name B, A scores, B scores)] allows once
    Holm's correction over the whole family is applied: which is higher only where the adjusted p-value is below
    `alpha` (lessons 03-06 print these; `inference.family_verdicts` adds the raw p-values)."""
    named_pairs = list(named_pairs)
    adjusted = holm_adjusted([paired_p_value(a, b) for _, _, a, b in named_pairs])
    m = len(named_pairs)
    lines = []
    for (name_a, name_b, a, b), q in zip(named_pairs, adjusted):
        d = paired_difference(a, b)
        if q >= alpha:
            lines.append(f"{name_a} and {name_b}: no difference detectable after Holm's correction over {m} "
                         f"comparisons ({d}; adjusted p = {q:.3f})")
            continue
        if d.mean < 0:
            name_a, name_b, d = name_b, name_a, d.reversed()
        lines.append(f"{name_a} scores higher than {name_b}, by about {d.mean * 100:.1f} points ({d}; Holm-adjusted "
                     f"p = {q:.3f} of {m} comparisons)")
    return lines
