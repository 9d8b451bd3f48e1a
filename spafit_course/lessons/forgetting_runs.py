"""Lesson 06's experiments at the lessons' budget: forgetting per method (the head-only control beside full
fine-tuning, LoRA and SPAFIT), and the budget ablation (SPAFIT against uniform LoRA plus biases at the matched rank).

Every experiment returns a JSON-ready dict with its majority rates and is remembered like the other lesson runs
(`budget.remembered`), so the claim tests and the notebook share one run.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict

from ..runs.experiments import prepared_data, run_method
from ..runs.models import load_tokenizer, model_config
from ..runs.profiles import Profile
from .budget import lesson_profile, majority_rate, remembered, shared_run, trained_model
from .budget_ablation import layer_budget, matched_rank, run_config
from .forgetting_probe import PROBE_SIZES, checkpoint_features, drift_by_layer, probe_features, probe_score, probe_set

#: Runs already done in this process, by their memo key (SPAFIT serves both experiments).
_DONE: dict[str, dict] = {}


def _remember(name: str, compute, **key):
    """`remembered`, plus a memo in this process (a notebook without $SPAFIT_RUN_MEMO trains SPAFIT once)."""
    digest = json.dumps([name, key], sort_keys=True, default=str)
    if digest not in _DONE:
        _DONE[digest] = remembered(name, compute, **key)
    return _DONE[digest]


def _train(small: Profile, label: str, probe: bool) -> dict:
    method, config = run_config(small, label)
    data = prepared_data(small)
    # the lessons' shared run of these settings (lessons 01-05 show the same one), and its model when this
    # process trained it; a run read back from the memo is trained again for the probe
    shared_config = config if method == "spafit" else None
    row = shared_run(small, method, label, config=shared_config, data=data)
    model = trained_model(small, method, shared_config)
    if model is None and probe:
        model = run_method(small, method, data, spafit_config=shared_config, progress=False)["_model"]
    hf = model.config if model is not None else model_config(small.model_name)
    result = {"label": label, "method": method, "score": row["score"], "metric": row["metric"],
              "trainable": row["trainable"], "total": row["total"], "layer_budget": layer_budget(hf, config),
              "train_seconds": row["train_seconds"], "steps": row["steps"], "loss_curve": row.get("loss_curve", []),
              "config": config.to_dict() if config is not None else None}
    if probe:
        after = probe_features(model, small, data[0])
        result["probe"] = probe_score(small, after)
        result["drift"] = drift_by_layer(checkpoint_features(small, data[0])[1], after[1])
    return result


def polarity_run(profile: Profile | None = None, seed: int | None = None, label: str = "spafit",
                 probe: bool = False) -> dict:
    """One run at the lessons' budget (lesson 06): polarity accuracy, trainable counts, the per-layer budget,
    and with `probe` the TREC probe accuracy and per-layer drift of the fine-tuned encoder."""
    small = lesson_profile(profile, seed)
    run_config(small, label)  # a bad label fails here, before anything trains
    return _remember("lesson06_run", lambda: _train(small, label, probe), profile=asdict(small), label=label,
                     probe=probe)


def checkpoint_probe(profile: Profile | None = None, seed: int | None = None) -> dict:
    """The TREC probe on the checkpoint's own features, and the probe test set's majority rate (lesson 06)."""
    small = lesson_profile(profile, seed)

    def compute():
        _, train_y, _, test_y = probe_set(small)
        accuracy = probe_score(small, checkpoint_features(small, load_tokenizer(small.model_name)))
        return {"probe": accuracy, "probe_majority": Counter(test_y).most_common(1)[0][1] / len(test_y),
                "probe_sizes": dict(PROBE_SIZES), "classes": len(set(train_y))}

    return _remember("lesson06_checkpoint", compute, profile=asdict(small), sizes=PROBE_SIZES)


def _polarity_majority(small: Profile) -> float:
    return _remember("lesson06_majority", lambda: majority_rate(prepared_data(small)[2], small.task),
                     profile=asdict(small))


def forgetting(profile: Profile | None = None, seed: int | None = None,
               labels=("head", "full", "lora", "spafit")) -> dict:
    """Lesson 06: the TREC probe before and after polarity fine-tuning, and each layer's drift, per method.

    "head" is the control: its encoder stays frozen, so its probe is the checkpoint's and its drift is 0.
    """
    small = lesson_profile(profile, seed)
    rows = [polarity_run(profile, seed, label, probe=True) for label in labels]
    return {"majority": _polarity_majority(small), "head": small.head,
            **checkpoint_probe(profile, seed), "rows": rows}


def budget_ablation(profile: Profile | None = None, seed: int | None = None) -> dict:
    """Lesson 06: SPAFIT against LoRA plus biases on every layer at the rank that spends the same budget inside
    the layers, with SPAFIT's targets, alpha and bias terms (`budget_ablation.uniform_lora`): only placement
    differs."""
    small = lesson_profile(profile, seed)
    rank = matched_rank(small)
    rows = [polarity_run(profile, seed, label, probe=True) for label in ("spafit", f"uniform LoRA r={rank}")]
    return {"majority": _polarity_majority(small), "head": small.head, "rank": rank,
            **checkpoint_probe(profile, seed), "rows": rows}


#: The experiments of lesson 06, by section.
EXPERIMENTS = {"forgetting": forgetting, "ablation": budget_ablation}


def seed_results(profile: Profile, seed: int) -> dict[str, dict]:
    """Lesson 06's experiments for one seed, in `lesson_runs.seed_table`'s shape: polarity results, and the
    TREC probes as results of their own (judged against the probe's majority rate)."""
    results = {}
    for name, run in EXPERIMENTS.items():
        result = run(profile, seed)
        results[name] = {"majority": result["majority"], "rows": result["rows"]}
        if "probe_majority" in result:
            probes = [{"label": "checkpoint", "score": result["probe"]}]
            probes += [{"label": row["label"], "score": row["probe"]} for row in result["rows"]]
            results[f"{name} TREC probe"] = {"majority": result["probe_majority"], "rows": probes}
    return results
