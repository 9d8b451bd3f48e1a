"""LoRA written from scratch (lesson 02): a frozen Linear plus a trainable low-rank update B @ A.

    y = x W^T + b + (alpha / r) * dropout(x) A^T B^T

B starts at zero, so a freshly wrapped model computes exactly what the original did; `merge()` folds the update
into W so inference costs nothing extra, and `unmerge()` takes it out again.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .architectures import get_layers, resolve_targets
from .freezing import freeze_all, unfreeze_head
from .validation import MAX_ALPHA, as_int, as_layer_indices, as_number, as_targets


class LoRALinear(nn.Module):
    """A frozen `nn.Linear` with a rank-`r` update scaled by `alpha / r` (lesson 02)."""

    def __init__(self, base: nn.Linear, r: int = 8, alpha: float = 16.0, dropout: float = 0.0):
        super().__init__()
        r, alpha, dropout = check_lora_hyperparameters(r, alpha, dropout)
        if not isinstance(base, nn.Linear):
            raise TypeError(f"LoRALinear wraps an nn.Linear, got {type(base).__name__}")
        self.base = base
        self.base.weight.requires_grad_(False)
        self.r, self.alpha = r, alpha
        self.scaling = alpha / r
        device, dtype = base.weight.device, base.weight.dtype
        self.lora_A = nn.Parameter(torch.empty(r, base.in_features, device=device, dtype=dtype))
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r, device=device, dtype=dtype))
        if device.type != "meta":
            # The same initialisation as peft: A like a Linear layer's weight, B zero.
            nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.merged = False

    @property
    def in_features(self) -> int:
        return self.base.in_features

    @property
    def out_features(self) -> int:
        return self.base.out_features

    def delta_weight(self) -> torch.Tensor:
        """The update the adapter adds to W: (alpha / r) * B @ A."""
        return self.scaling * (self.lora_B @ self.lora_A)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.base(x)
        if self.merged:
            return out
        return out + self.scaling * (self.dropout(x) @ self.lora_A.T @ self.lora_B.T)

    @torch.no_grad()
    def merge(self) -> None:
        """Fold the update into the base weight (no extra latency at inference)."""
        if not self.merged:
            self.base.weight += self.delta_weight().to(self.base.weight.dtype)
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """Take the update out of the base weight again, so training can continue."""
        if self.merged:
            self.base.weight -= self.delta_weight().to(self.base.weight.dtype)
            self.merged = False

    def extra_repr(self) -> str:
        return f"r={self.r}, alpha={self.alpha}, merged={self.merged}"


def check_lora_hyperparameters(r, alpha, dropout) -> tuple[int, float, float]:
    """(r, alpha, dropout) as int, float, float, or an error naming the allowed range (lesson 02)."""
    r = as_int("LoRA rank r", r, minimum=1, allowed="a positive integer")
    alpha = as_number("LoRA alpha", alpha, f"> 0, at most {MAX_ALPHA:g}", lambda a: 0 < a <= MAX_ALPHA)
    dropout = as_number("LoRA dropout", dropout, "in [0, 1)", lambda d: 0 <= d < 1)
    return r, alpha, dropout


def lora_modules(model: nn.Module) -> dict[str, LoRALinear]:
    """Every `LoRALinear` in the model, by its path."""
    return {name: m for name, m in model.named_modules() if isinstance(m, LoRALinear)}


def inject_lora(model: nn.Module, targets=("query", "value"), layers=None, r: int = 8, alpha: float = 16.0,
                dropout: float = 0.0) -> list[str]:
    """Wrap the target matrices of the chosen layers (0-based indices; all by default) in `LoRALinear`.

    Only wraps: which other parameters train is the caller's choice. Returns the wrapped module paths.
    Checked before anything changes: the targets, the layer indices, the hyperparameters, and that no layer is
    already wrapped.
    """
    r, alpha, dropout = check_lora_hyperparameters(r, alpha, dropout)
    paths = resolve_targets(model, as_targets(targets))
    stack = get_layers(model)
    layers = as_layer_indices(layers, len(stack))
    chosen = []
    for i in layers:
        for target, path in paths.items():
            module = stack[i].get_submodule(path)
            if isinstance(module, LoRALinear):
                raise ValueError(f"layer {i} {target} already has LoRA; inject into a fresh model")
            if not isinstance(module, nn.Linear):
                raise ValueError(f"layer {i} {target} is a {type(module).__name__}, not an nn.Linear")
            chosen.append((i, path, module))
    wrapped = []
    for i, path, module in chosen:
        parent_path, _, child = path.rpartition(".")
        parent = stack[i].get_submodule(parent_path) if parent_path else stack[i]
        setattr(parent, child, LoRALinear(module, r=r, alpha=alpha, dropout=dropout))
        wrapped.append(f"layer {i}: {path}")
    return wrapped


def apply_lora(model: nn.Module, targets=("query", "value"), r: int = 8, alpha: float = 16.0,
               dropout: float = 0.0) -> nn.Module:
    """Plain LoRA (lesson 02): freeze everything, LoRA on the targets of every layer, train the head."""
    r, alpha, dropout = check_lora_hyperparameters(r, alpha, dropout)
    resolve_targets(model, as_targets(targets))
    check_fresh(model)
    freeze_all(model)
    inject_lora(model, targets, None, r, alpha, dropout)
    unfreeze_head(model)
    return model


def check_fresh(model: nn.Module) -> None:
    """Refuse a model that a method already adapted: a second method on top would leave its record wrong."""
    if getattr(model, "spafit_config", None) is not None:
        raise ValueError("SPAFIT is already applied to this model (model.spafit_config is set); apply a method "
                         "to a fresh model")
    if lora_modules(model):
        raise ValueError("this model already has LoRA layers; apply a method to a fresh model")


def merge_lora(model: nn.Module) -> nn.Module:
    """Merge every LoRA update into its base weight (lesson 02)."""
    for module in lora_modules(model).values():
        module.merge()
    return model


def unmerge_lora(model: nn.Module) -> nn.Module:
    """Undo `merge_lora`."""
    for module in lora_modules(model).values():
        module.unmerge()
    return model
