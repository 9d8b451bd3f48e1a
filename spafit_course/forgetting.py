"""What fine-tuning forgets, and whether stratifying helps (lesson 06): probes, drift and the budget ablation.

A model fine-tuned on polarity is asked about an unrelated task it was never trained on, TREC question types:
a logistic-regression probe (lesson 03's, `probes.py`) reads the frozen, mean-pooled features of its last
layer, before and after fine-tuning. Per-layer drift (1 - linear CKA) says how far each layer's representation
of the same questions moved from the checkpoint's. Every experiment runs at the lessons' budget
(`lesson_runs.LESSON_SIZES`), returns a JSON-ready dict with its majority rates, and is remembered like the
other lesson runs, so the claim tests and the notebook share one run.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from dataclasses import asdict

import numpy as np

from .closed_form import bias_params_per_layer, layer_params, lora_params_per_layer
from .experiments import prepared_data, run_method
from .lesson_runs import lesson_profile, majority_rate, remembered, seed_table
from .methods import method_config, spafit_config
from .models import load_model, load_tokenizer, model_config
from .params import format_table
from .probes import layer_features, probe_accuracy
from .profiles import Profile, get_profile
from .questions import question_sample
from .spafit import BIAS_ONLY, FROZEN, LORA_AND_BIAS, SpafitConfig, check_boundaries, layer_groups

#: Questions the probe trains on (from the TREC train split) and is scored on (from its test split); drift is
#: measured on the same test questions.
PROBE_SIZES = {"train": 1000, "test": 500}
#: Runs already done in this process, by their memo key (the notebook reuses SPAFIT in three sections).
_DONE: dict[str, dict] = {}


def linear_cka(x, y) -> float:
    """Linear centred kernel alignment of two representations of the same n inputs (Kornblith et al. 2019):
    1 for the same representation up to rotation and scale, near 0 for unrelated ones (lesson 06)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"need two (n, features) arrays with the same n, got shapes {x.shape} and {y.shape}")
    x = x - x.mean(0)
    y = y - y.mean(0)
    cross = np.linalg.norm(y.T @ x) ** 2
    return float(cross / (np.linalg.norm(x.T @ x) * np.linalg.norm(y.T @ y)))


def drift_by_layer(before, after) -> list[float]:
    """1 - linear CKA between the checkpoint's and a fine-tuned model's features, layer by layer (lesson 06)."""
    if len(before) != len(after):
        raise ValueError(f"need the same number of layers, got {len(before)} and {len(after)}")
    return [max(0.0, 1.0 - linear_cka(b, a)) for b, a in zip(before, after)]


def layer_budget(hf_config, config: SpafitConfig | None) -> list[int]:
    """Trainable parameters inside each layer 1..L under `config` (None: full fine-tuning), from the closed
    form: what a method spends where, without the head and pooler that every method trains (lesson 06)."""
    layers = hf_config.num_hidden_layers
    if config is None:
        return [layer_params(hf_config)] * layers
    bias = bias_params_per_layer(hf_config, config.bias_terms)
    lora = lora_params_per_layer(hf_config, config.targets, config.r)
    return [0 if g == FROZEN else bias + (lora if g == LORA_AND_BIAS else 0)
            for g in layer_groups(layers, config.n1, config.n2)]


def uniform_lora(profile: Profile, r: int) -> SpafitConfig:
    """Plain LoRA on every layer at rank r, with the profile's targets and SPAFIT's scale alpha / r, so only
    where the parameters sit differs from SPAFIT (lesson 06)."""
    s = profile.spafit
    return SpafitConfig(n1=0, n2=0, targets=s["targets"], r=r, alpha=s["alpha"] / s["r"] * r, bias_terms="none",
                        train_pooler=profile.train_pooler)


def matched_rank(profile: Profile, max_rank: int = 64) -> int:
    """The rank at which uniform LoRA spends as many parameters inside the layers as the profile's SPAFIT
    (the closest count; the lower rank on a tie) (lesson 06)."""
    hf = model_config(profile.model_name)
    layers = hf.num_hidden_layers
    target = sum(layer_budget(hf, method_config("spafit", layers, profile)))
    return min(range(1, max_rank + 1),
               key=lambda r: abs(sum(layer_budget(hf, uniform_lora(profile, r))) - target))


