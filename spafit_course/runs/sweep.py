"""Where to put the boundaries (lesson 05, `spafit-course sweep`): an N1 x N2 grid of SPAFIT runs on one task.

Every valid cell (N1 <= N2 <= L) trains SPAFIT with the profile's LoRA targets, rank and alpha on the same
prepared data; the result is saved as JSON and drawn as two heatmaps side by side, the metric and the trainable
parameters, with invalid cells left blank.
"""

from __future__ import annotations

import json
from pathlib import Path

from .experiments import prepared_data, run_method
from ..tuning.atomic import atomic_files, check_folder
from ..tuning.methods import spafit_config
from .profiles import Profile
from .tasks import get_task

#: The quick profile's default grid: 8 valid cells, about half a minute each on 2 CPU cores at SWEEP_TRAIN_SIZE
#: (fewer snippets leave SPAFIT at the majority rate, which would make the heatmap say nothing).
DEFAULT_N1 = (0, 2, 4)
DEFAULT_N2 = (2, 4, 6)
SWEEP_TRAIN_SIZE = 2000


def parse_values(text: str) -> list[int]:
    """'0,2,4' -> [0, 2, 4]; anything but non-negative integers fails naming what is allowed."""
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise ValueError(f"boundaries must be comma-separated integers >= 0, like 0,2,4; got {text!r}") from None
    if not values or values[0] < 0:
        raise ValueError(f"boundaries must be comma-separated integers >= 0, like 0,2,4; got {text!r}")
    return values


def valid_cells(n1_values, n2_values, num_layers: int) -> list[tuple[int, int]]:
    """The (N1, N2) pairs of the grid with 0 <= N1 <= N2 <= L, row by row."""
    return [(a, b) for a in n1_values for b in n2_values if 0 <= a <= b <= num_layers]


def run_sweep(profile: Profile, n1_values=DEFAULT_N1, n2_values=DEFAULT_N2, task_name: str | None = None,
              model_factory=None, progress: bool = True, on_cell=None, data=None) -> dict:
    """Train SPAFIT at every valid (N1, N2) of the grid on shared data; returns the sweep as a plain dict.

    `model_factory(num_labels)` replaces the profile's model (tests use tiny models); `on_cell(cell)` is called
    after each run (the command prints progress with it); `data` is `prepared_data`'s result, when the caller has
    it already.
    """
    from ..tuning.architectures import num_layers
    from .models import meta_model

    task = get_task(task_name or profile.task)
    layers = num_layers(model_factory(task.num_labels) if model_factory else meta_model(profile.model_name))
    n1_values, n2_values = sorted(set(n1_values)), sorted(set(n2_values))
    cells = valid_cells(n1_values, n2_values, layers)
    if not cells:
        raise ValueError(f"no valid cell in the grid N1={n1_values} x N2={n2_values}: need N1 <= N2 <= L = {layers}")
    data = data or prepared_data(profile, task)
    s = profile.spafit
    results = []
    for n1, n2 in cells:
        config = spafit_config(profile, n1, n2)
        row = run_method(profile, "spafit", data, task, spafit_config=config, progress=progress,
                         model_factory=model_factory)
        cell = {"n1": n1, "n2": n2, "score": row["score"], "trainable": row["trainable"], "total": row["total"],
                "train_seconds": row["train_seconds"], "seconds_per_step": row["seconds_per_step"]}
        results.append(cell)
        if on_cell:
            on_cell(cell)
    return {"task": task.name, "metric": task.headline_metric, "split": task.eval_splits[0],
            "profile": profile.name, "model": profile.model_name if model_factory is None else "custom",
            "num_layers": layers, "train_size": profile.train_size, "epochs": profile.epochs,
            "lora": {"targets": list(s["targets"]), "r": s["r"], "alpha": s["alpha"]},
            "train_pooler": profile.train_pooler,
            "n1_values": n1_values, "n2_values": n2_values, "cells": results}


def sweep_grids(sweep: dict):
    """The metric and trainable-parameter grids as arrays (rows N1, columns N2), NaN where a cell is invalid."""
    import numpy as np

    rows, cols = sweep["n1_values"], sweep["n2_values"]
    score = np.full((len(rows), len(cols)), np.nan)
    trainable = np.full_like(score, np.nan)
    for c in sweep["cells"]:
        i, j = rows.index(c["n1"]), cols.index(c["n2"])
        score[i, j], trainable[i, j] = c["score"], c["trainable"]
    return score, trainable


def plot_sweep(sweep: dict, axes=None):
    """Two heatmaps side by side (lesson 05): the metric and the trainable parameters; invalid cells blank."""
    import matplotlib.pyplot as plt
    import numpy as np

    score, trainable = sweep_grids(sweep)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    scale_note = f" (scale from the majority rate, {sweep['majority']:.3f})" if sweep.get("majority") else ""
    panels = ((score, f"{sweep['metric']} on {sweep['split']}{scale_note}", "viridis", "{:.3f}"),
              (trainable, "trainable parameters", "magma", "{:,.0f}"))
    # With a majority rate, the score's colour scale starts there and spans 0.35, so that a few points of noise
    # between cells do not fill the whole scale.
    majority = sweep.get("majority")
    limits = ({"vmin": majority, "vmax": min(1.0, majority + 0.35)} if majority is not None else {}, {})
    for ax, (grid, title, cmap, fmt), scale in zip(axes, panels, limits):
        image = ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, origin="upper", aspect="auto", **scale)
        ax.figure.colorbar(image, ax=ax, shrink=0.85)
        finite = grid[np.isfinite(grid)]
        middle = image.norm.vmin + (image.norm.vmax - image.norm.vmin) / 2 if finite.size else 0
        for (i, j), value in np.ndenumerate(grid):
            if np.isfinite(value):
                ax.text(j, i, fmt.format(value), ha="center", va="center", fontsize=9,
                        color="black" if value > middle else "white")
        ax.set_xticks(range(len(sweep["n2_values"])), [str(v) for v in sweep["n2_values"]])
        ax.set_yticks(range(len(sweep["n1_values"])), [str(v) for v in sweep["n1_values"]])
        ax.set_xlabel("N2 (layers N2+1..L get LoRA)")
        ax.set_ylabel("N1 (layers 1..N1 frozen)")
        ax.set_title(title)
    axes[0].figure.suptitle(f"SPAFIT sweep on {sweep['task']} ({sweep['num_layers']} layers; blank: N1 > N2)")
    return axes[0].figure


def sweep_paths(folder) -> dict[str, Path]:
    """Where `save_sweep` writes (FOLDER/sweep.json and sweep.png), refused before any run if it cannot."""
    paths = {"json": Path(folder) / "sweep.json", "png": Path(folder) / "sweep.png"}
    check_folder(folder, "the sweep results", {"sweep.json": "the sweep's JSON", "sweep.png": "the sweep's heatmaps"})
    return paths


def save_sweep(sweep: dict, folder) -> dict[str, Path]:
    """Write sweep.json and sweep.png into `folder` (together, so a failure leaves earlier ones); returns the paths."""
    import matplotlib.pyplot as plt

    paths = sweep_paths(folder)
    figure = plot_sweep(sweep)
    try:
        with atomic_files(paths["json"], paths["png"]) as (json_file, png_file):
            json_file.write_text(json.dumps(sweep, indent=2))
            figure.savefig(png_file, format="png", dpi=120, bbox_inches="tight")
    finally:
        plt.close(figure)
    return paths


def load_sweep(path) -> dict:
    """A sweep saved by `save_sweep` (lesson 05 draws it with `plot_sweep`)."""
    return json.loads(Path(path).read_text())
