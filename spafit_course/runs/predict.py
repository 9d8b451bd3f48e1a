"""Run a saved adapter on new sentences (lesson 05's "use what you trained").

    spafit-course predict results/adapters/spafit "a gripping, funny film" "two hours I will not get back"
    spafit-course predict results/adapters/spafit --file reviews.txt

The adapter folder names its base model, so the command loads that model, applies the adapter with
`adapters.load_adapter` and prints, per sentence, the predicted label and its probability. For a sentence-pair
task, separate the two sentences of a line with a tab.
"""

from __future__ import annotations

from pathlib import Path

import torch


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


def task_takes_pairs(task: str | None) -> bool | None:
    """Whether the task's inputs are sentence pairs (MRPC, MNLI, ...), or None for a task the package does not know."""
    from .tasks import TASKS

    known = TASKS.get(task.lower().replace("-", "")) if isinstance(task, str) else None
    return None if known is None else len(known.text_fields) == 2


def split_pairs(sentences) -> list[tuple[str, str]]:
    """Each line 'first<TAB>second' as a pair; a line without a tab fails naming it."""
    pairs = [s.split("\t", 1) for s in sentences]
    lonely = [i for i, p in enumerate(pairs, 1) if len(p) != 2]
    if lonely:
        raise ValueError(f"sentence {lonely[0]} ({sentences[lonely[0] - 1][:40]!r}) has no tab: a sentence-pair "
                         "task takes each input as 'first sentence<TAB>second sentence'")
    return [(a, b) for a, b in pairs]


@torch.no_grad()
def predict(model, tokenizer, sentences, max_length: int = 128, batch_size: int = 32, pairs: bool = False
            ) -> list[tuple]:
    """(label index, probability) per sentence; for a regression head (one output), (None, score).

    With `pairs`, each sentence is 'first<TAB>second' and the two go in as a sentence pair; without, a tab is
    text like any other. Decided once for all sentences, so a sentence's result never depends on its batch.
    """
    model.eval()
    split = split_pairs(sentences) if pairs else None
    results = []
    for start in range(0, len(sentences), batch_size):
        batch = sentences[start:start + batch_size]
        if split is not None:
            firsts, seconds = zip(*split[start:start + batch_size])
            encoded = tokenizer(list(firsts), list(seconds), truncation=True, max_length=max_length, padding=True,
                                return_tensors="pt")
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