def run_config(profile: Profile, label: str) -> tuple[str, SpafitConfig | None]:
    """(method, config) of a lesson-06 run label: a course method ("full", "bitfit", "lora", "spafit"),
    "spafit N1=a N2=b" (the profile's LoRA settings at other boundaries) or "uniform LoRA r=k"."""
    layers = model_config(profile.model_name).num_hidden_layers
    if label in ("full", "bitfit", "lora", "spafit"):
        return label, method_config(label, layers, profile)
    boundaries = re.fullmatch(r"spafit N1=(\d+) N2=(\d+)", label)
    if boundaries:
        check_boundaries(layers, int(boundaries[1]), int(boundaries[2]))
        return "spafit", spafit_config(profile, int(boundaries[1]), int(boundaries[2]))
    rank = re.fullmatch(r"uniform LoRA r=(\d+)", label)
    if rank:
        return "spafit", uniform_lora(profile, int(rank[1]))
    raise ValueError(f"unknown run label {label!r}; use full, bitfit, lora, spafit, 'spafit N1=a N2=b' or "
                     "'uniform LoRA r=k'")


def _by_length(texts, labels):
    # a probe and CKA ignore the order of the questions; batches of similar lengths pad less, so run faster
    pairs = sorted(zip(texts, labels), key=lambda pair: len(pair[0]))
    return [t for t, _ in pairs], [y for _, y in pairs]


def _probe_set(small: Profile):
    """TREC questions and labels for the probe: (train texts, train labels, test texts, test labels)."""
    return (*_by_length(*question_sample("train", PROBE_SIZES["train"])),
            *_by_length(*question_sample("test", PROBE_SIZES["test"])))


def _features(model, small: Profile, tokenizer) -> tuple[np.ndarray, np.ndarray]:
    """The last layer's mean-pooled features of the probe's training questions, and every layer's of its test
    questions (the drift is measured on those)."""
    train_x, _, test_x, _ = _probe_set(small)
    return (layer_features(model, tokenizer, train_x, small.max_length)[1][-1],
            layer_features(model, tokenizer, test_x, small.max_length)[1])


_CHECKPOINT: dict[tuple, tuple] = {}


def _checkpoint_features(small: Profile, tokenizer):
    key = (small.model_name, small.max_length)
    if key not in _CHECKPOINT:
        from .setup import lesson_device

        checkpoint = load_model(small.model_name).to(lesson_device())
        _CHECKPOINT[key] = _features(checkpoint, small, tokenizer)
    return _CHECKPOINT[key]


def _probe(small: Profile, features) -> float:
    _, train_y, _, test_y = _probe_set(small)
    train_last, test_layers = features
    return probe_accuracy(train_last, train_y, test_layers[-1], test_y)


def _remember(name: str, compute, **key):
    """`remembered`, plus a memo in this process (a notebook without $SPAFIT_RUN_MEMO trains SPAFIT once)."""
    digest = json.dumps([name, key], sort_keys=True, default=str)
    if digest not in _DONE:
        _DONE[digest] = remembered(name, compute, **key)
    return _DONE[digest]


def _train(small: Profile, label: str, probe: bool) -> dict:
    method, config = run_config(small, label)
    data = prepared_data(small)
    row = run_method(small, method, data, spafit_config=config if method == "spafit" else None, progress=False)
    hf = row["_model"].config  # the trained model's own sizes, whatever a known name says
    result = {"label": label, "method": method, "score": row["score"], "metric": row["metric"],
              "trainable": row["trainable"], "total": row["total"], "layer_budget": layer_budget(hf, config),
              "train_seconds": row["train_seconds"], "steps": row["steps"],
              "config": config.to_dict() if config is not None else None}
    if probe:
        after = _features(row["_model"], small, data[0])
        result["probe"] = _probe(small, after)
        result["drift"] = drift_by_layer(_checkpoint_features(small, data[0])[1], after[1])
    return result


