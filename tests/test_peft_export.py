"""peft's LoRA format: SPAFIT, LoRA and BitFit adapters that plain peft loads (in a process that cannot import this
package) with the course model's logits, peft adapters loaded back into course models, and bad input refused."""

import copy
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from spafit_course import (LoRALinear, SpafitConfig, apply_spafit, cli, load_peft_adapter, merge_lora, method_config,
                           save_adapter, save_peft_adapter)
from spafit_course.runs.models import TINY_FAMILIES, load_model, load_tokenizer, tiny_model
from spafit_course.runs.profiles import QUICK_MODEL, get_profile
from spafit_course.tuning.lora import lora_modules
from spafit_course.tuning.peft_format import NO_TARGETS, PEFT_CONFIG_NAME, PEFT_WEIGHTS_NAME

README = Path(__file__).resolve().parents[1] / "README.md"
LAYERS, LABELS, ATOL = 12, 3, 1e-5
#: The cases the blocked process loads: (profile whose method settings and head they use, method).
CASES = {"spafit": ("colab", "spafit"), "lora": ("colab", "lora"), "bitfit": ("colab", "bitfit"),
         "head": ("colab", "head"), "ffn-pooler": ("colab", "ffn-pooler"), "mean-spafit": ("quick", "spafit")}

#: Runs with spafit_course unimportable: every import of it raises, and the worktree is not on the path.
PEFT_ONLY = textwrap.dedent('''
    import json, sys

    class Blocked:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] == "spafit_course":
                raise ImportError("spafit_course is blocked in this process")

    sys.meta_path.insert(0, Blocked())
    try:
        import spafit_course  # noqa: F401
        blocked = False
    except ImportError:
        blocked = True
    import torch
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    job = json.load(open(sys.argv[1]))
    out = {"blocked": blocked}
    inputs = {k: torch.tensor(v) for k, v in job["inputs"].items()}
    for name, folder in job["cls"].items():
        model = PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(job["base"]), folder)
        with torch.no_grad():
            out[name] = model.eval()(**inputs).logits.tolist()
    for name, folder in job["mean"].items():
        space = {"base": job["base"], "folder": folder}
        exec(job["readme_block"], space)
        out[name] = {"logits": space["logits"].detach().tolist(), "sentences": space["sentences"]}
    out["loaded"] = sorted(m for m in sys.modules if m.split(".")[0] == "spafit_course")
    json.dump(out, open(sys.argv[2], "w"))
''')


def readme_block(containing: str) -> str:
    """The one ```python block of the README that contains `containing`."""
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if containing in b]
    assert len(blocks) == 1, f"expected one README python block with {containing!r}, found {len(blocks)}"
    return blocks[0]


def inputs():
    generator = torch.Generator().manual_seed(3)
    ids = torch.randint(1000, 2000, (3, 10), generator=generator)
    mask = torch.ones_like(ids)
    mask[0, 6:] = 0  # padding, so the mean head's mask matters
    return {"input_ids": ids, "attention_mask": mask}


def logits(model, batch=None):
    with torch.no_grad():
        return model(**(batch or inputs())).logits


def fresh(base, head="cls", num_labels=LABELS):
    return load_model(str(base), num_labels=num_labels, seed=0, head=head)


def adapted(base, case):
    """A course model adapted like `case` says, its trainable parameters moved as training would move them."""
    profile_name, method = CASES[case]
    profile = get_profile(profile_name)
    if method == "ffn-pooler":  # ffn_out's module path is a suffix of attention_output's; LayerNorm biases; pooler
        config = SpafitConfig(n1=3, n2=9, targets=("query", "ffn_out"), r=2, alpha=8, bias_terms="all",
                              train_pooler=True)
    else:
        config = method_config(method, LAYERS, profile)
    model = apply_spafit(fresh(base, profile.head), config)
    generator = torch.Generator().manual_seed(len(case))
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.2 * torch.randn(p.shape, generator=generator))
    return model.eval()


def snapshot(model):
    return {n: (p.requires_grad, p.detach().clone()) for n, p in model.named_parameters()}


