"""How lesson 05 shows the budget record: accuracy against training budget with paired intervals, the verdict
on each pair of methods at each budget (Holm-corrected within the budget), which orderings hold and which flip,
the validation curves that say whether a run flattened, and the learning-rate check."""

from __future__ import annotations

from ..tuning.params import format_table
from .budget_curves import BUDGETS, RATE_GRID, budget_key
from .spafit_runs import LESSON_04_METHODS
from .inference import compare_family, family_verdicts
from .stats import mean_and_se, paired_difference

CONTROL_LABEL = LESSON_04_METHODS["head"]
#: The pairs lesson 05 judges at every budget: each method against the control, then the methods' neighbours.
PAIRS = [("BitFit", CONTROL_LABEL), ("LoRA", CONTROL_LABEL), ("SPAFIT", CONTROL_LABEL),
         ("full fine-tuning", CONTROL_LABEL), ("SPAFIT", "BitFit"), ("LoRA", "SPAFIT"), ("full fine-tuning", "LoRA")]


def recorded_budgets(record: dict) -> list[str]:
    """The budgets (keys) at which two or more seeds have every method."""
    return [key for key in map(budget_key, BUDGETS) if len(complete_seeds(record, key)) >= 2]


def complete_seeds(record: dict, key: str) -> list[str]:
    """The record's seeds that have every method at budget `key`, in the record's order."""
    by_method = [record["curves"].get(method, {}).get(key, {}) for method in LESSON_04_METHODS]
    return [str(seed) for seed in record["seeds"] if all(str(seed) in runs for runs in by_method)]


def scores_at(record: dict, key: str, field: str = "score") -> tuple[list[str], dict[str, list[float]]]:
    """(seeds, {method label: value per seed}) at one budget, over the seeds that have every method."""
    seeds = complete_seeds(record, key)
    return seeds, {label: [record["curves"][method][key][seed][field] for seed in seeds]
                   for method, label in LESSON_04_METHODS.items()}


def run_of(record: dict, key: str, method: str = "head") -> dict:
    """Any one run at budget `key` (its size in snippets and steps are the same for every seed and method)."""
    return next(iter(record["curves"][method][key].values()))


def budget_table(record: dict) -> str:
    """One line per budget: snippets, steps, seeds, and each method's test accuracy as mean ± SE over seeds."""
    table = [("snippets", "steps", "seeds", *LESSON_04_METHODS.values())]
    for key in recorded_budgets(record):
        seeds, scores = scores_at(record, key)
        run = run_of(record, key)
        table.append((f"{run['budget']:,}", str(run["steps"]), str(len(seeds)),
                      *(str(mean_and_se(scores[label])) for label in LESSON_04_METHODS.values())))
    return format_table(table)


def budget_verdicts(record: dict, key: str, pairs=PAIRS) -> str:
    """The verdict on each pair at budget `key`, Holm-corrected over the pairs (one family per budget)."""
    seeds, scores = scores_at(record, key)
    run = run_of(record, key)
    lines = family_verdicts({(a, b): (scores[a], scores[b]) for a, b in pairs})
    return f"{run['budget']:,} snippets ({run['steps']} steps), {len(seeds)} seeds:\n" + "\n".join(
        f"  {line}" for line in lines)


def ordering_table(record: dict, pairs=PAIRS) -> str:
    """Each pair's Holm-corrected verdict at every budget in one line: '>' or '<' where the first is detectably
    higher or lower, '~' where no difference is detectable."""
    keys = recorded_budgets(record)
    table = [("pair", *(f"{run_of(record, k)['budget']:,}" for k in keys))]
    signs = {k: holm_signs(record, k, pairs) for k in keys}
    for i, (a, b) in enumerate(pairs):
        table.append((f"{a} vs {b}", *(signs[k][i] for k in keys)))
    return format_table(table)


def holm_signs(record: dict, key: str, pairs) -> list[str]:
    _, scores = scores_at(record, key)
    found = compare_family({(a, b): (scores[a], scores[b]) for a, b in pairs})
    return ["~" if not c.detected else ">" if c.difference.mean > 0 else "<" for c in found]


