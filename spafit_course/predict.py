"""`spafit-course predict`: run a saved adapter on new sentences (lesson 05's "use what you trained").

    spafit-course predict results/adapters/spafit "a gripping, funny film" "two hours I will not get back"
    spafit-course predict results/adapters/spafit --file reviews.txt

The adapter folder names its base model, so the command loads that model, applies the adapter with
`adapters.load_adapter` and prints, per sentence, the predicted label and its probability. For a sentence-pair
task, separate the two sentences of a line with a tab.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from .cli_args import int_type


def label_names_of(task: str | None):
    """Readable label names of a task where the package knows them (the polarity corpus), else None."""
    if task == "polarity":
        from .data import POLARITY_LABELS

        return [name for name, _ in sorted(POLARITY_LABELS.items(), key=lambda item: item[1])]
    return None


def read_sentences(sentences, file) -> list[str]:
    """The sentences from the command line, then the non-empty lines of `file`."""
    found = [s for s in sentences if s.strip()]
    if file is not None:
        path = Path(file)
        if not path.is_file():
            raise FileNotFoundError(f"no sentence file at {path}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"sentence file {path} is not UTF-8 text (byte {error.start} cannot be decoded); "
                             "save it as UTF-8") from None
        found += [line for line in text.splitlines() if line.strip()]
    if not found:
        raise ValueError("no sentences to classify: give them as arguments or with --file FILE (one per line)")
    return found


@torch.no_grad()
def predict(model, tokenizer, sentences, max_length: int = 128, batch_size: int = 32) -> list[tuple]:
    """(label index, probability) per sentence; for a regression head (one output), (None, score)."""
    model.eval()
    results = []
    for start in range(0, len(sentences), batch_size):
        batch = sentences[start:start + batch_size]
        pairs = [s.split("\t", 1) for s in batch]
        if all(len(p) == 2 for p in pairs):
            encoded = tokenizer([a for a, _ in pairs], [b for _, b in pairs], truncation=True,
                                max_length=max_length, padding=True, return_tensors="pt")
        else:
            encoded = tokenizer(batch, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
        encoded = {k: v.to(model.device) for k, v in encoded.items()}
        logits = model(**encoded).logits.float()
        if logits.shape[-1] == 1:
            results += [(None, float(v)) for v in logits[:, 0]]
        else:
            probs, labels = logits.softmax(-1).max(-1)
            results += [(int(i), float(p)) for i, p in zip(labels, probs)]
    return results


def position_limit(model, tokenizer) -> int:
    """The most tokens one input may have: the model's position embeddings, or the tokenizer's own limit."""
    positions = getattr(model.config, "max_position_embeddings", None) or 512
    if getattr(model.config, "model_type", "") == "roberta":
        positions -= 2  # RoBERTa's positions start after the padding index
    limit = getattr(tokenizer, "model_max_length", None)
    return min(positions, limit) if isinstance(limit, int) and limit > 0 else positions


def cmd_predict(args) -> int:
    from .adapters import load_adapter, read_adapter_config
    from .cli_args import naming_the_model
    from .models import load_tokenizer
    from .quiet import silence_libraries

    silence_libraries()
    info = read_adapter_config(args.adapter)
    sentences = read_sentences(args.sentences, args.file)
    base = args.base_model or info.get("base_model_name")
    if not base:
        raise ValueError(f"adapter {args.adapter} does not name its base model; pass --base-model NAME")
    with naming_the_model(base):
        model = load_adapter(base, args.adapter)
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
