"""Holm's correction, the bootstrap over items and seeds, McNemar's test and the seeds a comparison needs
(spafit_course.lessons.inference), against brute force, exact formulas, SciPy and published values."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from spafit_course.lessons import inference
from spafit_course.lessons.stats import paired_difference

# ---------------------------------------------------------------- Holm


def holm_by_closed_testing(p):
    """Holm's procedure is closed testing with Bonferroni tests of every intersection: comparison i is rejected
    at alpha when every subset S that holds it has min over S of p <= alpha / |S|. Its adjusted p-value is the
    largest |S| * min_S p over those subsets."""
    m = len(p)
    return [min(1.0, max(len(s) * min(p[j] for j in s) for k in range(1, m + 1)
                         for s in itertools.combinations(range(m), k) if i in s)) for i in range(m)]


def test_holm_matches_the_textbook_example():
    # R: p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") gives 0.03 0.06 0.06 0.02
    assert inference.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


@pytest.mark.parametrize("seed", range(6))
def test_holm_equals_closed_testing_by_brute_force(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.2, size=rng.integers(1, 8)).tolist()
    if seed == 0:
        p = [0.02, 0.02, 0.5, 0.001]  # ties
    assert inference.holm(p) == pytest.approx(holm_by_closed_testing(p))


def test_holm_is_the_threshold_rule_the_issue_quotes():
    # the smallest of four p-values is compared with 0.05 / 4 = 0.0125: p = 0.023 does not survive
    adjusted = inference.holm([0.023, 0.2, 0.3, 0.6])
    assert adjusted[0] == pytest.approx(4 * 0.023) and adjusted[0] > 0.05


@pytest.mark.parametrize("bad", [[], [0.1, 1.2], [[0.1, 0.2]], [float("nan")], "0.1"])
def test_holm_refuses_what_is_not_a_list_of_p_values(bad):
    with pytest.raises(ValueError, match="p_values must be one or more numbers between 0 and 1"):
        inference.holm(bad)


# ---------------------------------------------------------------- a family of verdicts

A = [0.741, 0.705, 0.733, 0.752, 0.718]
B = [0.700, 0.681, 0.712, 0.730, 0.690]
C = [0.738, 0.702, 0.738, 0.747, 0.720]


def test_a_family_uses_the_paired_t_test_and_holm():
    found = inference.compare_family({("SPAFIT", "BitFit"): (A, B), ("SPAFIT", "LoRA"): (A, C)})
    p = [stats.ttest_rel(A, B).pvalue, stats.ttest_rel(A, C).pvalue]
    assert [c.p for c in found] == pytest.approx(p)
    assert [c.adjusted for c in found] == pytest.approx(inference.holm(p))
    assert [c.family for c in found] == [2, 2]
    assert found[0].difference == paired_difference(A, B)


def test_family_verdicts_say_they_are_corrected_within_the_family():
    clear, level = inference.family_verdicts({("SPAFIT", "BitFit"): (A, B), ("SPAFIT", "LoRA"): (A, C)})
    assert clear.startswith("SPAFIT scores higher than BitFit, by about 2.7 points (+0.027 [+0.017, +0.037]")
    assert "Holm-adjusted" in clear and "within a family of 2 comparisons" in clear
    assert level.startswith("SPAFIT and LoRA: no difference detectable at this budget after Holm's correction")
    reversed_line = inference.family_verdicts({("BitFit", "SPAFIT"): (B, A)})[0]
    assert reversed_line.startswith("SPAFIT scores higher than BitFit") and "a family of 1 comparison)" in reversed_line


def test_a_difference_the_uncorrected_interval_allows_can_fall_to_holm():
    rng = np.random.default_rng(3)
    base = rng.uniform(0.6, 0.8, 5)
    noisy = base - np.array([0.011, 0.002, 0.009, 0.006, 0.004])  # t-interval excludes zero on its own
    pairs = {("A", "B"): (base, noisy), **{("A", f"X{k}"): (base, base + rng.normal(0, 0.01, 5)) for k in range(5)}}
    first = inference.compare_family(pairs)[0]
    assert first.difference.excludes_zero and first.p < 0.05
    assert first.adjusted >= 0.05 and not first.detected
    assert "no difference detectable at this budget after Holm's correction" in str(first)


def test_a_difference_without_spread_is_not_judged_and_stays_in_the_family():
    # two seeds on eight test snippets: one more right on both seeds is +0.125 twice, and no interval exists
    same = ([0.625, 0.750], [0.500, 0.625])
    unjudged, other = inference.compare_family({("top", "cls"): same, ("SPAFIT", "BitFit"): (A, B)})
    assert not unjudged.judged and not unjudged.detected and unjudged.p == 1.0
    assert (unjudged.difference.higher, unjudged.difference.n) == (2, 2)
    assert str(unjudged) == ("top and cls: cannot be judged: top minus cls is +0.125 on every one of the 2 seeds, so "
                             "there is no spread to draw an interval from (too few seeds or test snippets for this "
                             "comparison)")
    # it still counts in the family, at p = 1 (Holm with two p-values, not one)
    assert other.adjusted == pytest.approx(inference.holm([1.0, stats.ttest_rel(A, B).pvalue])[1])
    assert other.family == 2 and other.detected
    with pytest.raises(ValueError, match="on every one of the 2 seeds"):  # the plain interval still refuses it
        paired_difference(*same)


@pytest.mark.parametrize("pairs, message", [({}, "non-empty dict"), ({"A-B": (A, B)}, "(name_a, name_b) tuple"),
                                            ({("A", "B"): A}, "must be (scores_a, scores_b)"),
                                            ({("A", "B"): (A, B[:3])}, "pair up seed by seed")])
def test_a_family_names_what_is_wrong_with_its_input(pairs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        inference.compare_family(pairs)


def test_alpha_must_be_a_level():
    with pytest.raises(ValueError, match="alpha must be a number between 0 and 1"):
        inference.compare_family({("A", "B"): (A, B)}, alpha=5)


# ---------------------------------------------------------------- the bootstrap over items and seeds


def pigeonhole_variance(diff):
    """The exact variance of the mean of diff when its rows (seeds) and columns (items) are resampled with
    replacement, independently: E[W W^T] = I + (1 - 1/n) J for multinomial counts W, and likewise for columns."""
    n, m = diff.shape
    rows = np.eye(n) + (1 - 1 / n) * np.ones((n, n))
    columns = np.eye(m) + (1 - 1 / m) * np.ones((m, m))
    return (np.trace(rows @ diff @ columns @ diff.T) - diff.sum() ** 2) / (n * m) ** 2


def correctness(seed, seeds=5, items=200, edge=0.05):
    rng = np.random.default_rng(seed)
    easy = rng.uniform(0.3, 0.95, items)  # items differ in difficulty, seeds in skill: both vary
    a = rng.uniform(size=(seeds, items)) < np.clip(easy + edge + rng.normal(0, 0.03, (seeds, 1)), 0, 1)
    b = rng.uniform(size=(seeds, items)) < easy
    return a.astype(int), b.astype(int)


def test_bootstrap_resamples_items_and_seeds_as_the_exact_variance_says():
    a, b = correctness(0)
    found = inference.bootstrap_difference(a, b, n_resamples=4000)
    assert found.mean == pytest.approx((a - b).mean())
    assert found.se == pytest.approx(math.sqrt(pigeonhole_variance((a - b).astype(float))), rel=0.06)
    assert found.low < found.mean < found.high
    assert (found.seeds, found.items) == (5, 200)
    assert str(found).startswith(f"{found.mean:+.3f} [") and "5 seeds x 200 items, both resampled" in str(found)


def test_with_one_seed_the_bootstrap_is_scipys_over_items():
    a, b = correctness(1, seeds=1)
    found = inference.bootstrap_difference(a, b, n_resamples=4000)
    scipy_own = stats.bootstrap(((a - b)[0],), np.mean, n_resamples=4000, method="percentile",
                                rng=np.random.default_rng(1))
    assert found.se == pytest.approx(scipy_own.standard_error, rel=0.08)
    assert found.low == pytest.approx(scipy_own.confidence_interval.low, abs=0.01)


def test_the_items_count_even_where_the_seeds_agree():
    a, b = correctness(2, seeds=1, items=300)
    a, b = np.repeat(a, 5, axis=0), np.repeat(b, 5, axis=0)  # five seeds that all gave the same answers
    with pytest.raises(ValueError, match="no spread"):  # a t-interval over seeds would claim certainty: refused
        paired_difference(a.mean(1), b.mean(1))
    both = inference.bootstrap_difference(a, b, n_resamples=2000)
    item_se = (a - b)[0].std() / math.sqrt(300)  # the items' own sampling error
    assert both.se == pytest.approx(item_se, rel=0.1) and both.high - both.low > 3 * item_se


def test_bootstrap_accepts_booleans_and_one_run_and_is_repeatable():
    a, b = correctness(3, seeds=1)
    first = inference.bootstrap_difference(a[0].astype(bool), b[0].astype(bool), n_resamples=500)
    assert first == inference.bootstrap_difference(a, b, n_resamples=500)
    same = inference.bootstrap_difference(a, a)
    assert (same.mean, same.low, same.high) == (0.0, 0.0, 0.0)


@pytest.mark.parametrize("a, b, message", [([[1, 0, 2]], [[1, 0, 1]], "must be 0/1"),
                                           ([[1, 0, 1]], [[1, 0]], "pair up seed by seed and item by item"),
                                           ([[[1]]], [[[1]]], "seeds x items")])
def test_bootstrap_names_what_is_wrong_with_its_input(a, b, message):
    with pytest.raises(ValueError, match=message):
        inference.bootstrap_difference(a, b)


# ---------------------------------------------------------------- McNemar


def test_mcnemar_counts_the_discordant_items_and_gives_the_exact_p():
    a = [1] * 8 + [0] * 2 + [1] * 50 + [0] * 40
    b = [0] * 8 + [1] * 2 + [1] * 50 + [0] * 40
    found = inference.mcnemar(a, b)
    assert (found.only_a, found.only_b) == (8, 2)
    assert found.p == pytest.approx(2 * (1 + 10 + 45) / 1024)  # 2 P(X <= 2), X ~ Binomial(10, 1/2)
    assert found.p == pytest.approx(stats.binomtest(2, 10).pvalue)
    assert str(found) == "right only for A on 8 items, only for B on 2; exact McNemar p = 0.11"


def test_mcnemar_without_discordant_items_finds_nothing():
    assert inference.mcnemar([1, 0, 1], [1, 0, 1]).p == 1.0


def test_mcnemar_needs_one_run_on_the_same_items():
    with pytest.raises(ValueError, match="the same items of one run"):
        inference.mcnemar([[1, 0], [0, 1]], [[1, 1], [0, 0]])
    with pytest.raises(ValueError, match="the same items of one run"):
        inference.mcnemar([1, 0, 1], [1, 0])


# ---------------------------------------------------------------- how many seeds


@pytest.mark.parametrize("effect, seeds", [(1.0, 10), (0.5, 34), (0.8, 15)])
def test_seeds_needed_matches_published_sample_sizes(effect, seeds):
    # G*Power, one-sample (paired) t-test, two-sided alpha 0.05, power 0.8: d = 1 -> 10, 0.5 -> 34, 0.8 -> 15
    assert inference.seeds_needed(0.01 * effect, 0.01) == seeds
    assert inference.paired_power(seeds, 0.01 * effect, 0.01) >= 0.8 > inference.paired_power(seeds - 1,
                                                                                          0.01 * effect, 0.01)


def test_power_agrees_with_a_simulated_paired_t_test():
    rng = np.random.default_rng(0)
    diffs = rng.normal(0.01, 0.012, size=(20000, 8))
    rejected = stats.ttest_1samp(diffs, 0, axis=1).pvalue < 0.05
    assert inference.paired_power(8, 0.01, 0.012) == pytest.approx(rejected.mean(), abs=0.012)


def test_a_one_point_difference_at_this_noise_needs_many_seeds():
    assert inference.seeds_needed(0.01, 0.01) == 10
    assert inference.seeds_needed(-0.01, 0.03) == inference.seeds_needed(0.01, 0.03) > 60


@pytest.mark.parametrize("call, message", [(lambda: inference.seeds_needed(0, 0.01), "cannot be detected"),
                                           (lambda: inference.seeds_needed(0.01, 0), "sd a positive number"),
                                           (lambda: inference.seeds_needed(0.01, 0.01, power=80), "power must be"),
                                           (lambda: inference.paired_power(1, 0.01, 0.01), "at least 2")])
def test_power_names_what_is_wrong(call, message):
    with pytest.raises(ValueError, match=message):
        call()
