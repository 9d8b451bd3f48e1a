"""`spafit-course predict`: classify sentences with a saved adapter (the model work lives in `runs.predict`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..runs.predict import position_limit, predict, read_sentences
from .args import int_type, naming_the_model


def cmd_predict(args) -> int:
    from ..runs.models import load_adapted, load_tokenizer
    from ..tuning.adapters import read_adapter_config
    from ..tuning.quiet import silence_libraries

    silence_libraries()
    info = read_adapter_config(args.adapter)
    sentences = read_sentences(args.sentences, args.file)
    base = args.base_model or info.get("base_model_name")
    if not base:
        raise ValueError(f"adapter {args.adapter} does not name its base model; pass --base-model NAME")
    with naming_the_model(base):
        model = load_adapted(base, args.adapter)
        tokenizer = load_tokenizer(base)
    limit = position_limit(model, tokenizer)
    if args.max_length is not None and args.max_length > limit:
        raise ValueError(f"--max-length must be in 1..{limit} for {base} (its position limit), got {args.max_length}")
    names = info.get("label_names") or [model.config.id2label[i] for i in range(model.config.num_labels)]
    max_length = args.max_length or min(info.get("max_length") or 128, limit)
    for sentence, (label, value) in zip(sentences, predict(model, tokenizer, sentences, max_length)):
        shown = f"score {value:.4f}" if label is None else f"{names[label]}\t{value:.4f}"
        print(f"{shown}\t{sentence}")
    return 0


def add_subcommand(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "predict", help="classify sentences with a saved adapter (from compare --save-adapters)",
        description="Load the adapter's base model, apply the adapter and print the predicted label and its "
                    "probability for each sentence (tab-separated: label, probability, sentence).")
    parser.add_argument("adapter", type=Path, help="adapter folder, e.g. results/adapters/spafit")
    parser.add_argument("sentences", nargs="*", help="sentences to classify (a tab separates a sentence pair)")
    parser.add_argument("--file", type=Path, default=None, help="a text file with one sentence per line")
    parser.add_argument("--base-model", default=None,
                        help="base model name or path (default: the one the adapter was saved with)")
    parser.add_argument("--max-length", type=int_type(1), default=None,
                        help="token limit per sentence, 1 up to the model's position limit (default: the "
                             "adapter's training length, else 128)")
    # options may also come between or after the sentences: main() adds the leftover words to them
    parser.set_defaults(func=cmd_predict, extra_positionals="sentences")
    return parser
