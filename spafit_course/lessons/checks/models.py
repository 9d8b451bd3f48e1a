"""What the checks of code look at in a model (lessons 01-04): which parameters train, whether tensors match the
reference, whether a learner's function left the weights it was given as they were, and whether gradients reach
every trainable parameter."""

from __future__ import annotations

import torch
from torch import nn

from .tools import CheckFailed


def short(items, limit: int = 4) -> str:
    """Names in sorted order, the first `limit` of them, and how many in all."""
    items = sorted(items)
    shown = ", ".join(items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}] ({len(items)} in all)" if items else "[]"


def trainable_names(model: nn.Module) -> set[str]:
    """Names of the parameters that will train."""
    return {name for name, p in model.named_parameters() if p.requires_grad}


def compare_names(label: str, expected: set[str], got: set[str]) -> None:
    """Fail naming the parameters that train but should not, and those that should but do not."""
    if expected == got:
        return
    extra, missing = got - expected, expected - got
    detail = ([f"should be frozen: {short(extra)}"] if extra else []) + ([f"should train: {short(missing)}"]
                                                                        if missing else [])
    raise CheckFailed(f"{label}: the trainable parameters differ ({'; '.join(detail)})",
                      f"{len(expected)} trainable tensors", f"{len(got)} trainable tensors", names_hint(extra, missing))


def names_hint(extra: set[str], missing: set[str]) -> str | None:
    """The usual reason behind a difference in trainable parameters, when one stands out."""
    if any(n.endswith("base.weight") for n in extra):
        return "a LoRA-wrapped base weight trains: W must stay frozen, only A and B (and biases) learn"
    if any(n.endswith("base.bias") for n in missing):
        return "a wrapped layer's bias was frozen: LoRA freezes W only, the bias keeps its own setting"
    if any("pooler" in n for n in extra | missing):
        return "the pooler trains only when train_pooler says so (unfreeze_head(model, train_pooler))"
    if missing and all("classifier" in n or "pre_classifier" in n for n in missing):
        return "the classifier always trains (unfreeze_head)"
    if any("lora_" in n for n in extra | missing):
        return "LoRA sits in the wrong layers or on the wrong matrices"
    if any("LayerNorm" in n or "layer_norm" in n for n in extra | missing):
        return "LayerNorm: only its bias counts, and only for bias_terms='all'"
    if any(n.endswith("weight") for n in extra):
        return "a weight matrix trains where only biases should"
    return None


def compare_tensors(what: str, expected: torch.Tensor, got, hint: str | None = None) -> None:
    """Fail unless `got` is a tensor of the expected shape and values (to float tolerance)."""
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(what, f"a tensor of shape {tuple(expected.shape)}", type(got).__name__)
    if got.shape != expected.shape:
        raise CheckFailed(what, f"shape {tuple(expected.shape)}", f"shape {tuple(got.shape)}")
    got = got.detach().to(expected.dtype)
    if not torch.allclose(got, expected.detach(), atol=1e-5, rtol=1e-4):
        err = (got - expected).abs().max().item()
        raise CheckFailed(f"{what}: values differ (max error {err:.3g})", preview(expected), preview(got), hint)


def diagnose(got, candidates: dict) -> str | None:
    """The description of the first candidate tensor that `got` equals: a named, likely mistake."""
    if not isinstance(got, torch.Tensor):
        return None
    for cause, tensor in candidates.items():
        if got.shape == tensor.shape and torch.allclose(got.detach().to(tensor.dtype), tensor, atol=1e-5, rtol=1e-4):
            return cause
    return None


def preview(t: torch.Tensor) -> str:
    values = ", ".join(f"{v:.4f}" for v in t.detach().flatten()[:4].tolist())
    return f"[{values}, ...]"


def adapters(model: nn.Module) -> dict[str, nn.Module]:
    """Every LoRA-wrapped module by path: anything with lora_A and lora_B (the package's class or the learner's)."""
    return {name: m for name, m in model.named_modules() if hasattr(m, "lora_A") and hasattr(m, "lora_B")}


def sample_inputs(model: nn.Module, batch: int = 2, length: int = 7):
    ids = torch.randint(5, model.config.vocab_size, (batch, length))
    mask = torch.ones_like(ids)
    mask[0, length - 2:] = 0  # one padded sequence, so masking mistakes show
    return ids, mask


def logits(model, ids, mask):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits


def check_gradients_reach(label: str, model: nn.Module, ids, mask) -> None:
    """Backpropagate once: every trainable parameter gets a gradient, and every LoRA B a nonzero one."""
    model.zero_grad(set_to_none=True)
    model(input_ids=ids, attention_mask=mask).logits.square().sum().backward()
    none = sorted(n for n, p in model.named_parameters() if p.requires_grad and p.grad is None)
    if none:
        raise CheckFailed(f"{label}: parameters marked trainable get no gradient", "a gradient for each",
                          f"none for {short(none)}", "the forward pass bypasses them (detached, or not in the path)")
    dead = sorted(n for n, m in adapters(model).items() if m.lora_B.grad is None or not m.lora_B.grad.any())
    if dead:
        raise CheckFailed(f"{label}: LoRA B gets no gradient", "a nonzero gradient on every B", f"zero on {short(dead)}",
                          "the wrapped layer's update is not part of the forward pass")


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of every parameter's and buffer's values, by name (to see later what a learner's function changed)."""
    return {name: t.detach().clone() for name, t in [*model.named_parameters(), *model.named_buffers()]}


def check_values_kept(label: str, before: dict[str, torch.Tensor], model: nn.Module, hint: str) -> None:
    """Fail when a value of `before` changed in `model`; a module wrapped since (LoRA: "x.weight" now lives at
    "x.base.weight") is looked up at its new name."""
    now = snapshot(model)
    changed = []
    for name, value in before.items():
        head, _, leaf = name.rpartition(".")
        current = now.get(name, now.get(f"{head}.base.{leaf}" if head else f"base.{leaf}"))
        if current is None or current.shape != value.shape or not torch.equal(current, value):
            changed.append(name)
    if changed:
        raise CheckFailed(f"{label}: the model's values after your function", "every weight and bias as it was",
                          f"{len(changed)} tensors changed or gone, e.g. {changed[0]}", hint)
