"""Lesson 01's claims, held against the multi-seed record it reads (tests/conftest.py: `record`) and, for the
mechanism, one backward pass."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from spafit_course.lessons.bitfit_runs import BIAS_FAMILIES
from spafit_course.lessons.budget import CONTROL
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.lessons.inference import compare_family
from spafit_course.runs.profiles import get_profile

PROFILE = get_profile("quick")
ROOT = Path(__file__).resolve().parent.parent


def test_key_bias_gradient_is_rounding_noise():
    """The lesson's one backward pass: key biases get gradients orders of magnitude below every other family,
    and the query biases the smallest of the five that learn (section 6: yet they move most, through Adam)."""
    from spafit_course.runs.data import load_polarity
    from spafit_course.runs.models import load_model_and_tokenizer
    from spafit_course.tuning.bitfit import apply_bitfit

    model, tokenizer = load_model_and_tokenizer(PROFILE.model_name, seed=PROFILE.seed)
    apply_bitfit(model)
    rows = load_polarity()["train"].select(range(16))
    batch = tokenizer(list(rows["sentence"]), padding=True, return_tensors="pt")
    model(**batch, labels=torch.tensor(list(rows["label"]))).loss.backward()
    size = {}
    for key, family in BIAS_FAMILIES.items():
        grads = [p.grad.abs().mean().item() for n, p in model.named_parameters()
                 if n.endswith(f"{key}.bias") and ".layer." in n]
        size[family] = sum(grads) / len(grads)
    others = {family: v for family, v in size.items() if family != "key"}
    assert size["key"] * 1e4 < min(others.values())
    assert min(others, key=others.get) == "query"


# Section 4: what the head reads

def test_the_mean_probe_reads_the_top_layer_about_3_points_better_than_cls_on_every_seed(record):
    scores, _ = seed_scores(record, "03-probes")
    top = max(int(label.rsplit(" ", 1)[1]) for label in scores)
    d = difference(record, "03-probes", f"mean probe, layer {top}", f"cls probe, layer {top}")
    assert d.excludes_zero and d.higher == d.n == 5
    assert d.mean == pytest.approx(0.03, abs=0.01)


def lesson_markdown(stem: str) -> str:
    nb = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")


def test_the_head_table_is_the_one_docs_results_keeps():
    table = [line for line in lesson_markdown("01_bitfit").splitlines()
             if line.startswith(("| head only | 0.", "| BitFit | 0.", "| full | 0."))]
    assert len(table) == 3
    results = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    assert all(line in results for line in table)
    # no method before its lesson: LoRA and SPAFIT rows stay in docs/results.md
    assert not any(line.startswith(("| LoRA", "| SPAFIT")) for line in lesson_markdown("01_bitfit").splitlines())


# (mean head, [CLS] + trained pooler) per method, seeds 42 and 43, as docs/results.md and the lesson give them
SEED42 = {"head": (0.604, 0.610), "bitfit": (0.683, 0.641), "lora": (0.735, 0.694), "spafit": (0.705, 0.690),
          "full": (0.762, 0.720)}
SEED43 = {"head": (0.654, 0.641), "bitfit": (0.741, 0.715), "lora": (0.738, 0.728), "spafit": (0.737, 0.737),
          "full": (0.743, 0.752)}


def test_the_mean_head_scored_higher_in_4_of_the_6_paired_runs_the_lesson_shows():
    shown = ("head", "bitfit", "full")
    pairs = [SEED42[k] for k in shown] + [SEED43[k] for k in shown]
    assert sum(m > c for m, c in pairs) == 4 and sum(m < c for m, c in pairs) == 2
    assert [k for k in shown if SEED42[k][0] < SEED42[k][1]] == ["head"]
    assert [k for k in shown if SEED43[k][0] < SEED43[k][1]] == ["full"]
    assert round(169_346 / 21_506) == 8  # "BitFit trained 8 times fewer parameters with it"


def test_for_the_methods_of_lessons_02_and_04_the_mean_head_was_higher_in_three_of_four_and_level_once():
    pairs = [table[k] for table in (SEED42, SEED43) for k in ("lora", "spafit")]
    assert sum(m > c for m, c in pairs) == 3 and sum(m == c for m, c in pairs) == 1


def validation_means(method: str) -> dict[str, float]:
    """{learning rate: mean validation accuracy} of one method in docs/results.md's learning-rate grid."""
    results = (ROOT / "docs" / "results.md").read_text(encoding="utf-8")
    rows = [line.split("|") for line in results.splitlines() if line.startswith(f"| {method} | 0.")]
    rows = [row for row in rows if len(row) == 9]  # the grid's rows: rate, trainable, three seeds, mean
    return {f"{float(row[2]):.0e}".replace("e-0", "e-"): round(float(row[-2].strip(" *")), 3) for row in rows}


def test_bitfit_learning_rate_row_is_the_one_docs_results_keeps():
    means = validation_means("BitFit")
    assert means == {"1e-3": 0.634, "3e-3": 0.723, "1e-2": 0.706}
    assert max(means, key=means.get) == "3e-3" == f"{PROFILE.learning_rates['bitfit']:.0e}".replace("e-0", "e-")
    text = lesson_markdown("01_bitfit").replace("\n", " ")
    assert "1e-3 0.634, 3e-3 0.723, 1e-2 0.706" in text


