"""Lesson 01's experiments: BitFit beside full fine-tuning, and how far each bias family moves."""

from __future__ import annotations

from collections import Counter

from ..runs.experiments import prepared_data, run_method
from ..runs.models import load_model
from ..runs.profiles import Profile
from .budget import lesson_row, majority_rate, run_at_budget

#: The bias families of a BERT layer, by the module that owns the bias (lesson 01).
BIAS_FAMILIES = {"attention.self.query": "query", "attention.self.key": "key", "attention.self.value": "value",
                 "attention.output.dense": "attention output", "intermediate.dense": "FFN in",
                 "output.dense": "FFN out"}


def bias_change_by_family(trained, reference) -> dict[str, float]:
    """Mean absolute change per bias value of each family, between a trained model and its starting point."""
    start = dict(reference.named_parameters())
    moved, size = Counter(), Counter()
    for name, p in trained.named_parameters():
        family = next((f for key, f in BIAS_FAMILIES.items() if f".{key}.bias" in name), None)
        if family is None or ".layer." not in name:
            continue
        moved[family] += (p.detach() - start[name].detach()).abs().sum().item()
        size[family] += p.numel()
    return {family: moved[family] / size[family] for family in BIAS_FAMILIES.values()}


def _bitfit_and_full(small: Profile) -> dict:
    data = prepared_data(small)
    bitfit = run_method(small, "bitfit", data, progress=False)
    change = bias_change_by_family(bitfit["_model"], load_model(small.model_name, seed=small.seed))
    full = run_method(small, "full", data, progress=False)
    return {"majority": majority_rate(data[2], small.task), "train_pooler": small.train_pooler,
            "rows": [lesson_row(bitfit, "BitFit"), lesson_row(full, "full fine-tuning")], "bias_change": change}


def bitfit_and_full(profile: Profile | None = None, seed: int | None = None) -> dict:
    """Lesson 01: BitFit and full fine-tuning on the same data, and how far each bias family moved."""
    return run_at_budget("bitfit_and_full", profile, seed, _bitfit_and_full)