def plot_budget_curves(record: dict, ax=None, title: str = ""):
    """Test accuracy against training budget (log scale): each method's mean with its 95 % interval over seeds,
    each seed a faint line, and the majority-class rate."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 4.2))
    keys = recorded_budgets(record)
    sizes = [run_of(record, k)["budget"] for k in keys]
    for method, label in LESSON_04_METHODS.items():
        per_budget = [scores_at(record, k)[1][label] for k in keys]
        means, lows, highs = [], [], []
        for scores in per_budget:
            d = paired_difference(scores, [0.0] * len(scores))  # the mean's t-interval
            means.append(d.mean), lows.append(d.mean - d.low), highs.append(d.high - d.mean)
        line = ax.errorbar(sizes, means, yerr=[lows, highs], marker="o", capsize=3, label=label)
        for seed_scores in zip(*per_budget):
            ax.plot(sizes, seed_scores, color=line[0].get_color(), alpha=0.15, lw=0.8)
    ax.axhline(run_of(record, keys[0])["majority"], color="grey", ls="--", lw=1, label="majority class")
    ax.set_xscale("log")
    ax.set_xticks(sizes, [f"{s:,}" for s in sizes])
    ax.xaxis.set_minor_locator(plt.NullLocator())  # the log axis's minor labels would crowd the budgets' own
    return finish(ax, "training snippets, one epoch (log scale)", "accuracy on the test split", title)


def plot_validation_curves(record: dict, key: str, ax=None, title: str = ""):
    """Validation accuracy while training at budget `key`, against the share of the epoch done: one line per
    method and seed. A line still rising at the end had not flattened."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7.6, 3.6))
    for method, label in LESSON_04_METHODS.items():
        color = None
        for seed in complete_seeds(record, key):
            run = record["curves"][method][key][seed]
            steps, _, accuracy = zip(*run["watch_curve"])
            line, = ax.plot([s / run["steps"] for s in steps], accuracy, marker="o", color=color, alpha=0.6,
                            label=None if color else label)
            color = line.get_color()
    # 25 lines fill the axes: the legend goes beside them
    return finish(ax, "share of the epoch trained", "validation accuracy", title, outside=True)


def finish(ax, xlabel: str, ylabel: str, title: str, outside: bool = False):
    """Labels, a legend that keeps clear of rising curves (beside the axes if `outside`), a light grid; the
    figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    if outside:
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    else:
        ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, alpha=0.3)
    ax.figure.tight_layout()
    return ax.figure


def rate_check_text(record: dict, profile) -> str:
    """At the largest budget, each method's mean validation accuracy at its lessons' rate and the grid's
    neighbours (over the seeds that have all three), and whether the best rate moved."""
    key = budget_key(BUDGETS[-1])
    lines = [("method", "rates tried: mean validation accuracy", "seeds", "best", "lessons' rate")]
    for method, grid in RATE_GRID.items():
        chosen = profile.learning_rates[method]
        by_rate = {}
        for rate in grid:
            runs = (record["curves"].get(method, {}).get(key, {}) if rate == chosen
                    else record["rates"].get(method, {}).get(repr(rate), {}))
            by_rate[rate] = {seed: run["validation"] for seed, run in runs.items()}
        seeds = sorted(set.intersection(*(set(v) for v in by_rate.values())) & set(map(str, record["seeds"][:2])))
        if not seeds:
            lines.append((LESSON_04_METHODS[method], "not recorded yet", "0", "-", f"{chosen:g}"))
            continue
        means = {rate: sum(by_rate[rate][s] for s in seeds) / len(seeds) for rate in grid}
        best = max(means, key=means.get)
        lines.append((LESSON_04_METHODS[method], ", ".join(f"{r:g}: {m:.3f}" for r, m in means.items()),
                      str(len(seeds)), f"{best:g}", f"{chosen:g} ({'held' if best == chosen else 'moved'})"))
    return format_table(lines)
