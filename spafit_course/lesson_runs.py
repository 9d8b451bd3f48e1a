"""The experiments lessons 01-05 run, at the lessons' budget, each with its majority-class baseline.

Every trained number a lesson shows comes from one of these functions, and the tests that hold the lessons'
claims call the same functions on the same budget. `python -m spafit_course.lesson_runs` runs them all for
several seeds and prints each result beside its majority rate, with the spread over seeds.

Each function returns a plain dict (JSON-ready): the evaluation split's `majority` rate and the trained results.
When `$SPAFIT_RUN_MEMO` names a folder, results are kept there by their arguments, so a test session that has
already run an experiment hands the same numbers to the notebook that shows it (runs are deterministic for a
seed, so rerunning would print the same numbers more slowly).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np

from .architectures import get_layers, num_layers
from .experiments import compare_methods, prepared_data, result_row, run_method
from .freezing import freeze_all, unfreeze_head
from .models import load_model, load_model_and_tokenizer
from .profiles import PROFILES, Profile, env_overrides, get_profile
from .spafit import SpafitConfig
from .sweep import run_sweep
from .tasks import get_task
from .train import train_and_evaluate

#: The lessons' budget: 1,000 training snippets (63 steps of 16), 300 evaluation snippets.
LESSON_SIZES = {"train_size": 1000, "eval_size": 300, "batch_size": 16}
#: How far above the majority rate a trained result must land before a lesson calls it learning.
LEARNING_MARGIN = 0.08
#: The bias families of a BERT layer, by the module that owns the bias (lesson 01).
BIAS_FAMILIES = {"attention.self.query": "query", "attention.self.key": "key", "attention.self.value": "value",
                 "attention.output.dense": "attention output", "intermediate.dense": "FFN in",
                 "output.dense": "FFN out"}


def lesson_profile(profile: Profile | None = None, seed: int | None = None) -> Profile:
    """The profile at the lessons' budget (and another seed, if given); SPAFIT_* size variables still win."""
    return (profile or get_profile()).with_overrides(**{**LESSON_SIZES, **env_overrides()}, seed=seed)


def majority_rate(eval_sets: dict, task_name: str) -> float | None:
    """Share of the most frequent label in the task's first evaluation split (None for regression)."""
    task = get_task(task_name)
    if task.is_regression:
        return None
    labels = eval_sets[task.eval_splits[0]]["labels"]
    return Counter(labels).most_common(1)[0][1] / len(labels)


def remembered(name: str, compute, **key):
    """`compute()`, or its stored result when `$SPAFIT_RUN_MEMO` holds one for the same name and arguments."""
    folder = os.environ.get("SPAFIT_RUN_MEMO")
    if not folder:
        return compute()
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]
    path = Path(folder) / f"{name}-{digest}.json"
    if path.exists():
        return json.loads(path.read_text())
    result = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))
    return result


def _row(row: dict, label: str, **extra) -> dict:
    keep = ("method", "task", "score", "metric", "split", "trainable", "total", "percent_trainable", "train_seconds",
            "steps")
    return {"label": label, **{k: row[k] for k in keep}, **extra}


def _run(name: str, profile: Profile, seed: int | None, compute, **arguments) -> dict:
    small = lesson_profile(profile, seed)
    return remembered(name, lambda: compute(small, **arguments), profile=asdict(small), **arguments)


def bias_change_by_family(trained, reference) -> dict[str, float]:
    """Mean absolute change per bias value of each family, between a trained model and its starting point."""
    start = dict(reference.named_parameters())
    moved, size = Counter(), Counter()
    for name, p in trained.named_parameters():
        family = next((f for key, f in BIAS_FAMILIES.items() if f".{key}.bias" in name), None)
        if family is None or ".layer." not in name:
            continue
        moved[family] += (p.detach() - start[name].detach()).abs().sum().item()
        size[family] += p.numel()
    return {family: moved[family] / size[family] for family in BIAS_FAMILIES.values()}


def _bitfit_and_full(small: Profile) -> dict:
    data = prepared_data(small)
    bitfit = run_method(small, "bitfit", data, progress=False)
    change = bias_change_by_family(bitfit["_model"], load_model(small.model_name, seed=small.seed, head=small.head))
    full = run_method(small, "full", data, progress=False)
    return {"majority": majority_rate(data[2], small.task), "train_pooler": small.train_pooler,
            "rows": [_row(bitfit, "BitFit"), _row(full, "full fine-tuning")], "bias_change": change}


def bitfit_and_full(profile: Profile | None = None, seed: int | None = None) -> dict:
    """Lesson 01: BitFit and full fine-tuning on the same data, and how far each bias family moved."""
    return _run("bitfit_and_full", profile, seed, _bitfit_and_full)


