"""Bad input to the public API: refused with a ValueError naming the allowed values, the model left as it was."""

import json

import numpy as np
import pytest
import torch
from torch import nn

from spafit_course import (LoRALinear, SpafitConfig, apply_bitfit, apply_lora, apply_spafit, inject_lora, load_adapter,
                           save_adapter)
from spafit_course.runs.models import tiny_config, tiny_model
from spafit_course.tuning.adapters import adapter_files
from spafit_course.tuning.closed_form import closed_form_count
from spafit_course.tuning.lora import lora_modules


def state(model):
    return {n: (p.requires_grad, p.detach().clone()) for n, p in model.named_parameters()}


def unchanged(model, before):
    now = state(model)
    return now.keys() == before.keys() and all(
        now[n][0] == before[n][0] and torch.equal(now[n][1], before[n][1]) for n in now)


@pytest.mark.parametrize("kwargs, message", [
    (dict(alpha=float("inf")), r"alpha must be > 0, at most 1e\+06 \(a finite number\), got inf"),
    (dict(alpha=1e300), r"alpha must be > 0, at most 1e\+06"),
    (dict(alpha=float("nan")), "alpha must be > 0"),
    (dict(alpha="16"), r"alpha must be .*got '16'"),
    (dict(dropout="0.1"), r"dropout must be in \[0, 1\) \(a finite number\), got '0.1'"),
    (dict(r=True), "rank r must be a positive integer, got True"),
    (dict(targets=None), "LoRA targets must be a name or a list of names"),
    (dict(targets=["query", "query"]), r"LoRA target\(s\) \['query'\] given more than once"),
])
def test_bad_lora_settings_are_value_errors_before_anything_changes(kwargs, message):
    model = tiny_model("bert", num_layers=2)
    before = state(model)
    with pytest.raises(ValueError, match=message):
        apply_lora(model, **kwargs)
    assert unchanged(model, before) and not lora_modules(model)


@pytest.mark.parametrize("layers, message", [
    ([True], r"layer indices must be integers in 0..1, got \[True\]"),
    (5, "layers must be a list of 0-based layer indices in 0..1"),
    ("0", "layers must be a list"),
    ([0, 0], r"layer indices \[0\] given more than once"),
    ([1.0], "must be integers"),
])
def test_inject_lora_refuses_bad_layer_lists(layers, message):
    model = tiny_model("bert", num_layers=2)
    with pytest.raises(ValueError, match=message):
        inject_lora(model, layers=layers)
    assert not lora_modules(model)


def test_numpy_integers_are_integers():
    model = tiny_model("bert", num_layers=4)
    config = SpafitConfig(n1=np.int64(1), n2=np.int64(2), r=np.int32(2))
    assert (type(config.n1), type(config.r)) == (int, int)
    apply_spafit(model, config)
    assert len(lora_modules(model)) == 4
    assert inject_lora(tiny_model("bert", num_layers=2), layers=np.array([1])) == [
        "layer 1: attention.self.query", "layer 1: attention.self.value"]


@pytest.mark.parametrize("field, value, message", [
    ("r", 0, "rank r must be a positive integer"), ("dropout", 1.0, r"dropout must be in \[0, 1\)"),
    ("bias_terms", "bogus", "unknown bias_terms 'bogus'"), ("alpha", float("inf"), "alpha must be > 0"),
    ("targets", ("query", "query"), "given more than once"), ("n1", 3, "got N1=3 > N2=2"),
    ("train_pooler", "yes", "train_pooler must be True or False"),
])
def test_config_edited_after_construction_is_checked_before_the_model_changes(field, value, message):
    config = SpafitConfig(n1=1, n2=2)
    setattr(config, field, value)
    model = tiny_model("bert", num_layers=4)
    before = state(model)
    with pytest.raises(ValueError, match=message):
        apply_spafit(model, config)
    assert unchanged(model, before) and not hasattr(model, "spafit_config")


def test_duplicate_targets_never_reach_the_closed_form():
    with pytest.raises(ValueError, match="given more than once"):
        closed_form_count(tiny_config("bert"), SpafitConfig(0, 0, targets=["query", "query"]))


@pytest.mark.parametrize("method", [lambda m: apply_lora(m), lambda m: apply_bitfit(m),
                                    lambda m: apply_spafit(m, SpafitConfig(0, 0))])
def test_a_method_on_top_of_spafit_is_refused(method):
    model = apply_spafit(tiny_model("bert", num_layers=2), SpafitConfig(n1=2, n2=2))  # a linear probe
    before = state(model)
    with pytest.raises(ValueError, match="SPAFIT is already applied"):
        method(model)
    assert unchanged(model, before) and not lora_modules(model)


def test_save_adapter_refuses_what_load_would_refuse(tmp_path):
    model = apply_spafit(tiny_model("bert", num_layers=2), SpafitConfig(n1=0, n2=1, r=2))
    with pytest.raises(ValueError, match="label_names must be null or a list of 2 strings"):
        save_adapter(model, tmp_path / "a", base_model_name="x", label_names=["only one"])
    with pytest.raises(ValueError, match="max_length must be an integer in 4..512 or null"):
        save_adapter(model, tmp_path / "a", base_model_name="x", max_length=0)
    inject_lora(model, ("key",), [0], r=2)  # LoRA the saved config would not rebuild
    with pytest.raises(ValueError, match="has tensors the adapted model lacks"):
        save_adapter(model, tmp_path / "a", base_model_name="x")
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize("edit, message", [
    (lambda info: info.update(num_labels="2"), "num_labels must be a positive integer, got '2'"),
    (lambda info: info.update(label_names=["negative"]), "label_names must be null or a list of 2 strings"),
    (lambda info: info.update(max_length=-5), "max_length must be an integer in 4..512 or null"),
    (lambda info: info.update(tensors=[]), "tensors must map each tensor name"),
    (lambda info: info["spafit_config"].update(alpha="16"), "bad spafit_config: LoRA alpha"),
    (lambda info: info["spafit_config"].update(bogus=1), r"unknown \['bogus'\]"),
])
def test_adapter_json_with_wrong_types_is_refused(tmp_path, edit, message):
    model = apply_spafit(tiny_model("bert", num_layers=2), SpafitConfig(n1=0, n2=1, r=2))
    path = save_adapter(model, tmp_path / "a", base_model_name="x", label_names=["negative", "positive"])
    config_file = adapter_files(path)[1]
    info = json.loads(config_file.read_text())
    edit(info)
    config_file.write_text(json.dumps(info))
    base = tiny_model("bert", num_layers=2)
    before = state(base)
    with pytest.raises(ValueError, match=message):
        load_adapter(base, path)
    assert unchanged(base, before)


def test_adapter_refuses_a_base_with_another_vocabulary(tmp_path):
    model = apply_spafit(tiny_model("bert", num_layers=2), SpafitConfig(n1=0, n2=1, r=2))
    path = save_adapter(model, tmp_path / "a", base_model_name="x")
    with pytest.raises(ValueError, match=r"vocab_size 1000 \(the given model has 500\)"):
        load_adapter(tiny_model("bert", num_layers=2, vocab_size=500), path)


def test_lora_linear_keeps_a_type_error_for_a_non_linear():
    with pytest.raises(TypeError, match="wraps an nn.Linear"):  # a programming error, not user input
        LoRALinear(nn.Conv1d(2, 2, 1))
