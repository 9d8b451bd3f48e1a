"""Running the methods on a task and reporting them (lessons 04 and 05, and `spafit-course compare`)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .data import prepare_task
from ..tuning.heads import head_of
from .hub import require_hub
from ..tuning.methods import METHODS, check_method, prepare_model
from .models import load_model, load_tokenizer
from .overrides import check_steps
from ..tuning.atomic import atomic_files, check_folder
from ..tuning.params import format_table
from .profiles import Profile
from ..tuning.spafit import apply_spafit
from .tasks import Task, get_task
from .train import release_device_memory, train_and_evaluate


def prepared_data(profile: Profile, task_name: str | Task | None = None, tokenizer=None):
    """Tokenizer, tokenised train set and eval sets for the profile's task (or another task).

    Fails in one line (HubUnreachableError) before anything loads when the profile needs an unreachable Hub.
    """
    task = get_task(task_name or profile.task)
    require_hub(profile, task, model=tokenizer is None)
    tokenizer = tokenizer or load_tokenizer(profile.model_name)
    train, evals = prepare_task(task, tokenizer, profile.max_length, profile.train_size, profile.eval_size,
                                seed=profile.seed)
    return tokenizer, train, evals


def run_method(profile: Profile, method: str, data=None, task_name: str | Task | None = None, spafit_config=None,
               progress: bool = True, model_factory=None, watch=None, watch_points: int = 0) -> dict:
    """Load a fresh model, prepare it for `method`, train and evaluate; one result row.

    `spafit_config` overrides the profile's SPAFIT settings (the sweep and the notebook's explorer use it);
    `model_factory(num_labels)` replaces the profile's model (tests use tiny models); `watch` (a tokenised split)
    is scored at `watch_points` steps while training (`train_and_evaluate`).
    """
    check_method(method)
    task = get_task(task_name or profile.task)
    if data is None:
        data = prepared_data(profile, task)
    elif model_factory is None:
        require_hub(profile, task, data=False)
    tokenizer, train, evals = data
    # the data may hold fewer examples than the profile asked for (or all of a split): checked on what trains
    check_steps(profile.epochs, len(train), profile.batch_size, f"{method} on {task.name}")
    if model_factory is not None:
        model = model_factory(task.num_labels)
    else:
        model = load_model(profile.model_name, task.num_labels, seed=profile.seed, head=profile.head)
    if spafit_config is not None and method == "spafit":
        apply_spafit(model, spafit_config)
    else:
        prepare_model(model, method, profile)
    result = train_and_evaluate(model, tokenizer, task, train, evals, profile.learning_rates[method],
                                profile.epochs, profile.batch_size, profile.seed, progress=progress, watch=watch,
                                watch_points=watch_points)
    row = result_row(profile, method, task, result)
    row["head"] = head_of(model)
    spafit = getattr(model, "spafit_config", None)
    if spafit is not None:
        row["spafit_config"] = spafit.to_dict()
    row["_model"] = model
    return row


def result_row(profile: Profile, method: str, task, result) -> dict:
    """One result row from a `TrainResult`: the headline score of the first eval split, counts and timings."""
    split = task.eval_splits[0]
    return {
        "method": method, "task": task.name, "profile": profile.name, "model": profile.model_name,
        "metric": task.headline_metric, "score": result.metrics[split][task.headline_metric], "split": split,
        "trainable": result.trainable, "total": result.total,
        "percent_trainable": 100.0 * result.trainable / result.total,
        "train_seconds": result.train_seconds, "seconds_per_step": result.median_step_seconds,
        "steps": result.steps, "peak_memory_mb": result.peak_memory_mb, "device": result.device,
        "all_metrics": result.metrics, "loss_curve": result.history.get("loss", []),
        **({"watch_curve": result.history["watch"]} if "watch" in result.history else {}),
    }


def compare_methods(profile: Profile, methods=METHODS, task_name: str | Task | None = None, progress: bool = True,
                    model_factory=None, on_result=None, data=None) -> list[dict]:
    """Run each method on the same data; returns result rows (each with its trained model under "_model").

    On a GPU each trained model moves to the CPU before the next method starts, so every method's peak memory
    is its own (the rows keep the models, e.g. for saving adapters). `data` is `prepared_data`'s result, when
    the caller has it already.
    """
    for method in methods:
        check_method(method)
    task = get_task(task_name or profile.task)  # resolved once; the Task object travels from here
    data = data or prepared_data(profile, task)
    rows = []
    for method in methods:
        row = run_method(profile, method, data, task, progress=progress, model_factory=model_factory)
        release_device_memory(row["_model"])
        rows.append(row)
        if on_result:
            on_result(row)
    return rows


def metric_columns(rows) -> list[tuple[str, str]]:
    """Every (eval split, metric) pair the rows report, in the order they first appear."""
    columns = []
    for r in rows:
        for split, metrics in r["all_metrics"].items():
            columns += [(split, name) for name in metrics if (split, name) not in columns]
    return columns


def metric_label(split: str, name: str, columns) -> str:
    """`accuracy` when the rows have one eval split, else `accuracy (validation_matched)`."""
    return name if len({s for s, _ in columns}) == 1 else f"{name} ({split})"


def metric_value(row: dict, split: str, name: str):
    return row["all_metrics"].get(split, {}).get(name)


def results_table(rows) -> str:
    """Method, trainable parameters, % of total, every metric of every eval split, train s, s/step, peak GPU MB.

    Peak memory is shown per method on a GPU only: on a CPU the process's resident memory keeps what earlier
    methods left, so a later method would look hungrier (`spafit-course bench` measures each in a fresh process).
    """
    columns = metric_columns(rows)
    table = [("method", "trainable", "% of total", *(metric_label(s, m, columns) for s, m in columns), "train s",
              "s/step", "peak GPU MB")]
    for r in rows:
        scores = [metric_value(r, s, m) for s, m in columns]
        table.append((r["method"], f"{r['trainable']:,}", f"{r['percent_trainable']:.3f}",
                      *("-" if v is None else f"{v:.4f}" for v in scores),
                      f"{r['train_seconds']:.1f}", f"{r['seconds_per_step']:.3f}",
                      "-" if r.get("device", "cpu") == "cpu" else f"{r['peak_memory_mb']:.0f}"))
    return format_table(table)


def public(row: dict) -> dict:
    """A row without its private entries (the trained model)."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