def _lora_ranks(small: Profile, ranks, alpha) -> dict:
    data = prepared_data(small)
    rows = []
    for r in ranks:
        config = SpafitConfig(n1=0, n2=0, targets=small.lora["targets"], r=r, alpha=alpha, bias_terms="none",
                              train_pooler=small.train_pooler)
        row = run_method(small, "spafit", data, spafit_config=config, progress=False)
        rows.append(_row(row, f"LoRA r={r}", r=r, alpha=alpha))
    return {"majority": majority_rate(data[2], small.task), "train_pooler": small.train_pooler, "rows": rows}


def lora_ranks(profile: Profile | None = None, seed: int | None = None, ranks=(1, 8, 32), alpha: float = 16) -> dict:
    """Lesson 02: plain LoRA at several ranks with alpha held fixed, on the same data."""
    return _run("lora_ranks", profile, seed, _lora_ranks, ranks=list(ranks), alpha=alpha)


def first_step_change(r: int, alpha: float, lora_class=None, size: int = 384, seed: int = 0) -> float:
    """Lesson 02: how much one Adam step changes a LoRA-wrapped layer's output, relative to the output.

    A `size` x `size` Linear is wrapped with rank `r` and scale `alpha / r`, then takes one Adam step (lr 1e-3)
    towards random targets on a batch of 32 random inputs; `lora_class` defaults to the package's `LoRALinear`.
    """
    import torch
    from torch import nn

    from .lora import LoRALinear

    torch.manual_seed(seed)
    base = nn.Linear(size, size)
    layer = (lora_class or LoRALinear)(base, r=r, alpha=alpha)
    x, target = torch.randn(32, size), torch.randn(32, size)
    optimizer = torch.optim.Adam([layer.lora_A, layer.lora_B], lr=1e-3)
    ((layer(x) - target) ** 2).mean().backward()
    optimizer.step()
    with torch.no_grad():
        return ((layer(x) - base(x)).norm() / base(x).norm()).item()


def probe_sentences(profile: Profile, train_size: int = 800, test_size: int = 400):
    """Lesson 03's probe data: (train texts, train labels, test texts, test labels) of the profile's task."""
    from .data import load_task_data, subsample

    task = get_task(profile.task)
    data = load_task_data(task.name)
    train = subsample(data["train"], train_size, profile.seed)
    test = subsample(data[task.eval_splits[0]], test_size, profile.seed)
    field = task.text_fields[0]
    return train[field], np.array(train["label"]), test[field], np.array(test["label"])


def _layer_probes(small: Profile) -> dict:
    from .probes import constant_rows, layer_features, probe_accuracy
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
    return _run("layer_probes", profile, seed, _layer_probes)


def _top_k_layers(small: Profile, ks, learning_rates) -> dict:
    tokenizer, train, evals = prepared_data(small)
    task = get_task(small.task)
    rows = []
    for k, learning_rate in zip(ks, learning_rates):
        model = load_model(small.model_name, task.num_labels, seed=small.seed, head=small.head)
        layers = get_layers(model)
        freeze_all(model)
        for layer in layers[len(layers) - k:]:
            layer.requires_grad_(True)
        unfreeze_head(model, train_pooler=small.train_pooler)
        result = train_and_evaluate(model, tokenizer, task.name, train, evals, learning_rate, small.epochs,
                                    small.batch_size, small.seed, progress=False)
        row = result_row(small, "top-k", task, result)
        rows.append(_row(row, f"top {k} layers", k=k, learning_rate=learning_rate))
    return {"majority": majority_rate(evals, task.name), "train_pooler": small.train_pooler, "rows": rows}


def top_k_learning_rate(profile: Profile, k: int, layers: int) -> float:
    """Full fine-tuning's learning rate times L / k (lesson 03).

    Fewer training layers need larger steps to move in 63 steps, while all L layers at a larger rate diverged on
    some seeds (docs/results.md): one rate for every k failed somewhere.
    """
    return profile.learning_rates["full"] * layers / max(k, 1)


