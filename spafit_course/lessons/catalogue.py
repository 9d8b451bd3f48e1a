"""Every lesson experiment by the lesson that shows it (what `spafit-course lessons` runs over seeds, and what
`--record-seeds` stores for the lessons to read)."""

from __future__ import annotations

import json

from .bitfit_runs import bitfit_and_full
from .comparison_runs import boundary_sweep
from .layer_runs import layer_probes, top_k_layers
from .lora_runs import lora_ranks
from .forgetting_runs import budget_ablation, forgetting
from .spafit_runs import four_methods

#: Every lesson experiment, by the lesson that shows it.
EXPERIMENTS = {"01": bitfit_and_full, "02": lora_ranks, "03-probes": layer_probes, "03-top-k": top_k_layers,
               "04": four_methods, "05": boundary_sweep}
#: Lesson 06's experiments, by section.
FORGETTING_EXPERIMENTS = {"06-forgetting": forgetting, "06-ablation": budget_ablation}
#: What the multi-seed record holds: every experiment of lessons 01-06.
RECORDED_EXPERIMENTS = {**EXPERIMENTS, **FORGETTING_EXPERIMENTS}


def lesson_seeds(experiment: str, profile=None, path=None) -> dict:
    """A record (`seeds.recorded_seeds`'s shape) holding `experiment` for every seed of `SEEDS`.

    On the profile the package's record was made with (the quick profile), that record, which a test holds to
    the code by rerunning seed 42; on any other profile (a GPU on Colab) the experiment runs here, seed by seed
    (`$SPAFIT_SEEDS`, e.g. "42,43", runs fewer: at least two, 42 first).
    """
    from dataclasses import asdict

    from ..runs.profiles import get_profile
    from .seeds import RECORDED_SEEDS, recorded_seeds

    profile = profile or get_profile()
    record = recorded_seeds(path or RECORDED_SEEDS)
    if record["profile"] == json.loads(json.dumps(asdict(profile), default=list)):
        return record
    run = RECORDED_EXPERIMENTS[experiment]
    seeds = live_seeds()
    return {"seeds": seeds, "profile": asdict(profile),
            "results": {experiment: {str(seed): run(profile, seed) for seed in seeds}}}


def live_seeds() -> list[int]:
    """The seeds a lesson runs itself: `SEEDS`, or `$SPAFIT_SEEDS` (comma-separated, at least two, 42 first)."""
    import os

    from .budget import SEEDS

    text = os.environ.get("SPAFIT_SEEDS", "").strip()
    if not text:
        return list(SEEDS)
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) < 2 or not all(p.isdigit() for p in parts) or parts[0] != "42" or len(set(parts)) != len(parts):
        raise ValueError(f"SPAFIT_SEEDS must be at least two distinct whole numbers, 42 first, like 42,43; "
                         f"got {text!r}")
    return [int(p) for p in parts]


def lesson_result(experiment: str, profile=None) -> dict:
    """Seed 42's result of `experiment`, the one a lesson shows in full (from `lesson_seeds`)."""
    return lesson_seeds(experiment, profile)["results"][experiment]["42"]
