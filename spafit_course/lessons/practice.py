"""Small, fast experiments for the practice notebooks (solutions/ and exercises/, lessons 00-06).

A lesson trains at its budget (1,000 snippets, 63 steps of 16); a practice notebook must run in about a minute on
a laptop CPU, so its experiments use what is cheap:

- the frozen checkpoint's features of one fixed pool of snippets (`snippet_pool`): every layer's mean of the
  tokens and the top layer's [CLS] vector, computed once and kept in `$SPAFIT_RUN_MEMO` when that is set, so a
  probe (the head-only control) fits in a fraction of a second and can be refitted on many samples (`draw`);
- a few training steps on the course model with lesson 00's loop (`training_batches`, `train_steps`), at a small
  budget (`small_profile`; the runs of lessons 05 and 06's practice are in `practice_runs.py`);
- small layers and tiny randomly initialised models, for what holds on any BERT (`low_rank_update`, `fit_update`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from ..runs.data import load_task_data, subsample
from ..runs.models import load_model, load_tokenizer
from ..runs.profiles import Profile, get_profile
from ..runs.tasks import get_task
from ..tuning.atomic import atomic_files

#: The pool every probe experiment draws from: snippets of each split of the profile's task (seed 0).
POOL_SIZES = {"train": 500, "validation": 300, "test": 300}


@contextlib.contextmanager
def one_thread():
    """Run tiny models on one CPU thread: their matrices are too small to share out, and on a busy machine the
    threads' waiting for each other costs far more than the work."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def model_for(profile: Profile, num_labels: int = 2):
    """A fresh copy of the profile's model with its task head, initialised with the profile's seed."""
    return load_model(profile.model_name, num_labels, seed=profile.seed, head=profile.head)


def _pool_path(key: dict) -> Path | None:
    folder = os.environ.get("SPAFIT_RUN_MEMO")
    if not folder:
        return None
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return Path(folder) / f"practice_pool-{digest}.npz"


_POOLS: dict[str, dict] = {}


def snippet_pool(profile: Profile | None = None, sizes: dict | None = None, weights: str = "pretrained"
                 ) -> dict[str, dict]:
    """{split: {"mean": (L + 1, n, hidden), "cls": (n, hidden), "labels": (n,)}} of the frozen checkpoint.

    "mean" holds every layer's mean of the real tokens (row 0: the embeddings), "cls" the top layer's [CLS]
    vector. The snippets are the first `sizes[split]` of each split after a shuffle with seed 0, the same on every
    machine; the features are computed once per process, and kept in `$SPAFIT_RUN_MEMO` when it names a folder.
    `weights="random"` reads the same snippets with a randomly initialised model of the same shape and tokenizer
    instead (seed 0): a control for what pretraining put into the features.
    """
    from ..runs.probes import layer_features

    profile = profile or get_profile()
    sizes = dict(POOL_SIZES if sizes is None else sizes)
    if weights not in ("pretrained", "random"):
        raise ValueError(f"weights must be 'pretrained' or 'random', got {weights!r}")
    key = {"model": profile.model_name, "task": profile.task, "max_length": profile.max_length, "sizes": sizes,
           "weights": weights}
    name = json.dumps(key, sort_keys=True)
    if name in _POOLS:
        return _POOLS[name]
    path = _pool_path(key)
    pool = _stored_pool(path, sizes) if path is not None and path.exists() else None
    if pool is None:
        task = get_task(profile.task)
        data = load_task_data(task)
        model = (load_model(profile.model_name, task.num_labels, seed=0) if weights == "pretrained"
                 else random_model(profile.model_name, task.num_labels))
        tokenizer = load_tokenizer(profile.model_name)
        pool = {}
        for split, size in sizes.items():
            rows = subsample(data[split], size, seed=0)
            texts, labels = rows[task.text_fields[0]], np.array(rows["label"])
            order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths batch with less padding
            cls, mean = layer_features(model, tokenizer, [texts[i] for i in order], profile.max_length)
            back = np.argsort(order, kind="stable")
            pool[split] = {"mean": mean[:, back].astype(np.float32), "cls": cls[-1][back].astype(np.float32),
                           "labels": labels}
        if path is not None:  # atomic: a kill or a full disk while saving leaves no half-written pool
            with atomic_files(path) as temporary:
                np.savez(temporary, **{f"{split}/{part}": value for split, parts in pool.items()
                                       for part, value in parts.items()})
    _POOLS[name] = pool
    return pool


def _stored_pool(path: Path, sizes: dict) -> dict | None:
    """The pool kept at `path`, or None when the file cannot be read whole (then it is computed and saved again)."""
    try:
        with np.load(path) as stored:
            return {split: {part: stored[f"{split}/{part}"] for part in ("mean", "cls", "labels")} for split in sizes}
    except Exception:  # a damaged memo (truncated zip, missing array, ...) is a cache miss, not a broken lesson
        return None


def random_model(name: str, num_labels: int = 2, seed: int = 0):
    """A model of `name`'s shape with random weights (its config, no checkpoint): the control of exercise 3.4."""
    from transformers import AutoModelForSequenceClassification

    from ..runs.models import model_config
    from ..tuning.quiet import quiet_hf

    torch.manual_seed(seed)
    with quiet_hf():
        return AutoModelForSequenceClassification.from_config(model_config(name, num_labels)).eval()


def boundaries_from_curve(accuracies, low: float = 1 / 3, high: float = 2 / 3) -> tuple[int, int]:
    """Lesson 03's rule of thumb: (N1, N2) from probe accuracies a[0] (embeddings), a[1..L]; the one
    implementation the lesson uses too (`layer_runs.boundaries_from_probe_curve`, which says the rule)."""
    from .layer_runs import boundaries_from_probe_curve

    return boundaries_from_probe_curve(accuracies, low, high)


