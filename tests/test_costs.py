"""The measurements of lesson 07 and `spafit-course bench` (runs/costs.py) on tiny BERTs, against the cost model
(runs/cost_model.py) and by hand; the tables they are printed in."""

import pytest
import torch

from spafit_course.runs.bench import run_bench
from spafit_course.runs.bench_tables import backward_table, memory_table, span, time_table
from spafit_course.runs.cost_model import (activation_values_per_token, attention_kind, memory_cost, model_facts,
                                           predictions)
from spafit_course.runs.costs import (PARTS, disk_bytes, forward_seconds, layers_reached, measure_step,
                                      tensor_bytes)
from spafit_course.runs.counting import method_counts
from spafit_course.runs.models import tiny_config, tiny_model
from spafit_course.tuning.freezing import freeze_all, unfreeze_head
from spafit_course.tuning.methods import method_config, prepare_model
from spafit_course.runs.profiles import get_profile
from spafit_course.tuning.spafit import SpafitConfig, apply_spafit

QUICK = get_profile("quick")
LAYERS, HIDDEN, BATCH, LENGTH = 6, 64, 4, 16


def batch_for(model, size=BATCH, length=LENGTH, seed=0):
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, model.config.vocab_size, (size, length), generator=generator)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids),
            "labels": torch.randint(0, 2, (size,), generator=generator)}


def prepared(method, layers=LAYERS):
    model = tiny_model("bert", num_layers=layers, hidden=HIDDEN)
    model = prepare_model(model, method, QUICK).train()  # train mode: dropout on, as the bench measures
    return model


def step_of(model, **kwargs):
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    return measure_step(model, batch_for(model), optimizer, **kwargs)


@pytest.mark.parametrize("method", ["full", "bitfit", "lora", "spafit"])
def test_weights_gradients_and_optimizer_state_by_hand(method):
    model = prepared(method)
    trainable = [p for p in model.parameters() if p.requires_grad]
    found = step_of(model)
    assert found["weights"] == 4 * sum(p.numel() for p in model.parameters())
    assert found["gradients"] == 4 * sum(p.numel() for p in trainable)
    # AdamW: two moments per trained value, and a 4-byte step counter per parameter tensor
    assert found["optimizer_state"] == 8 * sum(p.numel() for p in trainable) + 4 * len(trainable)


@pytest.mark.parametrize("method", ["full", "bitfit", "lora", "spafit"])
def test_measured_activations_match_the_cost_model_layer_by_layer(method):
    found = step_of(prepared(method))
    facts = model_facts({"tiny": True, "tiny_layers": LAYERS, "tiny_hidden": HIDDEN})
    assert attention_kind("cpu", facts["attention_dropout"]) == "math"
    shape = {"attention": "math", "heads": facts["heads"], "seq_length": LENGTH}
    config = method_config(method, LAYERS, QUICK)
    n1, n2 = (0, LAYERS) if config is None else (config.n1, config.n2)
    for k, measured in enumerate(found["activations_by_layer"], 1):
        if k <= n1:
            assert measured == 0, f"layer {k} of {method} is frozen below every trainable parameter"
            continue
        values = activation_values_per_token(facts["hidden"], facts["intermediate"], weights_train=config is None,
                                             lora=k > n2, **shape)
        # within 7 %: the lowest layer that trains keeps a little less than the model says where nothing below
        # it needs a gradient (LoRA's query then needs no saved key), and LoRA keeps its r-wide products too
        assert measured == pytest.approx(values * BATCH * LENGTH * 4, rel=0.07), (method, k)
    predicted = predictions([method], facts, n1 if method == "spafit" else 2, n2 if method == "spafit" else 4,
                            BATCH, LENGTH, attention="math")[method]
    for part in PARTS:
        assert found[part] == pytest.approx(predicted["parts"][part], rel=0.05), part
    assert found["backward_layers"] == list(range(predicted["n1"] + 1, LAYERS + 1))


def bottom_layer_alone(model):
    freeze_all(model)
    model.bert.encoder.layer[0].requires_grad_(True)
    unfreeze_head(model)
    return model


@pytest.mark.parametrize("setting, expected", [
    ("bitfit", [1, 2, 3, 4, 5, 6]), ("spafit 2/4", [3, 4, 5, 6]), ("spafit 5/5", [6]), ("head", []),
    ("bottom layer", [1, 2, 3, 4, 5, 6]),
])
def test_the_backward_pass_runs_down_to_the_lowest_trainable_layer(setting, expected):
    model = tiny_model("bert", num_layers=6, hidden=32)
    model = {"bitfit": lambda m: apply_spafit(m, SpafitConfig(0, 6)), "spafit 2/4": lambda m: apply_spafit(
        m, SpafitConfig(2, 4)), "spafit 5/5": lambda m: apply_spafit(m, SpafitConfig(5, 5)),
        "head": lambda m: apply_spafit(m, SpafitConfig(6, 6)), "bottom layer": bottom_layer_alone}[setting](model)
    assert layers_reached(model, batch_for(model)) == expected
    assert all(p.grad is None for p in model.parameters())  # layers_reached leaves no gradients behind
    assert not any(layer._forward_hooks for layer in model.bert.encoder.layer)


def test_measure_step_counts_autocast_weight_copies_apart():
    model = prepared("bitfit")
    found = step_of(model, autocast=torch.autocast("cpu", dtype=torch.bfloat16))
    assert found["weight_copies"] > 0
    plain = step_of(prepared("bitfit"))
    assert plain["weight_copies"] == 0
    assert found["activations"] < plain["activations"]  # bf16 activations: about half the bytes


