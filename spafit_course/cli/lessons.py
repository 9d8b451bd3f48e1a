"""`spafit-course lessons` and `spafit-course forgetting`: every lesson experiment over several seeds, and the
records the lessons read (`lessons --record-seeds`, `lessons --record-budgets`)."""

from __future__ import annotations

import argparse
import json

from ..runs.overrides import MAX_SEED
from ..runs.profiles import PROFILES, get_profile
from ..lessons.budget import SEEDS
from .args import check_output_file, int_type, path_type

LESSON_NAMES = ("01", "02", "03-probes", "03-top-k", "04", "05")
DEFAULT_SEEDS = (42, 43, 44)


def parse_seeds(text: str) -> list[int]:
    """'42,43,44' -> [42, 43, 44]: distinct whole numbers 0..2**32-1, else an error naming what is allowed."""
    parts = [s.strip() for s in text.split(",") if s.strip()]
    if not parts or not all(p.isascii() and p.isdigit() for p in parts) or any(int(p) > MAX_SEED for p in parts):
        raise argparse.ArgumentTypeError(f"must be comma-separated whole numbers 0..{MAX_SEED}, like 42,43,44; "
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
    from ..lessons.results import seed_table, trained_results
    from ..tuning.atomic import write_text
    from ..tuning.quiet import silence_libraries

    if args.jobs != 1 and not (args.record_seeds or args.record_budgets):
        raise ValueError("--jobs applies to --record-seeds and --record-budgets only")
    if args.record_budgets:
        given = [f"--{name}" for name in ("lessons", "profile", "output") if getattr(args, name) is not None]
        if given or args.record_seeds:
            raise ValueError("--record-budgets stores the quick profile's budget curves and takes only --seeds and "
                             f"--jobs; drop {', '.join(given) or '--record-seeds'}")
    if args.output is not None:
        check_output_file(args.output, "--output")
    profile = get_profile(args.profile)  # a bad $SPAFIT_PROFILE or SPAFIT_* size fails here, before any run
    silence_libraries()
    if args.record_budgets:
        return record_lesson_budgets(args.seeds or SEEDS, args.jobs)
    if args.record_seeds:
        given = [f"--{name}" for name in ("lessons", "profile", "output") if getattr(args, name) is not None]
        if given:
            raise ValueError("--record-seeds stores the quick profile's record of every lesson and takes only "
                             f"--seeds and --jobs; drop {', '.join(given)}")
        return record_lesson_seeds(args.seeds or SEEDS, args.jobs)
    results = {}
    for seed in args.seeds or DEFAULT_SEEDS:
        results[seed] = {}
        for lesson in args.lessons or LESSON_NAMES:
            results[seed][lesson] = EXPERIMENTS[lesson](profile, seed)
            print(f"seed {seed}, lesson {lesson}: " + ", ".join(
                f"{label} {score:.3f}" for label, score in trained_results(results[seed][lesson]))
                + f" (majority {results[seed][lesson]['majority']:.3f})", flush=True)
    print(seed_table(results))
    if args.output is not None:
        write_text(args.output, json.dumps(results, indent=2))  # atomic: a failure leaves an earlier file whole
    return 0


def record_lesson_seeds(seeds, jobs: int = 1) -> int:
    """Store every lesson experiment of lessons 01-06 on the quick profile for `seeds` (what the lessons read)."""
    from ..lessons.catalogue import RECORDED_EXPERIMENTS
    from ..lessons.seeds import record_seeds
    import os

    from ..lessons.comparison_runs import check_record_environment
    from ..lessons.results import trained_results
    from ..lessons.seeds import RECORDED_SEEDS
    from ..tuning.atomic import check_writable

    # the record is the quick profile at the lessons' budget: refuse what would change it, and an unwritable
    # package folder, before anything trains
    check_record_environment()
    check_writable(RECORDED_SEEDS, "the lessons' record")
    seeds = sorted(set(seeds) | {42})

    def report(name, seed, result):
        print(f"seed {seed}, {name}: " + ", ".join(f"{label} {score:.3f}" for label, score in
                                                    trained_results(result)), flush=True)

    record_seeds(RECORDED_EXPERIMENTS, get_profile("quick"), seeds, on_result=report, jobs=jobs)
    return 0


def record_lesson_budgets(seeds, jobs: int = 1) -> int:
    """Store every method at every budget on the quick profile for `seeds`, resuming a partial record."""
    from ..lessons.budget_curves import RECORDED_BUDGETS, record_budgets
    from ..lessons.comparison_runs import check_record_environment
    from ..tuning.atomic import check_writable

    check_record_environment()
    check_writable(RECORDED_BUDGETS, "the budget record")

    def report(run, result):
        kind, seed, *rest = run
        where = f"budget {result.get('budget', rest[0])}" if kind == "curve" else f"rate {rest[1]:g}"
        score = (f"test {result['score']:.3f}, validation {result['validation']:.3f}" if kind == "curve"
                 else f"validation {result['validation']:.3f}")
        print(f"seed {seed}, {result['method']}, {where}: {score}", flush=True)

    record = record_budgets(get_profile("quick"), sorted(set(seeds) | {42}), jobs=jobs, on_result=report)
    print("the budget record is complete" if record["complete"] else "the budget record is partial: run again")
    return 0


def cmd_forgetting(args) -> int:
    from ..lessons.forgetting_runs import seed_results
    from ..lessons.results import seed_table
    from ..tuning.quiet import silence_libraries

    profile = get_profile(args.profile)  # a bad $SPAFIT_PROFILE or SPAFIT_* size fails here, before any run
    silence_libraries()
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
    lessons.add_argument("--seeds", type=parse_seeds, default=None,
                         help=f"comma-separated seeds (default {','.join(map(str, DEFAULT_SEEDS))}; with "
                              f"--record-seeds {','.join(map(str, SEEDS))}, the ones the lessons read, 42 always "
                              "included)")
    lessons.add_argument("--lessons", type=parse_lessons, default=None,
                         help=f"which lessons' experiments to run (default all: {','.join(LESSON_NAMES)})")
    lessons.add_argument("--profile", choices=list(PROFILES), default=None,
                         help="profile (default: $SPAFIT_PROFILE or quick)")
    lessons.add_argument("--output", type=path_type, default=None,
                         help="also write every result as JSON to this file")
    lessons.add_argument("--record-seeds", action="store_true",
                         help="instead, run every experiment of lessons 01-06 on the quick profile for --seeds and "
                              "store them in the package as the record the lessons read (about 40 minutes on 2 CPU "
                              "cores with --jobs 2); refuses to run with SPAFIT_* size variables set")
    lessons.add_argument("--record-budgets", action="store_true",
                         help="instead, train every lesson-04 method at 250, 1,000 and 3,000 snippets and the whole "
                              "training split for --seeds, check the learning rates on validation at the largest, "
                              "and store it in the package as lesson 05's budget record (about 2 hours on 2 CPU "
                              "cores with --jobs 2; an interrupted recording resumes where it stopped)")
    lessons.add_argument("--jobs", type=int_type(1, 16), default=1,
                         help="with --record-seeds or --record-budgets: runs go to this many processes of one thread each (default 1; "
                              "2 on a busy 2-core machine: torch's threads wait for each other there)")
    lessons.set_defaults(func=cmd_lessons)

    forgetting = subparsers.add_parser(
        "forgetting", help="lesson 06's experiments over several seeds, beside their majority rates",
        description="Run lesson 06's experiments at the lessons' budget for several seeds and print each trained "
                    "accuracy as 'accuracy / majority rate' per seed, with the spread over seeds.")
    forgetting.add_argument("--seeds", type=parse_seeds, default=list(DEFAULT_SEEDS),
                            help="comma-separated seeds (default 42,43,44)")
    forgetting.add_argument("--profile", choices=list(PROFILES), default=None,
                            help="profile (default: $SPAFIT_PROFILE or quick)")
    forgetting.set_defaults(func=cmd_forgetting)