def assert_untouched(model, before):
    assert not lora_modules(model) and not hasattr(model, "peft_adapter_config")
    assert set(dict(model.named_parameters())) == set(before)
    for name, p in model.named_parameters():
        assert p.requires_grad == before[name][0] and torch.equal(p, before[name][1]), name


def tiny_bert(layers=LAYERS, hidden=32, encoder_only=False):
    """A random BERT (vocabulary of the quick model's tokenizer), a sequence classifier or the encoder alone."""
    from transformers import BertConfig, BertForSequenceClassification, BertModel

    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
                        intermediate_size=2 * hidden, max_position_embeddings=64, num_labels=LABELS)
    return (BertModel if encoder_only else BertForSequenceClassification)(config).eval()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A 12-layer BERT encoder with hidden size 32 saved with save_pretrained, as a Hub checkpoint is (no task
    head), beside the quick model's tokenizer."""
    folder = tmp_path_factory.mktemp("base") / "tiny-bert"
    tiny_bert(encoder_only=True).save_pretrained(folder)
    load_tokenizer(QUICK_MODEL).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def exported(base, tmp_path_factory):
    """Each case's course model and its peft export, and what a process without spafit_course computes from it."""
    root = tmp_path_factory.mktemp("peft")
    models = {case: adapted(base, case) for case in CASES}
    folders = {case: save_peft_adapter(model, root / case) for case, model in models.items()}
    job = {"base": str(base), "inputs": {k: v.tolist() for k, v in inputs().items()},
           "cls": {c: str(f) for c, f in folders.items() if not c.startswith("mean")},
           "mean": {c: str(f) for c, f in folders.items() if c.startswith("mean")},
           "readme_block": readme_block("masked mean")}
    (root / "job.json").write_text(json.dumps(job))
    (root / "peft_only.py").write_text(PEFT_ONLY)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"HF_HUB_OFFLINE": "1"}
    run = subprocess.run([sys.executable, "peft_only.py", "job.json", "out.json"], cwd=root, env=env,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return models, folders, json.loads((root / "out.json").read_text())


def test_the_peft_process_could_not_import_the_package(exported):
    _, _, out = exported
    assert out["blocked"] is True and out["loaded"] == []


@pytest.mark.parametrize("case", [c for c in CASES if not c.startswith("mean")])
def test_plain_peft_gives_the_course_models_logits(exported, base, case):
    models, _, out = exported
    ours = logits(models[case])
    assert (ours - logits(fresh(base))).abs().max() > 1e-2  # the adapter matters, so equality below means something
    assert (torch.tensor(out[case]) - ours).abs().max() <= ATOL


def test_the_readme_lines_pool_the_mean_like_the_course_model(exported, base):
    models, _, out = exported
    tokenizer = load_tokenizer(str(base))
    batch = tokenizer(out["mean-spafit"]["sentences"], padding=True, return_tensors="pt")
    assert batch["attention_mask"].min() == 0, "the README's sentences should differ in length, so padding is tested"
    ours = logits(models["mean-spafit"], dict(batch))
    assert (torch.tensor(out["mean-spafit"]["logits"]) - ours).abs().max() <= ATOL


def test_the_adapter_config_names_what_trained(exported):
    models, folders, _ = exported
    configs = {case: json.loads((f / PEFT_CONFIG_NAME).read_text()) for case, f in folders.items()}
    assert configs["spafit"]["target_modules"] == r"bert\.encoder\.layer\.(5|6|7|8|9|10|11)\.(attention\.self\.key|" \
                                                  r"attention\.self\.query|attention\.self\.value)"
    assert (configs["spafit"]["r"], configs["spafit"]["lora_alpha"], configs["spafit"]["bias"]) == (16, 32, "all")
    assert (configs["lora"]["bias"], configs["bitfit"]["bias"], configs["head"]["bias"]) == ("none", "all", "none")
    assert configs["bitfit"]["target_modules"] == configs["head"]["target_modules"] == NO_TARGETS
    assert configs["ffn-pooler"]["modules_to_save"] == ["classifier", "bert.pooler"]
    assert all(c["modules_to_save"][0] == "classifier" and c["peft_type"] == "LORA" for c in configs.values())


def test_no_targets_is_peft_own_value_and_peft_wraps_exactly_the_lora_layers(exported, base):
    from peft import PeftModel
    from peft.utils.constants import DUMMY_TARGET_MODULES
    from transformers import AutoModelForSequenceClassification

    assert NO_TARGETS == DUMMY_TARGET_MODULES
    models, folders, _ = exported
    for case in ("spafit", "ffn-pooler", "bitfit"):  # ffn-pooler: no attention.output.dense, though its path ends alike
        model = PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(base), folders[case])
        assert sorted(model.base_model.targeted_module_names) == sorted(lora_modules(models[case])), case


