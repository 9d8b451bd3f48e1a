"""Each lesson's claims about its own results, held by rerunning its experiment on the lesson's budget.

Every test calls the same function as the lesson (spafit_course.lessons) with the same profile and seed, so a
change that moves a lesson's result across what its prose says fails here. The runs are kept for the rest of
the session (conftest.py), and the lessons executed by nbval afterwards show these very runs.
"""

import pytest
import torch

from spafit_course.lessons.bitfit_runs import BIAS_FAMILIES, bitfit_and_full
from spafit_course.lessons.budget import LEARNING_MARGIN
from spafit_course.lessons.comparison_runs import boundary_sweep, recorded_comparison
from spafit_course.lessons.layer_runs import layer_probes, top_k_layers
from spafit_course.lessons.lora_runs import first_step_change, lora_ranks
from spafit_course.lessons.results import trained_results
from spafit_course.lessons.spafit_runs import four_methods
from spafit_course.runs.profiles import get_profile

PROFILE = get_profile("quick")


def assert_every_result_learns(result):
    """The course's bar: every trained score at least LEARNING_MARGIN above its majority-class rate."""
    bar = result["majority"] + LEARNING_MARGIN
    low = [(label, round(score, 3)) for label, score in trained_results(result) if score < bar]
    assert not low, f"below the majority rate {result['majority']:.3f} + {LEARNING_MARGIN}: {low}"


@pytest.fixture(scope="module")
def lesson01():
    return bitfit_and_full(PROFILE)


@pytest.fixture(scope="module")
def lesson02():
    return lora_ranks(PROFILE)


@pytest.fixture(scope="module")
def lesson03_probes():
    return layer_probes(PROFILE)


@pytest.fixture(scope="module")
def lesson03_top_k():
    return top_k_layers(PROFILE)


@pytest.fixture(scope="module")
def lesson04():
    return four_methods(PROFILE)


@pytest.fixture(scope="module")
def lesson05():
    return boundary_sweep(PROFILE)


@pytest.mark.parametrize("name", ["lesson01", "lesson02", "lesson03_probes", "lesson03_top_k", "lesson04",
                                  "lesson05"])
def test_every_trained_result_clears_the_majority_rate(name, request):
    assert_every_result_learns(request.getfixturevalue(name))


# Lesson 01 ---------------------------------------------------------------------------------------------------

def test_lesson01_full_fine_tuning_scores_higher_than_bitfit_with_over_100_times_the_parameters(lesson01):
    bitfit, full = lesson01["rows"]
    assert full["score"] > bitfit["score"]
    assert full["trainable"] > 100 * bitfit["trainable"]
    assert lesson01["train_pooler"] is True


def test_lesson01_key_biases_barely_move_while_every_other_family_does(lesson01):
    change = lesson01["bias_change"]
    others = [v for family, v in change.items() if family != "key"]
    assert change["key"] * 100 < min(others)


def test_lesson01_key_bias_gradient_is_rounding_noise():
    """The lesson's one backward pass: key biases get gradients orders of magnitude below every other family."""
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
    assert size["key"] * 1e4 < min(v for family, v in size.items() if family != "key")


# Lesson 02 ---------------------------------------------------------------------------------------------------

def test_lesson02_first_step_shrinks_with_fixed_alpha_grows_with_2r_and_is_flattest_with_sqrt():
    def growth(alpha_of_r):
        return first_step_change(64, alpha_of_r(64)) / first_step_change(1, alpha_of_r(1))

    fixed, doubled, root = growth(lambda r: 16), growth(lambda r: 2 * r), growth(lambda r: 16 * (r / 8) ** 0.5)
    assert fixed < 1 < doubled
    assert doubled > 1 / fixed  # alpha = 2r grows by a larger factor than alpha fixed shrinks
    assert abs(torch.log(torch.tensor(root))) < min(abs(torch.log(torch.tensor(fixed))),
                                                     abs(torch.log(torch.tensor(doubled))))


def test_lesson02_ranks_use_a_fixed_alpha_and_differ_by_a_few_points_only(lesson02):
    assert {row["alpha"] for row in lesson02["rows"]} == {16}
    assert [row["r"] for row in lesson02["rows"]] == [1, 8, 32]
    scores = [row["score"] for row in lesson02["rows"]]
    assert max(scores) - min(scores) < 0.05


# Lesson 03 ---------------------------------------------------------------------------------------------------

def test_lesson03_embedding_cls_is_constant_and_the_best_layer_is_not_the_top(lesson03_probes):
    assert lesson03_probes["cls"][0] is None
    mean = lesson03_probes["mean"]
    assert max(range(len(mean)), key=mean.__getitem__) != len(mean) - 1



def test_lesson03_fewer_top_layers_match_training_them_all(lesson03_top_k):
    rows = {row["k"]: row for row in lesson03_top_k["rows"]}
    every = rows[max(rows)]
    assert sorted(rows) == [1, 2, 4, 6]
    trainable = [rows[k]["trainable"] for k in sorted(rows)]
    assert trainable == sorted(trainable) and len(set(trainable)) == len(trainable)
    best = max(rows.values(), key=lambda row: row["score"])
    assert best["k"] < every["k"] and best["score"] >= every["score"]
    assert abs(rows[1]["score"] - every["score"]) <= 0.03  # "within a few points of training all six"
    assert [rows[k]["learning_rate"] for k in sorted(rows)] == pytest.approx(
        [PROFILE.learning_rates["full"] * 6 / k for k in sorted(rows)])

# Lesson 04 ---------------------------------------------------------------------------------------------------

def test_lesson04_spafit_level_with_lora_on_fewer_parameters_above_bitfit_below_full(lesson04):
    row = {r["method"]: r for r in lesson04["rows"]}
    assert abs(row["spafit"]["score"] - row["lora"]["score"]) <= 0.015  # "within a point or so"
    assert row["spafit"]["trainable"] < row["lora"]["trainable"]
    assert row["bitfit"]["score"] < row["spafit"]["score"] < row["full"]["score"]
    assert max(r["score"] for r in row.values()) == row["full"]["score"]
    assert row["full"]["trainable"] > 100 * row["spafit"]["trainable"]
    assert all(row[m]["percent_trainable"] < 1 for m in ("bitfit", "lora", "spafit"))


# Lesson 05 ---------------------------------------------------------------------------------------------------

def test_lesson05_sweep_keeps_lora_in_every_cell_and_spans_a_few_points(lesson05):
    assert max(lesson05["n2_values"]) < lesson05["num_layers"]
    assert len(lesson05["cells"]) == 5
    scores = [c["score"] for c in lesson05["cells"]]
    assert 0.015 <= max(scores) - min(scores) <= 0.06


def test_lesson05_freezing_the_bottom_layers_costs_nothing_in_the_sweep(lesson05):
    by_n1 = {n1: [c["score"] for c in lesson05["cells"] if c["n1"] == n1] for n1 in lesson05["n1_values"]}
    mean = {n1: sum(v) / len(v) for n1, v in by_n1.items()}
    assert mean[max(mean)] >= mean[0]


def test_lesson05_recorded_comparison_narrows_the_gaps_of_lesson04(lesson04):
    recorded = {r["method"]: r["score"] for r in recorded_comparison()["rows"]}
    short = [r["score"] for r in lesson04["rows"]]
    assert max(recorded.values()) - min(recorded.values()) < max(short) - min(short)
    assert recorded["lora"] >= recorded["full"]  # "LoRA even edges past full fine-tuning"
    for method in ("spafit", "bitfit"):
        assert 0 < recorded["full"] - recorded[method] <= 0.015  # "a point or so below it"
