"""Switching parameters on and off (lessons 01 and 04): the two moves every method here is made of."""

from __future__ import annotations

from torch import nn

from .architectures import head_parameter_names, pooler_of

#: Which bias terms count as "the biases": every Linear bias, Linear plus LayerNorm biases, or none.
BIAS_TERMS = ("linear", "all", "none")


def freeze_all(model: nn.Module) -> None:
    """Stop every parameter from training."""
    for p in model.parameters():
        p.requires_grad_(False)


def check_pooler(model: nn.Module, train_pooler: bool) -> None:
    """`train_pooler=True` needs a pooler in the encoder; a model without one (the mean head of `heads.py`, whose
    classifier reads the mean of the last hidden states, or a RoBERTa/ELECTRA/DistilBERT classifier) refuses it."""
    if train_pooler and pooler_of(model) is None:
        raise ValueError(f"train_pooler=True, but this {type(model).__name__} has no pooler in its encoder (a mean "
                         "head reads the mean of the last hidden states; other families have their own head); "
                         "set train_pooler=False")


def unfreeze_head(model: nn.Module, train_pooler: bool = False) -> None:
    """The task head always trains; the pooler only when asked (and only a model with a pooler can be asked)."""
    check_pooler(model, train_pooler)
    names = set(head_parameter_names(model))
    for name, p in model.named_parameters():
        if name in names:
            p.requires_grad_(True)
    if train_pooler:
        for p in pooler_of(model).parameters():
            p.requires_grad_(True)


def check_bias_terms(bias_terms: str) -> None:
    if bias_terms not in BIAS_TERMS:
        raise ValueError(f"unknown bias_terms {bias_terms!r}; choose from {', '.join(BIAS_TERMS)}")


def bias_parameters(module: nn.Module, bias_terms: str = "linear") -> dict:
    """The bias parameters of `module` that the given choice counts, by name.

    "linear": the bias of every nn.Linear (LoRA-wrapped ones included); "all": those plus LayerNorm biases.
    """
    check_bias_terms(bias_terms)
    found = {}
    if bias_terms == "none":
        return found
    kinds = (nn.Linear,) if bias_terms == "linear" else (nn.Linear, nn.LayerNorm)
    for name, sub in module.named_modules():
        if isinstance(sub, kinds) and sub.bias is not None:
            found[f"{name}.bias" if name else "bias"] = sub.bias
    return found


def unfreeze_biases(module: nn.Module, bias_terms: str = "linear") -> int:
    """Let the chosen biases of `module` train; returns how many parameters that switched on."""
    params = bias_parameters(module, bias_terms)
    for p in params.values():
        p.requires_grad_(True)
    return sum(p.numel() for p in params.values())