@pytest.mark.parametrize("case", ["spafit", "lora", "bitfit", "ffn-pooler"])
def test_every_tensor_has_the_name_peft_itself_saves(exported, base, case):
    from peft import LoraConfig, get_peft_model, get_peft_model_state_dict
    from transformers import AutoModelForSequenceClassification

    _, folders, _ = exported
    peft_model = get_peft_model(AutoModelForSequenceClassification.from_pretrained(base),
                                LoraConfig.from_pretrained(folders[case]))
    theirs = {f"base_model.model.{k.removeprefix('base_model.model.')}" for k in get_peft_model_state_dict(peft_model)}
    ours = set(load_file(folders[case] / PEFT_WEIGHTS_NAME))
    assert ours <= theirs, sorted(ours - theirs)[:5]
    if case == "lora":  # no biases: peft saves exactly LoRA and the head, as we do
        assert ours == theirs


@pytest.mark.parametrize("case", ["spafit", "bitfit", "ffn-pooler", "mean-spafit"])
def test_round_trip_into_a_course_model(exported, base, case):
    models, folders, _ = exported
    model = load_peft_adapter(fresh(base, get_profile(CASES[case][0]).head), folders[case])
    assert (logits(model) - logits(models[case])).abs().max() <= ATOL
    assert {n for n, p in model.named_parameters() if p.requires_grad} == \
           {n for n, p in models[case].named_parameters() if p.requires_grad}
    assert all(isinstance(m, LoRALinear) for m in lora_modules(model).values())


def test_a_peft_made_lora_adapter_loads_into_the_course_model(base, tmp_path):
    from peft import LoraConfig, get_peft_model

    config = LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, target_modules=["query", "value"],
                        layers_to_transform=[8, 9, 10, 11], bias="all")
    peft_model = get_peft_model(fresh(base), config)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for p in peft_model.parameters():
            if p.requires_grad:
                p.add_(0.2 * torch.randn(p.shape, generator=generator))
    peft_model.save_pretrained(tmp_path / "made-by-peft")
    model = load_peft_adapter(fresh(base), tmp_path / "made-by-peft")
    assert sorted(lora_modules(model)) == sorted(peft_model.base_model.targeted_module_names)
    assert len(lora_modules(model)) == 8
    assert (logits(model) - logits(peft_model.eval())).abs().max() <= ATOL
    assert (logits(model) - logits(fresh(base))).abs().max() > 1e-2


@pytest.mark.parametrize("family", TINY_FAMILIES)
def test_every_family_exports_what_peft_loads_and_back(family, tmp_path):
    from peft import PeftModel

    base = tiny_model(family, num_layers=4, hidden=32, num_labels=LABELS)
    model = apply_spafit(copy.deepcopy(base), SpafitConfig(n1=1, n2=2, targets=("value", "ffn_out"), r=2, alpha=4))
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.2 * torch.randn_like(p))
    batch = {"input_ids": torch.randint(5, 1000, (2, 7)), "attention_mask": torch.ones(2, 7, dtype=torch.long)}
    save_peft_adapter(model.eval(), tmp_path / family)
    with_peft = PeftModel.from_pretrained(copy.deepcopy(base), tmp_path / family).eval()
    assert (logits(with_peft, batch) - logits(model, batch)).abs().max() <= ATOL
    back = load_peft_adapter(copy.deepcopy(base), tmp_path / family)
    assert (logits(back, batch) - logits(model, batch)).abs().max() <= ATOL
    assert (logits(base, batch) - logits(model, batch)).abs().max() > 1e-2