def test_a_trained_pooler_would_be_seven_times_bitfit():
    from spafit_course.runs.models import meta_model
    from spafit_course.tuning.bitfit import apply_bitfit
    from spafit_course.tuning.params import count_parameters

    mean = apply_bitfit(meta_model(PROFILE.model_name, head="mean"))
    cls = apply_bitfit(meta_model(PROFILE.model_name, head="cls"))
    assert count_parameters(mean).trainable == count_parameters(cls).trainable == 21_506
    pooler = sum(p.numel() for n, p in cls.named_parameters() if ".pooler." in n)
    assert pooler == 147_840 and round(pooler / 21_506) == 7
    assert not any(".pooler." in n for n, _ in mean.named_parameters())
    # "seven eighths of what BitFit would train, two thirds or more of what LoRA and SPAFIT would"
    assert pooler / 169_346 == pytest.approx(7 / 8, abs=0.01)
    assert min(pooler / 222_338, pooler / 187_010) >= 0.66


def test_paper_profiles_freeze_the_pooler_as_a_reconstruction():
    assert not get_profile("colab").train_pooler and not get_profile("paper").train_pooler
    assert get_profile("colab").head == get_profile("paper").head == "cls"
    text = (ROOT / "docs" / "paper-profile.md").read_text(encoding="utf-8")
    assert "| pooler | frozen | the paper does not mention it |" in text


# Section 5: BitFit beside the control and full fine-tuning

PAIRS = [("BitFit", CONTROL), ("full fine-tuning", "BitFit"), ("full fine-tuning", CONTROL)]


def holm(record) -> list[bool]:
    """Whether each of the lesson's family of three verdicts survives Holm's correction, in PAIRS' order."""
    scores, _ = seed_scores(record, "01")
    return [c.detected for c in compare_family({(a, b): (scores[a], scores[b]) for a, b in PAIRS})]


def test_bitfit_scores_higher_than_the_control_by_about_1_5_points_on_every_seed(record):
    d = difference(record, "01", "BitFit", CONTROL)
    assert d.excludes_zero and d.higher == d.n == 5
    assert d.mean == pytest.approx(0.015, abs=0.003)
    assert d.low == pytest.approx(0.01, abs=0.003) and d.high == pytest.approx(0.02, abs=0.003)  # "about 1 to 2"
    assert holm(record)[0]  # "survives Holm's correction over the lesson's three comparisons"


def test_bitfit_and_the_control_rose_and_fell_together_so_pairing_pays(record):
    scores, _ = seed_scores(record, "01")
    bitfit, control = np.array(scores["BitFit"]), np.array(scores[CONTROL])
    assert np.corrcoef(bitfit, control)[0, 1] == pytest.approx(0.95, abs=0.03)
    d = difference(record, "01", "BitFit", CONTROL)
    assert (d.high - d.low) / 2 < min(np.ptp(bitfit), np.ptp(control)) / 2  # "far narrower than either spread"


def test_full_fine_tuning_scores_higher_than_bitfit_by_about_3_points(record):
    d = difference(record, "01", "full fine-tuning", "BitFit")
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n == 5
    assert d.mean == pytest.approx(0.03, abs=0.005)
    assert holm(record)[1]


def test_full_fine_tuning_scores_higher_than_the_control_by_about_5_points(record):
    d = difference(record, "01", "full fine-tuning", CONTROL)
    assert d.excludes_zero and d.mean > 0
    assert d.mean == pytest.approx(0.05, abs=0.005)
    assert holm(record)[2]


def test_every_result_lands_13_to_18_points_above_the_majority_rate(record):
    scores, majority = seed_scores(record, "01")
    gains = {label: np.mean(np.array(v) - np.array(majority)) for label, v in scores.items()}
    assert round(min(gains.values()), 2) == 0.13 and round(max(gains.values()), 2) == 0.18
    assert min(gains, key=gains.get) == CONTROL


def test_full_trains_over_a_thousand_times_bitfit(record):
    rows = {row["label"]: row["trainable"] for row in record["results"]["01"]["42"]["rows"]}
    assert rows["full fine-tuning"] / rows["BitFit"] > 1000 and rows["BitFit"] / rows[CONTROL] > 27


# Section 6: which biases moved

def test_key_biases_moved_nearly_300_times_less_on_every_seed(record):
    for seed, result in record["results"]["01"].items():
        change = result["bias_change"]
        others = [v for family, v in change.items() if family != "key"]
        assert 250 < min(others) / change["key"] < 350, seed


def test_query_biases_moved_most_and_the_five_within_1_4_times_on_every_seed(record):
    for seed, result in record["results"]["01"].items():
        others = {family: v for family, v in result["bias_change"].items() if family != "key"}
        assert max(others, key=others.get) == "query", seed
        assert max(others.values()) / min(others.values()) <= 1.4, seed