def result_paths(folder, name: str = "compare") -> dict[str, Path]:
    """Where `save_results` writes: FOLDER/NAME.json, .csv and .png."""
    return {kind: Path(folder) / f"{name}.{kind}" for kind in ("json", "csv", "png")}


def check_result_paths(folder, name: str = "compare") -> dict[str, Path]:
    """Refuse, before any training, a folder `save_results` could not write into (each file's role named)."""
    paths = result_paths(folder, name)
    check_folder(folder, f"the {name} results", {p.name: f"the {name} results' {kind.upper()}"
                                                  for kind, p in paths.items()})
    return paths


RESULTS_FORMAT = "spafit-course results"


def save_results(rows, folder, name: str = "compare", run: dict | None = None) -> dict[str, Path]:
    """Write the rows as JSON and CSV and the metric-vs-parameters plot as PNG; returns the paths.

    The JSON is {"format", "run", "rows"}: `run` is the run's provenance (`provenance.run_record`; without one,
    a record of the versions alone), and the CSV repeats its run id on every row. The CSV has one column per
    eval split and metric, named `split/metric` (e.g. `validation/f1`). The three files are written under
    temporary names and moved into place together, so a failure leaves earlier results whole.
    """
    import matplotlib.pyplot as plt

    from .provenance import run_record

    paths = check_result_paths(folder, name)
    run = run if run is not None else run_record()
    clean = [public(r) for r in rows]
    columns = ["method", "task", "metric", "score", "trainable", "total", "percent_trainable", "train_seconds",
               "seconds_per_step", "steps", "peak_memory_mb", "device", "profile", "model", "run_id"]
    metrics = metric_columns(clean)
    table = io.StringIO()
    writer = csv.DictWriter(table, fieldnames=columns + [f"{s}/{m}" for s, m in metrics], extrasaction="ignore")
    writer.writeheader()
    for r in clean:
        writer.writerow({**r, "run_id": run["run_id"], **{f"{s}/{m}": metric_value(r, s, m) for s, m in metrics}})
    figure = plot_metric_vs_parameters(clean)
    try:
        with atomic_files(*paths.values()) as (json_file, csv_file, png_file):
            json_file.write_text(json.dumps({"format": RESULTS_FORMAT, "run": run, "rows": clean}, indent=2))
            with open(csv_file, "w", newline="") as f:
                f.write(table.getvalue())
            figure.savefig(png_file, format="png", dpi=120, bbox_inches="tight")
    finally:
        plt.close(figure)
    return paths


def load_results(path) -> dict:
    """{"run", "rows"} of a results file `save_results` wrote; a file from before runs were recorded (a bare list
    of rows) has "run": None. A file of another shape fails naming it."""
    path = Path(path)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}); run the command again to rewrite it") from None
    if isinstance(saved, list):
        return {"format": RESULTS_FORMAT, "run": None, "rows": saved}
    if not (isinstance(saved, dict) and saved.get("format") == RESULTS_FORMAT and isinstance(saved.get("rows"), list)):
        raise ValueError(f"{path} is not a {RESULTS_FORMAT} file (no \"format\": \"{RESULTS_FORMAT}\" with rows)")
    return saved


def plot_metric_vs_parameters(rows, ax=None):
    """The course's key picture: score against trainable parameters, log x axis, one labelled point each."""
    import matplotlib.pyplot as plt

    from .point_labels import label_points

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    points = [ax.scatter(r["trainable"], r["score"], s=50) for r in rows]
    # placed when drawn, inside the axes and clear of each other, even after the caller changes the limits
    label_points(ax, [r["trainable"] for r in rows], [r["score"] for r in rows],
                 [r.get("label", r["method"]) for r in rows], colors=[p.get_facecolor()[0] for p in points])
    ax.set_xscale("log")
    ax.set_xlabel("trainable parameters (log scale)")
    ax.set_ylabel(f"{rows[0]['metric']} on {rows[0]['split']}" if rows else "score")
    ax.set_title(f"{rows[0]['task']}: score against trainable parameters" if rows else "")
    ax.grid(True, which="both", alpha=0.3)
    return ax.figure
