"""Print the tables of docs/results.md that come from the package's records, as Markdown, so the document can be
remade from the records after `spafit-course lessons --record-seeds` or `--record-budgets`.

    python tools/results_tables.py seeds     # the lessons' experiments over five seeds
    python tools/results_tables.py budgets   # lesson 05's comparison across budgets
"""

from __future__ import annotations

import argparse

from spafit_course.lessons.stats import mean_and_se

SEED_TABLES = [("Lesson 01: BitFit", "01", {}), ("Lesson 02: LoRA ranks (alpha 16)", "02", {}),
               ("Lesson 03: top k and bottom k layers", "03-top-k", {}), ("Lesson 04: the methods", "04", {}),
               ("Lesson 05: boundaries chosen on validation, scored on test", "05", {"part": "test"}),
               ("Lesson 06: polarity accuracy of the forgetting runs", "06-forgetting", {"control": "head"}),
               ("Lesson 06: TREC probe after fine-tuning", "06-forgetting", {"control": "head", "field": "probe"}),
               ("Lesson 06: the same budget placed two ways", "06-ablation", {"control": "spafit"})]


def block(text: str) -> str:
    return f"```\n{text}\n```\n"


def seeds_markdown() -> str:
    from spafit_course.lessons.seeds import recorded_seeds, seed_scores, seeds_text

    record = recorded_seeds()
    parts = []
    for title, experiment, where in SEED_TABLES:
        parts.append(f"### {title}\n\n" + block(seeds_text(record, experiment, **where)))
    probes, _ = seed_scores(record, "03-probes")
    parts.append("### Lesson 03: linear probes per layer of the frozen checkpoint (mean ± SE over the seeds' probe "
                 "samples)\n\n" + block("\n".join(f"{label:22s} {mean_and_se(v)}" for label, v in probes.items())))
    cells, _ = seed_scores(record, "05")
    parts.append("### Lesson 05: SPAFIT cells on the validation split (mean ± SE, then seeds "
                 f"{', '.join(map(str, record['seeds']))})\n\n" + block("\n".join(
                     f"{label:22s} {mean_and_se(v)}  {' '.join(f'{x:.3f}' for x in v)}" for label, v in cells.items())))
    picks = [(seed, record["results"]["05"][str(seed)]["test"]["rows"][-1]) for seed in record["seeds"]]
    parts.append("The best cell of each seed on validation (ties: fewer trainable parameters) went to the test split "
                 "once: " + "; ".join(f"seed {seed}: N1={row['n1']} N2={row['n2']}" for seed, row in picks) + ".\n")
    return "\n".join(parts)


def budgets_markdown() -> str:
    from spafit_course.lessons.budget_curves import read_budget_record
    from spafit_course.lessons.budget_views import budget_table, budget_verdicts, ordering_table, rate_check_text
    from spafit_course.lessons.budget_views import recorded_budgets
    from spafit_course.runs.profiles import get_profile

    record = read_budget_record()
    parts = ["Test accuracy, mean ± SE over the seeds that have every method at that budget:\n",
             block(budget_table(record)),
             "Verdicts at each budget, Holm-corrected over the seven comparisons of that budget (95 % t-intervals "
             "over seeds; Holm-adjusted p-values):\n",
             block("\n".join(budget_verdicts(record, key) for key in recorded_budgets(record))),
             "The same verdicts as signs (`>`: the first detectably higher, `<`: lower, `~`: not detectable):\n",
             block(ordering_table(record)),
             "Learning rates at the largest budget, on validation:\n",
             block(rate_check_text(record, get_profile("quick")))]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("seeds", "budgets"), help="which record's tables to print")
    args = parser.parse_args()
    print(seeds_markdown() if args.which == "seeds" else budgets_markdown())


if __name__ == "__main__":
    main()
