"""Lesson 06's measuring tools on known inputs: CKA, drift, per-layer budgets, the matched rank, run labels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from spafit_course import SpafitConfig, closed_form_count
from spafit_course.lessons.budget import lesson_profile
from spafit_course.lessons.budget_ablation import layer_budget, matched_rank, run_config, uniform_lora
from spafit_course.lessons.forgetting_probe import drift_by_layer, linear_cka
from spafit_course.lessons.forgetting_views import draw_probe_setup
from spafit_course.runs.models import model_config

PROFILE = lesson_profile()


def test_cka_is_one_for_rotations_and_one_scale_and_low_for_noise():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 16))
    rotation, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    assert linear_cka(x, 3.0 * x @ rotation + 5.0) == pytest.approx(1.0)
    # lesson 06: a stretch that scales some directions more than others is drift to CKA (a linear probe would
    # not notice it)
    assert linear_cka(x, x * np.array([10.0] + [1.0] * 15)) < 0.9
    assert linear_cka(x, rng.normal(size=(200, 16))) < 0.2
    assert drift_by_layer([x, x], [x, rng.normal(size=(200, 16))])[0] == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match=r"same n, got shapes \(200, 16\) and \(100, 16\)"):
        linear_cka(x, x[:100])
    with pytest.raises(ValueError, match=r"same number of layers, got 2 and 1"):
        drift_by_layer([x, x], [x])


def test_layer_budget_sums_to_the_closed_form_inside_the_layers():
    hf = model_config(PROFILE.model_name)
    head_only = closed_form_count(hf, SpafitConfig(n1=6, n2=6, train_pooler=PROFILE.train_pooler)).trainable
    for label in ("spafit", "bitfit", "lora", "spafit N1=0 N2=4", "uniform LoRA r=4"):
        _, config = run_config(PROFILE, label)
        assert sum(layer_budget(hf, config)) == closed_form_count(hf, config).trainable - head_only, label
    assert layer_budget(hf, run_config(PROFILE, "spafit")[1]) == [0, 0, 3456, 3456, 15744, 15744]


def test_matched_rank_is_the_closest_count():
    hf = model_config(PROFILE.model_name)
    target = sum(layer_budget(hf, run_config(PROFILE, "spafit")[1]))
    rank = matched_rank(PROFILE)
    gaps = {r: abs(sum(layer_budget(hf, uniform_lora(PROFILE, r))) - target) for r in range(1, 33)}
    assert rank == 2 and gaps[rank] == min(gaps.values())
    config, spafit = uniform_lora(PROFILE, rank), run_config(PROFILE, "spafit")[1]
    # only the placement differs: SPAFIT's targets, alpha and bias terms, on every layer
    assert (config.n1, config.n2) == (0, 0)
    assert (config.targets, config.alpha, config.bias_terms) == (spafit.targets, spafit.alpha, spafit.bias_terms)


def test_run_labels_name_their_settings_and_bad_ones_fail():
    method, config = run_config(PROFILE, "spafit N1=1 N2=3")
    assert (method, config.n1, config.n2, config.r) == ("spafit", 1, 3, 8)
    assert run_config(PROFILE, "full") == ("full", None)
    for bad in ("spafit 2 4", "uniform LoRA r=x", "LoRA"):
        with pytest.raises(ValueError, match=rf"unknown run label '{bad}'; use head, full, bitfit, lora, spafit, "):
            run_config(PROFILE, bad)
    with pytest.raises(ValueError, match=r"need 0 <= N1 <= N2 <= L"):
        run_config(PROFILE, "spafit N1=4 N2=2")
    with pytest.raises(ValueError, match=r"need 0 <= N1 <= N2 <= L = 6, got N1=2, N2=9"):
        run_config(PROFILE, "spafit N1=2 N2=9")


def test_probe_figure_draws_both_models():
    figure = draw_probe_setup()
    assert {"checkpoint", "fine-tuned", "frozen features", "logistic-regression"} <= {
        p.get_gid() for p in figure.axes[0].patches}
    plt.close(figure)
