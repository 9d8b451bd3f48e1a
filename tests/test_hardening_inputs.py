"""Inputs that parse but are wrong (issue 26): SPAFIT_* variables and size options, adapter files, and the
statistics' inputs are refused with one line naming what is wrong, before anything runs or changes."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from spafit_course import SpafitConfig, apply_spafit, load_adapter, save_adapter
from spafit_course.lessons.stats import mean_and_se, paired_difference, verdict
from spafit_course.runs import experiments
from spafit_course.runs.models import tiny_model
from spafit_course.runs.profiles import PROFILES, env_overrides, get_profile, unknown_variables
from spafit_course.tuning.adapters import adapter_files

from cli_run import run

QUICK = PROFILES["quick"]
SIZE_VARIABLES = ("SPAFIT_TRAIN_SIZE", "SPAFIT_EVAL_SIZE", "SPAFIT_BATCH_SIZE", "SPAFIT_MAX_LENGTH", "SPAFIT_EPOCHS")


@pytest.fixture
def clean_environment(monkeypatch):
    for variable in (*SIZE_VARIABLES, "SPAFIT_PROFILE"):
        monkeypatch.delenv(variable, raising=False)


# --- SPAFIT_* variables --------------------------------------------------------------------------------------------

BAD_NUMBERS = [
    ("SPAFIT_TRAIN_SIZE", "16_0", "an integer in 1..10000000"),  # int() reads 160
    ("SPAFIT_TRAIN_SIZE", "\uff11\uff16", "an integer in 1..10000000"),  # full-width 16, which int() reads
    ("SPAFIT_TRAIN_SIZE", "\u0661\u0666", "an integer in 1..10000000"),  # Arabic-Indic 16
    ("SPAFIT_TRAIN_SIZE", "+16", "an integer in 1..10000000"),
    ("SPAFIT_TRAIN_SIZE", "99999999999999999999", "an integer in 1..10000000"),
    ("SPAFIT_TRAIN_SIZE", "10000001", "an integer in 1..10000000"),
    ("SPAFIT_EVAL_SIZE", "0x10", "an integer in 1..10000000"),
    ("SPAFIT_BATCH_SIZE", "100000", "an integer in 1..4096"),
    ("SPAFIT_MAX_LENGTH", "6\u00b4", "an integer in 4..512"),
    ("SPAFIT_EPOCHS", "1e-9", "a number > 0 and <= 100"),
    ("SPAFIT_EPOCHS", "1_0", "a number > 0 and <= 100"),
    ("SPAFIT_EPOCHS", "0", "a number > 0 and <= 100"),
    ("SPAFIT_EPOCHS", "0.0", "a number > 0 and <= 100"),
    ("SPAFIT_EPOCHS", "101", "a number > 0 and <= 100"),
    ("SPAFIT_EPOCHS", "\u00bd", "a number > 0 and <= 100"),
    ("SPAFIT_EPOCHS", "Infinity", "a number > 0 and <= 100"),
]


@pytest.mark.parametrize("variable, value, allowed", BAD_NUMBERS, ids=[f"{v}={x!r}" for v, x, _ in BAD_NUMBERS])
def test_a_size_variable_must_be_plain_digits_in_its_range(variable, value, allowed):
    with pytest.raises(ValueError) as caught:
        env_overrides({variable: value})
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{variable}={value!r} must be {allowed}, written in plain "
                                                      "decimal digits")


def test_plain_values_are_read_as_written():
    assert env_overrides({"SPAFIT_TRAIN_SIZE": " 016 ", "SPAFIT_EPOCHS": "0.5", "SPAFIT_MAX_LENGTH": "512"}) == {
        "train_size": 16, "epochs": 0.5, "max_length": 512}


def test_an_epoch_count_must_give_at_least_one_step(monkeypatch, clean_environment):
    for variable, value in {"SPAFIT_TRAIN_SIZE": "16", "SPAFIT_BATCH_SIZE": "8", "SPAFIT_EPOCHS": "0.25"}.items():
        monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=r"epochs=0.25 on 16 training examples in batches of 8 \(2 step\(s\) per "
                                         r"epoch\) is less than one step; use epochs >= 0.5"):
        get_profile()
    monkeypatch.setenv("SPAFIT_EPOCHS", "0.5")
    assert get_profile().epochs == 0.5
    with pytest.raises(ValueError, match="less than one step"):
        QUICK.with_overrides(epochs=0.001)  # 3,000 examples in batches of 32: 94 steps per epoch


def test_the_step_count_is_checked_on_the_data_that_trains(monkeypatch):
    """A split smaller than the profile's train size: the check runs on what is there, before a model loads."""
    profile = QUICK.with_overrides(epochs=0.5, batch_size=8)  # 3,000 examples: fine on paper
    data = (None, [{"input_ids": [1]}] * 4, {})  # four examples: one step per epoch, half a step in all
    with pytest.raises(ValueError, match="bitfit on polarity: epochs=0.5 on 4 training examples"):
        experiments.run_method(profile, "bitfit", data, model_factory=lambda n: pytest.fail("a model was built"))


