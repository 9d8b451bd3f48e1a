"""Lesson 02's claims, held against the multi-seed record it reads (tests/conftest.py: `record`) and, for the
scale, one Adam step."""

import math

import pytest

from spafit_course.lessons.budget import CONTROL
from spafit_course.lessons.lora_runs import first_step_change
from spafit_course.lessons.seeds import difference


def growth(alpha_of_r):
    return first_step_change(64, alpha_of_r(64)) / first_step_change(1, alpha_of_r(1))


def test_first_step_shrinks_with_fixed_alpha_grows_with_2r_and_is_flattest_with_sqrt():
    fixed, doubled, root = growth(lambda r: 16), growth(lambda r: 2 * r), growth(lambda r: 16 * (r / 8) ** 0.5)
    assert fixed < 1 < doubled
    assert doubled > 1 / fixed  # alpha = 2r grows by a larger factor than alpha fixed shrinks
    assert abs(math.log(root)) < min(abs(math.log(fixed)), abs(math.log(doubled)))
    # the recap's sizes: "shrinks about five-fold", "grows about twelve-fold", "grows by about half"
    assert 1 / fixed == pytest.approx(5, abs=0.6)
    assert doubled == pytest.approx(12, abs=1)
    assert root == pytest.approx(1.5, abs=0.1)


def test_with_alpha_fixed_a_larger_rank_never_gets_a_larger_first_step():
    steps = [first_step_change(r, 16) for r in (1, 4, 8, 16, 64)]
    assert steps == sorted(steps, reverse=True)


@pytest.mark.parametrize("rank, points", [(1, 4), (8, 5), (32, 5)])
def test_every_rank_scores_higher_than_the_control_on_every_seed(record, rank, points):
    d = difference(record, "02", f"LoRA r={rank}", CONTROL)
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n == 5
    assert d.mean * 100 == pytest.approx(points, abs=0.5)


@pytest.mark.parametrize("a, b", [("LoRA r=8", "LoRA r=1"), ("LoRA r=32", "LoRA r=8")])
def test_neighbouring_ranks_are_not_told_apart(record, a, b):
    assert not difference(record, "02", a, b).excludes_zero


def test_r32_against_r1_is_higher_by_about_a_point_with_the_lower_end_at_zero(record):
    d = difference(record, "02", "LoRA r=32", "LoRA r=1")
    assert d.excludes_zero and d.mean > 0
    assert d.mean == pytest.approx(0.01, abs=0.003)
    assert d.low < 0.001  # "the interval's lower end sits at zero": only just
    assert d.high <= 0.025  # "at most a point or two"
