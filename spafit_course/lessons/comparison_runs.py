"""Lesson 05's boundary sweep (chosen on validation, scored once on test), and the refusal every record shares
of settings that would change its runs. The comparison across budgets is `budget_curves.py`."""

from __future__ import annotations

import os

from ..runs.experiments import prepared_data
from ..runs.profiles import ENV_OVERRIDES, Profile, get_profile
from ..runs.sweep import run_sweep
from ..runs.tasks import on_validation
from ..tuning.methods import spafit_config
from ..tuning.architectures import num_layers
from .budget import CONTROL, lesson_profile, lesson_row, majority_rate, run_at_budget, shared_run


def _boundary_sweep(small: Profile, n1_values, n2_values) -> dict:
    validation = on_validation(small.task)
    data = prepared_data(small, validation)
    sweep = run_sweep(small, n1_values, n2_values, validation, progress=False, data=data)
    sweep["majority"] = majority_rate(data[2], validation)
    best = max(sweep["cells"], key=lambda c: (c["score"], -c["trainable"]))  # ties: the smaller budget
    chosen = spafit_config(small, best["n1"], best["n2"])
    test = prepared_data(small)
    sweep["test"] = {"majority": majority_rate(test[2], small.task), "head": small.head,
                     "rows": [shared_run(small, "head", CONTROL, data=test),
                              shared_run(small, "spafit", "SPAFIT, boundaries from the profile", data=test),
                              shared_run(small, "spafit", "SPAFIT, boundaries chosen on validation",
                                         config=chosen, data=test, n1=best["n1"], n2=best["n2"])]}
    return sweep


def boundary_sweep(profile: Profile | None = None, seed: int | None = None, n1_values=None, n2_values=None
                   ) -> dict:
    """Lesson 05: SPAFIT over a grid of boundaries, scored on the validation split (a `run_sweep` dict plus the
    majority rate); then the best cell is scored once on the test split beside the profile's boundaries and the
    head-only control (under "test").

    The default grid is N1 in {0, L/3, 2L/3} by N2 in {L/3, 2L/3}: five valid cells, each with LoRA in its top
    layers.
    """
    from ..runs.models import meta_model

    lesson_profile(profile, seed)  # a bad profile or seed fails before the model is built
    profile = profile or get_profile()
    layers = num_layers(meta_model(profile.model_name))
    n1_values = (0, layers // 3, 2 * layers // 3) if n1_values is None else n1_values
    n2_values = (layers // 3, 2 * layers // 3) if n2_values is None else n2_values
    return run_at_budget("boundary_sweep", profile, seed, _boundary_sweep, n1_values=list(n1_values),
                n2_values=list(n2_values))


def comparison_result(rows, profile: Profile, data=None) -> dict:
    """`compare_methods` rows as a lesson result: the majority rate of the evaluated split, and the rows."""
    data = data or prepared_data(profile)
    return {"majority": majority_rate(data[2], profile.task), "train_size": len(data[1]),
            "head": profile.head, "rows": [lesson_row(r, r["method"]) for r in rows]}


def check_record_environment(environ=None) -> None:
    """Refuse to record while SPAFIT_* variables would change the runs (a record says: the quick profile at the
    lessons' budgets) or name another profile, naming the variables to unset."""
    environ = os.environ if environ is None else environ
    changed = [variable for variable in ENV_OVERRIDES if environ.get(variable, "").strip()]
    if environ.get("SPAFIT_PROFILE", "quick").strip() not in ("", "quick"):
        changed.append("SPAFIT_PROFILE")
    if changed:
        raise ValueError(f"a record holds the quick profile at the lessons' budgets, but {', '.join(changed)} "
                         f"{'is' if len(changed) == 1 else 'are'} set and would change the run; unset "
                         f"{'it' if len(changed) == 1 else 'them'} to record")
