"""Lesson 06's claims, held against the multi-seed record it reads (tests/conftest.py: `record`), and its mechanisms
(the closed-form budgets and the ablation's settings), which need no training and stay live.

A verdict the lesson calls "higher" must survive Holm's correction over the family its cell prints (section 3:
eleven comparisons; section 5: three), and one it calls not detectable must not."""

import pytest

from spafit_course.lessons.budget import LEARNING_MARGIN
from spafit_course.lessons.budget_ablation import layer_budget, matched_rank, run_config, uniform_lora
from spafit_course.lessons.forgetting_views import (budget_table, drift_over_seeds, drift_table, forgetting_table,
                                                    majority_lines, trained_scores)
from spafit_course.lessons.lora_runs import first_step_change
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.lessons.stats import holm_adjusted, paired_difference, paired_p_value
from spafit_course.runs.models import model_config
from spafit_course.runs.profiles import get_profile
from spafit_course.tuning.methods import method_config

PROFILE = get_profile("quick")
RANK = 2
UNIFORM = f"uniform LoRA r={RANK}"
ALPHA = 0.05


def by_seed(record, experiment):
    return [record["results"][experiment][str(seed)] for seed in record["seeds"]]


def rows(result):
    return {row["label"]: row for row in result["rows"]}


# --- mechanisms, live (no training) -------------------------------------------------------------------------------

def test_matched_budgets_are_close_with_the_same_targets_alpha_and_bias_terms():
    # section 5: the same targets, alpha and bias terms as SPAFIT; the rank that spends within a few percent
    hf = model_config(PROFILE.model_name)
    spafit = method_config("spafit", hf.num_hidden_layers, PROFILE)
    uniform = uniform_lora(PROFILE, matched_rank(PROFILE))
    assert matched_rank(PROFILE) == RANK
    assert (uniform.targets, uniform.alpha, uniform.bias_terms, uniform.dropout) == (
        spafit.targets, spafit.alpha, spafit.bias_terms, spafit.dropout)
    assert (uniform.n1, uniform.n2) == (0, 0)  # LoRA plus biases in every layer
    inside = sum(layer_budget(hf, spafit)), sum(layer_budget(hf, uniform))
    assert inside[0] == 38_400 and abs(inside[0] - inside[1]) <= 0.03 * inside[0]


def test_what_else_differs_between_the_two_runs():
    # section 5: "biases are about half of its budget, against about a third of SPAFIT's"; "alpha / r four times as
    # large (8 against 2)"; "six against two" LoRA layers; "the uniform run trains at SPAFIT's rate"; "Each of the
    # uniform run's LoRA layers takes a first step about twice as large as each of SPAFIT's"
    from spafit_course.lessons.budget import lesson_profile
    from spafit_course.tuning.closed_form import bias_params_per_layer, lora_params_per_layer
    from spafit_course.tuning.spafit import FROZEN, LORA_AND_BIAS, layer_groups

    hf = model_config(PROFILE.model_name)
    layers = hf.num_hidden_layers
    arms = {"spafit": run_config(PROFILE, "spafit"), "uniform": run_config(PROFILE, UNIFORM)}
    assert arms["spafit"][0] == arms["uniform"][0] == "spafit"  # the same method, so the same learning rate
    assert lesson_profile(PROFILE).learning_rates["spafit"] == PROFILE.learning_rates["spafit"]
    share, lora_layers, scale, step = {}, {}, {}, {}
    for name, (_, c) in arms.items():
        groups = layer_groups(layers, c.n1, c.n2)
        biases = bias_params_per_layer(hf, c.bias_terms) * sum(g != FROZEN for g in groups)
        lora_layers[name] = sum(g == LORA_AND_BIAS for g in groups)
        share[name] = biases / (biases + lora_params_per_layer(hf, c.targets, c.r) * lora_layers[name])
        scale[name] = c.alpha / c.r
        step[name] = first_step_change(c.r, c.alpha, size=hf.hidden_size)
    assert abs(share["uniform"] - 0.53) <= 0.01 and abs(share["spafit"] - 0.36) <= 0.01
    assert (scale["uniform"], scale["spafit"]) == (8, 2)
    assert (lora_layers["uniform"], lora_layers["spafit"]) == (6, 2)
    assert 1.7 <= step["uniform"] / step["spafit"] <= 2.3


# --- the record ---------------------------------------------------------------------------------------------------

def test_the_record_holds_the_control_and_the_ablation(record):
    for result in by_seed(record, "06-forgetting"):
        assert list(rows(result)) == ["head", "full", "lora", "spafit"]
    for result in by_seed(record, "06-ablation"):
        assert result["rank"] == RANK and list(rows(result)) == ["spafit", UNIFORM]


