"""Lesson 02's experiments: plain LoRA at several ranks, and the size of one Adam step against rank and alpha."""

from __future__ import annotations

from ..runs.experiments import prepared_data
from ..runs.profiles import Profile
from ..tuning.spafit import SpafitConfig
from .budget import CONTROL, majority_rate, run_at_budget, shared_run


def _lora_ranks(small: Profile, ranks, alpha) -> dict:
    data = prepared_data(small)
    rows = [shared_run(small, "head", CONTROL, data=data)]
    for r in ranks:
        config = SpafitConfig(n1=0, n2=0, targets=small.lora["targets"], r=r, alpha=alpha, bias_terms="none",
                              train_pooler=small.train_pooler)
        rows.append(shared_run(small, "spafit", f"LoRA r={r}", config=config, data=data, r=r, alpha=alpha))
    return {"majority": majority_rate(data[2], small.task), "head": small.head, "rows": rows}


def lora_ranks(profile: Profile | None = None, seed: int | None = None, ranks=(1, 8, 32), alpha: float = 16) -> dict:
    """Lesson 02: plain LoRA at several ranks with alpha held fixed, beside the head-only control, on the same
    data."""
    return run_at_budget("lora_ranks", profile, seed, _lora_ranks, ranks=list(ranks), alpha=alpha)


def first_step_change(r: int, alpha: float, lora_class=None, size: int = 384, seed: int = 0) -> float:
    """Lesson 02: how much one Adam step changes a LoRA-wrapped layer's output, relative to the output.

    A `size` x `size` Linear is wrapped with rank `r` and scale `alpha / r`, then takes one Adam step (lr 1e-3)
    towards random targets on a batch of 32 random inputs; `lora_class` defaults to the package's `LoRALinear`.
    """
    import torch
    from torch import nn

    from ..tuning.lora import LoRALinear

    torch.manual_seed(seed)
    base = nn.Linear(size, size)
    layer = (lora_class or LoRALinear)(base, r=r, alpha=alpha)
    x, target = torch.randn(32, size), torch.randn(32, size)
    optimizer = torch.optim.Adam([layer.lora_A, layer.lora_B], lr=1e-3)
    ((layer(x) - target) ** 2).mean().backward()
    optimizer.step()
    with torch.no_grad():
        return ((layer(x) - base(x)).norm() / base(x).norm()).item()
