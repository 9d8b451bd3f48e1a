"""Checks of lesson 04's practice: the stratifier from its building blocks (exercise 4.1)."""

from __future__ import annotations

from ...runs.models import tiny_model
from ...tuning.spafit import SpafitConfig, apply_spafit
from .answers import single_threaded
from .models import (adapters, check_gradients_reach, check_values_kept, compare_names, compare_tensors, logits,
                     sample_inputs, short, snapshot, trainable_names)
from .tools import CheckFailed, learner_check


# every target and bias choice, r and alpha off their defaults, dropout, the pooler, each end of the range, and a
# DistilBERT whose LayerNorm biases train (its LayerNorms are named sa_layer_norm and output_layer_norm)
SPAFIT_CASES = [("bert", SpafitConfig(1, 3, targets=("query", "value"), r=3, alpha=4.0, dropout=0.1)),
                ("bert", SpafitConfig(0, 4)),
                ("bert", SpafitConfig(2, 2, targets=("key", "ffn_out"), bias_terms="all", train_pooler=True)),
                ("distilbert", SpafitConfig(0, 0, targets=("query", "key", "value", "attention_output", "ffn_in"),
                                            r=4, bias_terms="none")),
                ("bert", SpafitConfig(4, 4)),
                ("distilbert", SpafitConfig(1, 4, bias_terms="all"))]


def _lora_settings(module) -> tuple:
    """(r, scaling, dropout) of a LoRA-wrapped module, whatever class wraps it."""
    return (module.lora_A.shape[0], round(float(getattr(module, "scaling", 0.0)), 6),
            float(getattr(getattr(module, "dropout", None), "p", 0.0)))


@learner_check(f"same LoRA layers, settings, trainable parameters, output and gradients as apply_spafit on "
               f"{len(SPAFIT_CASES)} configurations")
@single_threaded
def check_spafit(spafit_fn):
    """Exercise 4.1: `spafit_fn(model, config)` trains and wraps what `apply_spafit(model, config)` does."""
    for family, config in SPAFIT_CASES:
        label = (f"{family}, N1={config.n1}, N2={config.n2}, targets={config.targets}, r={config.r}, "
                 f"alpha={config.alpha:g}, dropout={config.dropout:g}, bias_terms={config.bias_terms!r}, "
                 f"train_pooler={config.train_pooler}")
        model = tiny_model(family, num_layers=4, hidden=16)
        ids, mask = sample_inputs(model)
        before, values = logits(model, ids, mask), snapshot(model)
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
        check_values_kept(label, values, model, "stratifying only chooses what trains and wraps modules: every "
                                                "weight and bias keeps its value")
        compare_tensors(f"{label}: logits right after stratifying", before, logits(model, ids, mask),
                        "stratifying only changes what trains: LoRA's B starts at zero")
        check_gradients_reach(label, model, ids, mask)