@pytest.mark.parametrize("experiment", ["06-forgetting", "06-ablation"])
def test_every_trained_accuracy_clears_its_majority_rate(record, experiment):
    # the control may sit lower on polarity (only its classifier trains), but it too is above the majority rate
    for result in by_seed(record, experiment):
        low = [(what, round(value, 3), round(majority, 3)) for what, value, majority in trained_scores(result)
               if value < majority + (0.0 if what == "head polarity" else LEARNING_MARGIN)]
        assert not low, f"below majority + {LEARNING_MARGIN}: {low}"


def test_checkpoint_reads_question_types_and_the_control_keeps_its_probe(record):
    # section 2: "well above the majority rate", the same on every seed; section 3: the control's probe is the
    # checkpoint's and its encoder does not move
    probes = {result["probe"] for result in by_seed(record, "06-forgetting")}
    assert len(probes) == 1
    for result in by_seed(record, "06-forgetting"):
        assert result["classes"] == 6 and result["probe"] >= result["probe_majority"] + 0.3
        head = rows(result)["head"]
        assert head["probe"] == result["probe"] and max(head["drift"]) == 0


@pytest.fixture(scope="module")
def section_3(record) -> dict:
    """Section 3's eleven comparisons as its cell prints them, corrected together: {(field, a, b): adjusted p}."""
    polarity = seed_scores(record, "06-forgetting")[0]
    probe = seed_scores(record, "06-forgetting", field="probe")[0]
    family = ([("probe", run, "head") for run in ("full", "lora", "spafit")]
              + [("probe", a, b) for a, b in (("full", "lora"), ("full", "spafit"), ("lora", "spafit"))]
              + [("score", run, "head") for run in ("full", "lora", "spafit")]
              + [("score", run, "spafit") for run in ("full", "lora")])
    scores = {"probe": probe, "score": polarity}
    adjusted = holm_adjusted([paired_p_value(scores[f][a], scores[f][b]) for f, a, b in family])
    return dict(zip(family, adjusted))


def test_no_method_forgets_detectably_at_this_budget(record, section_3):
    # section 3's answer: "Every fine-tuned run's mean probe sits within about a point of the checkpoint's, and no
    # change is detectable, corrected or not: every interval of the change contains zero. The lower ends say that
    # none lost more than about three points on average. The comparisons between the runs find no difference"
    for label in ("full", "lora", "spafit"):
        d = difference(record, "06-forgetting", label, "head", field="probe")
        assert not d.excludes_zero and abs(d.mean) < 0.012 and d.low > -0.035, label
        assert section_3[("probe", label, "head")] >= ALPHA
    assert min(d.low for d in (difference(record, "06-forgetting", label, "head", field="probe")
                               for label in ("full", "lora", "spafit"))) < -0.02
    for a, b in (("full", "lora"), ("full", "spafit"), ("lora", "spafit")):
        assert not difference(record, "06-forgetting", a, b, field="probe").excludes_zero, (a, b)
        assert section_3[("probe", a, b)] >= ALPHA


def test_on_polarity_the_runs_separate_from_the_control(record, section_3):
    # section 3's answer: "full fine-tuning and LoRA score higher than the control, by about 5 and 4 points, and
    # higher than SPAFIT, by about 3 and 2. SPAFIT's gain over the control, about 1.5 points on average, does not
    # survive the correction over the eleven comparisons."; the recap: full and LoRA higher than SPAFIT
    for label, other, points in (("full", "head", 5), ("lora", "head", 4), ("full", "spafit", 3),
                                 ("lora", "spafit", 2)):
        d = difference(record, "06-forgetting", label, other)
        assert d.excludes_zero and d.mean > 0 and abs(d.mean * 100 - points) < 0.6, (label, other)
        assert section_3[("score", label, other)] < ALPHA, (label, other)
    d = difference(record, "06-forgetting", "spafit", "head")
    assert abs(d.mean * 100 - 1.5) < 0.5 and section_3[("score", "spafit", "head")] >= ALPHA


def test_the_polarity_runs_are_lesson_04s(record):
    # "they are lesson 04's runs, and the verdicts agree with its own"
    ours = seed_scores(record, "06-forgetting")[0]
    lesson_04 = seed_scores(record, "04")[0]
    for label, theirs in (("head", "head only (control)"), ("full", "full fine-tuning"), ("lora", "LoRA"),
                          ("spafit", "SPAFIT")):
        assert ours[label] == lesson_04[theirs], label


