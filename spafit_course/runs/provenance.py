"""What made a results file (lesson 05's `compare`, `sweep` and `bench`): the run's id, the effective profile
after every override (sizes, seed, epochs, length, learning rates), the package and library versions, and
whether it ran distributed. The header a command prints is made from the same record, so the two agree.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import uuid
from dataclasses import asdict

from .overrides import plain_int

#: Libraries whose versions change what a run computes; those not installed are recorded as null.
LIBRARIES = ("torch", "transformers", "numpy", "safetensors", "datasets", "scikit-learn", "scipy")


def library_versions() -> dict:
    from importlib import metadata

    from .. import __version__

    versions = {"spafit-course": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def distributed_launch(environ=None) -> dict | None:
    """{"world_size", "rank"} of a torchrun launch (WORLD_SIZE > 1), else None; malformed values fail.

    A RANK left in a plain shell (WORLD_SIZE unset or 1) is not a launch: it is named in a warning and this
    process writes the results, where it would otherwise write nothing and say nothing.
    """
    environ = os.environ if environ is None else environ
    text = {name: environ.get(name, "").strip() for name in ("RANK", "WORLD_SIZE")}
    values = {name: plain_int(value) for name, value in text.items() if value}
    bad = [f"{name}={text[name]!r}" for name, value in values.items() if value is None]
    if bad:
        raise ValueError(f"{', '.join(bad)} must be a whole number, as torchrun sets it; unset it outside a "
                         "distributed launch")
    world, rank = values.get("WORLD_SIZE", 1), values.get("RANK")
    if world <= 1:
        if rank:
            import warnings

            warnings.warn(f"RANK={rank} is set but WORLD_SIZE is {text['WORLD_SIZE'] or 'unset'}: this is not a "
                          "distributed launch, so this process writes the results (unset RANK if it was left from "
                          "an earlier torchrun)", UserWarning, stacklevel=2)
        return None
    if rank is None or rank >= world:
        raise ValueError(f"WORLD_SIZE={world} needs RANK in 0..{world - 1} (torchrun sets both), got "
                         f"RANK={text['RANK'] or 'unset'}")
    return {"world_size": world, "rank": rank}


def run_record(profile=None, task: str | None = None, launch: dict | None = None, command=None, **facts) -> dict:
    """The provenance of one run: a fresh run id, the time, the command line (`command`, a list of arguments, else
    this process's), the effective profile (a `Profile`, after every override), the task, the versions, the
    launch (`distributed_launch`) and `facts`."""
    import shlex

    command = command if command is not None else [os.path.basename(sys.argv[0] or "python"), *sys.argv[1:]]
    return {
        "run_id": uuid.uuid4().hex[:12],
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": shlex.join(map(str, command)),
        "profile": asdict(profile) if profile is not None else None,
        "task": task,
        "versions": library_versions(),
        "distributed": launch or False,
        **facts,
    }


def describe_run(record: dict) -> str:
    """The header a command prints, made from the record its results file holds (so the two cannot differ)."""
    profile, lines = record.get("profile"), []
    if profile:
        rates = ", ".join(f"{method} {rate:g}" for method, rate in profile["learning_rates"].items())
        lines.append(f"profile {profile['name']}: {profile['model_name']} on {record.get('task') or profile['task']}, "
                     f"{profile['train_size'] or 'all'} training examples, {profile['eval_size'] or 'all'} "
                     f"evaluation examples, {profile['epochs']:g} epoch(s), batch {profile['batch_size']}, max "
                     f"length {profile['max_length']}, seed {profile['seed']}")
        lines.append(f"  learning rates: {rates}")
    launch = record.get("distributed")
    where = f"distributed over {launch['world_size']} processes" if launch else "one process"
    lines.append(f"  run {record['run_id']}, {where}, spafit-course {record['versions']['spafit-course']}, torch "
                 f"{record['versions']['torch']}, transformers {record['versions']['transformers']}")
    return "\n".join(lines)