# --- bad input: one error naming the file and the entry, and the model untouched ------------------------------------

def copy_of(folder, dst, config_edit=None, tensors_edit=None):
    dst.mkdir()
    config = json.loads((folder / PEFT_CONFIG_NAME).read_text())
    (dst / PEFT_CONFIG_NAME).write_text(json.dumps(config_edit(config) if config_edit else config))
    tensors = load_file(folder / PEFT_WEIGHTS_NAME)
    save_file(tensors_edit(tensors) if tensors_edit else tensors, dst / PEFT_WEIGHTS_NAME,
              metadata={"format": "pt", "spafit_course.head": "cls"})
    return dst


def with_nan(tensors):
    key = next(k for k in tensors if k.endswith("lora_B.weight"))
    tensors[key][0, 0] = float("nan")
    return tensors


def truncate(folder):
    weights = folder / PEFT_WEIGHTS_NAME
    weights.write_bytes(weights.read_bytes()[:300])
    return folder


def empty(folder, dst):
    (dst / "empty").mkdir()
    return dst / "empty"


def bad_json(folder, dst):
    copy_of(folder, dst / "x")
    (dst / "x" / PEFT_CONFIG_NAME).write_text("{")
    return dst / "x"


BAD = {
    "missing": (lambda f, d: d / "nowhere", "no adapter folder at {dst}/nowhere"),
    "empty": (empty, "is not a peft adapter: it has no adapter_config.json"),
    "bad json": (bad_json, "adapter_config.json is not valid JSON"),
    "IA3": (lambda f, d: copy_of(f, d / "x", lambda c: {**c, "peft_type": "IA3"}),
            "peft_type 'IA3' is a peft method the course does not have"),
    "prefix tuning": (lambda f, d: copy_of(f, d / "x", lambda c: {"peft_type": "PREFIX_TUNING"}),
                      "peft_type 'PREFIX_TUNING' is a peft method the course does not have"),
    "DoRA": (lambda f, d: copy_of(f, d / "x", lambda c: {**c, "use_dora": True}),
             "adapter_config.json: use_dora = true makes a LoRA variant"),
    "PiSSA": (lambda f, d: copy_of(f, d / "x", lambda c: {**c, "init_lora_weights": "pissa"}),
              "init_lora_weights 'pissa' changed the base weights"),
    "targets": (lambda f, d: copy_of(f, d / "x", lambda c: {**c, "target_modules": ["query"]}),
                "target_modules in adapter_config.json selects"),
    "NaN": (lambda f, d: copy_of(f, d / "x", tensors_edit=with_nan), "lora_B.weight holds NaN or infinite values"),
    "truncated": (lambda f, d: truncate(copy_of(f, d / "x")), "cannot read {dst}/x/adapter_model.safetensors"),
}


@pytest.mark.parametrize("kind", BAD)
def test_a_bad_folder_is_refused_and_the_model_untouched(exported, base, tmp_path, kind):
    _, folders, _ = exported
    make, message = BAD[kind]
    folder = make(folders["spafit"], tmp_path)
    model = fresh(base)
    before = snapshot(model)
    with pytest.raises((ValueError, OSError), match=re.escape(message.format(dst=tmp_path))):
        load_peft_adapter(model, folder)
    assert_untouched(model, before)


def test_a_peft_made_ia3_adapter_is_refused_by_name(base, tmp_path):
    from peft import IA3Config, get_peft_model

    config = IA3Config(task_type="SEQ_CLS", target_modules=["key", "value", "intermediate.dense"],
                       feedforward_modules=["intermediate.dense"])
    get_peft_model(fresh(base), config).save_pretrained(tmp_path / "ia3")
    model = fresh(base)
    before = snapshot(model)
    with pytest.raises(ValueError, match=re.escape(f"{tmp_path / 'ia3' / PEFT_CONFIG_NAME}: peft_type 'IA3' is a "
                                                   "peft method the course does not have")):
        load_peft_adapter(model, tmp_path / "ia3")
    assert_untouched(model, before)