def polarity_run(profile: Profile | None = None, seed: int | None = None, label: str = "spafit",
                 probe: bool = False) -> dict:
    """One run at the lessons' budget (lesson 06): polarity accuracy, trainable counts, the per-layer budget,
    and with `probe` the TREC probe accuracy and per-layer drift of the fine-tuned encoder."""
    small = lesson_profile(profile, seed)
    run_config(small, label)  # a bad label fails here, before anything trains
    return _remember("lesson06_run", lambda: _train(small, label, probe), profile=asdict(small), label=label,
                     probe=probe)


def checkpoint_probe(profile: Profile | None = None, seed: int | None = None) -> dict:
    """The TREC probe on the checkpoint's own features, and the probe test set's majority rate (lesson 06)."""
    small = lesson_profile(profile, seed)

    def compute():
        _, train_y, _, test_y = _probe_set(small)
        accuracy = _probe(small, _checkpoint_features(small, load_tokenizer(small.model_name)))
        return {"probe": accuracy, "probe_majority": Counter(test_y).most_common(1)[0][1] / len(test_y),
                "probe_sizes": dict(PROBE_SIZES), "classes": len(set(train_y))}

    return _remember("lesson06_checkpoint", compute, profile=asdict(small), sizes=PROBE_SIZES)


def _polarity_majority(small: Profile) -> float:
    return _remember("lesson06_majority", lambda: majority_rate(prepared_data(small)[2], small.task),
                     profile=asdict(small))


def forgetting(profile: Profile | None = None, seed: int | None = None, labels=("full", "lora", "spafit")) -> dict:
    """Lesson 06: the TREC probe before and after polarity fine-tuning, and each layer's drift, per method."""
    small = lesson_profile(profile, seed)
    rows = [polarity_run(profile, seed, label, probe=True) for label in labels]
    return {"majority": _polarity_majority(small), "train_pooler": small.train_pooler,
            **checkpoint_probe(profile, seed), "rows": rows}


def budget_ablation(profile: Profile | None = None, seed: int | None = None) -> dict:
    """Lesson 06: SPAFIT against plain LoRA on every layer at the rank that spends the same budget."""
    small = lesson_profile(profile, seed)
    rank = matched_rank(small)
    rows = [polarity_run(profile, seed, label, probe=True) for label in ("spafit", f"uniform LoRA r={rank}")]
    return {"majority": _polarity_majority(small), "train_pooler": small.train_pooler, "rank": rank,
            **checkpoint_probe(profile, seed), "rows": rows}


def n1_sweep(profile: Profile | None = None, seed: int | None = None, n1_values=(0, 2, 4), n2: int | None = None
             ) -> dict:
    """Lesson 06: SPAFIT with N1 varied at a fixed N2 (the profile's), beside full BitFit and full LoRA."""
    small = lesson_profile(profile, seed)
    n2 = small.spafit["n2"] if n2 is None else n2
    own = (small.spafit["n1"], small.spafit["n2"])
    labels = ["spafit" if (n1, n2) == own else f"spafit N1={n1} N2={n2}" for n1 in n1_values]
    rows = [{**polarity_run(profile, seed, label, probe=label == "spafit"), "n1": n1, "n2": n2}
            for label, n1 in zip(labels, n1_values)]
    rows += [polarity_run(profile, seed, label, probe=label == "lora") for label in ("bitfit", "lora")]
    return {"majority": _polarity_majority(small), "train_pooler": small.train_pooler, "n2": n2, "rows": rows}


def describe_run(row: dict, layers: int) -> str:
    """What trains in a lesson-06 run, by layer range, in a few words (the head trains in every run)."""
    if row["config"] is None:
        return "everything"
    config = SpafitConfig.from_dict(row["config"])
    spans = []
    for group, name in ((BIAS_ONLY, "biases"), (LORA_AND_BIAS, "LoRA" if config.bias_terms == "none" else
                                                 "LoRA + biases")):
        members = [k for k, g in enumerate(layer_groups(layers, config.n1, config.n2), 1) if g == group]
        if members:
            spans.append(f"{name} {members[0]}-{members[-1]}" if len(members) > 1 else f"{name} {members[0]}")
    return ", ".join(spans) or "the head only"


