"""Lesson 06's claims about its own results, held by rerunning its experiments on the lesson's budget.

The tests call the functions the lesson calls (spafit_course.lessons) with the same profile and seed; with
$SPAFIT_RUN_MEMO set the runs are shared with the notebook executed later in the same session. A change that
moves a result across what the lesson's prose says fails here.
"""

import pytest

from spafit_course.lessons.budget import LEARNING_MARGIN
from spafit_course.lessons.budget_ablation import matched_rank
from spafit_course.lessons.forgetting_runs import budget_ablation, forgetting, n1_sweep
from spafit_course.lessons.forgetting_views import (budget_table, forgetting_table, majority_lines, sweep_table,
                                                    trained_scores)
from spafit_course.runs.models import model_config
from spafit_course.runs.profiles import get_profile

PROFILE = get_profile("quick")


@pytest.fixture(scope="module")
def forgot():
    return forgetting(PROFILE)


@pytest.fixture(scope="module")
def ablation():
    return budget_ablation(PROFILE)


@pytest.fixture(scope="module")
def sweep():
    return n1_sweep(PROFILE)


@pytest.mark.parametrize("name", ["forgot", "ablation", "sweep"])
def test_every_trained_accuracy_clears_its_majority_rate(name, request):
    result = request.getfixturevalue(name)
    low = [(what, round(value, 3), round(majority, 3)) for what, value, majority in trained_scores(result)
           if value < majority + LEARNING_MARGIN]
    assert not low, f"below majority + {LEARNING_MARGIN}: {low}"


def test_checkpoint_reads_question_types(forgot):
    # section 2: "well above the majority rate"
    assert forgot["classes"] == 6
    assert forgot["probe"] >= forgot["probe_majority"] + 0.3


def test_spafit_leaves_its_frozen_layers_exactly_in_place(forgot):
    # section 4's answer: drift exactly 0 for the embeddings and layers 1..N1 under SPAFIT, above 0 for LoRA
    rows = {row["label"]: row for row in forgot["rows"]}
    n1 = PROFILE.spafit["n1"]
    assert max(rows["spafit"]["drift"][:n1 + 1]) < 1e-6
    assert min(rows["spafit"]["drift"][n1 + 1:]) > 0
    assert rows["lora"]["drift"][0] < 1e-6 and min(rows["lora"]["drift"][1:]) > 0
    assert min(rows["full"]["drift"][1:]) > 0


def test_no_method_forgets_much_at_this_budget(forgot, ablation):
    # section 3: every probe change is a few points at most, the size of seed noise
    changes = [row["probe"] - forgot["probe"] for row in forgot["rows"] + ablation["rows"]]
    assert max(abs(c) for c in changes) <= 0.05
    # its answer: the largest loss is about two points, SPAFIT's probe is level with the checkpoint's, and full
    # fine-tuning did not lose clearly more than LoRA
    change = {row["label"]: row["probe"] - forgot["probe"] for row in forgot["rows"]}
    assert 0.01 <= -min(change.values()) <= 0.03
    assert abs(change["spafit"]) < 0.01
    assert change["full"] >= change["lora"] - 0.01


def test_full_finetuning_moves_the_top_layers_far_more(forgot):
    # section 4: full fine-tuning's drift grows layer by layer and ends many times the others' at the top
    rows = {row["label"]: row for row in forgot["rows"]}
    full = rows["full"]["drift"]
    assert all(a < b for a, b in zip(full[1:], full[2:]))
    assert full[-1] >= 5 * max(rows["lora"]["drift"][-1], rows["spafit"]["drift"][-1])
    assert full[-1] >= 0.3
    assert max(rows["spafit"]["drift"][3:5]) < 0.01  # "its bias-only layers barely" moved


def test_matched_budgets_are_close_and_printed_side_by_side(ablation):
    # section 5: the uniform run's count inside the layers is within 5% of SPAFIT's
    stratified, uniform = (sum(row["layer_budget"]) for row in ablation["rows"])
    assert ablation["rank"] == matched_rank(PROFILE) == 4
    assert abs(stratified - uniform) <= 0.05 * stratified
    assert "in the layers" in budget_table(ablation) and "38,400" in budget_table(ablation)


def test_stratified_and_uniform_land_within_noise(ablation):
    # section 5's answer: on one seed the two placements differ by less than three points, either way
    stratified, uniform = ablation["rows"]
    assert abs(stratified["score"] - uniform["score"]) < 0.03
    assert 0 < stratified["score"] - uniform["score"] < 0.02  # "one point above", on this seed
    assert abs(stratified["probe"] - uniform["probe"]) < 0.02  # "lost about the same on the TREC probe"
    assert uniform["drift"][1] > 0 and stratified["drift"][1] < 1e-6


def test_freezing_the_bottom_layers_costs_nothing_here(sweep):
    # section 6: the five runs land within a few points; N1 = 4 scores no lower than N1 = 0; SPAFIT is level
    # with full BitFit and full LoRA (within three points)
    scores = {row.get("n1", row["label"]): row["score"] for row in sweep["rows"]}
    assert max(scores.values()) - min(scores.values()) < 0.05
    assert scores[4] >= scores[0]
    assert abs(scores[2] - scores["bitfit"]) < 0.03 and abs(scores[2] - scores["lora"]) < 0.03


def test_tables_print_each_majority_rate_on_its_own_line(forgot, ablation, sweep):
    assert majority_lines(forgot).splitlines() == [f"polarity majority rate: {forgot['majority']:.3f}",
                                                      f"TREC probe majority rate: {forgot['probe_majority']:.3f}"]
    assert majority_lines(ablation).count("majority rate") == 2
    assert majority_lines(sweep) == f"polarity majority rate: {sweep['majority']:.3f}"
    for table in (forgetting_table(forgot), budget_table(ablation),
                  sweep_table(sweep, model_config(PROFILE.model_name).num_hidden_layers)):
        assert "majority" not in table and "accuracy" in table and "gain" in table
        assert max(len(line) for line in table.splitlines()) <= 100
