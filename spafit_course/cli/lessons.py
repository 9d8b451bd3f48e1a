"""`spafit-course lessons` and `spafit-course forgetting`: every lesson experiment over several seeds, and the
recorded comparison lesson 05 reads (`lessons --record`)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..runs.profiles import PROFILES, get_profile
from ..lessons.budget import SEEDS
from .args import check_output_file, int_type

LESSON_NAMES = ("01", "02", "03-probes", "03-top-k", "04", "05")


def parse_seeds(text: str) -> list[int]:
    """'42,43,44' -> [42, 43, 44]: distinct whole numbers 0..2**32-1, else an error naming what is allowed."""
    parts = [s.strip() for s in text.split(",") if s.strip()]
    if not parts or not all(p.isdigit() for p in parts) or any(int(p) >= 2 ** 32 for p in parts):
        raise argparse.ArgumentTypeError(f"must be comma-separated whole numbers 0..{2 ** 32 - 1}, like 42,43,44; "
                                         f"got {text!r}")
    seeds = [int(p) for p in parts]
    if len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"names a seed twice: {text!r}")
    return seeds


def parse_lessons(text: str) -> list[str]:
    """'01,04' -> ['01', '04'], each one of LESSON_NAMES."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in LESSON_NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"must name some of {','.join(LESSON_NAMES)}; got {text!r}")
    return names


def cmd_lessons(args) -> int:
    from ..lessons.catalogue import EXPERIMENTS
    from ..lessons.comparison_runs import record_comparison
    from ..lessons.results import results_text, seed_table, trained_results
    from ..tuning.quiet import silence_libraries

    if args.output is not None:
        check_output_file(args.output, "--output")
    silence_libraries()
    if args.record:
        print(results_text(record_comparison(), columns=("trainable",)))
        return 0
    if args.record_seeds:
        return record_lesson_seeds(args.seeds, args.jobs)
    profile = get_profile(args.profile)
    results = {}
    for seed in args.seeds:
        results[seed] = {}
        for lesson in args.lessons:
            results[seed][lesson] = EXPERIMENTS[lesson](profile, seed)
            print(f"seed {seed}, lesson {lesson}: " + ", ".join(
                f"{label} {score:.3f}" for label, score in trained_results(results[seed][lesson]))
                + f" (majority {results[seed][lesson]['majority']:.3f})", flush=True)
    print(seed_table(results))
    if args.output is not None:
        Path(args.output).write_text(json.dumps(results, indent=2))
    return 0


def record_lesson_seeds(seeds, jobs: int = 1) -> int:
    """Store every lesson experiment of lessons 01-06 on the quick profile for `seeds` (what the lessons read)."""
    from ..lessons.catalogue import RECORDED_EXPERIMENTS
    from ..lessons.seeds import record_seeds
    from ..lessons.results import trained_results
    import os

    from ..runs.profiles import ENV_OVERRIDES

    changed = [variable for variable in ENV_OVERRIDES if os.environ.get(variable, "").strip()]
    if changed:
        raise ValueError(f"--record-seeds stores the lessons' record at their own budget; unset {', '.join(changed)} "
                         "first")
    seeds = sorted(set(seeds) | {42})

    def report(name, seed, result):
        print(f"seed {seed}, {name}: " + ", ".join(f"{label} {score:.3f}" for label, score in
                                                    trained_results(result)), flush=True)

    record_seeds(RECORDED_EXPERIMENTS, get_profile("quick"), seeds, on_result=report, jobs=jobs)
    return 0


def cmd_forgetting(args) -> int:
    from ..lessons.forgetting_runs import seed_results
    from ..lessons.results import seed_table
    from ..tuning.quiet import silence_libraries

    silence_libraries()
    profile = get_profile(args.profile)
    print(seed_table({seed: seed_results(profile, seed) for seed in args.seeds}))
    return 0


def add_subcommand(subparsers) -> None:
    """Register `spafit-course lessons` and `spafit-course forgetting`."""
    from ..lessons.budget import LEARNING_MARGIN

    lessons = subparsers.add_parser(
        "lessons", help="every experiment of lessons 01-05 over several seeds, beside its majority rate",
        description="Run every lesson experiment (lessons 01-05) at its lesson budget for several seeds and print "
                    "each result as 'score / majority rate' per seed, the spread over seeds and the smallest "
                    f"margin over the majority rate (a lesson calls a result learning at +{LEARNING_MARGIN}). "
                    "With $SPAFIT_RUN_MEMO set to a folder, results already there are reused.")
    lessons.add_argument("--seeds", type=parse_seeds, default=list(SEEDS),
                         help=f"comma-separated seeds (default {','.join(map(str, SEEDS))}, the ones the lessons read; "
                              "42 is the one they train live)")
    lessons.add_argument("--lessons", type=parse_lessons, default=list(LESSON_NAMES),
                         help=f"which lessons' experiments to run (default all: {','.join(LESSON_NAMES)})")
    lessons.add_argument("--profile", choices=list(PROFILES), default=None,
                         help="profile (default: $SPAFIT_PROFILE or quick)")
    lessons.add_argument("--output", type=Path, default=None, help="also write every result as JSON to this file")
    lessons.add_argument("--record", action="store_true",
                         help="instead, rerun the quick profile's full comparison that lesson 05 shows and store it "
                              "in the package (about 5 minutes on 2 CPU cores)")
    lessons.add_argument("--record-seeds", action="store_true",
                         help="instead, run every experiment of lessons 01-06 on the quick profile for --seeds "
                              "(seed 42 always included; the lessons read 42-46) and store them in the package as "
                              "the record the lessons read (about 40 minutes on 2 CPU cores for five seeds)")
    lessons.add_argument("--jobs", type=int_type(1, 16), default=1,
                         help="with --record-seeds: seeds run in this many processes of one thread each (default 1; "
                              "2 on a busy 2-core machine)")
    lessons.set_defaults(func=cmd_lessons)

    forgetting = subparsers.add_parser(
        "forgetting", help="lesson 06's experiments over several seeds, beside their majority rates",
        description="Run lesson 06's experiments at the lessons' budget for several seeds and print each trained "
                    "accuracy as 'accuracy / majority rate' per seed, with the spread over seeds.")
    forgetting.add_argument("--seeds", type=parse_seeds, default=[42, 43, 44],
                            help="comma-separated seeds (default 42,43,44)")
    forgetting.add_argument("--profile", choices=list(PROFILES), default=None,
                            help="profile (default: $SPAFIT_PROFILE or quick)")
    forgetting.set_defaults(func=cmd_forgetting)
