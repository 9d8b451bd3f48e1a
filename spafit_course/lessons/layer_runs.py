"""Lesson 03's experiments: a linear probe on every layer of the frozen checkpoint, and training only the top k
layers beside its control, only the bottom k."""

from __future__ import annotations

import numpy as np

from ..runs.experiments import prepared_data, result_row
from ..runs.models import load_model, load_model_and_tokenizer, meta_model
from ..runs.profiles import Profile, get_profile
from ..runs.tasks import get_task
from ..runs.train import train_and_evaluate
from ..tuning.architectures import get_layers, num_layers
from ..tuning.freezing import freeze_all, unfreeze_head
from .budget import CONTROL, lesson_profile, lesson_row, majority_rate, progress_shown, run_at_budget, shared_run


def probe_sentences(profile: Profile, train_size: int = 800, test_size: int | None = None):
    """Lesson 03's probe data: (train texts, train labels, test texts, test labels) of the profile's task."""
    from ..runs.data import load_task_data, subsample

    task = get_task(profile.task)
    data = load_task_data(task.name)
    train = subsample(data["train"], train_size, profile.seed)
    test = subsample(data[task.eval_splits[0]], test_size, profile.seed)
    field = task.text_fields[0]
    return train[field], np.array(train["label"]), test[field], np.array(test["label"])


def _layer_probes(small: Profile) -> dict:
    from ..runs.probes import constant_rows, layer_features, probe_accuracy
    from .setup import lesson_device

    model, tokenizer = load_model_and_tokenizer(small.model_name, seed=small.seed)
    model.to(lesson_device())
    train_text, y_train, test_text, y_test = probe_sentences(small)
    train_cls, train_mean = layer_features(model, tokenizer, train_text, small.max_length)
    test_cls, test_mean = layer_features(model, tokenizer, test_text, small.max_length)
    cls = [None if constant_rows(a) else probe_accuracy(a, y_train, b, y_test) for a, b in zip(train_cls, test_cls)]
    mean = [probe_accuracy(a, y_train, b, y_test) for a, b in zip(train_mean, test_mean)]
    return {"majority": float(np.bincount(y_test).max() / len(y_test)), "cls": cls, "mean": mean}


def layer_probes(profile: Profile | None = None, seed: int | None = None) -> dict:
    """Lesson 03: a linear probe per layer, on [CLS] and on mean-pooled features of the frozen checkpoint."""
    return run_at_budget("layer_probes", profile, seed, _layer_probes)


def boundaries_from_probe_curve(accuracies, low: float = 1 / 3, high: float = 2 / 3, top: float | None = None
                                ) -> tuple[int, int]:
    """The course's rule of thumb (lesson 03): SPAFIT's (N1, N2) from probe accuracies a[0] (embeddings), a[1..L].

    With progress p[k] = (a[k] - a[0]) / (top - a[0]), `top` being the best accuracy max(a) unless given: layers
    before the first one reaching `low` are frozen (N1 of them), layers before the first one reaching `high` train
    biases (up to N2, never below N1), the rest get LoRA. No rise at all means nothing to adapt: N1 = N2 = L.
    It is the course's heuristic, not the paper's method (the paper searched boundaries and reports the best).
    """
    a = [float(v) for v in accuracies]
    layers, rise = len(a) - 1, (max(a) if top is None else float(top)) - a[0]
    if rise <= 0:
        return layers, layers
    progress = [(v - a[0]) / rise for v in a]
    n1 = next((k for k in range(1, layers + 1) if progress[k] >= low), layers + 1) - 1
    n2 = next((k for k in range(1, layers + 1) if progress[k] >= high), layers + 1) - 1
    return n1, max(n1, n2)


def _train_layers(small: Profile, data, which: str, k: int, learning_rate: float, task=None) -> dict:
    """Train only the top or bottom k layers in full (plus the head) and return the lesson row (`task`: the one
    `data` was prepared for, when not the profile's)."""
    tokenizer, train, evals = data
    task = get_task(task or small.task)
    model = load_model(small.model_name, task.num_labels, seed=small.seed, head=small.head)
    layers = get_layers(model)
    freeze_all(model)
    for layer in (layers[len(layers) - k:] if which == "top" else layers[:k]):
        layer.requires_grad_(True)
    unfreeze_head(model, train_pooler=small.train_pooler)
    result = train_and_evaluate(model, tokenizer, task, train, evals, learning_rate, small.epochs,
                                small.batch_size, small.seed, progress=progress_shown())
    row = result_row(small, f"{which}-k", task, result)
    return lesson_row(row, f"{which} {k} layers", k=k, which=which, learning_rate=learning_rate)