def top_k_layers(profile: Profile | None = None, seed: int | None = None, ks=None) -> dict:
    """Lesson 03: train only the top k layers in full (plus the head), for several k, on the same data.

    The default k are 1, L/3, 2L/3 and L, each at `top_k_learning_rate`.
    """
    from .models import meta_model

    profile = profile or get_profile()
    layers = num_layers(meta_model(profile.model_name))
    ks = (1, layers // 3, 2 * layers // 3, layers) if ks is None else ks
    bad = [k for k in ks if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= layers]
    if bad or not ks:
        raise ValueError(f"k must be whole numbers between 0 and L = {layers}; got {list(ks)}")
    rates = [top_k_learning_rate(profile, k, layers) for k in ks]
    return _run("top_k_layers", profile, seed, _top_k_layers, ks=list(ks), learning_rates=rates)


def _four_methods(small: Profile) -> dict:
    data = prepared_data(small)
    rows = compare_methods(small, progress=False, data=data)
    return {"majority": majority_rate(data[2], small.task), "train_pooler": small.train_pooler,
            "rows": [_row(r, r["method"]) for r in rows]}


def four_methods(profile: Profile | None = None, seed: int | None = None) -> dict:
    """Lesson 04: full fine-tuning, BitFit, LoRA and SPAFIT (the profile's boundaries) on the same data."""
    return _run("four_methods", profile, seed, _four_methods)


def _boundary_sweep(small: Profile, n1_values, n2_values) -> dict:
    data = prepared_data(small)
    sweep = run_sweep(small, n1_values, n2_values, progress=False, data=data)
    sweep["majority"] = majority_rate(data[2], small.task)
    return sweep


def boundary_sweep(profile: Profile | None = None, seed: int | None = None, n1_values=None, n2_values=None
                   ) -> dict:
    """Lesson 05: SPAFIT over a grid of boundaries (a `run_sweep` dict plus the majority rate).

    The default grid is N1 in {0, L/3, 2L/3} by N2 in {L/3, 2L/3}: five valid cells, each with LoRA in its top
    layers (cells with N2 = L train biases only, BitFit's weakness on this model, and fall to the majority rate
    on some seeds).
    """
    from .models import meta_model

    profile = profile or get_profile()
    layers = num_layers(meta_model(profile.model_name))
    n1_values = (0, layers // 3, 2 * layers // 3) if n1_values is None else n1_values
    n2_values = (layers // 3, 2 * layers // 3) if n2_values is None else n2_values
    return _run("boundary_sweep", profile, seed, _boundary_sweep, n1_values=list(n1_values),
                n2_values=list(n2_values))


def results_text(result: dict, columns=("trainable",)) -> str:
    """The majority rate on one line, then a table: each result, the given columns, its score and gain over it."""
    from .params import format_table

    rows = result.get("rows") or [{"label": f"N1={c['n1']} N2={c['n2']}", **c} for c in result["cells"]]
    metric = rows[0].get("metric", result.get("metric", "score"))
    table = [("result", *columns, metric, "gain")]
    for row in rows:
        values = [f"{row[c]:,}" if isinstance(row[c], int) else f"{row[c]:.3g}" if isinstance(row[c], float)
                  else str(row[c]) for c in columns]
        table.append((row["label"], *values, f"{row['score']:.3f}", f"{row['score'] - result['majority']:+.3f}"))
    return (f"majority-class rate of the evaluation snippets (always answering the commoner label): "
            f"{result['majority']:.3f}\n" + format_table(table))


def plot_results(result: dict, ax=None, title: str = ""):
    """Scores as bars beside the majority-class line, on an axis from 0.4 to 1 so noise does not look like a jump."""
    import matplotlib.pyplot as plt

    rows = result["rows"]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.5 * len(rows) + 1.2))
    labels = [row["label"] for row in rows]
    ax.barh(labels, [row["score"] for row in rows], color="tab:blue")
    ax.axvline(result["majority"], color="grey", ls="--", label=f"majority class ({result['majority']:.3f})")
    ax.set_xlim(min(0.4, result["majority"] - 0.1), 1.0)
    ax.invert_yaxis()
    ax.set_xlabel(f"{rows[0]['metric']} on {rows[0]['split']}")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title)
    return ax.figure


#: The package's own comparison on the quick profile's full budget (lesson 05 reads it; `--record` remakes it).
RECORDED_COMPARISON = Path(__file__).parent / "recorded" / "compare-quick.json"


def comparison_result(rows, profile: Profile, data=None) -> dict:
    """`compare_methods` rows as a lesson result: the majority rate of the evaluated split, and the rows."""
    data = data or prepared_data(profile)
    return {"majority": majority_rate(data[2], profile.task), "train_size": len(data[1]),
            "train_pooler": profile.train_pooler, "rows": [_row(r, r["method"]) for r in rows]}