def test_measure_step_refuses_a_model_that_trains_nothing():
    model = tiny_model("bert", num_layers=2, hidden=16)
    freeze_all(model)
    with pytest.raises(ValueError, match="no parameter of this model trains"):
        measure_step(model, batch_for(model), torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0))


def test_disk_bytes_of_an_adapter_and_of_a_whole_model():
    full = disk_bytes(prepared("full"), "full")
    model = prepared("spafit")
    adapter = disk_bytes(model, "spafit")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert 4 * trainable < adapter < 4 * trainable + 20_000  # the values and a small JSON header
    weights = 4 * sum(p.numel() for p in prepared("full").parameters())
    assert weights < full < weights + 100_000  # the safetensors file and config.json
    assert adapter < full / 10


def test_forward_seconds_times_every_model_and_checks_its_arguments():
    a, b = tiny_model("bert", 2, 16), tiny_model("bert", 2, 16, seed=1)
    found = forward_seconds({"a": a, "b": b}, batch_for(a), rounds=2, repeats=1)
    assert set(found) == {"a", "b"} and all(v > 0 for v in found.values())
    with pytest.raises(ValueError, match="rounds and repeats must be positive"):
        forward_seconds({"a": a}, batch_for(a), rounds=0)


def test_activation_values_by_hand_and_bad_attention():
    # H=384, I=1536, 12 heads, 64 tokens, math path: 3H + 3*12*64 + 2H + I + 2H = 6528 for a frozen layer
    assert activation_values_per_token(384, 1536, attention="math", heads=12, seq_length=64) == 6528
    assert activation_values_per_token(384, 1536, True, attention="math", heads=12, seq_length=64) == 9216
    assert activation_values_per_token(384, 1536, lora=True, attention="math", heads=12, seq_length=64) == 6912
    longer = activation_values_per_token(384, 1536, attention="math", heads=12, seq_length=128)
    assert longer - 6528 == 3 * 12 * 64  # the probabilities grow with the length: memory with its square
    assert activation_values_per_token(384, 1536) == 4032  # fused: the default, unchanged
    with pytest.raises(ValueError, match="attention must be one of fused, math, got 'flash'"):
        activation_values_per_token(384, 1536, attention="flash")
    with pytest.raises(ValueError, match="attention='math' needs heads and seq_length > 0"):
        activation_values_per_token(384, 1536, attention="math")
    assert attention_kind("cuda", 0.1) == "fused" and attention_kind("cpu", 0.0) == "fused"
    assert attention_kind("cpu", 0.1, training=False) == "fused" and attention_kind("cpu", 0.1) == "math"


def test_memory_cost_splits_gradients_and_optimizer_state():
    m = memory_cost(1000, 6, 2, 4, tokens=10, hidden=4, intermediate=16)
    assert (m["gradients"], m["optimizer_state"], m["gradients_and_optimizer"]) == (4000, 8000, 12000)
    assert m["total"] == m["gradients_and_optimizer"] + m["activations"]


def test_predictions_count_like_the_models_they_describe():
    facts = model_facts({"tiny": True, "tiny_layers": 6, "tiny_hidden": 64})
    pred = predictions(["full", "bitfit", "lora", "spafit"], facts, 2, 4, 4, 16)
    configs = {m: method_config(m, 6, get_profile("quick").with_overrides(
        spafit={**QUICK.spafit, "n1": 2, "n2": 4})) for m in pred}
    counts = method_counts(tiny_config("bert", 6, 64), configs)  # meta-device models, not the closed form
    for m, found in pred.items():
        assert (found["trainable"], found["total"]) == (counts[m].trainable, counts[m].total)
        assert found["parts"]["weights"] == 4 * counts[m].total
        assert found["memory"] == pytest.approx(sum(found["parts"][k] for k in PARTS if k != "weights"))
    assert [pred[m]["backward_layers"] for m in pred] == [6, 6, 6, 4]


def test_bench_reports_the_split_and_the_backward_beside_the_model():
    report = run_bench(["full", "bitfit", "spafit"], tiny=True, batch_size=2, seq_length=16, steps=1, warmup=0,
                       rounds=1, isolate=False, progress=None)
    rows = {r["method"]: r for r in report["rows"]}
    assert rows["spafit"]["backward_layers"] == [3, 4, 5, 6] and rows["spafit"]["backward_layers_model"] == 4
    for row in rows.values():
        assert set(row["parts"]) == set(PARTS) == set(row["parts_model"])
        assert row["parts"]["activations"] == pytest.approx(row["parts_model"]["activations"], rel=0.1)
    assert rows["spafit"]["activations_by_layer"][:2] == [0, 0]
    for text in (memory_table(report), backward_table(report), time_table(report)):
        assert max(len(line) for line in text.splitlines()) <= 90
    assert [line.split()[:4] for line in backward_table(report).splitlines()[2:]] == [
        ["full", "1", "to", "6"], ["bitfit", "1", "to", "6"], ["spafit", "3", "to", "6"]]


def test_span_names_a_run_of_layers():
    assert (span([3, 4, 5, 6]), span([]), span([2]), span([1, 3])) == ("3 to 6", "none", "2", "1, 3")


def test_tensor_bytes_skips_none():
    assert tensor_bytes([torch.zeros(3), None, torch.zeros(2, dtype=torch.float64)]) == 12 + 16
