"""Lesson 06's results as tables and figures, and its method as a picture."""

from __future__ import annotations

from ..tuning.params import format_table
from ..tuning.spafit import BIAS_ONLY, LORA_AND_BIAS, SpafitConfig, layer_groups


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