def test_frozen_layers_stay_exactly_in_place_on_every_seed(record):
    # section 4: drift exactly 0 for the embeddings and layers 1..N1 under SPAFIT, above 0 from layer 1 for LoRA
    n1 = PROFILE.spafit["n1"]
    for result in by_seed(record, "06-forgetting"):
        run = rows(result)
        assert max(run["spafit"]["drift"][:n1 + 1]) == 0 and min(run["spafit"]["drift"][n1 + 1:]) > 0
        assert run["lora"]["drift"][0] == 0 and min(run["lora"]["drift"][1:]) > 0
        assert min(run["full"]["drift"][1:]) > 0
        assert 0 < run["full"]["drift"][0] < 1e-3  # the embeddings move, barely, in 63 steps


def test_full_finetuning_moves_the_top_layers_far_more(record):
    # section 4: on average full fine-tuning's drift grows layer by layer and ends several times the others' at
    # the top; SPAFIT's bias-only layers barely move
    drift = {label: means for label, (means, _) in drift_over_seeds(record).items()}
    full = drift["full"]
    assert all(a < b for a, b in zip(full[1:], full[2:]))
    assert full[-1] >= 4 * max(drift["lora"][-1], drift["spafit"][-1]) and full[-1] >= 0.2
    assert max(drift["spafit"][3:5]) < 0.01
    # and yet its probe lost no detectable amount (the CKA paragraph)
    assert not difference(record, "06-forgetting", "full", "head", field="probe").excludes_zero


def test_stratified_and_uniform_cannot_be_told_apart(record):
    # section 5's answer: "No difference is detectable, on polarity or on the TREC probe (three comparisons,
    # corrected together). On polarity the uniform run scored higher than SPAFIT on 4 of 5 seeds, by about 2 points
    # on average, but the interval contains zero"; "the uniform run moved layers 1 and 2 a little on average ...
    # SPAFIT not at all; and the uniform run's change on the TREC probe ... is not detectable"
    scores = seed_scores(record, "06-ablation")[0]
    probes = seed_scores(record, "06-ablation", field="probe")[0]
    checkpoint = [record["results"]["06-ablation"][str(seed)]["probe"] for seed in record["seeds"]]
    family = [(scores["spafit"], scores[UNIFORM]), (probes["spafit"], probes[UNIFORM]), (probes[UNIFORM], checkpoint)]
    assert min(holm_adjusted([paired_p_value(a, b) for a, b in family])) >= ALPHA
    d = difference(record, "06-ablation", "spafit", UNIFORM)
    assert not d.excludes_zero and d.lower == 4 and abs(d.mean + 0.02) <= 0.005
    assert not difference(record, "06-ablation", "spafit", UNIFORM, field="probe").excludes_zero
    assert not paired_difference(probes[UNIFORM], checkpoint).excludes_zero
    drift = drift_over_seeds(record, "06-ablation")
    assert min(drift[UNIFORM][0][1:3]) > 0.003 and max(drift["spafit"][0][:3]) == 0
    assert scores["spafit"] == seed_scores(record, "06-forgetting")[0]["spafit"]  # the same SPAFIT runs


def test_tables_print_each_majority_rate_on_its_own_line(record):
    forgot, ablation = (record["results"][name]["42"] for name in ("06-forgetting", "06-ablation"))
    assert majority_lines(forgot).splitlines() == [f"polarity majority rate: {forgot['majority']:.3f}",
                                                      f"TREC probe majority rate: {forgot['probe_majority']:.3f}"]
    assert majority_lines(ablation).count("majority rate") == 2
    for table in (forgetting_table(forgot), budget_table(ablation)):
        assert "majority" not in table and "accuracy" in table and "gain" in table
        assert max(len(line) for line in table.splitlines()) <= 100
    assert "38,400" in budget_table(ablation) and "head" in budget_table(ablation).splitlines()[0]
    drift = drift_table(drift_over_seeds(record))
    assert drift.splitlines()[0].split()[:3] == ["run", "emb", "layer"] and max(map(len, drift.splitlines())) <= 100


def test_every_undetectable_difference_leaves_room_for_a_point(record):
    # section 6: "every such interval above is wider than a point on each side of its mean"
    shown = [("06-forgetting", a, b, field) for field in ("score", "probe")
             for a, b in (("full", "head"), ("lora", "head"), ("spafit", "head"), ("full", "lora"),
                          ("full", "spafit"), ("lora", "spafit"))]
    shown += [("06-ablation", "spafit", UNIFORM, field) for field in ("score", "probe")]
    undetectable = [difference(record, experiment, a, b, field=field) for experiment, a, b, field in shown]
    undetectable = [d for d in undetectable if not d.excludes_zero]
    assert len(undetectable) >= 8
    assert all(min(d.high - d.mean, d.mean - d.low) > 0.01 for d in undetectable)
