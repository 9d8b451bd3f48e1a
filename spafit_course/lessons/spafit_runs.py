"""Lesson 04's experiment: full fine-tuning, BitFit, LoRA and SPAFIT on the same data."""

from __future__ import annotations

from ..runs.experiments import compare_methods, prepared_data
from ..runs.profiles import Profile
from .budget import lesson_row, majority_rate, run_at_budget


def _four_methods(small: Profile) -> dict:
    data = prepared_data(small)
    rows = compare_methods(small, progress=False, data=data)
    return {"majority": majority_rate(data[2], small.task), "train_pooler": small.train_pooler,
            "rows": [lesson_row(r, r["method"]) for r in rows]}


def four_methods(profile: Profile | None = None, seed: int | None = None) -> dict:
    """Lesson 04: full fine-tuning, BitFit, LoRA and SPAFIT (the profile's boundaries) on the same data."""
    return run_at_budget("four_methods", profile, seed, _four_methods)