def majority_lines(result: dict) -> str:
    """The majority rates a lesson-06 result is judged against, one per line."""
    lines = [f"polarity majority rate: {result['majority']:.3f}"]
    if "probe_majority" in result:
        lines.append(f"TREC probe majority rate: {result['probe_majority']:.3f}")
    return "\n".join(lines)


def forgetting_table(result: dict) -> str:
    """Lesson 06's forgetting table: polarity accuracy and gain, then the TREC probe and its change."""
    rows = [("method", "trainable", "accuracy", "gain", "TREC probe", "probe gain", "change")]
    rows.append(("checkpoint", "0", "-", "-", f"{result['probe']:.3f}",
                 f"{result['probe'] - result['probe_majority']:+.3f}", "-"))
    for r in result["rows"]:
        rows.append((r["label"], f"{r['trainable']:,}", f"{r['score']:.3f}", f"{r['score'] - result['majority']:+.3f}",
                     f"{r['probe']:.3f}", f"{r['probe'] - result['probe_majority']:+.3f}",
                     f"{r['probe'] - result['probe']:+.3f}"))
    return format_table(rows)


def drift_table(result: dict) -> str:
    """Each run's drift (1 - linear CKA with the checkpoint) at every layer; 0 is the embeddings' output."""
    layers = len(result["rows"][0]["drift"])
    rows = [("method", *(f"{'emb' if k == 0 else f'layer {k}'}" for k in range(layers)))]
    rows += [(r["label"], *(f"{d:.3f}" for d in r["drift"])) for r in result["rows"]]
    return format_table(rows)


def plot_drift(result: dict, ax=None):
    """Drift from the checkpoint at each layer, one line per run (lesson 06)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.4))
    for r in result["rows"]:
        ax.plot(range(len(r["drift"])), r["drift"], marker="o", label=r["label"])
    ax.set_xticks(range(len(result["rows"][0]["drift"])))
    ax.set_xticklabels(["emb", *range(1, len(result["rows"][0]["drift"]))])
    ax.set_xlabel("layer (emb = embeddings' output)")
    ax.set_ylabel("drift: 1 - linear CKA")
    ax.set_title("How far each layer's view of the TREC questions moved")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax.figure


def budget_table(result: dict) -> str:
    """Lesson 06's ablation table: where each run spends its parameters, and what it scores."""
    rows = [("method", "in the layers", "head + pooler", "trainable", "accuracy", "gain", "TREC probe")]
    for r in result["rows"]:
        inside = sum(r["layer_budget"])
        rows.append((r["label"], f"{inside:,}", f"{r['trainable'] - inside:,}", f"{r['trainable']:,}",
                     f"{r['score']:.3f}", f"{r['score'] - result['majority']:+.3f}", f"{r['probe']:.3f}"))
    return format_table(rows)


def plot_layer_budget(budgets: dict, ax=None):
    """Trainable parameters per layer for each named budget ({label: [count per layer]}), as grouped bars."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    width = 0.8 / len(budgets)
    for i, (label, counts) in enumerate(budgets.items()):
        ax.bar([k + 1 + (i - (len(budgets) - 1) / 2) * width for k in range(len(counts))], counts, width,
               label=f"{label} ({sum(counts):,} in all)")
    ax.set_xticks(range(1, len(next(iter(budgets.values()))) + 1))
    ax.set_xlabel("layer (1 = next to the embeddings)")
    ax.set_ylabel("trainable parameters")
    ax.set_title("The same budget, placed two ways")
    ax.legend(frameon=False)
    return ax.figure


def sweep_table(result: dict, layers: int) -> str:
    """Lesson 06's suggested-experiments table: each run, what trains, its count and score."""
    rows = [("run", "what trains in layers 1-" + str(layers), "trainable", "accuracy", "gain")]
    for r in result["rows"]:
        label = f"SPAFIT N1={r['n1']} N2={r['n2']}" if "n1" in r else {"bitfit": "full BitFit",
                                                                    "lora": "full LoRA"}.get(r["label"], r["label"])
        rows.append((label, describe_run(r, layers), f"{r['trainable']:,}", f"{r['score']:.3f}",
                     f"{r['score'] - result['majority']:+.3f}"))
    return format_table(rows)


