"""Lesson 01's experiments: BitFit beside full fine-tuning, and how far each bias family moves."""

from __future__ import annotations

from collections import Counter

from ..runs.experiments import prepared_data, run_method
from ..runs.models import load_model
from ..runs.profiles import Profile
from .budget import CONTROL, majority_rate, run_at_budget, shared_run, trained_model

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
    bitfit = shared_run(small, "bitfit", "BitFit", data=data)
    # the trained biases: from this process's run, or (when the run came from the memo) trained again
    trained = trained_model(small, "bitfit") or run_method(small, "bitfit", data, progress=False)["_model"]
    change = bias_change_by_family(trained, load_model(small.model_name, seed=small.seed, head=small.head))
    rows = [shared_run(small, "head", CONTROL, data=data), bitfit,
            shared_run(small, "full", "full fine-tuning", data=data)]
    return {"majority": majority_rate(data[2], small.task), "head": small.head, "rows": rows, "bias_change": change}


def bitfit_and_full(profile: Profile | None = None, seed: int | None = None) -> dict:
    """Lesson 01: the head-only control, BitFit and full fine-tuning on the same data, and how far each bias
    family moved."""
    return run_at_budget("bitfit_and_full", profile, seed, _bitfit_and_full)
