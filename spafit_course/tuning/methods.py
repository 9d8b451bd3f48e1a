"""The methods the course compares, as settings of one stratifier (lessons 01, 04 and 05).

head    the control: only the task head trains (SPAFIT with N1 = N2 = L); what every other method must beat
full    every parameter trains (the outside reference)
bitfit  SPAFIT with N1 = 0, N2 = L: the biases of every layer plus the head
lora    LoRA on every layer, no biases: SPAFIT with N1 = N2 = 0 and bias_terms="none"
spafit  the profile's boundaries, LoRA targets and rank
"""

from __future__ import annotations

from torch import nn

from .architectures import num_layers
from .spafit import SpafitConfig, apply_spafit

METHODS = ("head", "full", "bitfit", "lora", "spafit")


def check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


def method_config(method: str, num_layers: int, profile) -> SpafitConfig | None:
    """The `SpafitConfig` that realises `method` on an L-layer model (None for full fine-tuning)."""
    check_method(method)
    if method == "full":
        return None
    pooler = profile.train_pooler
    if method == "head":
        return SpafitConfig(n1=num_layers, n2=num_layers, train_pooler=pooler)
    if method == "bitfit":
        return SpafitConfig(n1=0, n2=num_layers, train_pooler=pooler)
    if method == "lora":
        lora = profile.lora
        return SpafitConfig(n1=0, n2=0, targets=lora["targets"], r=lora["r"], alpha=lora["alpha"], bias_terms="none",
                            train_pooler=pooler)
    s = profile.spafit
    return spafit_config(profile, min(s["n1"], num_layers), min(s["n2"], num_layers))


def spafit_config(profile, n1: int, n2: int) -> SpafitConfig:
    """SPAFIT at boundaries (n1, n2) with the profile's LoRA targets, rank, alpha and pooler setting."""
    s = profile.spafit
    return SpafitConfig(n1=n1, n2=n2, targets=s["targets"], r=s["r"], alpha=s["alpha"],
                        train_pooler=profile.train_pooler)


def prepare_model(model: nn.Module, method: str, profile) -> nn.Module:
    """Make `model` train the way `method` says (in place) and return it."""
    config = method_config(method, num_layers(model), profile)
    if config is None:
        for p in model.parameters():
            p.requires_grad_(True)
        return model
    return apply_spafit(model, config)
