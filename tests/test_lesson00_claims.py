"""Lesson 00's claims: the parameter counts it explains, and what its section 7 reads from the multi-seed record
(tests/conftest.py: `record`) while teaching seeds, standard errors, paired differences and the control."""

import numpy as np
import pytest
from scipy import stats

from spafit_course.lessons.budget import CONTROL
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.runs.profiles import get_profile

PROFILE = get_profile("quick")


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


def test_bitfit_spreads_over_about_five_points(record):
    scores, _ = seed_scores(record, "04")
    assert 0.04 <= max(scores["BitFit"]) - min(scores["BitFit"]) <= 0.06


def test_full_fine_tuning_scores_higher_than_bitfit_by_about_four_points(record):
    d = difference(record, "04", "full fine-tuning", "BitFit")
    assert d.excludes_zero and d.mean > 0
    assert d.mean == pytest.approx(0.04, abs=0.01)


def test_the_interval_is_the_mean_plus_or_minus_2_78_standard_errors(record):
    scores, _ = seed_scores(record, "04")
    diff = np.array(scores["full fine-tuning"]) - np.array(scores["BitFit"])
    assert len(diff) == 5 and stats.t.ppf(0.975, 4) == pytest.approx(2.78, abs=0.005)
    d = difference(record, "04", "full fine-tuning", "BitFit")
    assert d.high - d.mean == pytest.approx(2.776 * stats.sem(diff), rel=1e-3)


def test_all_five_seeds_on_one_side_by_chance_one_time_in_16():
    assert 2 * 0.5 ** 5 == 1 / 16


def half_widths(scores, a, b):
    a, b = np.array(scores[a]), np.array(scores[b])
    paired = stats.t.ppf(0.975, len(a) - 1) * stats.sem(a - b)
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval()
    return paired, (welch.high - welch.low) / 2, np.corrcoef(a, b)[0, 1]


@pytest.mark.parametrize("a, b", [("SPAFIT", "BitFit"), ("BitFit", CONTROL)])
def test_pairing_narrows_the_interval_by_about_a_third_where_scores_move_together(record, a, b):
    scores, _ = seed_scores(record, "04")
    paired, unpaired, r = half_widths(scores, a, b)
    assert 0.6 <= r <= 0.8  # "about +0.7"
    assert 0.55 <= paired / unpaired <= 0.75


def test_pairing_gains_nothing_for_full_and_bitfit(record):
    scores, _ = seed_scores(record, "04")
    paired, unpaired, r = half_widths(scores, "full fine-tuning", "BitFit")
    assert abs(r) < 0.35
    assert paired >= 0.95 * unpaired


def test_spafit_and_bitfit_are_not_told_apart(record):
    assert not difference(record, "04", "SPAFIT", "BitFit").excludes_zero


def test_the_control_gains_about_16_points_and_the_methods_1_to_6_beyond_it(record):
    scores, majority = seed_scores(record, "04")
    gain = np.mean(np.array(scores[CONTROL]) - np.array(majority))
    assert gain == pytest.approx(0.16, abs=0.015)
    beyond = [difference(record, "04", label, CONTROL).mean for label in scores if label != CONTROL]
    assert 0.005 <= min(beyond) and max(beyond) <= 0.065
    assert min(beyond) == pytest.approx(0.01, abs=0.006) and max(beyond) == pytest.approx(0.06, abs=0.006)
