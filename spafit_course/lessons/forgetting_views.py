"""Lesson 06's results as tables and figures, and its method as a picture."""

from __future__ import annotations

from ..tuning.params import format_table
from .stats import mean_and_se


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


def drift_over_seeds(record: dict, experiment: str = "06-forgetting") -> dict[str, tuple[list, list]]:
    """{run label: (mean drift per layer, its standard error)} over the record's seeds; layer 0 is the
    embeddings' output."""
    by_seed = [record["results"][experiment][str(seed)]["rows"] for seed in record["seeds"]]
    drift = {}
    for i, row in enumerate(by_seed[0]):
        per_layer = list(zip(*(rows[i]["drift"] for rows in by_seed)))
        spreads = [mean_and_se(values) for values in per_layer]
        drift[row["label"]] = ([s.mean for s in spreads], [s.se for s in spreads])
    return drift


def drift_table(drift: dict) -> str:
    """Each run's mean drift (1 - linear CKA with the checkpoint) at every layer, and the largest standard error
    of its row (`drift_over_seeds`)."""
    layers = len(next(iter(drift.values()))[0])
    rows = [("run", *(f"{'emb' if k == 0 else f'layer {k}'}" for k in range(layers)), "largest SE")]
    rows += [(label, *(f"{d:.3f}" for d in means), f"{max(ses):.3f}") for label, (means, ses) in drift.items()]
    return format_table(rows)


def plot_drift(drift: dict, ax=None, seeds: int | None = None):
    """Mean drift from the checkpoint at each layer, one line per run, with standard-error bars (lesson 06)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.4))
    for label, (means, ses) in drift.items():
        ax.errorbar(range(len(means)), means, yerr=ses, marker="o", capsize=3, label=label)
    layers = len(next(iter(drift.values()))[0])
    ax.set_xticks(range(layers))
    ax.set_xticklabels(["emb", *range(1, layers)])
    ax.set_xlabel("layer (emb = embeddings' output)")
    ax.set_ylabel("drift: 1 - linear CKA")
    over = f"mean over {seeds} seeds, bars: SE" if seeds else "bars: SE"
    ax.set_title(f"How far each layer's view of the TREC questions moved ({over})", fontsize=10)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return ax.figure


def budget_table(result: dict) -> str:
    """Lesson 06's ablation table: where each run spends its parameters, and what it scores."""
    rows = [("method", "in the layers", "head", "trainable", "accuracy", "gain", "TREC probe")]
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
