"""Where a method spends its trainable parameters, layer by layer, and the runs that place one budget two ways
(lesson 06): SPAFIT against uniform LoRA at the rank that spends as much inside the layers."""

from __future__ import annotations

import re

from ..runs.models import model_config
from ..runs.profiles import Profile
from ..tuning.closed_form import bias_params_per_layer, layer_params, lora_params_per_layer
from ..tuning.methods import method_config, spafit_config
from ..tuning.spafit import FROZEN, LORA_AND_BIAS, SpafitConfig, check_boundaries, layer_groups


def layer_budget(hf_config, config: SpafitConfig | None) -> list[int]:
    """Trainable parameters inside each layer 1..L under `config` (None: full fine-tuning), from the closed
    form: what a method spends where, without the head and pooler that every method trains (lesson 06)."""
    layers = hf_config.num_hidden_layers
    if config is None:
        return [layer_params(hf_config)] * layers
    bias = bias_params_per_layer(hf_config, config.bias_terms)
    lora = lora_params_per_layer(hf_config, config.targets, config.r)
    return [0 if g == FROZEN else bias + (lora if g == LORA_AND_BIAS else 0)
            for g in layer_groups(layers, config.n1, config.n2)]


def uniform_lora(profile: Profile, r: int) -> SpafitConfig:
    """LoRA plus biases on every layer at rank r, with SPAFIT's targets, alpha and bias terms (lesson 06). Besides
    where the parameters sit, the share of biases, alpha / r and the number of LoRA layers differ from SPAFIT's."""
    s = profile.spafit
    return SpafitConfig(n1=0, n2=0, targets=s["targets"], r=r, alpha=s["alpha"], train_pooler=profile.train_pooler)


def matched_rank(profile: Profile, max_rank: int = 64) -> int:
    """The rank at which uniform LoRA spends as many parameters inside the layers as the profile's SPAFIT
    (the closest count; the lower rank on a tie) (lesson 06)."""
    hf = model_config(profile.model_name)
    layers = hf.num_hidden_layers
    target = sum(layer_budget(hf, method_config("spafit", layers, profile)))
    return min(range(1, max_rank + 1),
               key=lambda r: abs(sum(layer_budget(hf, uniform_lora(profile, r))) - target))


def run_config(profile: Profile, label: str) -> tuple[str, SpafitConfig | None]:
    """(method, config) of a lesson-06 run label: a course method ("head", "full", "bitfit", "lora", "spafit"),
    "spafit N1=a N2=b" (the profile's LoRA settings at other boundaries) or "uniform LoRA r=k"."""
    layers = model_config(profile.model_name).num_hidden_layers
    if label in ("head", "full", "bitfit", "lora", "spafit"):
        return label, method_config(label, layers, profile)
    boundaries = re.fullmatch(r"spafit N1=(\d+) N2=(\d+)", label)
    if boundaries:
        check_boundaries(layers, int(boundaries[1]), int(boundaries[2]))
        return "spafit", spafit_config(profile, int(boundaries[1]), int(boundaries[2]))
    rank = re.fullmatch(r"uniform LoRA r=(\d+)", label)
    if rank:
        return "spafit", uniform_lora(profile, int(rank[1]))
    raise ValueError(f"unknown run label {label!r}; use head, full, bitfit, lora, spafit, 'spafit N1=a N2=b' or "
                     "'uniform LoRA r=k'")
