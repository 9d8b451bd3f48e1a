"""The lessons' budget (1,000 training snippets, 63 steps of 16), the majority-class rate every result stands
beside, and the run memo that lets a test and the notebook after it share one run (lessons 01-06).

When `$SPAFIT_RUN_MEMO` names a folder, results are kept there by their arguments, so a test session that has
already run an experiment hands the same numbers to the notebook that shows it (runs are deterministic for a
seed, so rerunning would print the same numbers more slowly).
"""

from __future__ import annotations

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

#: The lessons' budget: 1,000 training snippets (63 steps of 16), 300 evaluation snippets.
LESSON_SIZES = {"train_size": 1000, "eval_size": 300, "batch_size": 16}


#: How far above the majority rate a trained result must land before a lesson calls it learning.
LEARNING_MARGIN = 0.08


def lesson_profile(profile: Profile | None = None, seed: int | None = None) -> Profile:
    """The profile at the lessons' budget (and another seed, if given); SPAFIT_* size variables still win.

    Every lesson experiment starts here, so a seed that is not a whole number in 0..2**32-1, or a profile that
    is not a `Profile`, fails before anything runs.
    """
    if profile is not None and not isinstance(profile, Profile):
        raise ValueError(f"profile must be a Profile (from get_profile) or None, got {profile!r}")
    if seed is not None:
        seed = check_seed(seed)
    return (profile or get_profile()).with_overrides(**{**LESSON_SIZES, **env_overrides()}, seed=seed)


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
            return json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, OSError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            raise ValueError(f"the run memo entry {path} cannot be read ({type(error).__name__}: "
                             f"{str(error).splitlines()[0] if str(error) else 'no message'}); delete it to run "
                             "the experiment again, or unset SPAFIT_RUN_MEMO") from None
    result = compute()
    write_text(path, json.dumps(result))  # atomic: an interrupted run leaves no truncated entry
    return result


def lesson_row(row: dict, label: str, **extra) -> dict:
    """A run's row as a lesson shows it: its label, the score and its context, and any extra columns."""
    keep = ("method", "task", "score", "metric", "split", "trainable", "total", "percent_trainable", "train_seconds",
            "steps")
    return {"label": label, **{k: row[k] for k in keep}, **extra}


def run_at_budget(name: str, profile: Profile | None, seed: int | None, compute, **arguments) -> dict:
    """`compute(profile at the lessons' budget, **arguments)`, remembered by its name and arguments."""
    small = lesson_profile(profile, seed)
    return remembered(name, lambda: compute(small, **arguments), profile=asdict(small), **arguments)
