"""Lesson 02's claims, held against the multi-seed record it reads (tests/conftest.py: `record`) and, for the
scale, one Adam step."""

import json
import math
from pathlib import Path

import pytest

from spafit_course.lessons.budget import CONTROL
from spafit_course.lessons.lora_runs import first_step_change
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.lessons.inference import compare_family
from spafit_course.runs.profiles import get_profile

ROOT = Path(__file__).resolve().parent.parent


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


PAIRS = [("LoRA r=1", CONTROL), ("LoRA r=8", CONTROL), ("LoRA r=32", CONTROL),
         ("LoRA r=8", "LoRA r=1"), ("LoRA r=32", "LoRA r=8"), ("LoRA r=32", "LoRA r=1")]


def holm(record) -> dict:
    """{pair: whether it survives Holm's correction} over the lesson's family of six verdicts."""
    scores, _ = seed_scores(record, "02")
    family = compare_family({(a, b): (scores[a], scores[b]) for a, b in PAIRS})
    return {(c.name_a, c.name_b): c.detected for c in family}


@pytest.mark.parametrize("rank, points", [(1, 3), (8, 4), (32, 4)])
def test_every_rank_scores_higher_than_the_control_on_every_seed(record, rank, points):
    d = difference(record, "02", f"LoRA r={rank}", CONTROL)
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n == 5
    assert d.mean * 100 == pytest.approx(points, abs=0.5)
    assert holm(record)[(f"LoRA r={rank}", CONTROL)]


def test_r32_against_r1_is_higher_by_about_a_point_and_survives_holm(record):
    d = difference(record, "02", "LoRA r=32", "LoRA r=1")
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n
    assert d.mean == pytest.approx(0.01, abs=0.002)
    # "between half a point and 1.3 points"
    assert d.low == pytest.approx(0.005, abs=0.001) and d.high == pytest.approx(0.013, abs=0.001)
    assert holm(record)[("LoRA r=32", "LoRA r=1")]


def test_r8_against_r1_is_higher_on_every_seed_but_not_called_after_holm(record):
    d = difference(record, "02", "LoRA r=8", "LoRA r=1")
    assert d.higher == d.n == 5 and d.mean == pytest.approx(0.008, abs=0.001)
    assert not holm(record)[("LoRA r=8", "LoRA r=1")]


def test_r32_against_r8_is_not_detectable(record):
    assert not difference(record, "02", "LoRA r=32", "LoRA r=8").excludes_zero
    assert not holm(record)[("LoRA r=32", "LoRA r=8")]


def test_the_lora_learning_rate_row_is_the_one_docs_results_keeps():
    results = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    rows = [line.split("|") for line in results.splitlines() if line.startswith("| LoRA r=8 q/v | 0.")]
    means = {float(row[2]): round(float(row[-2].strip(" *")), 3) for row in rows}
    assert means == {0.001: 0.650, 0.003: 0.747, 0.01: 0.737}
    assert max(means, key=means.get) == get_profile("quick").learning_rates["lora"]
    nb = json.loads((ROOT / "notebooks" / "02_lora.ipynb").read_text(encoding="utf-8"))
    text = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown").replace("\n", " ")
    assert "1e-3 0.650, 3e-3 0.747, 1e-2 0.737" in text
