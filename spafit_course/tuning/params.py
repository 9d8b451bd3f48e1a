"""Counting parameters (lessons 00, 01 and 04): total and trainable, per layer and per SPAFIT group."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from .architectures import base_model_of, get_layers
from .spafit import GROUP_NAMES, layer_groups


@dataclass(frozen=True)
class ParameterCount:
    trainable: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.trainable / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.trainable:,} of {self.total:,} parameters train ({self.percent:.3f}%)"


def count_parameters(module: nn.Module) -> ParameterCount:
    """Trainable and total parameters (LoRA's A and B included in the total, as peft counts)."""
    total = trainable = 0
    for p in module.parameters():
        total += p.numel()
        if p.requires_grad:
            trainable += p.numel()
    return ParameterCount(trainable, total)


def count_by_part(model: nn.Module) -> list[tuple[str, ParameterCount]]:
    """Counts for the embeddings, each layer (numbered 1..L), the pooler and the head, in model order."""
    base = base_model_of(model)
    layers = get_layers(model)
    layer_ids = {id(p): k for k, layer in enumerate(layers, 1) for p in layer.parameters()}
    base_ids = {id(p) for p in base.parameters()}
    buckets: dict[str, list[int]] = {}
    for name, p in model.named_parameters():
        if id(p) in layer_ids:
            part = f"layer {layer_ids[id(p)]}"
        elif id(p) not in base_ids:
            part = "head"
        elif "pooler" in name:
            part = "pooler"
        else:
            part = "embeddings"
        counts = buckets.setdefault(part, [0, 0])
        counts[0] += p.numel() if p.requires_grad else 0
        counts[1] += p.numel()
    return [(part, ParameterCount(*c)) for part, c in buckets.items()]


def count_by_group(model: nn.Module, n1: int, n2: int) -> dict[str, ParameterCount]:
    """Counts summed over each SPAFIT group, plus everything outside the layers as "outside layers"."""
    layers = get_layers(model)
    groups = layer_groups(len(layers), n1, n2)
    sums = {name: [0, 0] for name in GROUP_NAMES.values()}
    sums["outside layers"] = [0, 0]
    for part, c in count_by_part(model):
        key = GROUP_NAMES[groups[int(part.split()[1]) - 1]] if part.startswith("layer ") else "outside layers"
        sums[key][0] += c.trainable
        sums[key][1] += c.total
    return {k: ParameterCount(*v) for k, v in sums.items()}


def parameter_table(model: nn.Module, n1: int | None = None, n2: int | None = None) -> str:
    """A printable per-part table; with n1/n2 given, each layer also shows its SPAFIT group."""
    groups = layer_groups(len(get_layers(model)), n1, n2) if n1 is not None else None
    rows = [("part", "group", "trainable", "total", "% trains")]
    for part, c in count_by_part(model):
        group = GROUP_NAMES[groups[int(part.split()[1]) - 1]] if groups and part.startswith("layer ") else ""
        rows.append((part, group, f"{c.trainable:,}", f"{c.total:,}", f"{c.percent:.2f}"))
    whole = count_parameters(model)
    rows.append(("all", "", f"{whole.trainable:,}", f"{whole.total:,}", f"{whole.percent:.3f}"))
    if groups is None:
        rows = [(a, c, d, e) for a, _, c, d, e in rows]
    return format_table(rows)


def format_table(rows) -> str:
    """Plain-text table: first row is the header, text left-aligned, numbers right-aligned."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]

    def numeric(s):
        return s.replace(",", "").replace(".", "").replace("%", "").replace("-", "").isdigit()

    lines = []
    for j, r in enumerate(rows):
        cells = [c.rjust(w) if j and numeric(c) else c.ljust(w) for c, w in zip(r, widths)]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
