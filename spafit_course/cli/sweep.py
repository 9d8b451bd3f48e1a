"""`spafit-course sweep`: its arguments and output (the grid itself lives in `runs.sweep`)."""

from __future__ import annotations

from pathlib import Path

from ..runs.profiles import env_overrides
from ..runs.sweep import DEFAULT_N1, DEFAULT_N2, SWEEP_TRAIN_SIZE, parse_values, run_sweep, save_sweep, sweep_paths
from .args import add_profile_options, check_output_folder, path_type, profile_from


def cmd_sweep(args) -> int:
    from ..runs.locks import folder_lock
    from ..runs.provenance import describe_run, distributed_launch, run_record
    from ..tuning.quiet import silence_libraries

    silence_libraries()
    profile = profile_from(args)
    if args.train_size is None and "train_size" not in env_overrides() and profile.name == "quick":
        profile = profile.with_overrides(train_size=SWEEP_TRAIN_SIZE)  # --train-size and SPAFIT_TRAIN_SIZE win
    n1_values, n2_values = parse_values(args.n1), parse_values(args.n2)
    launch = distributed_launch()
    writes = launch is None or launch["rank"] == 0  # rank 0 alone writes
    if writes:
        check_output_folder(args.output)
        sweep_paths(args.output)  # refuses a blocked sweep.json or sweep.png before training
    task = args.task or profile.task
    run = run_record(profile, task, launch, getattr(args, "command_line", None), n1_values=n1_values,
                     n2_values=n2_values)
    with folder_lock(args.output, "the --output folder", enabled=writes):  # one run per folder at a time
        print(describe_run(run) + f"\n  grid N1 {n1_values} x N2 {n2_values}", flush=True)
        return sweep_and_save(args, profile, task, n1_values, n2_values, run, writes)


def sweep_and_save(args, profile, task, n1_values, n2_values, run: dict, writes: bool) -> int:
    from ..tuning.params import format_table

    sweep = run_sweep(profile, n1_values, n2_values, task, progress=False,
                      on_cell=lambda c: print(f"  N1={c['n1']} N2={c['n2']}: {c['score']:.4f}, "
                                              f"{c['trainable']:,} trainable, {c['train_seconds']:.0f} s",
                                              flush=True))
    rows = [("N1", "N2", sweep["metric"], "trainable", "train s")]
    rows += [(c["n1"], c["n2"], f"{c['score']:.4f}", f"{c['trainable']:,}", f"{c['train_seconds']:.1f}")
             for c in sweep["cells"]]
    print()
    print(format_table(rows))
    if writes:
        paths = save_sweep({**sweep, "run": run}, args.output)
        print("\nsaved " + ", ".join(str(p) for p in paths.values()))
    return 0


def add_subcommand(subparsers) -> None:
    """Register `spafit-course sweep`."""
    sweep = subparsers.add_parser(
        "sweep", help="train SPAFIT on an N1 x N2 grid and draw metric and parameter heatmaps",
        description="Train SPAFIT at every valid cell (N1 <= N2 <= L) of an N1 x N2 grid on one task, with the "
                    "profile's LoRA targets, rank and alpha and the same data for every cell; save sweep.json and "
                    "sweep.png (heatmaps of the metric and the trainable parameters). On the quick profile the "
                    f"default grid is N1 in {{{','.join(map(str, DEFAULT_N1))}}} x N2 in "
                    f"{{{','.join(map(str, DEFAULT_N2))}}} (8 valid cells) on {SWEEP_TRAIN_SIZE} training examples "
                    "(not the profile's 3,000) so it finishes within 10 minutes on 2 CPU cores; --train-size or "
                    "$SPAFIT_TRAIN_SIZE changes that.")
    add_profile_options(sweep)
    sweep.add_argument("--n1", default=",".join(map(str, DEFAULT_N1)),
                       help=f"comma-separated N1 values (default {','.join(map(str, DEFAULT_N1))})")
    sweep.add_argument("--n2", default=",".join(map(str, DEFAULT_N2)),
                       help=f"comma-separated N2 values (default {','.join(map(str, DEFAULT_N2))})")
    sweep.add_argument("--output", type=path_type, default=Path("results"),
                       help="folder for sweep.json and sweep.png (default: ./results)")
    sweep.set_defaults(func=cmd_sweep)
