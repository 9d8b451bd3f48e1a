"""Lesson results over several seeds (lessons 01-06): the record the lessons read, and how they show it.

A lesson trains seed 42 live; the other seeds come from a record that `spafit-course lessons --record-seeds`
writes with the very functions the lessons call, and a test reruns seed 42 against it. Within a seed every method
shares the training subset and the evaluation snippets, so each method is shown as its mean ± standard error
over seeds and beside the head-only control as a paired difference with a 95 % interval (`stats.py`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..tuning.atomic import write_text
from ..tuning.params import format_table
from .budget import CONTROL, SEEDS
from .results import trained_results
from .stats import bound, mean_and_se, paired_difference, verdict

#: Every lesson experiment at the quick profile's lesson budget over `SEEDS` (`--record-seeds` remakes it).
RECORDED_SEEDS = Path(__file__).parent / "recorded" / "seeds-quick.json"


def one_seed(experiments: dict, profile, seed: int, threads: int | None = None, on_result=None) -> dict:
    """{name: result} of every experiment ({name: function(profile, seed)}) for one seed, trained here: a run
    memo may speed up a lesson, never fill a record, so `$SPAFIT_RUN_MEMO` is ignored."""
    os.environ.pop("SPAFIT_RUN_MEMO", None)
    if threads:
        import torch

        torch.set_num_threads(threads)
    results = {}
    for name, run in experiments.items():
        results[name] = run(profile, seed)
        if on_result:
            on_result(name, seed, results[name])
    return results


def record_seeds(experiments: dict, profile, seeds=SEEDS, path=RECORDED_SEEDS, on_result=None, jobs: int = 1
                 ) -> dict:
    """Run every experiment ({name: function(profile, seed)}) for every seed and store them with how they were
    made; `on_result(name, seed, result)` is called after each (after each seed with `jobs` > 1).

    With `jobs` > 1 the seeds run in that many processes of one thread each: on a busy machine, torch's threads
    wait for each other and one thread per process finishes far sooner (the results are the same).
    """
    import datetime
    import platform
    from dataclasses import asdict

    import torch

    if len(set(seeds)) < 2 or len(set(seeds)) != len(list(seeds)):
        raise ValueError(f"a record pairs methods over seeds: it needs two or more distinct seeds, got {list(seeds)}")
    results = {name: {} for name in experiments}
    if jobs > 1:
        import functools

        from ..runs.workers import worker_pool

        work = functools.partial(one_seed, experiments, profile, threads=1)
        with worker_pool(jobs) as pool:  # Ctrl-C or a kill stops the workers too
            by_seed = dict(zip(seeds, pool.map(work, seeds)))
    else:
        by_seed = {seed: one_seed(experiments, profile, seed, on_result=on_result) for seed in seeds}
    for seed, found in by_seed.items():
        for name, result in found.items():
            results[name][str(seed)] = result
            if on_result and jobs > 1:
                on_result(name, seed, result)
    threads = f"one thread in each of {jobs} processes" if jobs > 1 else f"{torch.get_num_threads()} threads"
    record = {"made": f"recorded {datetime.date.today().isoformat()} by `spafit-course lessons --record-seeds` on "
                      f"{os.cpu_count()} CPU cores ({threads}), torch {torch.__version__}, {platform.machine()}",
              "profile": asdict(profile), "seeds": list(seeds), "versions": library_versions(), "results": results}
    write_text(path, json.dumps(record, indent=1, default=list) + "\n")  # a failure leaves the old record
    return record


def library_versions() -> dict:
    """The versions of the package and the libraries a record's numbers depend on (its provenance)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("spafit-course", "torch", "transformers", "datasets", "peft"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def recorded_seeds(path=RECORDED_SEEDS) -> dict:
    """The stored multi-seed record (lessons 01-06); a file that cannot be read is named in the error."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ValueError(f"the seed record {path} cannot be read ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else 'no message'}); remake it with "
                         "`spafit-course lessons --record-seeds`") from None


def seed_scores(record: dict, experiment: str, part: str | None = None, field: str = "score"
                ) -> tuple[dict[str, list[float]], list[float]]:
    """({label: value per seed}, majority rate per seed) of one experiment, seeds in the record's order.

    `part` picks a sub-result (lesson 05's "test"); `field` another number of each row than its score (lesson
    06's "probe", judged against "probe_majority").
    """
    if experiment not in record["results"]:
        raise ValueError(f"the record holds no experiment {experiment!r}; it has {sorted(record['results'])}")
    missing = [seed for seed in record["seeds"] if str(seed) not in record["results"][experiment]]
    if missing:
        raise ValueError(f"the record's {experiment} lacks seeds {missing} of its seeds {record['seeds']}")
    by_seed = [record["results"][experiment][str(seed)] for seed in record["seeds"]]
    by_seed = [result[part] for result in by_seed] if part else by_seed
    if field == "score":
        per_seed = [dict(trained_results(result)) for result in by_seed]
        majority = [result["majority"] for result in by_seed]
    else:
        per_seed = [{row["label"]: row[field] for row in result["rows"] if field in row} for result in by_seed]
        majority = [result[f"{field}_majority"] for result in by_seed]
    # a result some seed lacks (a probe of a constant [CLS] vector, say) cannot pair up: only the common ones
    return {label: [values[label] for values in per_seed] for label in per_seed[0]
            if all(label in values for values in per_seed)}, majority


def require_labels(scores: dict, labels, experiment: str) -> None:
    """Refuse a label the experiment has no result for on every seed, naming the ones it has."""
    for label in labels:
        if label not in scores:
            raise ValueError(f"{experiment} has no result {label!r} on every seed; it has {sorted(scores)}")


def seeds_text(record: dict, experiment: str, control: str = CONTROL, labels=None, names=None, **where) -> str:
    """One line per result: its mean ± standard error over the seeds, its mean gain over the majority rate, and
    its paired difference from the control with a 95 % interval and the count of seeds above it (`where`: the
    part and field of `seed_scores`; `names`: shorter names to print, {label: name})."""
    scores, majority = seed_scores(record, experiment, **where)
    labels = labels or list(scores)
    require_labels(scores, labels, experiment)
    name = (names or {}).get
    n = len(record["seeds"])
    table = [("result", f"mean ± SE ({n} seeds)", "gain over majority",
              f"minus {name(control, control)}: mean [95 % CI]", "seeds above")]
    for label in labels:
        spread = mean_and_se(scores[label], seeds=record["seeds"])
        gain = mean_and_se([s - m for s, m in zip(scores[label], majority)], seeds=record["seeds"]).mean
        if label == control or control not in scores:
            table.append((name(label, label), str(spread), f"{gain:+.3f}", "-", "-"))
            continue
        d = paired_difference(scores[label], scores[control], seeds=record["seeds"])
        table.append((name(label, label), str(spread), f"{gain:+.3f}",
                      f"{d.mean:+.3f} [{bound(d.low)}, {bound(d.high)}]", f"{d.higher} of {d.n}"))
    return (f"seeds {', '.join(map(str, record['seeds']))}; majority-class rate {mean_and_se(majority)}\n"
            + format_table(table))


def difference(record: dict, experiment: str, a: str, b: str, **where):
    """The paired difference a - b over the record's seeds (`stats.PairedDifference`)."""
    scores, _ = seed_scores(record, experiment, **where)
    require_labels(scores, (a, b), experiment)
    return paired_difference(scores[a], scores[b], seeds=record["seeds"])


def verdicts_text(record: dict, experiment: str, pairs, names=None, holm: bool = False, **where) -> str:
    """The sentence each paired difference allows (`stats.verdict`), one per line (`names`: as in `seeds_text`).

    With `holm`, the pairs are one family drawn from one test split: a difference is called only where it survives
    Holm's correction over all of them (`inference.family_verdicts`), and each line says so.
    """
    name = (names or {}).get
    if holm:
        from .inference import family_verdicts

        scores, _ = seed_scores(record, experiment, **where)
        return "\n".join(family_verdicts({(name(a, a), name(b, b)): (scores[a], scores[b]) for a, b in pairs}))
    return "\n".join(verdict(name(a, a), name(b, b), difference(record, experiment, a, b, **where))
                     for a, b in pairs)


def plot_seeds(record: dict, experiment: str, control: str = CONTROL, labels=None, ax=None, title: str = "",
               names=None, **where):
    """Each result's paired difference from the control: one dot per seed, the mean and its 95 % interval."""
    import matplotlib.pyplot as plt

    scores, _ = seed_scores(record, experiment, **where)
    labels = [label for label in (labels or scores) if label != control]
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 0.55 * len(labels) + 1.4))
    for i, label in enumerate(labels):
        diffs = [a - b for a, b in zip(scores[label], scores[control])]
        d = paired_difference(scores[label], scores[control])
        ax.scatter(diffs, [i] * len(diffs), color="tab:blue", alpha=0.45, s=18, zorder=2)
        ax.errorbar(d.mean, i, xerr=[[d.mean - d.low], [d.high - d.mean]], fmt="o", color="black", capsize=4,
                    zorder=3)
    ax.axvline(0, color="grey", ls="--", lw=1)
    ax.set_yticks(range(len(labels)))
    name = (names or {}).get
    ax.set_yticklabels([name(label, label) for label in labels])
    ax.invert_yaxis()
    ax.set_xlabel(f"accuracy minus {name(control, control)} (dots: seeds; black: mean and 95 % interval)")
    ax.set_title(title)
    ax.figure.tight_layout()
    return ax.figure
