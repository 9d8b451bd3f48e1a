"""Three small tasks for one base model (lesson 07): a SPAFIT adapter for each, saved, then served side by side.

The tasks need nothing beyond what lessons 00 and 06 already fetched: the polarity snippets and the TREC
questions.

    sentiment            a review snippet: rotten or fresh (the course's task)
    question type        a TREC question: which of six kinds of answer it asks for
    question or review   a sentence: a review snippet or a question (half of each)

Each adapter trains for a few steps only (lesson 00's loop); the lesson is about what serving them costs, and
the accuracies it prints say only that each adapter learned its own task.
"""

from __future__ import annotations

import numpy as np

from ..runs.data import load_task_data, subsample
from ..runs.profiles import Profile
from ..tuning.adapters import save_adapter
from ..tuning.methods import spafit_config
from ..tuning.spafit import apply_spafit
from .practice import model_for, snippet_batch, train_steps
from .questions import QUESTION_TYPES, question_sample

TASK_LABELS = {"sentiment": ("rotten", "fresh"), "question type": QUESTION_TYPES,
               "question or review": ("review", "question")}
#: Training steps of 16 per adapter, and the held-out sentences each is scored on.
STEPS, BATCH, EVAL_SIZE = 40, 16, 200


def _snippets(split: str, size: int, seed: int) -> tuple[list[str], list[int]]:
    rows = subsample(load_task_data("polarity")[split], size, seed)
    return list(rows["sentence"]), list(rows["label"])


def _questions(split: str, size: int, seed: int) -> tuple[list[str], list[int]]:
    texts, labels = question_sample(split)
    chosen = np.random.default_rng(seed).choice(len(texts), size=size, replace=size > len(texts))
    return [texts[i] for i in chosen], [labels[i] for i in chosen]


def task_examples(task: str, split: str, size: int, seed: int = 0) -> tuple[list[str], list[int]]:
    """`size` (sentence, label) pairs of a task, as two lists; split "train" or "test" (held out)."""
    if task not in TASK_LABELS:
        raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASK_LABELS)}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if task == "sentiment":
        return _snippets(split, size, seed)
    if task == "question type":
        return _questions(split, size, seed)
    reviews, _ = _snippets(split, size - size // 2, seed + 1)
    questions, _ = _questions(split, size // 2, seed + 2)
    texts, labels = reviews + questions, [0] * len(reviews) + [1] * len(questions)
    order = np.random.default_rng(seed).permutation(len(texts))
    return [texts[i] for i in order], [labels[i] for i in order]


def train_adapters(profile: Profile, folder, steps: int = STEPS, seed: int = 0) -> dict:
    """Train one SPAFIT adapter (the profile's boundaries, rank and targets) per task and save each in a
    subfolder of `folder`; returns {task: adapter folder}."""
    from pathlib import Path

    folders = {}
    for task, labels in TASK_LABELS.items():
        texts, ys = task_examples(task, "train", steps * BATCH, seed)
        batches = [snippet_batch(profile, texts[i:i + BATCH], ys[i:i + BATCH]) for i in range(0, len(texts), BATCH)]
        model = apply_spafit(model_for(profile, len(labels)), spafit_config(profile, *_boundaries(profile)))
        train_steps(model, batches, lr=profile.learning_rates["spafit"])
        folders[task] = save_adapter(model, Path(folder) / task.replace(" ", "-"), base_model_name=profile.model_name,
                                     task=task, max_length=profile.max_length, label_names=labels)
    return folders


def _boundaries(profile: Profile) -> tuple[int, int]:
    return profile.spafit["n1"], profile.spafit["n2"]


def held_out(profile: Profile, size: int = EVAL_SIZE) -> dict:
    """{task: (batch, labels)} of held-out sentences for each task."""
    found = {}
    for task in TASK_LABELS:
        texts, labels = task_examples(task, "test", size, seed=1)
        found[task] = (snippet_batch(profile, texts), np.array(labels))
    return found