def record_comparison(path=RECORDED_COMPARISON) -> dict:
    """Run `compare_methods` on the quick profile's full budget and store it with how it was made."""
    import datetime
    import platform

    import torch

    profile = get_profile("quick")
    data = prepared_data(profile)
    result = comparison_result(compare_methods(profile, progress=True, data=data), profile, data)
    made = datetime.date.today().isoformat()
    result["made"] = (f"recorded {made} by `spafit-course compare` (quick profile, seed {profile.seed}) on "
                      f"{os.cpu_count()} CPU cores, torch {torch.__version__}, {platform.machine()}")
    result["profile"] = asdict(profile)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(result, indent=1, default=list) + "\n")
    return result


def recorded_comparison(path=RECORDED_COMPARISON) -> dict:
    """The stored quick-profile comparison (lesson 05)."""
    return json.loads(Path(path).read_text())


#: Every lesson experiment, by the lesson that shows it.
EXPERIMENTS = {"01": bitfit_and_full, "02": lora_ranks, "03-probes": layer_probes, "03-top-k": top_k_layers,
               "04": four_methods, "05": boundary_sweep}


def trained_results(result: dict) -> list[tuple[str, float]]:
    """(label, score) of every trained result of an experiment: table rows, or sweep cells."""
    if "mean" in result:
        return [(f"{kind} probe, layer {k}", v) for kind in ("cls", "mean") for k, v in enumerate(result[kind])
                if v is not None]
    if "cells" in result:
        return [(f"SPAFIT N1={c['n1']} N2={c['n2']}", c["score"]) for c in result["cells"]]
    return [(row["label"], row["score"]) for row in result["rows"]]


def seed_table(results_by_seed: dict[int, dict[str, dict]]) -> str:
    """One line per lesson result: its score and majority rate for each seed, the spread and the worst margin."""
    from .params import format_table

    seeds = list(results_by_seed)
    header = ["lesson", "result", *[f"seed {s}" for s in seeds], "spread", "min margin"]
    lines = [header]
    for lesson in next(iter(results_by_seed.values())):
        per_seed = [dict(trained_results(results_by_seed[s][lesson])) for s in seeds]
        majority = [results_by_seed[s][lesson]["majority"] for s in seeds]
        for label in per_seed[0]:
            scores = [p[label] for p in per_seed]
            cells = [f"{v:.3f} / {m:.3f}" for v, m in zip(scores, majority)]
            margin = min(v - m for v, m in zip(scores, majority))
            lines.append([lesson, label, *cells, f"{max(scores) - min(scores):.3f}", f"{margin:+.3f}"])
    return format_table(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spafit_course.lesson_runs",
        description="Run every lesson experiment (lessons 01-05) at its lesson budget for several seeds and print "
                    "each result as 'score / majority rate' per seed, the spread over seeds and the smallest "
                    f"margin over the majority rate (a lesson calls a result learning at +{LEARNING_MARGIN}). "
                    "With $SPAFIT_RUN_MEMO set to a folder, results already there are reused.")
    parser.add_argument("--seeds", default="42,43,44",
                        help="comma-separated seeds (default 42,43,44; 42 is the lessons' own)")
    parser.add_argument("--lessons", default=",".join(EXPERIMENTS),
                        help=f"which lessons' experiments to run (default all: {','.join(EXPERIMENTS)})")
    parser.add_argument("--profile", choices=list(PROFILES), default=None,
                        help="profile (default: $SPAFIT_PROFILE or quick)")
    parser.add_argument("--output", default=None, help="also write every result as JSON to this file")
    parser.add_argument("--record", action="store_true",
                        help="instead, rerun the quick profile's full comparison that lesson 05 shows and store it "
                             "in the package (about 5 minutes on 2 CPU cores)")
    args = parser.parse_args(argv)
    if args.record:
        from .quiet import silence_libraries

        silence_libraries()
        print(results_text(record_comparison(), columns=("trainable",)))
        return 0
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers, like 42,43,44; got {args.seeds!r}")
    lessons = [name.strip() for name in args.lessons.split(",") if name.strip()]
    unknown = [name for name in lessons if name not in EXPERIMENTS]
    if unknown or not seeds or not lessons:
        parser.error(f"--lessons must name some of {', '.join(EXPERIMENTS)}; --seeds at least one seed")
    from .quiet import silence_libraries

    silence_libraries()
    profile = get_profile(args.profile)
    results = {}
    for seed in seeds:
        results[seed] = {}
        for lesson in lessons:
            results[seed][lesson] = EXPERIMENTS[lesson](profile, seed)
            print(f"seed {seed}, lesson {lesson}: " + ", ".join(
                f"{label} {score:.3f}" for label, score in trained_results(results[seed][lesson]))
                + f" (majority {results[seed][lesson]['majority']:.3f})", flush=True)
    print(seed_table(results))
    if args.output:
        Path(args.output).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
