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
