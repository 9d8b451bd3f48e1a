"""Statistics a reviewer asks for beyond one paired interval (lesson 00 teaches them; lessons 03-06 use them).

- A lesson that draws several verdicts from one test split tests a family of hypotheses: `holm` adjusts their
  p-values (Holm's step-down), `family_verdicts` writes each verdict and says it was corrected within its family.
- Seeds resample the training, not the test snippets: `bootstrap_difference` resamples the seeds and the test
  items together (SciPy's `bootstrap`), so its interval also speaks for other snippets from the same source.
- One run of two classifiers on the same items: `mcnemar` (exact, on the items only one of them got right).
- How many seeds a comparison needs: `seeds_needed` (the paired t-test's power, from the noncentral t).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as scipy_stats

from .stats import PairedDifference, constant_difference, paired_difference

ALPHA = 0.05


def _level(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"{what} must be a number between 0 and 1 (exclusive), got {value!r}")
    return float(value)


def holm(p_values) -> list[float]:
    """Holm's adjusted p-values, in the order given: reject comparison i at level alpha when its value is < alpha.

    Sorted ascending, the j-th smallest p (j = 1..m) is multiplied by m - j + 1, the running maximum keeps the
    step-down order, and nothing exceeds 1 (Holm 1979).
    """
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1 or len(p) == 0 or not np.all((p >= 0) & (p <= 1)):
        raise ValueError(f"p_values must be one or more numbers between 0 and 1, got {p_values!r}")
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted.tolist()


def paired_p(difference: PairedDifference, a, b) -> float:
    """The paired t-test's two-sided p-value for a - b (SciPy's `ttest_rel`); with no spread between the seeds'
    differences it is 0 when they all point one way and 1 when they are all zero, as the interval reads."""
    if difference.low == difference.high:
        return 1.0 if difference.mean == 0 else 0.0
    return float(scipy_stats.ttest_rel(a, b).pvalue)


@dataclass(frozen=True)
class Comparison:
    """One paired comparison within a family: its difference, p-value and Holm-adjusted p-value."""
    name_a: str
    name_b: str
    difference: PairedDifference
    p: float
    adjusted: float
    family: int
    alpha: float = ALPHA

    @property
    def detected(self) -> bool:
        return self.judged and self.adjusted < self.alpha

    @property
    def judged(self) -> bool:
        """False when a - b was the same nonzero number on every seed: no interval, so no verdict either way."""
        return not math.isnan(self.difference.low)

    def __str__(self) -> str:
        d, name_a, name_b = self.difference, self.name_a, self.name_b
        if not self.judged:
            return (f"{name_a} and {name_b}: cannot be judged: {name_a} minus {name_b} is {d.mean:+.3f} on every "
                    f"one of the {d.n} seeds, so there is no spread to draw an interval from (too few seeds or "
                    "test snippets for this comparison)")
        tests = (f"p = {p_text(self.p)}, Holm-adjusted {p_text(self.adjusted)} within a family of {self.family} "
                 f"comparison{'s' if self.family > 1 else ''}")
        if not self.detected:
            return (f"{name_a} and {name_b}: no difference detectable at this budget after Holm's correction "
                    f"({d}; {tests})")
        if d.mean < 0:
            name_a, name_b, d = name_b, name_a, d.reversed()
        return f"{name_a} scores higher than {name_b}, by about {d.mean * 100:.1f} points ({d}; {tests})"


def p_text(p: float) -> str:
    """A p-value as a lesson prints it: two significant digits, or "< 0.001"."""
    return "< 0.001" if p < 0.001 else f"{p:.2g}"


def compare_family(pairs: dict, alpha: float = ALPHA) -> list[Comparison]:
    """Every comparison of a family ({(name_a, name_b): (scores_a, scores_b)}, scores paired seed by seed), with
    its paired t-test and Holm's adjustment over the whole family. A difference that is the same nonzero number on
    every seed has no interval: it is not judged (`Comparison.judged`) and counts in the family at p = 1."""
    alpha = _level(alpha, "alpha")
    if not isinstance(pairs, dict) or not pairs:
        raise ValueError("pairs must be a non-empty dict {(name_a, name_b): (scores_a, scores_b)}")
    found = []
    for key, value in pairs.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(n, str) for n in key)):
            raise ValueError(f"each key of pairs must be a (name_a, name_b) tuple of two names, got {key!r}")
        if not (isinstance(value, (tuple, list)) and len(value) == 2):
            raise ValueError(f"pairs[{key!r}] must be (scores_a, scores_b), got {value!r}")
        constant = constant_difference(*value)
        if constant is not None:  # counted in the family at p = 1: it can be detected by nothing here
            n = len(value[0])
            same_sign = (n, 0) if constant > 0 else (0, n)
            found.append((key, PairedDifference(constant, math.nan, math.nan, *same_sign, n), 1.0))
            continue
        difference = paired_difference(*value)
        found.append((key, difference, paired_p(difference, *value)))
    adjusted = holm([p for *_, p in found])
    return [Comparison(a, b, d, p, q, len(found), alpha) for ((a, b), d, p), q in zip(found, adjusted)]


def family_verdicts(pairs: dict, alpha: float = ALPHA) -> list[str]:
    """One verdict line per comparison of a family, each Holm-corrected within it (see `compare_family`)."""
    return [str(c) for c in compare_family(pairs, alpha)]


# ---------------------------------------------------------------- resampling items and seeds


def _correctness(values, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype == bool:
        array = array.astype(int)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.size == 0 or not np.isin(array, (0, 1)).all():
        raise ValueError(f"{what} must be 0/1 (or True/False) per item, one row per seed (seeds x items); got "
                         f"shape {np.shape(values)}")
    return array.astype(float)


@dataclass(frozen=True)
class BootstrapDifference:
    """A - B in accuracy over seeds and items, with a bootstrap interval that resamples both."""
    mean: float
    low: float
    high: float
    se: float
    seeds: int
    items: int

    def __str__(self) -> str:
        return (f"{self.mean:+.3f} [{self.low:+.3f}, {self.high:+.3f}] over {self.seeds} seed"
                f"{'s' if self.seeds > 1 else ''} x {self.items} items, both resampled")


def bootstrap_difference(correct_a, correct_b, confidence: float = 0.95, n_resamples: int = 9999,
                         seed: int = 0) -> BootstrapDifference:
    """Accuracy of A minus B with a percentile bootstrap interval that resamples the test items and the seeds.

    `correct_a` and `correct_b` are 0/1 per item, one row per seed (seeds x items), paired: row s and column i
    are the same seed and the same test item for both. Seeds and items are resampled independently (SciPy's
    `bootstrap` with two index samples), which counts the variance of both and a little more (Owen's
    "pigeonhole" bootstrap is conservative), so the interval speaks beyond this test split and these seeds.
    """
    a, b = _correctness(correct_a, "correct_a"), _correctness(correct_b, "correct_b")
    if a.shape != b.shape:
        raise ValueError(f"correct_a and correct_b must pair up seed by seed and item by item; got shapes "
                         f"{a.shape} and {b.shape}")
    confidence = _level(confidence, "confidence")
    diff = a - b
    seeds, items = diff.shape
    mean = float(diff.mean())
    if np.all(diff == diff.flat[0]):  # nothing varies: every resample gives the same mean
        return BootstrapDifference(mean, mean, mean, 0.0, seeds, items)

    resampled = [axis for axis, size in enumerate(diff.shape) if size > 1]  # one seed (or item) stays as it is

    def statistic(*indices):
        chosen = [np.arange(size) for size in diff.shape]
        for axis, index in zip(resampled, indices):
            chosen[axis] = index
        return diff[np.ix_(*chosen)].mean()

    result = scipy_stats.bootstrap(tuple(np.arange(diff.shape[axis]) for axis in resampled), statistic,
                                   n_resamples=n_resamples, vectorized=False, paired=False,
                                   confidence_level=confidence, method="percentile", rng=np.random.default_rng(seed))
    low, high = result.confidence_interval
    return BootstrapDifference(mean, float(low), float(high), float(result.standard_error), seeds, items)


# ---------------------------------------------------------------- one run: McNemar's exact test


@dataclass(frozen=True)
class McNemar:
    """Two classifiers on the same items: how many only A got right, only B got right, and the exact p-value."""
    only_a: int
    only_b: int
    p: float

    def __str__(self) -> str:
        return (f"right only for A on {self.only_a} items, only for B on {self.only_b}; exact McNemar "
                f"p = {p_text(self.p)}")


def mcnemar(correct_a, correct_b) -> McNemar:
    """McNemar's exact test: under "A and B are equally accurate", the items only one of them gets right fall to
    either side with probability 1/2, so `only_a` is binomial (SciPy's `binomtest`, two-sided)."""
    a, b = _correctness(correct_a, "correct_a"), _correctness(correct_b, "correct_b")
    if a.shape != b.shape or a.shape[0] != 1:
        raise ValueError(f"correct_a and correct_b must be 0/1 for the same items of one run; got shapes "
                         f"{np.shape(correct_a)} and {np.shape(correct_b)}")
    only_a, only_b = int(((a == 1) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum())
    p = 1.0 if only_a + only_b == 0 else float(scipy_stats.binomtest(only_a, only_a + only_b, 0.5).pvalue)
    return McNemar(only_a, only_b, p)


# ---------------------------------------------------------------- how many seeds


def paired_power(seeds: int, difference: float, sd: float, alpha: float = ALPHA) -> float:
    """Power of the two-sided paired t-test over `seeds` seeds to detect a true mean difference `difference`
    when the seeds' differences spread with standard deviation `sd` (noncentral t, SciPy's `nct`)."""
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 2:
        raise ValueError(f"seeds must be an integer of at least 2, got {seeds!r}")
    if not (math.isfinite(difference) and math.isfinite(sd) and sd > 0):
        raise ValueError(f"difference must be finite and sd a positive number, got {difference!r} and {sd!r}")
    alpha = _level(alpha, "alpha")
    dof, shift = seeds - 1, abs(difference) / (sd / math.sqrt(seeds))
    critical = scipy_stats.t.ppf(1 - alpha / 2, dof)
    return float(scipy_stats.nct.sf(critical, dof, shift) + scipy_stats.nct.cdf(-critical, dof, shift))


def seeds_needed(difference: float, sd: float, power: float = 0.8, alpha: float = ALPHA,
                 most: int = 100_000) -> int:
    """The fewest paired seeds with which the paired t-test detects a true difference `difference` (e.g. 0.01,
    one point) with probability `power`, when the seeds' differences spread with standard deviation `sd`."""
    power = _level(power, "power")
    if difference == 0:
        raise ValueError("a difference of zero cannot be detected: give the smallest difference that matters")
    low, high = 2, 2
    while paired_power(high, difference, sd, alpha) < power:
        if high >= most:
            raise ValueError(f"more than {most:,} seeds would be needed for {difference} at sd {sd}")
        low, high = high, min(2 * high, most)
    while low < high:  # power grows with the number of seeds: the first that reaches it
        middle = (low + high) // 2
        low, high = (middle + 1, high) if paired_power(middle, difference, sd, alpha) < power else (low, middle)
    return high
