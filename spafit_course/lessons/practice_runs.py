"""Short training runs and probes for the practice notebooks of lessons 05 and 06 (see `practice.py`).

- `boundary_runs`: SPAFIT at chosen boundaries on a small budget, scored on the validation or the test split, for
  exercise 5.1's choice of N1 and N2;
- `fitted_probe`: the lessons' probe, fitted once and scored on several splits (exercise 5.2);
- `fine_tune` and `question_features`: one short fine-tuning run, and every layer's features of TREC questions
  before and after it, for exercise 6.1's forgetting probe and 6.2's drift.
"""

from __future__ import annotations

import numpy as np

from ..runs.experiments import prepared_data
from ..runs.profiles import Profile
from ..runs.tasks import get_task, on_validation
from ..tuning.methods import prepare_model, spafit_config
from ..tuning.spafit import apply_spafit
from .practice import correct_answers, model_for, small_profile, train_steps, training_batches


def boundary_runs(profile: Profile | None = None, steps: int = 30, eval_size: int = 300):
    """(train_cell, score) for choosing SPAFIT's boundaries: `train_cell(n1, n2)` trains SPAFIT with the profile's
    LoRA settings at those boundaries for `steps` batches of 16 (lesson 00's loop, the same batches for every
    cell) and returns the model; `score(model, split)` is its accuracy on `eval_size` snippets of "validation" or
    "test" (the same snippets for every cell)."""
    small = small_profile(profile, steps * 16, eval_size)
    tokenizer, _, validation = prepared_data(small, on_validation(small.task))
    _, _, test = prepared_data(small, get_task(small.task), tokenizer=tokenizer)
    splits = {**validation, **test}
    batches = training_batches(small, steps, small.seed)

    def train_cell(n1: int, n2: int):
        model = apply_spafit(model_for(small), spafit_config(small, n1, n2))
        train_steps(model, batches, small.learning_rates["spafit"])
        return model

    def score(model, split: str) -> float:
        if split not in splits:
            raise ValueError(f"split must be one of {', '.join(splits)}, got {split!r}")
        return float(correct_answers(model, tokenizer, splits[split]).mean())

    return train_cell, score


def fitted_probe(train_x, train_y):
    """The lessons' probe (`runs.probes.probe_accuracy`: standardised features, logistic regression with C = 0.1),
    fitted and returned, so that one fit can be scored on several splits (`.score(x, y)`)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1)).fit(train_x, train_y)


def fine_tune(profile: Profile | None = None, method: str = "full", learning_rate: float | None = None,
              steps: int = 30, eval_size: int = 300) -> dict:
    """One short run of a course method on the profile's task: `steps` batches of 16 with lesson 00's loop, at the
    profile's learning rate for the method unless another is given; {"model", "score", "majority", ...} with the
    accuracy and the majority-class rate of `eval_size` snippets of the reported split."""
    small = small_profile(profile, steps * 16, eval_size)
    tokenizer, _, evals = prepared_data(small)
    model = prepare_model(model_for(small), method, small)
    rate = small.learning_rates[method] if learning_rate is None else learning_rate
    train_steps(model, training_batches(small, steps, small.seed), rate)
    split, dataset = next(iter(evals.items()))
    labels = np.array(dataset["labels"])
    return {"model": model, "score": float(correct_answers(model, tokenizer, dataset).mean()),
            "majority": float(np.bincount(labels).max() / len(labels)), "split": split, "method": method,
            "learning_rate": rate, "steps": steps}


#: TREC questions the forgetting probe trains on and is scored on (lesson 06 uses 1,000 and 500).
QUESTION_SIZES = {"train": 300, "test": 300}


def question_features(model, profile: Profile | None = None, sizes: dict | None = None) -> dict:
    """Every layer's mean of the tokens for TREC questions: {"train": (L + 1, n, hidden), "train_labels",
    "test": ..., "test_labels"}, the questions in a fixed order (shortest first, which pads least)."""
    from ..runs.models import load_tokenizer
    from ..runs.probes import layer_features
    from ..runs.profiles import get_profile
    from .questions import question_sample

    profile = profile or get_profile()
    sizes = dict(QUESTION_SIZES if sizes is None else sizes)
    tokenizer = load_tokenizer(profile.model_name)
    out = {}
    for split, size in sizes.items():
        texts, labels = question_sample(split, size)
        order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
        out[split] = layer_features(model, tokenizer, [texts[i] for i in order], profile.max_length)[1]
        out[f"{split}_labels"] = np.array([labels[i] for i in order])
    return out