def test_huge_sizes_are_refused_through_the_api_too():
    for field, value in (("train_size", 10 ** 20), ("batch_size", 10 ** 6), ("epochs", 1e9)):
        with pytest.raises(ValueError, match=f"profile field {field} must be"):
            QUICK.with_overrides(**{field: value})


def test_an_unknown_spafit_variable_is_named_with_the_known_ones(monkeypatch, clean_environment):
    monkeypatch.setenv("SPAFIT_TRIAN_SIZE", "64")
    assert unknown_variables() == ["SPAFIT_TRIAN_SIZE"]
    with pytest.warns(UserWarning, match=r"SPAFIT_TRIAN_SIZE is set but not read by spafit-course \(misspelt\?\); "
                                         r"the SPAFIT_\* variables it reads are SPAFIT_PROFILE, SPAFIT_TRAIN_SIZE"):
        get_profile()


def test_the_command_line_warns_in_one_line(monkeypatch, capsys, clean_environment, tmp_path):
    monkeypatch.setenv("SPAFIT_EPOCS", "2")
    (tmp_path / "file").write_text("")
    status, _, err = run(["compare", "--output", str(tmp_path / "file")], capsys)  # refused before training
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("spafit-course: warning: SPAFIT_EPOCS is set but not read")
    assert "SPAFIT_EPOCHS" in lines[0] and lines[1].startswith("spafit-course compare: error:")


BAD_OPTIONS = [
    (["compare", "--train-size", "16_0"], "argument --train-size: must be an integer in 1..10000000, got '16_0'"),
    (["compare", "--train-size", "\uff11\uff16"], "argument --train-size: must be an integer in 1..10000000"),
    (["compare", "--batch-size", "99999999999999999999"], "argument --batch-size: must be an integer in 1..4096"),
    (["compare", "--seed", "\u0664\u0662"], "argument --seed: must be an integer in 0..4294967295"),
    (["compare", "--epochs", "1e-9"], "argument --epochs: must be a number > 0 and <= 100 in plain decimal digits"),
    (["bench", "--tiny", "--steps", "1_0"], "argument --steps: must be an integer >= 1, got '1_0'"),
    (["compare", "--train-size", "16", "--batch-size", "8", "--epochs", "0.25"],
     "profile 'quick': epochs=0.25 on 16 training examples in batches of 8 (2 step(s) per epoch) is less than one "
     "step; use epochs >= 0.5"),
]


