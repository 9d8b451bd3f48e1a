"""Checks of lesson 01's practice: which biases train, BitFit itself, and its count."""

from __future__ import annotations

from torch import nn

from ...runs.models import tiny_model
from ...tuning.architectures import get_layers, head_parameter_names, resolve_targets
from ...tuning.bitfit import apply_bitfit
from ...tuning.spafit import SpafitConfig
from .counting import bert_configs, check_count
from .tools import CheckFailed, compare_names, learner_check, trainable_names

ATTENTION_TARGETS = ("query", "key", "value", "attention_output")


def attention_bias_names(model: nn.Module) -> set[str]:
    """The query/key/value/attention-output biases of every layer plus the task head (exercise 1.1's answer)."""
    wanted = {id(layer.get_submodule(path).bias) for layer in get_layers(model)
              for path in resolve_targets(model, ATTENTION_TARGETS).values()}
    wanted |= {id(p) for name, p in model.named_parameters() if name in set(head_parameter_names(model))}
    return {name for name, p in model.named_parameters() if id(p) in wanted}


@learner_check
def check_attention_biases(model):
    """Exercise 1.1: only the attention biases of every layer (query, key, value, output) and the head train."""
    if not isinstance(model, nn.Module):
        raise CheckFailed("expected the model itself", "an nn.Module", type(model).__name__)
    expected = attention_bias_names(model)
    compare_names("attention-bias BitFit", expected, trainable_names(model))
    return f"{len(expected)} tensors train: the 4 attention biases per layer and the head"


@learner_check
def check_bitfit(bitfit_fn):
    """Exercise 1.2: `bitfit_fn(model, bias_terms)` trains what `apply_bitfit` trains, for each bias choice."""
    for family, labels in (("bert", 2), ("distilbert", 3)):
        for bias_terms in ("linear", "all"):
            model = tiny_model(family, num_layers=2, hidden=16, num_labels=labels)
            bitfit_fn(model, bias_terms)
            reference = apply_bitfit(tiny_model(family, num_layers=2, hidden=16, num_labels=labels), bias_terms)
            compare_names(f"{family}, bias_terms={bias_terms!r}", trainable_names(reference), trainable_names(model))
    return "same trainable parameters as apply_bitfit for bias_terms 'linear' and 'all' (BERT and DistilBERT)"


@learner_check
def check_bitfit_count(count_fn):
    """Exercise 1.3: `count_fn(config, bias_terms)` gives BitFit's trainable parameters from dimensions alone."""
    for label, config in bert_configs().items():
        for bias_terms in ("linear", "all"):
            bitfit = SpafitConfig(n1=0, n2=config.num_hidden_layers, bias_terms=bias_terms)
            check_count(f"BitFit count of {label}, bias_terms={bias_terms!r}", config, bitfit,
                         count_fn(config, bias_terms))
    return "BitFit counts match the closed form for tiny BERT, bert-base-cased and bert-large-cased"
