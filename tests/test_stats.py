"""The paired comparison the lessons rest on, against SciPy's own paired t-test (lessons 00-06)."""

import numpy as np
import pytest
from scipy import stats

from spafit_course.lessons.stats import mean_and_se, paired_difference, verdict

A = [0.741, 0.705, 0.733, 0.752, 0.718]
B = [0.700, 0.681, 0.712, 0.730, 0.690]


def test_interval_equals_scipys_paired_t_test():
    difference = paired_difference(A, B)
    reference = stats.ttest_rel(A, B).confidence_interval(0.95)
    assert difference.low == pytest.approx(reference.low)
    assert difference.high == pytest.approx(reference.high)
    assert difference.mean == pytest.approx(np.mean(np.subtract(A, B)))
    assert (difference.higher, difference.lower, difference.n) == (5, 0, 5)


def test_mean_and_standard_error():
    spread = mean_and_se(A)
    assert spread.mean == pytest.approx(np.mean(A))
    assert spread.se == pytest.approx(np.std(A, ddof=1) / np.sqrt(len(A)))
    assert str(spread) == f"{np.mean(A):.3f} ± {spread.se:.3f}"


def test_verdict_follows_the_interval():
    clear = paired_difference(A, B)
    assert clear.excludes_zero
    assert verdict("SPAFIT", "BitFit", clear).startswith("SPAFIT scores higher than BitFit, by about 2.7 points")
    assert verdict("BitFit", "SPAFIT", paired_difference(B, A)) == verdict("SPAFIT", "BitFit", clear)
    assert "(+0.027 [+0.017, +0.037], higher on 5 of 5 seeds)" in verdict("BitFit", "SPAFIT", paired_difference(B, A))
    mixed = paired_difference([0.70, 0.72, 0.69, 0.73, 0.71], [0.71, 0.70, 0.70, 0.72, 0.70])
    assert not mixed.excludes_zero
    assert "no difference detectable at this budget" in verdict("LoRA", "SPAFIT", mixed)
    assert (mixed.higher, mixed.lower) == (3, 2)


@pytest.mark.parametrize("a, b, message", [([0.7], [0.6], "at least two"), ([0.7, 0.8, 0.9], [0.6, 0.5], "pair up"),
                                           ([0.7, float("nan")], [0.6, 0.5], "finite"),
                                           ([[0.7, 0.8]], [[0.6, 0.5]], "at least two")])
def test_bad_scores_name_the_problem(a, b, message):
    with pytest.raises(ValueError, match=message):
        paired_difference(a, b)


def test_holm_adjustment_matches_the_step_down_rule_by_brute_force():
    import itertools

    from spafit_course.lessons.stats import holm_adjusted

    p = [0.01, 0.04, 0.03, 0.005, 0.2]
    adjusted = holm_adjusted(p)
    # Holm rejects H_i at level a iff every hypothesis with a smaller p is rejected and (m - rank) p_i <= a
    for alpha in (0.01, 0.02, 0.05, 0.1, 0.5):
        order = sorted(range(len(p)), key=p.__getitem__)
        rejected = set()
        for rank, i in enumerate(order):
            if p[i] * (len(p) - rank) > alpha:
                break
            rejected.add(i)
        assert {i for i, q in enumerate(adjusted) if q <= alpha} == rejected
    assert adjusted == [0.04, 0.09, 0.09, 0.025, 0.2]
    assert all(q >= v for q, v in zip(adjusted, p)) and not list(itertools.filterfalse(lambda q: q <= 1, adjusted))


def test_paired_p_value_is_scipys_paired_t_test():
    from scipy import stats

    from spafit_course.lessons.stats import paired_p_value

    a, b = [0.71, 0.74, 0.70, 0.73, 0.72], [0.70, 0.71, 0.70, 0.70, 0.69]
    assert paired_p_value(a, b) == pytest.approx(stats.ttest_rel(a, b).pvalue)
    assert paired_p_value([0.7, 0.7], [0.6, 0.6]) == 1.0  # no spread: the t-test says nothing


def test_holm_verdicts_claim_only_what_survives_the_correction():
    from spafit_course.lessons.stats import holm_verdicts, paired_p_value

    clear = ([0.80, 0.82, 0.79, 0.81, 0.80], [0.70, 0.71, 0.70, 0.72, 0.69])
    marginal = ([0.72, 0.74, 0.70, 0.73, 0.71], [0.71, 0.72, 0.70, 0.71, 0.70])
    assert paired_p_value(*marginal) < 0.05  # detectable alone ...
    lines = holm_verdicts([("A", "B", *clear), ("C", "D", *marginal), ("E", "F", *marginal), ("G", "H", *marginal),
                           ("I", "J", *marginal), ("K", "L", *marginal), ("M", "N", *marginal)])
    assert lines[0].startswith("A scores higher than B, by about 10.0 points")
    assert "Holm-adjusted p" in lines[0]
    assert all("no difference detectable after Holm's correction over 7" in line for line in lines[1:])  # ... not in a family
    assert holm_verdicts([("B", "A", clear[1], clear[0])])[0].startswith("A scores higher than B")