def test_the_course_format_is_pointed_to_load_adapter(base, tmp_path):
    model = adapted(base, "spafit")
    save_adapter(model, tmp_path / "course")
    with pytest.raises(FileNotFoundError, match="a spafit-course adapter: load it with load_adapter"):
        load_peft_adapter(fresh(base), tmp_path / "course")


@pytest.mark.parametrize("other, message", [
    (lambda base: fresh(base, num_labels=2), "an adapter for another task head: 3 labels where this model has 2; "
                                             "build the model with num_labels=3"),
    (lambda base: fresh(base, head="mean"), "metadata spafit_course.head is 'cls'"),
    (lambda base: tiny_bert(layers=6), "this model has no such module"),
])
def test_a_model_of_another_shape_or_head_is_refused_untouched(exported, base, other, message):
    _, folders, _ = exported
    model = other(base)
    before = snapshot(model)
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        load_peft_adapter(model, folders["spafit"])
    assert str(folders["spafit"]) in str(error.value)
    assert_untouched(model, before)


def test_another_hidden_size_names_the_tensor(exported):
    _, folders, _ = exported
    model = tiny_bert(hidden=48)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"attention\.self\.query\.lora_A\.weight has shape \[16, 32\], this model "
                                         r"and r=16 need \[16, 48\]"):
        load_peft_adapter(model, folders["spafit"])
    assert_untouched(model, before)


def test_an_adapted_model_is_refused(exported, base):
    _, folders, _ = exported
    with pytest.raises(ValueError, match="needs a fresh base model"):
        load_peft_adapter(adapted(base, "lora"), folders["spafit"])


def test_exports_that_would_be_wrong_are_refused_and_write_nothing(base, tmp_path):
    full = fresh(base)
    with pytest.raises(ValueError, match="full fine-tuning is no adapter"):
        save_peft_adapter(full, tmp_path / "full")
    merged = merge_lora(adapted(base, "lora"))
    with pytest.raises(ValueError, match="merged into its weights"):
        save_peft_adapter(merged, tmp_path / "merged")
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(ValueError, match="it is a file"):
        save_peft_adapter(adapted(base, "bitfit"), tmp_path / "a-file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_a_failed_export_leaves_the_previous_one_whole(base, tmp_path):
    model = adapted(base, "spafit")
    folder = save_peft_adapter(model, tmp_path / "adapter")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with torch.no_grad():
        next(m for m in lora_modules(model).values()).lora_B[0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"cannot export NaN or infinite values: \['bert\.encoder\.layer\.5\."):
        save_peft_adapter(model, folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


# --- the command line -----------------------------------------------------------------------------------------------

def test_export_command_writes_what_peft_loads(base, tmp_path, capsys):
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    model = adapted(base, "spafit")
    save_adapter(model, tmp_path / "course", base_model_name=str(base), task="polarity")
    assert cli.main(["export", str(tmp_path / "course"), str(tmp_path / "peft"), "--peft"]) == 0
    assert f"wrote {tmp_path / 'peft' / PEFT_CONFIG_NAME}" in capsys.readouterr().out
    loaded = PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(base), tmp_path / "peft")
    assert (logits(loaded.eval()) - logits(model)).abs().max() <= ATOL
    assert json.loads((tmp_path / "peft" / PEFT_CONFIG_NAME).read_text())["base_model_name_or_path"] == str(base)


@pytest.mark.parametrize("args, message", [
    (["{tmp}/nowhere", "{tmp}/out"], "no adapter folder at {tmp}/nowhere"),
    (["{tmp}/course", "{tmp}/a-file"], "OUT_FOLDER {tmp}/a-file is a file"),
])
def test_export_command_errors_are_one_line(base, tmp_path, capsys, args, message):
    save_adapter(adapted(base, "bitfit"), tmp_path / "course", base_model_name=str(base))
    (tmp_path / "a-file").write_text("x")
    assert cli.main(["export", *(a.format(tmp=tmp_path) for a in args)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("spafit-course export: error: ") and message.format(tmp=tmp_path) in err
    assert len(err.strip().splitlines()) == 1