def _top_k_layers(small: Profile, ks, learning_rates, bottom_ks) -> dict:
    data = prepared_data(small)
    rows = [shared_run(small, "head", CONTROL, data=data, k=0, which="top")]
    rows += [_train_layers(small, data, "top", k, rate) for k, rate in zip(ks, learning_rates) if k > 0]
    layers = num_layers(meta_model(small.model_name))
    rows += [_train_layers(small, data, "bottom", k, top_k_learning_rate(small, k, layers)) for k in bottom_ks]
    rows.append(shared_run(small, "full", "every layer (full fine-tuning)", data=data, k=layers, which="all"))
    return {"majority": majority_rate(data[2], small.task), "head": small.head, "rows": rows}


def train_layers(which: str, k: int):
    """A live run for lesson 03 (`live.train_live`): only the top or bottom k layers train, at the L / k rule's
    rate, exactly as `top_k_layers` trains them."""
    def train(small: Profile, data) -> dict:
        rate = top_k_learning_rate(small, k, num_layers(meta_model(small.model_name)))
        return _train_layers(small, data, which, k, rate)

    return train


def top_k_learning_rate(profile: Profile, k: int, layers: int) -> float:
    """Full fine-tuning's learning rate times L / k (lesson 03).

    Fewer training layers need larger steps to move in 63 steps, while all L layers at a larger rate diverged on
    some seeds (docs/results.md): one rate for every k failed somewhere.
    """
    return profile.learning_rates["full"] * layers / max(k, 1)


def top_k_layers(profile: Profile | None = None, seed: int | None = None, ks=None, bottom_ks=None) -> dict:
    """Lesson 03: train only the top k layers in full (plus the head), for several k, on the same data; beside
    them the head-only control (k = 0) and, as the control for *where* the layers sit, the bottom k layers.

    The default k are 1, L/3 and 2L/3 (bottom: L/3 and 2L/3), each at `top_k_learning_rate`; full fine-tuning
    (every layer and the embeddings) closes the table.
    """
    from ..runs.models import meta_model

    lesson_profile(profile, seed)  # a bad profile or seed fails before the model is built
    profile = profile or get_profile()
    layers = num_layers(meta_model(profile.model_name))
    ks = (1, layers // 3, 2 * layers // 3) if ks is None else ks
    bottom_ks = (layers // 3, 2 * layers // 3) if bottom_ks is None else bottom_ks
    for name, values in (("k", ks), ("bottom k", bottom_ks)):
        bad = [k for k in values if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= layers]
        if bad or (name == "k" and not values):
            raise ValueError(f"{name} must be whole numbers between 0 and L = {layers}; got {list(values)}")
    rates = [top_k_learning_rate(profile, k, layers) for k in ks]
    return run_at_budget("top_k_layers", profile, seed, _top_k_layers, ks=list(ks), learning_rates=rates,
                         bottom_ks=list(bottom_ks))


def layer_rate_check(profile: Profile | None = None, seeds=(42, 43, 44), ks=None, which: str = "bottom",
                     flat_rate: float | None = None, on_result=None) -> list[dict]:
    """Lesson 03's check of the L / k rule for one kind of layer run (`which`: "top" or "bottom"), on the
    validation split: for every seed and k, the run at `top_k_learning_rate` beside the same run at one flat rate
    (full fine-tuning's, unless given). One row per run: which, k, seed, rule ("L / k" or "flat"), rate, accuracy.
    """
    from ..runs.tasks import on_validation

    if which not in ("top", "bottom"):
        raise ValueError(f"which must be 'top' or 'bottom', got {which!r}")
    base = profile or get_profile()
    layers = num_layers(meta_model(base.model_name))
    ks = (layers // 3, 2 * layers // 3) if ks is None else tuple(ks)
    bad = [k for k in ks if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= layers]
    if bad or not ks:
        raise ValueError(f"ks must be whole numbers between 1 and L = {layers}; got {list(ks)}")
    flat = base.learning_rates["full"] if flat_rate is None else flat_rate
    rows = []
    for seed in seeds:
        small = lesson_profile(base, seed)
        validation = on_validation(small.task)
        data = prepared_data(small, validation)
        for k in ks:
            for rule, rate in (("L / k", top_k_learning_rate(small, k, layers)), ("flat", flat)):
                row = _train_layers(small, data, which, k, rate, task=validation)
                rows.append({"which": which, "k": k, "seed": seed, "rule": rule, "rate": rate,
                             "accuracy": row["score"]})
                if on_result:
                    on_result(rows[-1])
    return rows
