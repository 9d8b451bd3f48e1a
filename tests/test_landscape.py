"""The website's PEFT landscape page: each method's count comes from `spafit_course.tuning.landscape`, which is
held to the course's own closed forms, to peft's implementations of IA3, prefix and prompt tuning on a small
random BERT, and to adapter modules built and counted; the page's table is held to the function."""

import re
from pathlib import Path

import pytest
from torch import nn
from transformers import BertConfig

from spafit_course.runs.models import QUICK_MODEL, build_classifier, model_config, with_head
from spafit_course.runs.profiles import get_profile
from spafit_course.tuning.closed_form import closed_form_count
from spafit_course.tuning.landscape import ALL_LINEAR, landscape_counts
from spafit_course.tuning.methods import method_config
from spafit_course.tuning.spafit import SpafitConfig, apply_spafit

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "book" / "peft-landscape.md"
#: the page's table: the start of each row's first cell, and the count it must show
ROWS = {"Full fine-tuning": "full", "The head alone": "head", "BitFit": "bitfit", "LoRA": "lora",
        "SPAFIT": "spafit", "Adapters": "adapters", "Prefix tuning": "prefix", "Prompt tuning": "prompt",
        "IA³": "ia3", "QLoRA": "qlora", "ULMFiT": "ulmfit_first_stage"}


@pytest.fixture(scope="module")
def quick():
    return model_config(QUICK_MODEL)


def small_config(head="cls"):
    """A BERT with H, I and L all different, so a count that mixes them up cannot pass."""
    return with_head(BertConfig(vocab_size=100, hidden_size=32, intermediate_size=80, num_hidden_layers=3,
                                num_attention_heads=2, max_position_embeddings=64, num_labels=3), head)


def trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_the_course_methods_agree_with_the_closed_forms(quick):
    profile = get_profile("quick")
    counts = landscape_counts(quick, r=profile.spafit["r"], targets=profile.spafit["targets"],
                              n1=profile.spafit["n1"], n2=profile.spafit["n2"])
    assert profile.lora["r"] == profile.spafit["r"] and profile.lora["targets"] == profile.spafit["targets"]
    for method in ("full", "head", "bitfit", "lora", "spafit"):
        expected = closed_form_count(quick, method_config(method, quick.num_hidden_layers, profile)).trainable
        assert counts[method] == expected, method
    assert counts["spafit"] == 39_170 and counts["bitfit"] == 21_506  # lessons 04 and 01 state these


@pytest.mark.parametrize("head", ["cls", "mean"])
def test_lora_everywhere_and_the_top_layer_match_the_real_model(head):
    config = small_config(head)
    counts = landscape_counts(config, r=4, targets=ALL_LINEAR)
    model = apply_spafit(build_classifier(config, head), SpafitConfig(n1=0, n2=0, targets=ALL_LINEAR, r=4,
                                                                      bias_terms="none"))
    assert trainable(model) == counts["qlora"]
    model = build_classifier(config, head)
    for name, parameter in model.named_parameters():  # ULMFiT's first stage: the top layer, pooler and head
        parameter.requires_grad_(f"layer.{config.num_hidden_layers - 1}." in name or "pooler" in name
                                 or "classifier" in name)
    assert trainable(model) == counts["ulmfit_first_stage"]


def test_adapters_match_modules_built_and_counted():
    config, m = small_config(), 5
    h = config.hidden_size
    adapter = nn.Sequential(nn.Linear(h, m), nn.ReLU(), nn.Linear(m, h))
    per_layer = 2 * sum(p.numel() for p in adapter.parameters()) + 2 * sum(
        p.numel() for p in nn.LayerNorm(h).parameters())
    classifier = sum(p.numel() for p in nn.Linear(h, config.num_labels).parameters())
    assert landscape_counts(config, bottleneck=m)["adapters"] == config.num_hidden_layers * per_layer + classifier


@pytest.mark.parametrize("method", ["prompt", "prefix", "ia3"])
def test_peft_trains_what_the_closed_form_says(method):
    peft = pytest.importorskip("peft")
    config = small_config()
    model = build_classifier(config, "cls")
    settings = {
        "prompt": peft.PromptTuningConfig(task_type="SEQ_CLS", num_virtual_tokens=7),
        "prefix": peft.PrefixTuningConfig(task_type="SEQ_CLS", num_virtual_tokens=7),
        # keys, values, and the FFN's second matrix, scaled at its input (the inner activations)
        "ia3": peft.IA3Config(task_type="SEQ_CLS", target_modules=r".*\.(self\.key|self\.value|\d+\.output\.dense)",
                              feedforward_modules=r".*\.\d+\.output\.dense"),
    }
    wrapped = peft.get_peft_model(model, settings[method])
    assert wrapped.get_nb_trainable_parameters()[0] == landscape_counts(config, length=7)[method]


def test_bad_settings_fail_naming_what_is_allowed(quick):
    with pytest.raises(ValueError, match=r"0 <= n1 <= n2 <= 6"):
        landscape_counts(quick, n1=4, n2=2)
    with pytest.raises(ValueError, match="at least 1"):
        landscape_counts(quick, r=0)


def test_the_page_shows_the_functions_counts(quick):
    counts = landscape_counts(quick)
    rows = [line for line in PAGE.read_text(encoding="utf-8").splitlines() if line.startswith("| ")]
    for label, key in ROWS.items():
        row = [r for r in rows if r[2:].startswith(label)]
        assert len(row) == 1, f"the page's table has {len(row)} rows starting {label!r}"
        cells = [c.strip() for c in row[0].strip("|").split("|")]
        assert f"{counts[key]:,}" in cells, (label, cells, counts[key])
        share = 100 * counts[key] / counts["full"]
        shown = re.findall(r"([\d.]+) ?%", " ".join(cells))
        assert shown and abs(float(shown[-1]) - share) < 0.0051, (label, shown, share)
    assert f"{counts['full']:,}" in PAGE.read_text(encoding="utf-8")
