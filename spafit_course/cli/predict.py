"""`spafit-course predict`: classify sentences with a saved adapter (the model work lives in `runs.predict`)."""

from __future__ import annotations

import argparse

from ..runs.overrides import MIN_LENGTH
from ..runs.predict import position_limit, predict, read_sentences, split_pairs, task_takes_pairs
from .args import int_type, naming_the_model, path_type


def cmd_predict(args) -> int:
    from ..runs.models import load_adapted, load_tokenizer
    from ..tuning.adapters import read_adapter_config
    from ..tuning.quiet import silence_libraries

    silence_libraries()
    info = read_adapter_config(args.adapter)
    sentences = read_sentences(args.sentences, args.file)
    pairs = sentence_pairs(info.get("task"), args.pairs)
    if pairs:
        split_pairs(sentences)  # a line without its tab fails before the model loads
    base = args.base_model or info.get("base_model_name")
    if not base:
        raise ValueError(f"adapter {args.adapter} does not name its base model; pass --base-model NAME")
    with naming_the_model(base):
        model = load_adapted(base, args.adapter)
        tokenizer = load_tokenizer(base)
    limit = position_limit(model, tokenizer)
    if args.max_length is not None and args.max_length > limit:
        raise ValueError(f"--max-length must be in {MIN_LENGTH}..{limit} for {base} (its position limit), got "
                         f"{args.max_length}")
    names = info.get("label_names") or [model.config.id2label[i] for i in range(model.config.num_labels)]
    max_length = args.max_length or min(info.get("max_length") or 128, limit)
    for sentence, (label, value) in zip(sentences, predict(model, tokenizer, sentences, max_length, pairs=pairs)):
        shown = f"score {value:.4f}" if label is None else f"{names[label]}\t{value:.4f}"
        print(f"{shown}\t{sentence}")
    return 0


def sentence_pairs(task: str | None, option: bool | None) -> bool:
    """Whether inputs are sentence pairs: as the adapter's task says, else as --pairs/--single say, else single.

    An option that contradicts the adapter's known task is refused rather than followed or ignored.
    """
    known = task_takes_pairs(task)
    if known is not None and option is not None and option != known:
        kind = "sentence pairs" if known else "single sentences"
        raise ValueError(f"the adapter was trained on {task}, which takes {kind}; drop "
                         f"{'--pairs' if option else '--single'}")
    return known if known is not None else bool(option)


def add_subcommand(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "predict", help="classify sentences with a saved adapter (from compare --save-adapters)",
        description="Load the adapter's base model, apply the adapter and print the predicted label and its "
                    "probability for each sentence (tab-separated: label, probability, sentence).")
    parser.add_argument("adapter", type=path_type, help="adapter folder, e.g. results/adapters/spafit")
    parser.add_argument("sentences", nargs="*",
                        help="sentences to classify; for a sentence-pair task, 'first<TAB>second'")
    parser.add_argument("--file", type=path_type, default=None, help="a text file with one sentence per line")
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--pairs", dest="pairs", action="store_const", const=True, default=None,
                      help="each input is 'first<TAB>second', a sentence pair (default: as the adapter's task "
                           "says; single sentences when it names no known task)")
    kind.add_argument("--single", dest="pairs", action="store_const", const=False,
                      help="each input is one sentence, a tab in it is text (the default for single-sentence tasks)")
    parser.add_argument("--base-model", default=None,
                        help="base model name or path (default: the one the adapter was saved with)")
    parser.add_argument("--max-length", type=int_type(MIN_LENGTH), default=None,
                        help=f"token limit per sentence, {MIN_LENGTH} up to the model's position limit (default: the "
                             "adapter's training length, else 128)")
    # options may also come between or after the sentences: main() adds the leftover words to them
    parser.set_defaults(func=cmd_predict, extra_positionals="sentences")
    return parser
