"""Training in front of the learner (lessons 01-06): each lesson trains its own seed, 42, with a progress bar,
draws the training loss of every run, and says whether its numbers match the record the other seeds come from.

Runs are deterministic for a seed on one machine and library versions, so the live seed should land within two
of the 1,000 test snippets of the recorded one. A learner who only wants to read sets `SPAFIT_LIVE=0` (before
starting Jupyter, or in the first cell with `os.environ`), and the lessons show the record's seed 42 instead.
"""

from __future__ import annotations

import os

from ..runs.profiles import Profile
from .budget import lesson_profile, majority_rate, showing_progress, shared_run

#: The seed a lesson trains live; the record holds it too, beside the others.
LIVE_SEED = 42
#: How far, in test snippets, the live seed may land from the record before the lesson says it differs.
MATCH_SNIPPETS = 2


def reading_record() -> bool:
    """Whether `SPAFIT_LIVE=0` asks the lessons to read their seed 42 from the record instead of training it."""
    value = os.environ.get("SPAFIT_LIVE", "").strip()
    if value not in ("", "0", "1"):
        raise ValueError(f"SPAFIT_LIVE must be 1 (train seed 42 in the lesson, the default) or 0 (read it from the "
                         f"record); got {value!r}")
    return value == "0"


def recorded_rows(record: dict, experiment: str, labels, part: str | None = None) -> list[dict]:
    """Seed 42's rows of `experiment` in the record, those with the given labels, in that order."""
    result = record["results"][experiment][str(LIVE_SEED)]
    rows = {row["label"]: row for row in (result[part] if part else result)["rows"]}
    return [rows[label] for label in labels]


def train_live(profile: Profile | None, runs: dict, experiment: str, part: str | None = None) -> dict:
    """Train each of `runs` at the lessons' budget for seed 42, on the same data, each with a progress bar; the
    result has the rows (with their loss curves) and the majority rate of the test split.

    `runs` is {label: (method, SpafitConfig or None)}, or {label: train(profile, data) -> lesson row} for a
    run that is not one of the methods (lesson 03's top k layers).

    With `SPAFIT_LIVE=0` those rows are read from seed 42 of the lesson's `experiment` (`part`: its sub-result)
    in the record (`catalogue.lesson_seeds`), which the same code trained.
    """
    from ..runs.experiments import prepared_data
    from .catalogue import lesson_seeds

    small = lesson_profile(profile, LIVE_SEED)
    if reading_record():
        record = lesson_seeds(experiment, profile)
        result = record["results"][experiment][str(LIVE_SEED)]
        result = result[part] if part else result
        return {"majority": result["majority"], "head": result.get("head"), "source": "record",
                "rows": recorded_rows(record, experiment, runs, part)}
    data = prepared_data(small)
    rows = []
    with showing_progress():
        for label in runs:
            print(f"{label}: {len(data[1]):,} snippets, batches of {small.batch_size}", flush=True)
            spec = runs[label]
            rows.append(spec(small, data) if callable(spec) else shared_run(small, spec[0], label, config=spec[1], data=data))
    scored = next(iter(data[2].values()))
    return {"majority": majority_rate(data[2], small.task), "head": small.head, "source": "live", "rows": rows,
            "eval_size": len(scored)}


def match_text(live: dict, record: dict, experiment: str, part: str | None = None) -> str:
    """Whether the live seed 42 landed where the record's seed 42 did (within `MATCH_SNIPPETS` test snippets),
    and what to do when it did not."""
    if live.get("source") == "record":
        return "seed 42 read from the record (SPAFIT_LIVE=0): nothing trained here"
    recorded = {row["label"]: row["score"] for row in recorded_rows(record, experiment, [r["label"] for r in
                                                                                          live["rows"]], part)}
    size = live["eval_size"]
    apart = {row["label"]: round(abs(row["score"] - recorded[row["label"]]) * size) for row in live["rows"]}
    far = {label: n for label, n in apart.items() if n > MATCH_SNIPPETS}
    if not far:
        return (f"seed 42 trained here matches the record: every score within {MATCH_SNIPPETS} of the {size:,} "
                f"test snippets (largest gap {max(apart.values())})")
    listed = ", ".join(f"{label} {n} snippets apart" for label, n in far.items())
    return (f"seed 42 trained here differs from the record: {listed}. Runs repeat exactly only with the same "
            "thread count and library versions (the record says which it used); the comparison below uses the "
            "record's seeds, so it still holds for them")


def plot_losses(live: dict, ax=None, title: str = "", smooth: int = 8):
    """The training loss of every live run against steps: thin, as logged; thick, a running mean of `smooth`."""
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.6))
    for row in (row for row in live["rows"] if row.get("loss_curve")):  # records made before curves have none
        steps, losses = (np.asarray(column) for column in zip(*row["loss_curve"]))
        line, = ax.plot(steps, losses, lw=0.8, alpha=0.35)
        window = min(smooth, len(losses))
        mean = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1:], mean, lw=2, color=line.get_color(), label=row["label"])
    ax.set_xlabel("training step")
    ax.set_ylabel("training loss")
    ax.set_title(title)
    ax.legend(fontsize=8)
    ax.grid(True, alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure


def train_smallest_budget(profile: Profile | None, record: dict | None = None) -> dict:
    """Lesson 05: every method of lesson 04 at the budget record's smallest budget, seed 42, with a progress bar
    each (or, with `SPAFIT_LIVE=0`, those runs read from the budget `record`)."""
    from .budget_curves import BUDGETS, budget_key, budget_run
    from .spafit_runs import LESSON_04_METHODS

    smallest = BUDGETS[0]
    if reading_record() and record is not None:
        rows = [record["curves"][method][budget_key(smallest)][str(LIVE_SEED)] for method in LESSON_04_METHODS]
        return {"majority": rows[0]["majority"], "source": "record", "rows": rows}
    rows = []
    with showing_progress():
        for method, label in LESSON_04_METHODS.items():
            print(f"{label}: {smallest:,} snippets, batches of 16", flush=True)
            rows.append(budget_run(profile, LIVE_SEED, smallest, method, progress=True, watch_points=0))
    return {"majority": rows[0]["majority"], "source": "live", "rows": rows, "eval_size": rows[0]["eval_size"],
            "profile": lesson_profile(profile).name}


def budget_match_text(live: dict, record: dict) -> str:
    """Whether lesson 05's live runs landed where the budget record's seed 42 did (`match_text`'s rule)."""
    from .budget_curves import BUDGETS, budget_key

    key, seed = budget_key(BUDGETS[0]), str(LIVE_SEED)
    if live.get("source") == "live" and live["profile"] != record["profile"]["name"]:
        return (f"the budget record is the {record['profile']['name']} profile's; these runs, on the "
                f"{live['profile']} profile, have nothing in it to compare with")
    recorded = {"results": {"budget": {seed: {"rows": [
        {**record["curves"][row["method"]][key][seed], "label": row["label"]} for row in live["rows"]
        if seed in record["curves"].get(row["method"], {}).get(key, {})]}}}}
    if len(recorded["results"]["budget"][seed]["rows"]) < len(live["rows"]):
        return "the budget record has no seed 42 at this budget yet: nothing to compare with"
    return match_text(live, recorded, "budget")
