"""BitFit (lesson 01): train only the bias terms of the transformer layers, plus the task head."""

from __future__ import annotations

from torch import nn

from .architectures import get_layers
from .freezing import check_bias_terms, check_pooler, freeze_all, unfreeze_biases, unfreeze_head
from .lora import check_fresh


def apply_bitfit(model: nn.Module, bias_terms: str = "linear", train_pooler: bool = False) -> nn.Module:
    """Freeze everything, then unfreeze the chosen biases of every layer and the head (lesson 01).

    `bias_terms`: "linear" (every Linear bias, the default), "all" (plus LayerNorm biases) or "none" (a linear
    probe). The embeddings stay frozen, as in SPAFIT's group 1; `apply_spafit` with N1 = 0, N2 = L is the same.
    """
    check_bias_terms(bias_terms)
    layers = get_layers(model)
    check_pooler(model, train_pooler)
    check_fresh(model)
    freeze_all(model)
    for layer in layers:
        unfreeze_biases(layer, bias_terms)
    unfreeze_head(model, train_pooler)
    return model
