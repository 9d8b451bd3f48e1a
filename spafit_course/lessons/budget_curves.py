"""Every method at several training budgets (lesson 05): what the lessons' one budget of 1,000 snippets cannot
show, whether a method's lead is its speed or what it reaches.

Each run is one epoch over the first `budget` snippets of a seeded shuffle of the training split (the whole
split at the largest budget), the same lesson settings otherwise, scored once on the whole test split; while it
trains the validation split is scored at a few steps, so a learner sees whether the run has flattened. At the
largest budget the learning rates are checked on validation (three rates, two seeds). `spafit-course lessons
--record-budgets` stores it all in `recorded/budgets-quick.json`, one finished run at a time, so an interrupted
recording resumes where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

from ..runs.profiles import Profile
from .budget import lesson_profile, majority_rate
from .spafit_runs import LESSON_04_METHODS

#: The training budgets, in snippets (None: the whole training split), each trained for one epoch of 16-snippet
#: steps: 16, 63, 188 and 672 steps on the quick profile.
BUDGETS = (250, 1000, 3000, None)
#: Validation scores taken while each run trains, evenly spaced, the last step included.
WATCH_POINTS = 3
#: The learning rates checked at the largest budget: the lessons' rate (chosen at 1,000 snippets) and its
#: neighbours in the grid it was chosen from.
RATE_GRID = {"head": (3e-3, 1e-2, 3e-2), "bitfit": (1e-3, 3e-3, 1e-2), "lora": (1e-3, 3e-3, 1e-2),
             "spafit": (1e-3, 3e-3, 1e-2), "full": (1e-4, 2e-4, 4e-4)}
#: How many of the record's seeds the learning-rate check uses.
RATE_SEEDS = 2
#: The stored record the lessons read.
RECORDED_BUDGETS = Path(__file__).parent / "recorded" / "budgets-quick.json"


def budget_profile(profile: Profile | None, seed: int, budget: int | None, learning_rate: float | None = None,
                   method: str | None = None) -> Profile:
    """The lessons' profile for `seed` with `budget` training snippets (None: all), and another learning rate
    for `method` if given."""
    small = replace(lesson_profile(profile, seed), train_size=budget)
    if learning_rate is not None:
        small = replace(small, learning_rates={**small.learning_rates, method: learning_rate})
    return small


def watched_split(small: Profile):
    """The tokenised validation split (the whole of it) a run is scored on while it trains."""
    from ..runs.data import prepare_task
    from ..runs.models import load_tokenizer
    from ..runs.tasks import on_validation

    task = on_validation(small.task)
    _, evals = prepare_task(task, load_tokenizer(small.model_name), small.max_length, train_size=0,
                            eval_size=None, seed=small.seed)
    return evals[task.eval_splits[0]]


def budget_run(profile: Profile | None, seed: int, budget: int | None, method: str, progress: bool = False,
               watch_points: int = WATCH_POINTS) -> dict:
    """One method at one budget: its test score (read once), the validation curve and the training loss."""
    from ..runs.experiments import prepared_data, run_method

    small = budget_profile(profile, seed, budget)
    data = prepared_data(small)
    watch = watched_split(small) if watch_points else None
    row = run_method(small, method, data, progress=progress, watch=watch, watch_points=watch_points)
    curve = row.get("watch_curve", [])
    return {"label": LESSON_04_METHODS[method], "method": method, "budget": len(data[1]), "seed": seed,
            "learning_rate": small.learning_rates[method], "score": row["score"], "metric": row["metric"],
            "split": row["split"], "majority": majority_rate(data[2], small.task),
            "eval_size": len(next(iter(data[2].values()))),
            "validation": curve[-1][2] if curve else None, "trainable": row["trainable"], "steps": row["steps"],
            "train_seconds": row["train_seconds"], "loss_curve": row["loss_curve"],
            "watch_curve": curve}


def rate_run(profile: Profile | None, seed: int, method: str, learning_rate: float) -> dict:
    """One method at the largest budget and another learning rate, scored on validation only."""
    from ..runs.experiments import prepared_data, run_method
    from ..runs.tasks import on_validation

    small = budget_profile(profile, seed, BUDGETS[-1], learning_rate, method)
    task = on_validation(small.task)
    data = prepared_data(small, task)
    row = run_method(small, method, data, task, progress=False)
    return {"method": method, "seed": seed, "learning_rate": learning_rate, "validation": row["score"],
            "steps": row["steps"]}


def budget_key(budget: int | None) -> str:
    return "all" if budget is None else str(budget)


def planned_runs(profile: Profile, seeds) -> list[tuple]:
    """Every run of the record, in the order it is trained, so that a partial record is a useful one: the
    smaller budgets for every seed (a third of the work), then the whole split for the seeds the learning-rate
    check uses, the check itself, then the whole split for the other seeds."""
    def curves(budgets, some):
        return [("curve", seed, budget, method) for seed in some for budget in budgets for method in LESSON_04_METHODS]

    # the lessons' own rate at the largest budget is the curve's run itself
    rates = [("rate", seed, method, rate) for seed in seeds[:RATE_SEEDS] for method, grid in RATE_GRID.items()
             for rate in grid if rate != profile.learning_rates[method]]
    return (curves(BUDGETS[:-1], seeds) + curves(BUDGETS[-1:], seeds[:RATE_SEEDS]) + rates
            + curves(BUDGETS[-1:], seeds[RATE_SEEDS:]))


def run_planned(profile: Profile, run: tuple, threads: int | None = None) -> tuple[tuple, dict]:
    """(run, result) of one planned run; `threads` sets torch's threads in a worker process."""
    import os

    os.environ.pop("SPAFIT_RUN_MEMO", None)  # a record holds what its command trained
    if threads:
        import torch

        torch.set_num_threads(threads)
    kind, seed, *rest = run
    if kind == "curve":
        return run, budget_run(profile, seed, rest[0], rest[1])
    return run, rate_run(profile, seed, rest[0], rest[1])


