"""The stratifier: groups, what trains, the special cases, and refusals that leave the model untouched."""

import pytest
import torch

from spafit_course import (SpafitConfig, UnsupportedModelError, apply_bitfit, apply_lora, apply_spafit, count_by_group,
                           layer_groups)
from spafit_course.runs.models import tiny_model
from spafit_course.tuning.lora import LoRALinear, lora_modules
from spafit_course.tuning.params import parameter_table
from spafit_course.tuning.spafit import scaled_boundaries


def trainable_names(model):
    return {name for name, p in model.named_parameters() if p.requires_grad}


def flags(model):
    return {name: p.requires_grad for name, p in model.named_parameters()}


def test_layer_groups_follow_the_definition():
    assert layer_groups(6, 2, 4) == [1, 1, 2, 2, 3, 3]
    assert layer_groups(6, 0, 0) == [3] * 6
    assert layer_groups(6, 6, 6) == [1] * 6
    assert layer_groups(24, 4, 9) == [1] * 4 + [2] * 5 + [3] * 15


def test_scaled_boundaries_match_design():
    assert scaled_boundaries(24) == (4, 9)
    assert scaled_boundaries(6) == (1, 2)
    assert scaled_boundaries(12) in {(2, 4), (2, 5)}


def test_apply_spafit_trains_exactly_the_three_groups():
    model = tiny_model("bert", num_layers=6)
    apply_spafit(model, SpafitConfig(n1=2, n2=4, targets=("query", "value"), r=2))
    names = trainable_names(model)
    for name in names:
        assert name.startswith("classifier.") or ".bias" in name or "lora_" in name, name
    layer_of = lambda n: int(n.split("encoder.layer.")[1].split(".")[0]) if "encoder.layer." in n else None
    assert {layer_of(n) for n in names if layer_of(n) is not None} == {2, 3, 4, 5}
    assert {layer_of(n) for n in names if "lora_" in n} == {4, 5}
    assert not any("LayerNorm" in n or "embeddings" in n or "pooler" in n for n in names)
    assert {"classifier.weight", "classifier.bias"} <= names
    linear_biases_per_layer = 6  # query, key, value, attention output, intermediate, output
    assert sum(1 for n in names if n.endswith(".bias") and layer_of(n) is not None) == 4 * linear_biases_per_layer


def test_bias_terms_all_adds_layernorm_biases_and_pooler_option():
    model = tiny_model("bert", num_layers=2)
    apply_spafit(model, SpafitConfig(n1=1, n2=2, bias_terms="all", train_pooler=True))
    names = trainable_names(model)
    assert "bert.encoder.layer.1.output.LayerNorm.bias" in names
    assert "bert.encoder.layer.1.output.LayerNorm.weight" not in names
    assert "bert.encoder.layer.0.output.LayerNorm.bias" not in names
    assert {"bert.pooler.dense.weight", "bert.pooler.dense.bias"} <= names


def test_special_cases_are_the_baselines():
    probe = apply_spafit(tiny_model(num_layers=3), SpafitConfig(n1=3, n2=3))
    assert trainable_names(probe) == {"classifier.weight", "classifier.bias"}
    assert not lora_modules(probe)

    full_bitfit = apply_spafit(tiny_model(num_layers=3), SpafitConfig(n1=0, n2=3))
    assert trainable_names(full_bitfit) == trainable_names(apply_bitfit(tiny_model(num_layers=3)))

    lora_only = apply_spafit(tiny_model(num_layers=3), SpafitConfig(n1=0, n2=0, bias_terms="none", r=4))
    reference = apply_lora(tiny_model(num_layers=3), r=4)
    assert trainable_names(lora_only) == trainable_names(reference)

    everywhere = apply_spafit(tiny_model(num_layers=3), SpafitConfig(n1=0, n2=0))
    assert len(lora_modules(everywhere)) == 3 * 2
    unwrapped = {n.replace(".base.", ".") for n in trainable_names(everywhere)}
    assert trainable_names(full_bitfit) < unwrapped


def test_counts_by_group_and_table():
    model = tiny_model("bert", num_layers=6, hidden=32)
    apply_spafit(model, SpafitConfig(n1=2, n2=4, r=2))
    groups = count_by_group(model, 2, 4)
    h, i = 32, 64
    assert groups["frozen"].trainable == 0
    assert groups["bias only"].trainable == 2 * (5 * h + i)
    assert groups["LoRA + bias"].trainable == 2 * (5 * h + i) + 2 * 2 * (2 * (h + h))
    assert groups["outside layers"].trainable == h * 2 + 2
    table = parameter_table(model, 2, 4)
    assert "LoRA + bias" in table and "layer 6" in table


@pytest.mark.parametrize("kwargs, message", [
    (dict(n1=3, n2=2), r"need 0 <= N1 <= N2 <= L, got N1=3 > N2=2"),
    (dict(n1=-1, n2=2), r"n1 must be an integer >= 0"),
    (dict(n1=1, n2=2, r=0), r"rank r must be a positive integer"),
    (dict(n1=1, n2=2, targets=("query", "qkv")), r"unknown LoRA target\(s\) \['qkv'\]; choose from query, key"),
    (dict(n1=1, n2=2, bias_terms="layernorm"), r"unknown bias_terms 'layernorm'; choose from linear, all, none"),
])
def test_bad_configs_fail_at_construction(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SpafitConfig(**kwargs)


def test_n2_beyond_depth_fails_and_leaves_the_model_untouched():
    model = tiny_model("bert", num_layers=4)
    before = flags(model)
    with pytest.raises(ValueError, match=r"need 0 <= N1 <= N2 <= L = 4, got N1=1, N2=5"):
        apply_spafit(model, SpafitConfig(n1=1, n2=5))
    assert flags(model) == before and not lora_modules(model)


def test_applying_twice_is_refused_and_changes_nothing():
    model = tiny_model("bert", num_layers=4)
    apply_spafit(model, SpafitConfig(n1=1, n2=2))
    before, wrapped = flags(model), sorted(lora_modules(model))
    with pytest.raises(ValueError, match="already applied"):
        apply_spafit(model, SpafitConfig(n1=0, n2=0))
    assert flags(model) == before and sorted(lora_modules(model)) == wrapped


def test_model_without_a_layer_stack_is_refused():
    model = torch.nn.Sequential(torch.nn.Linear(3, 3))
    with pytest.raises(UnsupportedModelError, match="cannot find the layer stack.*supported model types: bert"):
        apply_spafit(model, SpafitConfig(n1=0, n2=0))
    assert all(p.requires_grad for p in model.parameters())
    assert not isinstance(model[0], LoRALinear)


def test_non_config_is_refused():
    with pytest.raises(TypeError, match="SpafitConfig"):
        apply_spafit(tiny_model(), {"n1": 1, "n2": 2})


def test_trained_spafit_model_updates_only_trainable_parameters():
    model = tiny_model("bert", num_layers=3).train()
    apply_spafit(model, SpafitConfig(n1=1, n2=2, r=2))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    batch = {"input_ids": torch.randint(0, 1000, (4, 6)), "labels": torch.tensor([0, 1, 0, 1])}
    for _ in range(2):
        model(**batch).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert changed <= trainable_names(model)
    assert any("lora_B" in n for n in changed) and "classifier.weight" in changed
