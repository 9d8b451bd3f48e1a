"""The lessons' budget (1,000 training snippets, 63 steps of 16), the majority-class rate every result stands
beside, and the run memo that lets a test and the notebook after it share one run (lessons 01-06).

When `$SPAFIT_RUN_MEMO` names a folder, results are kept there by their arguments, so a test session that has
already run an experiment hands the same numbers to the notebook that shows it (runs are deterministic for a
seed, so rerunning would print the same numbers more slowly).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path

from ..runs.overrides import check_seed
from ..runs.profiles import Profile, env_overrides, get_profile
from ..runs.tasks import get_task
from ..tuning.atomic import check_writable, write_text

#: The lessons' budget: 1,000 training snippets (63 steps of 16), scored on the whole test split (1,000 snippets,
#: the same for every seed and method, so comparisons pair up).
LESSON_SIZES = {"train_size": 1000, "eval_size": None, "batch_size": 16}
#: The seeds behind every comparison a lesson draws (42 is the one a lesson trains live: `live.py`).
SEEDS = (42, 43, 44, 45, 46)
#: The label of the control every comparison includes: only the task head trains (N1 = N2 = L).
CONTROL = "head only (control)"


#: How far above the majority rate a trained result must land before a lesson calls it learning.
LEARNING_MARGIN = 0.08


def lesson_profile(profile: Profile | None = None, seed: int | None = None) -> Profile:
    """The profile at the lessons' budget (and another seed, if given); SPAFIT_* size variables still win.

    Every lesson experiment starts here, so a seed that is not a whole number in 0..2**32-1, or a profile that
    is not a `Profile`, fails before anything runs.
    """
    from dataclasses import replace

    if profile is not None and not isinstance(profile, Profile):
        raise ValueError(f"profile must be a Profile (from get_profile) or None, got {profile!r}")
    if seed is not None:
        seed = check_seed(seed)
    sizes = {**LESSON_SIZES, **env_overrides()}
    # with_overrides skips None, and the lessons' eval_size None (the whole split) must replace the profile's
    return replace((profile or get_profile()).with_overrides(**sizes, seed=seed), eval_size=sizes["eval_size"])


def majority_rate(eval_sets: dict, task_name: str) -> float | None:
    """Share of the most frequent label in the task's first evaluation split (None for regression)."""
    task = get_task(task_name)
    if task.is_regression:
        return None
    labels = eval_sets[task.eval_splits[0]]["labels"]
    return Counter(labels).most_common(1)[0][1] / len(labels)


def remembered(name: str, compute, **key):
    """`compute()`, or its stored result when `$SPAFIT_RUN_MEMO` holds one for the same name and arguments."""
    folder = os.environ.get("SPAFIT_RUN_MEMO", "").strip()
    if not folder:
        return compute()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]
    path = Path(folder) / f"{name}-{digest}.json"
    if not path.is_file():  # a folder that cannot take the result fails now, not after the run
        check_writable(path, f"the run memo entry (SPAFIT_RUN_MEMO={folder})")
    else:
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ValueError(f"the run memo entry {path} cannot be read ({type(error).__name__}: "
                             f"{str(error).splitlines()[0] if str(error) else 'no message'}); delete it to run "
                             "the experiment again, or unset SPAFIT_RUN_MEMO") from None
        if not isinstance(stored, dict):  # every experiment's result is a JSON object; anything else is damage
            raise ValueError(f"the run memo entry {path} holds {type(stored).__name__}, not an experiment's "
                             "result (a JSON object); delete it to run the experiment again, or unset "
                             "SPAFIT_RUN_MEMO")
        return stored
    result = compute()
    write_text(path, json.dumps(result))  # atomic: an interrupted run leaves no truncated entry
    return result


def lesson_row(row: dict, label: str, **extra) -> dict:
    """A run's row as a lesson shows it: its label, the score and its context, and any extra columns."""
    keep = ("method", "task", "score", "metric", "split", "trainable", "total", "percent_trainable", "train_seconds",
            "steps", "loss_curve")
    return {"label": label, **{k: row[k] for k in keep if k in row}, **extra}


def run_at_budget(name: str, profile: Profile | None, seed: int | None, compute, **arguments) -> dict:
    """`compute(profile at the lessons' budget, **arguments)`, remembered by its name and arguments."""
    small = lesson_profile(profile, seed)
    return remembered(name, lambda: compute(small, **arguments), profile=asdict(small), **arguments)


#: Whether `shared_run` shows a progress bar while it trains (a lesson's live runs; `showing_progress`).
_PROGRESS = {"on": False}


@contextlib.contextmanager
def showing_progress():
    """Within this block, runs show the Trainer's progress bar (lessons 01-06 train seed 42 in front of the
    learner)."""
    before = _PROGRESS["on"]
    _PROGRESS["on"] = True
    try:
        yield
    finally:
        _PROGRESS["on"] = before


def progress_shown() -> bool:
    """Whether runs started now show a progress bar (inside `showing_progress`)."""
    return _PROGRESS["on"]


#: Rows already trained in this process, by profile, method and config (several lessons show the same run), and
#: the models trained here (not those read from the memo).
_ROWS: dict[str, dict] = {}
_MODELS: dict[str, object] = {}


def shared_run(small: Profile, method: str, label: str, config=None, data=None, **extra) -> dict:
    """`method` (or `config` under the "spafit" method) trained at `small`, as a lesson row labelled `label`.

    The same run is shown by several lessons (the head-only control, BitFit, LoRA, SPAFIT, full fine-tuning), so
    it is trained once per process (and once per test session through the memo); `data` is `prepared_data`'s
    result when the caller has it.
    """
    from ..runs.experiments import prepared_data, run_method

    key = {"profile": asdict(small), "method": method, "config": config.to_dict() if config is not None else None}
    digest = json.dumps(key, sort_keys=True, default=str)
    if digest not in _ROWS:
        def compute():
            row = run_method(small, method, data or prepared_data(small), spafit_config=config,
                             progress=progress_shown())
            _MODELS[digest] = row["_model"]
            return lesson_row(row, method)
        _ROWS[digest] = remembered("shared_run", compute, **key)
    return {**_ROWS[digest], "label": label, **extra}


def trained_model(small: Profile, method: str, config=None):
    """The model `shared_run` trained in this process for these settings, or None (lesson 01 reads its biases)."""
    key = {"profile": asdict(small), "method": method, "config": config.to_dict() if config is not None else None}
    return _MODELS.get(json.dumps(key, sort_keys=True, default=str))
