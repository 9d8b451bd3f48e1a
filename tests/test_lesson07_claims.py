"""Lesson 07's claims, each test naming the sentence it holds.

Quoted numbers are ratios, held with a tolerance: against the cost model (meta device, exact), against the bench
report in docs/, or re-measured cheaply with the lesson's own code. The memory of a step is measured on the course
model at 2 sequences instead of 16 (activations are exactly proportional to the batch, so they are scaled by 8:
the lesson's batch), which costs four small training steps.
"""

import copy
import json
from pathlib import Path

import pytest
import torch

from spafit_course.lessons.peft_costs import LESSON_BENCH, LESSON_METHODS, disk_sizes, paper_costs
from spafit_course.lessons.serving_tasks import TASK_LABELS
from spafit_course.runs.bench_tables import step_parts_total
from spafit_course.runs.cost_model import attention_kind, model_facts, predictions
from spafit_course.runs.costs import PARTS, measure_step
from spafit_course.runs.models import load_model
from spafit_course.runs.profiles import get_profile
from spafit_course.tuning.closed_form import closed_form_count
from spafit_course.tuning.methods import method_config, prepare_model

ROOT = Path(__file__).resolve().parent.parent
PROFILE = get_profile("quick")
BATCH, LENGTH = LESSON_BENCH["batch_size"], LESSON_BENCH["seq_length"]
MB = 2 ** 20


@pytest.fixture(scope="module")
def facts():
    return model_facts({"model": PROFILE.model_name})


@pytest.fixture(scope="module")
def model_costs(facts):
    """The cost model for the lesson's measurement: the quick model, 16 x 64 tokens, CPU attention with dropout."""
    return predictions(LESSON_METHODS, facts, PROFILE.spafit["n1"], PROFILE.spafit["n2"], BATCH, LENGTH,
                       attention=attention_kind("cpu", facts["attention_dropout"]), profile=PROFILE)


@pytest.fixture(scope="module")
def measured():
    """The lesson's measurement of each method's step memory, at 2 sequences, activations scaled to 16."""
    torch.manual_seed(0)
    ids = torch.randint(1000, 2000, (2, LENGTH))
    batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.tensor([0, 1])}
    found = {}
    for method in LESSON_METHODS:
        model = prepare_model(load_model(PROFILE.model_name, 2, seed=0), method, PROFILE).train()
        optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
        step = measure_step(model, batch, optimizer)
        step["activations"] *= BATCH // 2
        found[method] = step
    return found


def ratio(values: dict, method: str) -> float:
    return values[method] / values["full"]


# ---------------------------------------------------------------- section 1: time


def test_bitfit_costs_about_two_thirds_of_a_full_step(model_costs):
    # "About two thirds (the model's 0.67)"; "6 + 6 = 12 units against full fine-tuning's 6 + 6 + 6 = 18"
    assert model_costs["bitfit"]["step"] == 12 and model_costs["full"]["step"] == 18
    # recap: "BitFit and LoRA cost about two thirds of full fine-tuning's step, and SPAFIT a little over half"
    steps = {m: c["step"] for m, c in model_costs.items()}
    assert ratio(steps, "lora") == pytest.approx(2 / 3, abs=0.02)
    assert 0.5 < ratio(steps, "spafit") < 0.6


def test_the_idle_bench_measured_spafit_near_the_model():
    # "on an idle 2-core CPU `spafit-course bench` measured SPAFIT's step at 0.59 of full fine-tuning's against
    # the model's 0.56"; "A forward pass costs every method about the same"
    report = json.loads((ROOT / "docs" / "bench-quick-cpu.json").read_text())
    rows = {r["method"]: r for r in report["rows"]}
    assert report["cpu_count"] == 2 and report["threads"] == 2
    assert rows["spafit"]["step_ratio"] == pytest.approx(0.59, abs=0.005)
    assert rows["spafit"]["step_ratio_model"] == pytest.approx(0.56, abs=0.005)
    assert all(abs(r["forward_ratio"] - 1) <= 0.15 and abs(r["forward_ratio_model"] - 1) < 0.01 for r in rows.values())


# ---------------------------------------------------------------- section 2: memory


def test_gradients_and_adam_state_fall_from_86_and_172_mb_to_under_1(measured):
    # "from 86 and 172 MB to under 1 MB"; recap: "12 bytes per trainable parameter with AdamW in float32"
    assert measured["full"]["gradients"] / MB == pytest.approx(86, abs=0.5)
    assert measured["full"]["optimizer_state"] / MB == pytest.approx(172, abs=0.5)
    for method in ("bitfit", "lora", "spafit"):
        assert measured[method]["gradients"] + measured[method]["optimizer_state"] < MB
    trainable = closed_form_count(model_facts({"model": PROFILE.model_name})["config"]).trainable
    assert measured["full"]["gradients"] + measured["full"]["optimizer_state"] == pytest.approx(12 * trainable,
                                                                                                 rel=1e-4)


def test_the_weights_do_not_shrink(measured):
    # "The weights do not shrink at all: every method runs the whole model."
    assert all(ratio({m: s["weights"] for m, s in measured.items()}, m) >= 1 for m in LESSON_METHODS)


def test_activations_shrink_least_and_spafit_keeps_about_half(measured):
    # "BitFit and LoRA keep 0.7 to 0.75 of full fine-tuning's activations; SPAFIT keeps about half"
    acts = {m: s["activations"] for m, s in measured.items()}
    assert 0.68 <= ratio(acts, "bitfit") <= 0.77 and 0.68 <= ratio(acts, "lora") <= 0.77
    assert ratio(acts, "spafit") == pytest.approx(0.5, abs=0.04)
    # "Of the parts that shrink, the activations shrink the least"
    for m in ("bitfit", "lora", "spafit"):
        assert ratio(acts, m) > max(ratio({k: s[part] for k, s in measured.items()}, m)
                                    for part in ("gradients", "optimizer_state"))
    # "its N1 frozen bottom layers keep nothing at all"
    assert measured["spafit"]["activations_by_layer"][:PROFILE.spafit["n1"]] == [0, 0]