def is_done(record: dict, run: tuple) -> bool:
    kind, seed, *rest = run
    if kind == "curve":
        return str(seed) in record["curves"].get(rest[1], {}).get(budget_key(rest[0]), {})
    return str(seed) in record["rates"].get(rest[0], {}).get(repr(rest[1]), {})


def add_result(record: dict, run: tuple, result: dict) -> None:
    kind, seed, *rest = run
    if kind == "curve":
        record["curves"].setdefault(rest[1], {}).setdefault(budget_key(rest[0]), {})[str(seed)] = result
    else:
        record["rates"].setdefault(rest[0], {}).setdefault(repr(rest[1]), {})[str(seed)] = result


def new_record(profile: Profile, seeds) -> dict:
    from .seeds import library_versions

    return {"made": "", "profile": asdict(profile), "seeds": list(seeds), "budgets": [budget_key(b) for b in BUDGETS],
            "rate_grid": {m: list(g) for m, g in RATE_GRID.items()}, "versions": library_versions(),
            "complete": False, "curves": {}, "rates": {}}


def same_settings(record: dict, fresh: dict) -> bool:
    """Whether a stored record was made with these settings and libraries (so its runs can be kept)."""
    keys = ("profile", "seeds", "budgets", "rate_grid", "versions")
    return all(json.dumps(record.get(k), default=list) == json.dumps(fresh[k], default=list) for k in keys)


def record_budgets(profile: Profile, seeds, jobs: int = 1, path=RECORDED_BUDGETS, on_result=None) -> dict:
    """Train every planned run not yet in the record at `path` and store the record after each one.

    A stored record made with other settings or library versions is started anew; one made with these is
    resumed. With `jobs` > 1 runs go to that many processes of one thread each.
    """
    import datetime
    import os

    from ..tuning.atomic import check_writable, write_text

    if len(set(seeds)) < 2 or len(set(seeds)) != len(list(seeds)):
        raise ValueError(f"a record pairs methods over seeds: it needs two or more distinct seeds, got {list(seeds)}")
    check_writable(path, "the budget record")
    record = fresh = new_record(profile, seeds)
    if Path(path).is_file():
        stored = read_budget_record(path, complete=False)
        record = stored if same_settings(stored, fresh) else fresh
    todo = [run for run in planned_runs(profile, list(seeds)) if not is_done(record, run)]

    def store(run, result):
        add_result(record, run, result)
        record["complete"] = all(is_done(record, r) for r in planned_runs(profile, list(seeds)))
        record["made"] = (f"recorded up to {datetime.date.today().isoformat()} by `spafit-course lessons "
                          f"--record-budgets` on {os.cpu_count()} CPU cores, one thread per run")
        write_text(path, json.dumps(record, indent=None, default=list) + "\n")  # atomic: old or new, never a mix
        if on_result:
            on_result(run, result)

    if jobs > 1:
        import functools
        from concurrent.futures import as_completed

        from ..runs.workers import worker_pool

        work = functools.partial(run_planned, profile, threads=1)
        with worker_pool(jobs) as pool:  # Ctrl-C or a kill stops the workers too; what finished is stored
            for future in as_completed([pool.submit(work, run) for run in todo]):
                store(*future.result())
    else:
        for run in todo:
            store(*run_planned(profile, run))
    return record


def read_budget_record(path=RECORDED_BUDGETS, complete: bool = False) -> dict:
    """The stored budget record; one that cannot be read, or lacks its parts, fails naming the file."""
    try:
        record = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"cannot read the budget record {path} ({type(error).__name__}: {error}); remake it with "
                         "`spafit-course lessons --record-budgets --jobs 2`") from None
    missing = [k for k in ("profile", "seeds", "curves", "rates", "budgets") if not isinstance(record, dict)
               or k not in record]
    if missing:
        raise ValueError(f"the budget record {path} lacks {', '.join(missing)}; remake it with "
                         "`spafit-course lessons --record-budgets --jobs 2`")
    if complete and not record.get("complete"):
        raise ValueError(f"the budget record {path} is not complete; finish it with "
                         "`spafit-course lessons --record-budgets --jobs 2` (it resumes)")
    return record
