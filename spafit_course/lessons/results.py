"""How the lessons show results: beside the majority rate as a table or a bar chart, and across seeds."""

from __future__ import annotations

from ..tuning.params import format_table


def results_text(result: dict, columns=("trainable",)) -> str:
    """The majority rate on one line, then a table: each result, the given columns ("-" where a row has none),
    its score and gain over it."""
    rows = result.get("rows") or [{"label": f"N1={c['n1']} N2={c['n2']}", **c} for c in result["cells"]]
    metric = rows[0].get("metric", result.get("metric", "score"))
    table = [("result", *columns, metric, "gain")]
    for row in rows:
        values = ["-" if row.get(c) is None else f"{row[c]:,}" if isinstance(row[c], int)
                  else f"{row[c]:.3g}" if isinstance(row[c], float) else str(row[c]) for c in columns]
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