#: The experiments of lesson 06, by section.
EXPERIMENTS = {"forgetting": forgetting, "ablation": budget_ablation, "n1": n1_sweep}


def trained_scores(result: dict) -> list[tuple[str, float, float]]:
    """(what, accuracy, its majority rate) for every trained accuracy in a lesson-06 result."""
    scores = [(f"{r['label']} polarity", r["score"], result["majority"]) for r in result["rows"]]
    scores += [(f"{r['label']} TREC probe", r["probe"], result.get("probe_majority", 0.0))
               for r in result["rows"] if "probe" in r and "probe_majority" in result]
    if "probe_majority" in result:
        scores.append(("checkpoint TREC probe", result["probe"], result["probe_majority"]))
    return scores


def draw_probe_setup(ax=None):
    """Lesson 06's method as a picture: the same frozen-feature probe, read before and after fine-tuning."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 2.6))
    boxes = {"checkpoint": (0.0, 1.2, "#b0b7c3"), "fine-tuned\non polarity": (0.0, 0.0, "#3a7dc9"),
             "frozen features\nof TREC questions\n(mean of last layer)": (2.6, 0.6, "#f2a93b"),
             "logistic-regression\nprobe: 6 question\ntypes": (5.2, 0.6, "#4caf50")}
    for text, (x, y, color) in boxes.items():
        ax.add_patch(FancyBboxPatch((x, y), 1.9, 0.9, boxstyle="round,pad=0.05", facecolor=color, alpha=0.8,
                                    edgecolor="none", gid=text.split("\n")[0]))
        ax.text(x + 0.95, y + 0.45, text, ha="center", va="center", fontsize=8)
    arrow = dict(arrowstyle="->", color="black")
    ax.annotate("", (0.95, 0.95), (0.95, 1.15), arrowprops=arrow)
    ax.text(1.05, 1.05, "63 steps", fontsize=7, va="center")
    for y in (1.65, 0.45):
        ax.annotate("", (2.55, 1.05), (1.95, y), arrowprops=arrow)
    ax.annotate("", (5.15, 1.05), (4.55, 1.05), arrowprops=arrow)
    ax.text(8.05, 1.05, "accuracy before\nand after", fontsize=8, va="center")
    ax.annotate("", (8.0, 1.05), (7.15, 1.05), arrowprops=arrow)
    ax.set_xlim(-0.1, 9.2)
    ax.set_ylim(-0.1, 2.2)
    ax.axis("off")
    return ax.figure


def seed_results(profile: Profile, seed: int) -> dict[str, dict]:
    """Lesson 06's experiments for one seed, in `lesson_runs.seed_table`'s shape: polarity results, and the
    TREC probes as results of their own (judged against the probe's majority rate)."""
    results = {}
    for name, run in EXPERIMENTS.items():
        result = run(profile, seed)
        results[name] = {"majority": result["majority"], "rows": result["rows"]}
        if "probe_majority" in result:
            probes = [{"label": "checkpoint", "score": result["probe"]}]
            probes += [{"label": row["label"], "score": row["probe"]} for row in result["rows"]]
            results[f"{name} TREC probe"] = {"majority": result["probe_majority"], "rows": probes}
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m spafit_course.forgetting",
        description="Run lesson 06's experiments at the lessons' budget for several seeds and print each trained "
                    "accuracy as 'accuracy / majority rate' per seed, with the spread over seeds.")
    parser.add_argument("--seeds", default="42,43,44", help="comma-separated seeds (default 42,43,44)")
    parser.add_argument("--profile", default=None, help="profile (default: $SPAFIT_PROFILE or quick)")
    args = parser.parse_args(argv)
    seeds = [s.strip() for s in args.seeds.split(",") if s.strip()]
    if not seeds or not all(s.isdigit() for s in seeds):
        parser.error(f"--seeds must be comma-separated integers, like 42,43,44; got {args.seeds!r}")
    from .quiet import silence_libraries

    silence_libraries()
    profile = get_profile(args.profile)
    print(seed_table({int(seed): seed_results(profile, int(seed)) for seed in seeds}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
