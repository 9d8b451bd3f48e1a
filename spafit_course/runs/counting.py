"""Parameter tables for any model without loading weights (lessons 04 and 05, `spafit-course count`)."""

from __future__ import annotations

from ..tuning.architectures import num_layers
from ..tuning.closed_form import closed_form_count
from ..tuning.methods import METHODS, method_config
from ..tuning.heads import head_of_config
from .models import meta_model, model_config
from ..tuning.params import count_parameters, format_table
from .profiles import get_profile
from ..tuning.spafit import SpafitConfig, apply_spafit, check_boundaries, scaled_boundaries


def method_counts(name_or_config, configs: dict, num_labels: int = 2, head: str | None = None) -> dict:
    """{label: ParameterCount} after applying each SpafitConfig (None: full) to a fresh meta-device model.

    The model has `head`, else the one its config names (`models.model_config`: the checkpoint's own).
    """
    counts = {}
    for label, config in configs.items():
        model = meta_model(name_or_config, num_labels, head)
        if config is not None:
            apply_spafit(model, config)
        counts[label] = count_parameters(model)
    return counts


def default_configs(layers: int, n1=None, n2=None, r: int = 64, targets=("query", "key", "value"),
                    bias_terms: str = "linear") -> dict:
    """Every method for an L-layer model: LoRA as the quick profile's baseline, SPAFIT as given."""
    if n1 is None or n2 is None:
        s1, s2 = scaled_boundaries(layers)
        n1, n2 = (s1 if n1 is None else n1), (s2 if n2 is None else n2)
    check_boundaries(layers, n1, n2)
    configs = {m: method_config(m, layers, get_profile("quick")) for m in METHODS if m != "spafit"}
    configs[f"spafit N1={n1} N2={n2}"] = SpafitConfig(n1=n1, n2=n2, targets=targets, r=r, bias_terms=bias_terms)
    return configs


def describe(config, layers: int) -> str:
    """One line saying what trains under `config` on an L-layer model."""
    if config is None:
        return "every parameter"
    lora = f"LoRA r={config.r} on {'/'.join(config.targets)}"
    biases = "" if config.bias_terms == "none" else f" + {config.bias_terms} biases"
    if config.n1 == config.n2 == 0:
        return f"{lora}{biases}, every layer"
    parts = [f"layers {config.n1 + 1}-{config.n2}: {config.bias_terms} biases"] if config.n2 > config.n1 else []
    if config.n2 < layers:
        parts.append(f"layers {config.n2 + 1}-{layers}: {lora}{biases}")
    return "; ".join(parts) or "the head only (a linear probe)"


#: How `count_table` names each head (heads.py).
HEAD_TEXT = {"cls": "the classifier reads [CLS] through BERT's pooler, which trains in full fine-tuning only",
             "mean": "the classifier reads the masked mean of the last hidden states (no pooler)"}


def count_table(model_name: str, num_labels: int = 2, n1=None, n2=None, r: int = 64, targets="query,key,value",
                bias_terms: str = "linear", head: str | None = None) -> str:
    """The text printed by `spafit-course count`; `head` defaults to the one the checkpoint was trained for."""
    hf_config = model_config(model_name, num_labels, head)
    model = meta_model(hf_config)
    layers = num_layers(model)
    targets = tuple(t.strip() for t in targets.split(",")) if isinstance(targets, str) else tuple(targets)
    configs = default_configs(layers, n1, n2, r, targets, bias_terms)
    counts = method_counts(hf_config, configs)
    bert = hf_config.model_type == "bert"
    header = ("method", "trainable", "% of total", "closed form" if bert else "", "what trains")
    rows = [header]
    for label, config in configs.items():
        c = counts[label]
        closed = f"{closed_form_count(hf_config, config).trainable:,}" if bert else ""
        what = describe(config, layers)
        rows.append((label, f"{c.trainable:,}", f"{c.percent:.3f}", closed, what))
    if not bert:
        rows = [row[:3] + row[4:] for row in rows]
    total = counts["full"].total
    return (f"{model_name}: {layers} layers, {num_labels} labels, {total:,} total parameters "
            "(built on the meta device: no weights loaded)\n"
            f"{HEAD_TEXT[head_of_config(hf_config)]}; the classifier always trains; percentages are of the adapted "
            "model's total\n\n" + format_table(rows))


#: The paper's reported range of SPAFIT trainable parameters on bert-large-cased (Arora & Wang 2024).
PAPER_RANGE = (5_650_000, 7_490_000)
PAPER_MODEL = "bert-large-cased"


def paper_configs() -> dict:
    """Full fine-tuning, full BitFit, full LoRA and the course's reconstructed SPAFIT settings on 24 layers.

    The paper does not state its LoRA targets, r or alpha; r = 64 on query/key/value (plus attention output)
    is the course's reconstruction, chosen because its counts land in the paper's reported range.
    """
    qkv = ("query", "key", "value")
    return {
        "full fine-tuning": None,
        "BitFit (all layers)": SpafitConfig(n1=0, n2=24),
        "LoRA r=64 q/k/v (all layers)": SpafitConfig(n1=0, n2=0, targets=qkv, r=64, bias_terms="none"),
        "SPAFIT N1=4 N2=9, r=64 q/k/v": SpafitConfig(n1=4, n2=9, targets=qkv, r=64),
        "SPAFIT N1=8 N2=10, r=64 q/k/v": SpafitConfig(n1=8, n2=10, targets=qkv, r=64),
        "SPAFIT N1=8 N2=10, r=64 q/k/v/attn-out": SpafitConfig(n1=8, n2=10, targets=qkv + ("attention_output",),
                                                               r=64),
    }


def paper_rows(num_labels: int = 2) -> list[dict]:
    """One dict per setting of `paper_configs`: counted on the meta device and by the closed form."""
    hf_config = model_config(PAPER_MODEL, num_labels)
    configs = paper_configs()
    counts = method_counts(hf_config, configs, num_labels)
    rows = []
    for label, config in configs.items():
        closed = closed_form_count(hf_config, config)
        c = counts[label]
        rows.append({"setting": label, "trainable": c.trainable, "total": c.total, "percent": c.percent,
                     "closed_form": closed.trainable,
                     "in_paper_range": PAPER_RANGE[0] <= c.trainable <= PAPER_RANGE[1],
                     "what": describe(config, hf_config.num_hidden_layers)})
    return rows


def paper_table(num_labels: int = 2) -> str:
    """The text printed by `spafit-course count --paper` (lesson 05)."""
    rows = paper_rows(num_labels)
    table = [("setting", "trainable", "% of total", "closed form", "in 5.65M-7.49M", "what trains")]
    for r in rows:
        table.append((r["setting"], f"{r['trainable']:,}", f"{r['percent']:.3f}", f"{r['closed_form']:,}",
                      "yes" if r["in_paper_range"] else "no", r["what"]))
    full = rows[0]["total"]
    return (f"{PAPER_MODEL}: 24 layers, {num_labels} labels, {full:,} parameters for full fine-tuning "
            "(built on the meta device: no weights loaded)\n"
            "The paper reports 5.65M-7.49M trainable parameters for SPAFIT and does not state its LoRA targets, "
            "r or alpha:\nthe LoRA and SPAFIT settings below are the course's reconstruction, not the paper's "
            "stated configuration.\n\n" + format_table(table))