@pytest.mark.parametrize("argv, message", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_size_options_take_plain_digits_in_range(argv, message, capsys, clean_environment, monkeypatch):
    monkeypatch.setattr(experiments, "compare_methods", lambda *a, **k: pytest.fail("training started"))
    status, _, err = run(argv, capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert message in err


# --- adapters ------------------------------------------------------------------------------------------------------

@pytest.fixture
def adapter(tmp_path):
    model = apply_spafit(tiny_model("bert", num_layers=2), SpafitConfig(n1=0, n2=1, r=2))
    return save_adapter(model, tmp_path / "a", base_model_name="x", max_length=32)


def edit_json(path, edit):
    config_file = adapter_files(path)[1]
    info = json.loads(config_file.read_text())
    edit(info)
    config_file.write_text(json.dumps(info))


def edit_tensors(path, edit):
    """Change the weights file and record its new digest, as a careful forger would."""
    import hashlib

    weights = adapter_files(path)[0]
    tensors = load_file(str(weights))
    edit(tensors)
    save_file(tensors, str(weights))
    edit_json(path, lambda info: info.update(
        weights_sha256=hashlib.sha256(weights.read_bytes()).hexdigest(),
        tensors={name: list(t.shape) for name, t in tensors.items()}))


def refused_untouched(path, message):
    base = tiny_model("bert", num_layers=2)
    before = {k: v.clone() for k, v in base.state_dict().items()}
    with pytest.raises(ValueError, match=message) as caught:
        load_adapter(base, path)
    assert "\n" not in str(caught.value)
    assert all(torch.equal(before[k], v) for k, v in base.state_dict().items())
    assert not hasattr(base, "spafit_config")
    return str(caught.value)


BAD_DESCRIPTIONS = [
    (lambda info: info.update(format_version=3), r"format_version 3 is not one this package reads \(1, 2\)"),
    (lambda info: info.update(format_version="2"), r"format_version '2' is not one this package reads"),
    (lambda info: info.pop("format_version"), "format_version None is not one this package reads"),
    (lambda info: info.update(format_version=True), "format_version True is not one"),
    (lambda info: info.pop("head"), "lacks the entry \"head\" that format_version 2 records"),
    (lambda info: info.update(head="max"), "head must be one of cls, mean, got 'max'"),
    (lambda info: info.update(format_version=1, head="mean"), "head 'mean' in a format_version 1 file"),
    (lambda info: info.update(max_length=2), r"max_length must be an integer in 4..512 or null, got 2"),
    (lambda info: info.update(max_length=100000), "max_length must be an integer in 4..512 or null, got 100000"),
    (lambda info: info.update(max_length=64.0), "max_length must be an integer in 4..512 or null, got 64.0"),
    (lambda info: info.update(tensors={}), "tensors must map each tensor name to its shape"),
    (lambda info: info["tensors"].update({next(iter(info["tensors"])): [True, 2]}), "tensors must map"),
    (lambda info: info.update(weights_sha256="abc"), "weights_sha256 must be a SHA-256 hex digest"),
]


@pytest.mark.parametrize("edit, message", BAD_DESCRIPTIONS, ids=[m[:40] for _, m in BAD_DESCRIPTIONS])
def test_an_adapter_description_is_checked_against_the_format(adapter, edit, message):
    edit_json(adapter, edit)
    text = refused_untouched(adapter, message)
    assert text.startswith(f"{adapter_files(adapter)[1]}: ")  # the file, then the field


def test_a_version_1_file_without_a_head_is_a_cls_adapter(adapter):
    edit_json(adapter, lambda info: (info.update(format_version=1), info.pop("head")))
    load_adapter(tiny_model("bert", num_layers=2), adapter)


def test_a_mean_head_cannot_claim_a_trained_pooler(tmp_path):
    model = apply_spafit(tiny_model("bert", num_layers=2), SpafitConfig(n1=0, n2=1, r=2, train_pooler=True))
    path = save_adapter(model, tmp_path / "p", base_model_name="x")
    edit_json(path, lambda info: info.update(head="mean"))  # another head than the one it was trained with
    refused_untouched(path, "head \"mean\" has no pooler, but the tensors include")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_an_adapter_with_non_finite_weights_is_refused(adapter, value):
    name = "classifier.weight"
    edit_tensors(adapter, lambda tensors: tensors[name].view(-1).__setitem__(0, value))
    text = refused_untouched(adapter, f"tensor {name} holds 1 NaN or infinite value")
    assert text.startswith(str(adapter_files(adapter)[0]))


def test_an_adapter_may_not_carry_a_frozen_base_weight(adapter):
    frozen = "bert.encoder.layer.0.attention.self.key.weight"  # a base weight its config leaves frozen

    def plant(tensors):
        tensors[frozen] = torch.full_like(tiny_model("bert", num_layers=2).state_dict()[frozen], 7.0)

    edit_tensors(adapter, plant)
    refused_untouched(adapter, rf"tensor\(s\) \['{frozen}'\] are frozen weights of the base model")


def test_an_adapter_of_integer_tensors_is_refused(adapter):
    edit_tensors(adapter, lambda tensors: tensors.update({"classifier.bias": torch.tensor([1, 2])}))
    refused_untouched(adapter, "tensor classifier.bias has dtype torch.int64")


def test_a_description_beside_weights_of_another_save_is_refused(adapter, tmp_path):
    other = apply_spafit(tiny_model("bert", num_layers=2, seed=1), SpafitConfig(n1=0, n2=1, r=2))
    second = save_adapter(other, tmp_path / "b", base_model_name="x", max_length=32)
    adapter_files(adapter)[0].write_bytes(adapter_files(second)[0].read_bytes())  # new weights, old description
    refused_untouched(adapter, "is not the file spafit_adapter.json describes \\(weights_sha256 differs\\)")


def test_predict_names_the_adapter_field_in_one_line(adapter, capsys):
    edit_json(adapter, lambda info: info.update(format_version=9))
    status, _, err = run(["predict", str(adapter), "a film"], capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1
    assert f"{adapter_files(adapter)[1]}: format_version 9 is not one this package reads" in err


# --- statistics ----------------------------------------------------------------------------------------------------

A = [0.741, 0.705, 0.733, 0.752, 0.718]
B = [0.700, 0.681, 0.712, 0.730, 0.690]

BAD_SCORES = [
    (["0.741", "0.705"], [0.7, 0.6], "a must be numbers, one score per seed"),
    ([0.741, "0.705"], [0.7, 0.6], "a must be numbers"),
    ([True, False], [0.7, 0.6], "a must be numbers"),
    ([0.7, None], [0.7, 0.6], "a must be numbers"),
    ([0.7, 0.8], [0.6, [0.5]], "b must be numbers"),
    ("0.70.8", [0.6, 0.5], "a must be numbers"),
    ([0.7, float("inf")], [0.6, 0.5], "a must be at least two finite numbers"),
    ([1e308, -1e308], [0.6, 0.5], r"a must be scores on their own scale \(below 1e\+100"),
    ([0.7, 0.8, 0.9], [0.6, 0.7], "pair up seed by seed; got 3 and 2"),
]


@pytest.mark.parametrize("a, b, message", BAD_SCORES, ids=[m[:30] + repr(a)[:20] for a, _, m in BAD_SCORES])
def test_the_paired_difference_refuses_what_it_cannot_mean(a, b, message):
    with pytest.raises(ValueError, match=message):
        paired_difference(a, b)


def test_one_seed_repeated_is_not_five_paired_seeds():
    with pytest.raises(ValueError, match=r"seeds \[42\] appear more than once"):
        paired_difference(A, B, seeds=[42] * 5)
    with pytest.raises(ValueError, match=r"seeds \[43\] appear more than once"):
        mean_and_se(A, seeds=[42, 43, 43, 44, 45])
    with pytest.raises(ValueError, match=r"seeds must be one whole number per score \(5\)"):
        mean_and_se(A, seeds=[42, 43])
    assert paired_difference(A, B, seeds=[42, 43, 44, 45, 46]) == paired_difference(A, B)
    # the same run listed five times has the same scores five times: a difference with no spread at all
    with pytest.raises(ValueError, match="a - b is \\+0.041 on every one of the 5 seeds"):
        paired_difference([0.741] * 5, [0.700] * 5)


def test_a_constant_difference_up_to_rounding_claims_nothing_and_is_refused():
    with pytest.raises(ValueError, match="zero width and would claim certainty"):
        paired_difference([0.7, 0.8, 0.9], [0.6, 0.7, 0.8])  # 0.1 up to the 17th digit
    same = paired_difference(A, A)  # identical scores: no difference, and no claim of one
    assert (same.low, same.high) == (0.0, 0.0) and not same.excludes_zero
    assert "no difference detectable" in verdict("LoRA", "LoRA again", same)


def test_overflow_never_reaches_the_interval():
    with pytest.raises(ValueError, match="own scale"):
        mean_and_se([1.5e308, 1.6e308])


@pytest.mark.parametrize("confidence", ["0.95", True, float("nan"), 1.0])
def test_the_confidence_must_be_a_number_between_0_and_1(confidence):
    with pytest.raises(ValueError, match="confidence must be a number between 0 and 1"):
        paired_difference(A, B, confidence)


def test_arrays_and_tensors_of_scores_are_numbers_too():
    reference = paired_difference(A, B)
    assert paired_difference(np.array(A), np.array(B, dtype=np.float32)).n == 5
    assert paired_difference(torch.tensor(A, dtype=torch.float64), B).mean == pytest.approx(reference.mean)
    assert mean_and_se(np.array([1, 2, 3])).mean == 2.0
