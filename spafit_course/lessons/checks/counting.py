"""Checks of a learner's parameter counts against the closed forms (exercises 1.3 and 4.3)."""

from __future__ import annotations

import numpy as np

from ...runs.models import KNOWN_CONFIGS, tiny_config
from ...tuning.closed_form import bias_params_per_layer, closed_form_count, head_params, lora_params_per_layer
from ...tuning.spafit import SpafitConfig, layer_groups
from ...runs.overrides import is_int
from .tools import CheckFailed, as_number, safe_repr


def bert_configs():
    """The configurations the count checks try: a tiny BERT, and BERT base and large (3 and 2 labels)."""
    from transformers import BertConfig

    return {"tiny BERT": tiny_config("bert", num_layers=3, hidden=32),
            "bert-base-cased, 3 labels": BertConfig(**KNOWN_CONFIGS["bert-base-cased"], num_labels=3),
            "bert-large-cased": BertConfig(**KNOWN_CONFIGS["bert-large-cased"], num_labels=2)}


def _count_parts(config, spafit: SpafitConfig) -> str:
    """The closed form's total split into its parts, so a learner sees which part of a wrong count is off."""
    groups = layer_groups(config.num_hidden_layers, spafit.n1, spafit.n2)
    biases = bias_params_per_layer(config, spafit.bias_terms)
    lora = lora_params_per_layer(config, spafit.targets, spafit.r)
    lora_part = f" + LoRA {groups.count(3)} layers x {lora:,}" if groups.count(3) else ""
    return (f"{closed_form_count(config, spafit).trainable:,} = biases {sum(g != 1 for g in groups)} layers x "
            f"{biases:,}{lora_part} + head {head_params(config):,}")


def _count_hint(config, expected: int, got) -> str | None:
    """The usual slip behind a wrong parameter count, when the difference gives it away."""
    if not isinstance(got, (int, np.integer)):
        return "return the count as an int"
    head, two_labels = head_params(config), config.hidden_size * 2 + 2
    if got == expected - head:
        return "the classifier (H*C + C) trains too"
    if config.num_labels != 2 and got == expected - head + two_labels:
        return "C is config.num_labels: the number of labels is not always 2"
    return None


def check_count(label: str, config, spafit: SpafitConfig, got) -> None:
    """The learner's count equals the closed form's; a NumPy or tensor integer counts, any other type fails
    saying an int is expected."""
    expected = closed_form_count(config, spafit).trainable
    got = as_number(got)
    if not is_int(got):
        raise CheckFailed(label, f"an int: {_count_parts(config, spafit)}", f"a {type(got).__name__}: {safe_repr(got)}",
                          "return the count as an int")
    if got != expected:
        raise CheckFailed(label, _count_parts(config, spafit), f"{got:,}", _count_hint(config, expected, got))
