"""`spafit-course compare`: train the methods on one task and save the table, the plot and the adapters."""

from __future__ import annotations

from pathlib import Path

from ..runs.tasks import get_task
from ..tuning.methods import METHODS
from .args import add_profile_options, check_output_folder, parse_methods, path_type, profile_from


def check_compare_outputs(args) -> None:
    """Refuse, before training, any path compare would write: the folder, the three result files, the adapters."""
    from ..runs.experiments import check_result_paths
    from ..tuning.adapters import check_adapter_folder

    check_output_folder(args.output)
    check_result_paths(args.output)
    if args.save_adapters:
        for method in args.methods:
            if method != "full":
                check_adapter_folder(args.output / "adapters" / method)


def cmd_compare(args) -> int:
    from ..runs.locks import folder_lock
    from ..runs.provenance import describe_run, distributed_launch, run_record
    from ..tuning.quiet import silence_libraries

    silence_libraries()
    profile = profile_from(args)
    launch = distributed_launch()
    writes = launch is None or launch["rank"] == 0  # rank 0 alone writes
    if writes:  # before training, so a blocked path does not cost the results
        check_compare_outputs(args)
    task = get_task(args.task or profile.task)  # resolved once; the Task object travels from here
    run = run_record(profile, task.name, launch, getattr(args, "command_line", None), methods=list(args.methods))
    # one run per folder: a second compare into it is refused while this one works (results and adapters of two
    # runs would mix); the lock of a run killed outright is taken over
    with folder_lock(args.output, "the --output folder", enabled=writes):
        print(describe_run(run), flush=True)
        return compare_and_save(args, profile, task, run, writes)


def compare_and_save(args, profile, task, run: dict, writes: bool) -> int:
    from ..runs.experiments import compare_methods, results_table, save_results

    rows = compare_methods(profile, args.methods, task,
                           on_result=lambda r: print(f"  {r['method']}: {r['metric']} {r['score']:.4f}, "
                                                     f"{r['train_seconds']:.0f} s", flush=True))
    print()
    print(results_table(rows))
    if writes:
        paths = save_results(rows, args.output, run=run)
        print("\nsaved " + ", ".join(str(p) for p in paths.values()))
        if args.save_adapters:
            save_compare_adapters(rows, args.output / "adapters", profile, task.name, run["run_id"])
    return 0


def save_compare_adapters(rows, folder: Path, profile, task: str, run_id: str | None = None) -> None:
    """Save each PEFT method's trained adapter under FOLDER/METHOD and print its size on disk."""
    from ..runs.predict import label_names_of
    from ..tuning.adapters import adapter_size_bytes, save_adapter

    print(f"\nadapters in {folder}:")
    for row in rows:
        if row["method"] == "full":  # every weight trained: no adapter, the whole model is the result
            print("  full: no adapter (every weight trains; use model.save_pretrained)")
            continue
        # the run id ties each adapter to the compare.json beside it
        path = save_adapter(row["_model"], folder / row["method"], base_model_name=profile.model_name, task=task,
                            max_length=profile.max_length, label_names=label_names_of(task),
                            metadata={"run_id": run_id, "profile": profile.name, "seed": profile.seed})
        print(f"  {row['method']}: {adapter_size_bytes(path) / 1024:,.1f} KiB")


def add_subcommand(subparsers) -> None:
    """Register `spafit-course compare`."""
    compare = subparsers.add_parser(
        "compare", help="train the head-only control, full fine-tuning, BitFit, LoRA and SPAFIT on one task",
        description="Train each method on the same data and model, then print a table (method, trainable "
                    "parameters, % of total, metric, train seconds, seconds/step) and save it as JSON, CSV and a PNG "
                    "plot of the metric against trainable parameters. The head-only control (only the task head "
                    "trains) is what every other method must beat.")
    add_profile_options(compare)
    compare.add_argument("--methods", type=parse_methods, default=list(METHODS),
                         help=f"comma-separated subset of {','.join(METHODS)} (default: all)")
    compare.add_argument("--output", type=path_type, default=Path("results"),
                         help="folder for compare.json, compare.csv and compare.png (default: ./results)")
    compare.add_argument("--save-adapters", action="store_true",
                         help="also save each PEFT method's adapter under OUTPUT/adapters/METHOD (for "
                              "`spafit-course predict`) and print its size on disk")
    compare.set_defaults(func=cmd_compare)
