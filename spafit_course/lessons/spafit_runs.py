"""Lesson 04's experiment: the head-only control, BitFit, LoRA, SPAFIT and full fine-tuning on the same data."""

from __future__ import annotations

from ..runs.experiments import prepared_data
from ..runs.profiles import Profile
from .budget import CONTROL, majority_rate, run_at_budget, shared_run

#: The lesson's rows, in the order it shows them: the control first, the outside reference last.
LESSON_04_METHODS = {"head": CONTROL, "bitfit": "BitFit", "lora": "LoRA", "spafit": "SPAFIT", "full": "full fine-tuning"}


def _four_methods(small: Profile) -> dict:
    data = prepared_data(small)
    rows = [shared_run(small, method, label, data=data) for method, label in LESSON_04_METHODS.items()]
    return {"majority": majority_rate(data[2], small.task), "head": small.head, "rows": rows}


def four_methods(profile: Profile | None = None, seed: int | None = None) -> dict:
    """Lesson 04: BitFit, LoRA, SPAFIT (the profile's boundaries) and full fine-tuning beside the head-only
    control, on the same data."""
    return run_at_budget("four_methods", profile, seed, _four_methods)