def test_a_step_adds_a_third_for_bitfit_and_lora_and_a_fifth_for_spafit(measured):
    # "What a step adds to the loaded model falls to about a third for BitFit and LoRA and to about a fifth for
    # SPAFIT."
    adds = {m: step_parts_total(s) for m, s in measured.items()}
    assert ratio(adds, "bitfit") == pytest.approx(1 / 3, abs=0.03)
    assert ratio(adds, "lora") == pytest.approx(1 / 3, abs=0.03)
    assert ratio(adds, "spafit") == pytest.approx(1 / 5, abs=0.03)


def test_the_measured_parts_sit_within_a_few_percent_of_the_model(measured, model_costs):
    # "The measured parts sit within a few percent of the model's."
    for method in LESSON_METHODS:
        for part in PARTS:
            assert measured[method][part] == pytest.approx(model_costs[method]["parts"][part], rel=0.03), (method, part)


# ---------------------------------------------------------------- section 3: the backward pass


def test_only_spafit_shortens_the_backward_pass(measured, facts):
    # "Only SPAFIT's, which skips its N1 frozen bottom layers: it runs through L - N1 = 4 of 6."
    layers = facts["num_layers"]
    assert {m: s["backward_layers"] for m, s in measured.items()} == {
        "full": list(range(1, layers + 1)), "bitfit": list(range(1, layers + 1)),
        "lora": list(range(1, layers + 1)), "spafit": list(range(PROFILE.spafit["n1"] + 1, layers + 1))}
    assert layers - PROFILE.spafit["n1"] == 4 and layers == 6


# ---------------------------------------------------------------- sections 4 and 5: storage and serving


@pytest.fixture(scope="module")
def sizes():
    return disk_sizes(PROFILE)


def test_an_adapter_is_about_0_2_percent_of_the_model_on_disk(sizes):
    # "about 0.2 % of the model's file, a few hundred kilobytes against 86 MB"; recap: "about 0.2 % of the model"
    assert sizes["spafit"] / sizes["full"] == pytest.approx(0.002, abs=0.0005)
    assert 100_000 < sizes["spafit"] < 1_000_000 and sizes["full"] / MB == pytest.approx(86, abs=1)
    # "A hundred tasks fine-tuned with SPAFIT take less disk than one fully fine-tuned copy of this model."
    assert 100 * sizes["spafit"] < sizes["full"]
    assert all(sizes[m] < sizes["full"] / 100 for m in ("bitfit", "lora", "spafit"))


def test_three_adapters_are_under_1_percent_of_the_base(facts):
    # "One model plus under 1 % of it, against three models: each further task adds a few hundred kilobytes"
    config = method_config("spafit", facts["num_layers"], PROFILE)
    held = []
    for labels in TASK_LABELS.values():
        task = copy.deepcopy(facts["config"])
        task.num_labels = len(labels)
        held.append(4 * closed_form_count(task, config).trainable)
    weights = 4 * closed_form_count(facts["config"]).total
    assert sum(held) / weights < 0.01 and all(100_000 < h < 1_000_000 for h in held)


# ---------------------------------------------------------------- section 6: merged or unmerged


def test_lora_adds_under_1_percent_to_a_forward_pass(facts):
    # "The LoRA matrices add under 1 % to the multiply-adds of a forward pass here"
    forward = predictions(["full", "spafit"], facts, PROFILE.spafit["n1"], PROFILE.spafit["n2"], 64, 64,
                          profile=PROFILE)["spafit"]["forward"]
    assert 1 < forward / facts["num_layers"] < 1.01
    # (the merged logits match to rounding: tests/test_serving.py, test_merged_logits_match_the_unmerged_model)


# ---------------------------------------------------------------- section 7: the paper's scale


def test_the_paper_setting_by_the_cost_model():
    costs = paper_costs()
    gb = 2 ** 30
    # "AdamW's moments for all of BERT-large take 2.5 GB, SPAFIT's 0.05 GB"
    assert costs["full"]["parts"]["optimizer_state"] / gb == pytest.approx(2.5, abs=0.05)
    assert costs["spafit"]["parts"]["optimizer_state"] / gb == pytest.approx(0.05, abs=0.005)
    # "What a step adds to the weights falls to about a quarter of full fine-tuning's"
    adds = {m: step_parts_total(c["parts"]) for m, c in costs.items()}
    assert ratio(adds, "spafit") == pytest.approx(0.25, abs=0.03)
    # "what remains is activations"
    assert costs["spafit"]["parts"]["activations"] > 0.9 * adds["spafit"]
    # "SPAFIT's step costs about 0.63 ... (20 of 24 layers), against 0.67 for BitFit and 0.70 for LoRA everywhere"
    steps = {m: c["step"] for m, c in costs.items()}
    assert ratio(steps, "spafit") == pytest.approx(0.63, abs=0.005) and costs["spafit"]["backward_layers"] == 20
    assert ratio(steps, "bitfit") == pytest.approx(0.67, abs=0.005)
    assert ratio(steps, "lora") == pytest.approx(0.70, abs=0.005)
    # "its adapter is about 23 MB against the model's 1.24 GB"
    assert costs["spafit"]["trainable"] * 4 / MB == pytest.approx(23, abs=0.5)
    assert costs["full"]["parts"]["weights"] / gb == pytest.approx(1.24, abs=0.005)