def draw(n: int, size: int, seed: int) -> np.ndarray:
    """`size` distinct rows out of `n`, a different sample for every seed (the same one for the same seed); out of
    fewer than `size` rows (a tiny stand-in split), `size` rows drawn with replacement."""
    if not (0 < size and 0 < n):
        raise ValueError(f"size and n must be positive, got size={size} of n={n}")
    return np.random.default_rng(seed).choice(n, size=size, replace=size > n)


def small_profile(profile: Profile | None = None, train_size: int = 320, eval_size: int = 300,
                  seed: int | None = None) -> Profile:
    """The lessons' profile (batches of 16) at a practice budget: `train_size` snippets, `eval_size` to score."""
    from .budget import lesson_profile

    return lesson_profile(profile, seed).with_overrides(train_size=train_size, eval_size=eval_size)


def training_batches(profile: Profile, steps: int, seed: int = 0, batch_size: int = 16) -> list[dict]:
    """`steps` padded batches of training snippets (input_ids, attention_mask, labels), the same for a seed."""
    task = get_task(profile.task)
    rows = subsample(load_task_data(task)["train"], steps * batch_size, seed)
    batches = []
    for start in range(0, steps * batch_size, batch_size):  # a split smaller than that is read round again
        chosen = rows.select([(start + i) % len(rows) for i in range(batch_size)])
        batches.append(snippet_batch(profile, chosen[task.text_fields[0]], chosen["label"]))
    return batches


def snippet_batch(profile: Profile, texts, labels=None) -> dict:
    """One padded batch of the profile's tokenizer (and labels, when given)."""
    batch = dict(load_tokenizer(profile.model_name)(list(texts), padding=True, truncation=True,
                                                    max_length=profile.max_length, return_tensors="pt"))
    if labels is not None:
        batch["labels"] = torch.as_tensor(list(labels))
    return batch


def eval_batch(profile: Profile, size: int = 100, split: str | None = None) -> dict:
    """One batch of `size` evaluation snippets (the profile's reported split unless another is named)."""
    task = get_task(profile.task)
    rows = subsample(load_task_data(task)[split or task.eval_splits[0]], size, seed=0)
    return snippet_batch(profile, rows[task.text_fields[0]], rows["label"])


def train_steps(model, batches, lr: float, optimizer: str = "adam") -> list[float]:
    """Lesson 00's loop over `batches`, one optimizer step each, on the parameters that train; the losses.

    `optimizer` is "adam" (AdamW without weight decay, as the course's trainer) or "sgd" (plain gradient steps).
    Dropout stays off, so the same start and batches give the same model.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if optimizer not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {optimizer!r}")
    opt = (torch.optim.AdamW(params, lr=lr, weight_decay=0.0) if optimizer == "adam"
           else torch.optim.SGD(params, lr=lr))
    model.eval()  # no dropout: the runs differ only in what trains
    losses = []
    for batch in batches:
        loss = model(**batch).loss
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def logits(model, batch) -> torch.Tensor:
    """The model's logits on one batch (labels ignored), in eval mode."""
    model.eval()
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits


@torch.no_grad()
def correct_answers(model, tokenizer, dataset, batch_size: int = 64) -> np.ndarray:
    """1 for every snippet of a tokenised split the model labels right, else 0, in the split's order."""
    from transformers import DataCollatorWithPadding

    collate = DataCollatorWithPadding(tokenizer)
    model.eval()
    device = next(model.parameters()).device
    right = []
    for start in range(0, len(dataset), batch_size):
        batch = collate([dataset[i] for i in range(start, min(start + batch_size, len(dataset)))]).to(device)
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
        right.append((out.argmax(-1) == batch["labels"]).long().cpu().numpy())
    return np.concatenate(right)


def low_rank_update(size: int = 32, rank: int = 4, seed: int = 0):
    """A frozen `size` x `size` Linear and an update ΔW of exactly this rank, for LoRA to learn (lesson 02's
    practice): the target layer computes base(x) + x ΔWᵀ."""
    from torch import nn

    torch.manual_seed(seed)
    base = nn.Linear(size, size)
    generator = torch.Generator().manual_seed(seed)
    delta = torch.randn(size, rank, generator=generator) @ torch.randn(rank, size, generator=generator) / size ** 0.5
    return base, delta


def fit_update(lora_class, base, delta, r: int, alpha: float, steps: int = 300, lr: float = 1e-2,
               seed: int = 0) -> float:
    """Train a LoRA of rank r (scale alpha / r) on a copy of `base` to add `delta`, with Adam on random inputs;
    return the relative (Frobenius) error of the learned update (alpha / r) B A against delta: 0 is a perfect fit,
    1 no better than nothing.
    `lora_class` is LoRALinear or your own class from exercise 2.1."""
    with one_thread():
        return _fit_update(lora_class, base, delta, r, alpha, steps, lr, seed)


def _fit_update(lora_class, base, delta, r, alpha, steps, lr, seed) -> float:
    import copy

    torch.manual_seed(seed)
    layer = lora_class(copy.deepcopy(base), r=r, alpha=alpha)
    optimizer = torch.optim.Adam([layer.lora_A, layer.lora_B], lr=lr)
    generator = torch.Generator().manual_seed(seed + 1)
    for _ in range(steps):
        x = torch.randn(64, base.in_features, generator=generator)
        loss = (layer(x) - base(x) - x @ delta.T).square().mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    with torch.no_grad():  # the learned update itself against delta (what random inputs measure on average)
        learned = layer.scaling * layer.lora_B @ layer.lora_A
        return float((learned - delta).norm() / delta.norm())
