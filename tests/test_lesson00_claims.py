"""Lesson 00's claims: the parameter counts it explains, the splits it describes, and what its section 7 reads from
the multi-seed record (tests/conftest.py: `record`) while teaching seeds, standard errors, paired differences, the
seeds a difference needs and the control, on lesson 00's own two settings: full fine-tuning and the head alone."""

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from spafit_course.lessons.budget import CONTROL
from spafit_course.lessons.inference import paired_power, seeds_needed
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.runs.profiles import get_profile

PROFILE = get_profile("quick")
ROOT = Path(__file__).resolve().parent.parent
FULL = "full fine-tuning"


def lesson_markdown() -> str:
    nb = json.loads((ROOT / "notebooks" / "00_setup_and_full_finetuning.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def settings(record):
    scores, majority = seed_scores(record, "01")
    return np.array(scores[FULL]), np.array(scores[CONTROL]), np.array(majority)


def test_the_two_embedding_totals_differ_by_the_embeddings_layernorm():
    from spafit_course.runs.models import meta_model

    model = meta_model(PROFILE.model_name)
    sizes = {name: p.numel() for name, p in model.named_parameters() if "embeddings" in name}
    without = sum(n for name, n in sizes.items() if "LayerNorm" not in name)
    assert without == 11_917_824
    assert sum(sizes.values()) - without == 2 * model.config.hidden_size == 768
    assert sum(p.numel() for p in model.parameters()) == 22_566_146


def test_learning_rates_are_the_ones_chosen_on_validation():
    assert PROFILE.learning_rates == {"head": 1e-2, "full": 2e-4, "bitfit": 3e-3, "lora": 3e-3, "spafit": 3e-3}
    assert get_profile("colab").learning_rates["full"] == 2e-5


def validation_means(method: str) -> dict[str, float]:
    """{learning rate: mean validation accuracy} of one method in docs/results.md's learning-rate grid."""
    results = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    rows = [line.split("|") for line in results.splitlines() if line.startswith(f"| {method} | 0.")]
    rows = [row for row in rows if len(row) == 9]  # the grid's rows: rate, trainable, three seeds, mean
    return {f"{float(row[2]):.0e}".replace("e-0", "e-"): round(float(row[-2].strip(" *")), 3) for row in rows}


@pytest.mark.parametrize("lesson_row, method, rate", [
    ("| head only | 3e-3: 0.668, 1e-2: 0.719, 3e-2: 0.716 | 1e-2 |", "head alone (N1 = N2 = L)", "head"),
    ("| full fine-tuning | 1e-4: 0.732, 2e-4: 0.741, 4e-4: 0.734 | 2e-4 |", FULL, "full")])
def test_the_learning_rate_table_is_the_grid_docs_results_keeps(lesson_row, method, rate):
    assert lesson_row in lesson_markdown()
    means = validation_means(method)
    tried = ", ".join(f"{lr}: {m:.3f}" for lr, m in means.items())
    assert lesson_row == f"| {lesson_row.split(' | ')[0].strip('| ')} | {tried} | {max(means, key=means.get)} |"
    assert f"{PROFILE.learning_rates[rate]:.0e}".replace("e-0", "e-") == max(means, key=means.get)


def test_the_lesson_uses_no_method_before_its_lesson():
    """Its prose names BitFit, LoRA and SPAFIT nowhere (lesson 04's method, lesson 02's low-rank updates instead);
    only the references, the pointer to lesson 01 and the names of a variable and of AdaLoRA remain."""
    text = lesson_markdown()
    prose = text[:text.index("## References")].replace("SPAFIT_PROFILE", "").replace("AdaLoRA", "")
    for method in ("BitFit", "LoRA", "SPAFIT"):
        assert method not in prose, method


def test_every_split_keeps_the_training_splits_share_of_positive_snippets():
    """Section 2: the splits are stratified; section 7.5 quotes the training split's 57.8 %."""
    from spafit_course.runs.data import load_task_data

    data = load_task_data(PROFILE.task)
    shares = {split: sum(rows["label"]) / len(rows) for split, rows in data.items()}
    assert round(shares["train"], 3) == 0.578
    assert all(abs(share - shares["train"]) < 0.01 for share in shares.values()), shares


def test_one_seed_cannot_place_a_score_to_the_nearest_point(record):
    """Section 7's think-first: full fine-tuning's scores spread over about 1.5 points, the head alone's over 3."""
    full, head, _ = settings(record)
    assert np.ptp(full) == pytest.approx(0.015, abs=0.003)
    assert np.ptp(head) == pytest.approx(0.03, abs=0.003)


def test_full_fine_tuning_scores_higher_than_the_head_alone_by_about_five_points(record):
    d = difference(record, "01", FULL, CONTROL)
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n == 5
    assert d.mean == pytest.approx(0.05, abs=0.005)
    # "the interval runs from about 2.5 to 7"
    assert d.low == pytest.approx(0.025, abs=0.003) and d.high == pytest.approx(0.07, abs=0.003)


def test_the_interval_is_the_mean_plus_or_minus_2_78_standard_errors(record):
    full, head, _ = settings(record)
    diff = full - head
    assert len(diff) == 5 and stats.t.ppf(0.975, 4) == pytest.approx(2.78, abs=0.005)
    d = difference(record, "01", FULL, CONTROL)
    assert d.high - d.mean == pytest.approx(2.776 * stats.sem(diff), rel=1e-3)


def test_all_five_seeds_on_one_side_by_chance_one_time_in_16():
    assert 2 * 0.5 ** 5 == 1 / 16


def test_a_one_point_difference_needs_about_28_seeds_and_five_find_it_one_time_in_six(record):
    full, head, _ = settings(record)
    sd = np.std(full - head, ddof=1)
    assert seeds_needed(0.01, sd) == 28
    assert paired_power(5, 0.01, sd) == pytest.approx(1 / 6, abs=0.02)


def half_widths(record, a, b):
    scores, _ = seed_scores(record, "01")
    a, b = np.array(scores[a]), np.array(scores[b])
    paired = stats.t.ppf(0.975, len(a) - 1) * stats.sem(a - b)
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
    return paired, (welch.high - welch.low) / 2, np.corrcoef(a, b)[0, 1]


def test_pairing_widens_this_interval_because_the_two_moved_in_opposite_directions(record):
    paired, unpaired, r = half_widths(record, FULL, CONTROL)
    assert r == pytest.approx(-0.9, abs=0.05)  # "a correlation of about -0.9"
    assert paired > unpaired
    # "the seeds on which the head alone did best were among those on which full fine-tuning did worst"
    full, head, _ = settings(record)
    assert set(np.argsort(head)[-2:]) == set(np.argsort(full)[:2])


def test_lesson_01_shows_a_pair_that_rises_and_falls_together(record):
    paired, unpaired, r = half_widths(record, "BitFit", CONTROL)
    assert r > 0.9 and paired < unpaired / 2


def test_the_control_gains_about_13_points_and_full_fine_tuning_about_5_beyond_it(record):
    full, head, majority = settings(record)
    assert np.mean(head - majority) == pytest.approx(0.13, abs=0.005)
    assert np.mean(head - majority) > np.mean(full - head)  # "most of what full fine-tuning reaches"
    assert difference(record, "01", FULL, CONTROL).excludes_zero
