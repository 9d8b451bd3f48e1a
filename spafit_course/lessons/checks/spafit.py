"""Checks of lesson 04's practice: the layer groups, the stratifier, and its count."""

from __future__ import annotations

from ...runs.models import tiny_model
from ...tuning.spafit import SpafitConfig, apply_spafit, layer_groups
from .counting import bert_configs, check_count
from .tools import (CheckFailed, adapters, as_list, check_gradients_reach, compare_names, compare_tensors,
                    learner_check, logits, printable, sample_inputs, short, trainable_names)


@learner_check
def check_layer_groups(groups_fn):
    """Exercise 4.1: `groups_fn(num_layers, n1, n2)` gives each layer's group like `layer_groups`."""
    for layers in range(1, 7):
        for n1 in range(layers + 1):
            for n2 in range(n1, layers + 1):
                expected, got = layer_groups(layers, n1, n2), as_list(groups_fn(layers, n1, n2))
                if not isinstance(got, list):
                    raise CheckFailed(f"groups of layers 1..{layers} with N1={n1}, N2={n2}",
                                      f"a list of {layers} groups (a tuple or NumPy array works too)",
                                      f"a {type(got).__name__}: {printable(got)}")
                if got != expected:
                    shifted = [1 if k < n1 else 2 if k < n2 else 3 for k in range(1, layers + 1)]
                    hint = ("layers are numbered 1..L: layer k is frozen when k <= N1" if got == shifted else
                            "index 0 holds layer 1, the input side" if got == expected[::-1] else None)
                    raise CheckFailed(f"groups of layers 1..{layers} with N1={n1}, N2={n2}", expected, got, hint)
    return "every (L, N1, N2) with L <= 6 gives the same groups as layer_groups"


# every target and bias choice, r and alpha off their defaults, dropout, the pooler, each end of the range
SPAFIT_CASES = [("bert", SpafitConfig(1, 3, targets=("query", "value"), r=3, alpha=4.0, dropout=0.1)),
                ("bert", SpafitConfig(0, 4)),
                ("bert", SpafitConfig(2, 2, targets=("key", "ffn_out"), bias_terms="all", train_pooler=True)),
                ("distilbert", SpafitConfig(0, 0, targets=("query", "key", "value", "attention_output", "ffn_in"),
                                            r=4, bias_terms="none")),
                ("bert", SpafitConfig(4, 4))]


def _lora_settings(module) -> tuple:
    """(r, scaling, dropout) of a LoRA-wrapped module, whatever class wraps it."""
    return (module.lora_A.shape[0], round(float(getattr(module, "scaling", 0.0)), 6),
            float(getattr(getattr(module, "dropout", None), "p", 0.0)))


@learner_check
def check_spafit(spafit_fn):
    """Exercise 4.2: `spafit_fn(model, config)` trains and wraps what `apply_spafit(model, config)` does."""
    for family, config in SPAFIT_CASES:
        label = (f"{family}, N1={config.n1}, N2={config.n2}, targets={config.targets}, r={config.r}, "
                 f"alpha={config.alpha:g}, dropout={config.dropout:g}, bias_terms={config.bias_terms!r}, "
                 f"train_pooler={config.train_pooler}")
        model = tiny_model(family, num_layers=4, hidden=16)
        ids, mask = sample_inputs(model)
        before = logits(model, ids, mask)
        spafit_fn(model, SpafitConfig(**config.to_dict()))
        reference = apply_spafit(tiny_model(family, num_layers=4, hidden=16), SpafitConfig(**config.to_dict()))
        expected, got = adapters(reference), adapters(model)
        if set(expected) != set(got):
            raise CheckFailed(f"{label}: the LoRA-wrapped modules", short(expected), short(got),
                              "LoRA goes into group 3 only: layers N2+1..L, 0-based indices N2..L-1")
        for path, module in got.items():
            if _lora_settings(module) != _lora_settings(expected[path]):
                raise CheckFailed(f"{label}: {path}'s (r, scaling, dropout)", _lora_settings(expected[path]),
                                  _lora_settings(module), "pass config.r, config.alpha and config.dropout on to "
                                                          "inject_lora (its defaults are r=8, alpha=16, no dropout)")
        compare_names(label, trainable_names(reference), trainable_names(model))
        compare_tensors(f"{label}: logits right after stratifying", before, logits(model, ids, mask),
                        "stratifying only changes what trains: LoRA's B starts at zero")
        check_gradients_reach(label, model, ids, mask)
    return (f"same LoRA layers, settings, trainable parameters, output and gradients as apply_spafit on "
            f"{len(SPAFIT_CASES)} configurations")


# r and targets vary, each bias choice, boundaries at both ends (the pooler stays frozen, as exercise 4.3 says)
SPAFIT_COUNT_CASES = [SpafitConfig(4, 9, targets=("query", "key", "value"), r=64),
                      SpafitConfig(1, 2, targets=("query", "value", "ffn_in"), r=8, bias_terms="all"),
                      SpafitConfig(0, 0, targets=("attention_output", "ffn_out"), r=4, bias_terms="none"),
                      SpafitConfig(2, 3, r=6)]


@learner_check
def check_spafit_count(count_fn):
    """Exercise 4.3: `count_fn(config, spafit)` gives SPAFIT's trainable parameters like `closed_form_count`."""
    for label, config in bert_configs().items():
        for spafit in SPAFIT_COUNT_CASES:
            if spafit.n2 > config.num_hidden_layers:
                continue
            check_count(f"{label}, N1={spafit.n1}, N2={spafit.n2}, r={spafit.r}, targets={spafit.targets}, "
                         f"bias_terms={spafit.bias_terms!r}", config, spafit,
                         count_fn(config, SpafitConfig(**spafit.to_dict())))
    return "counts match closed_form_count (bert-large-cased at N1=4, N2=9, r=64 on q/k/v: 6,084,610)"
