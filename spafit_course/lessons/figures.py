"""Concept figures for the ideas the lessons explain, drawn from shapes, not results (lesson 02).

Each function draws on a new figure (or the axes given) and returns the figure; nothing here trains.
"""

from __future__ import annotations


def _box(ax, x, y, width, height, text, color, fontsize=9):
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x, y), width, height, facecolor=color, edgecolor="black", lw=1))
    ax.text(x + width / 2, y + height / 2, text, ha="center", va="center", fontsize=fontsize)


def _arrow(ax, start, end):
    ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "->", "lw": 1.2})


def _canvas(ax, width, height, title):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(width, height))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 6)
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    return ax


def draw_lora_layer(d_in: int = 384, d_out: int = 384, r: int = 8, alpha: float = 16, ax=None):
    """One LoRA-wrapped matrix: x through frozen W (d_out x d_in) plus (alpha/r) B A beside it, then added."""
    ax = _canvas(ax, 7, 3.4, f"LoRA: h = W x + (alpha/r) B A x, rank r = {r}, alpha/r = {alpha / r:g}")
    _box(ax, 0.2, 2.6, 1.4, 0.8, f"x\n{d_in}", "white")
    _box(ax, 3.0, 3.6, 2.8, 1.8, f"W (frozen)\n{d_out} x {d_in}\n{d_in * d_out:,} numbers", "#dddddd")
    thin = max(0.25, 1.8 * r / max(d_in, d_out))
    _box(ax, 2.3, 0.6, 2.0, thin + 0.5, f"A  {r} x {d_in}\n(random start)", "#9ecae1", 8)
    _box(ax, 4.6, 0.6, 2.0, thin + 0.5, f"B  {d_out} x {r}\n(zero start)", "#9ecae1", 8)
    # above A and B, left of the arrow that leaves B (it must not cross the text)
    ax.text(4.45, 2.15, f"x alpha/r = {alpha / r:g};  trainable: {r * (d_in + d_out):,}", ha="center", fontsize=8)
    _box(ax, 7.0, 2.6, 0.8, 0.8, "+", "white", 14)
    _box(ax, 8.5, 2.6, 1.3, 0.8, f"h\n{d_out}", "white")
    _arrow(ax, (1.6, 3.0), (3.0, 4.5))
    _arrow(ax, (1.6, 3.0), (2.3, 1.2))
    _arrow(ax, (4.3, 1.2), (4.6, 1.2))
    _arrow(ax, (5.8, 4.5), (7.0, 3.2))
    _arrow(ax, (6.6, 1.2), (7.0, 2.8))
    _arrow(ax, (7.8, 3.0), (8.5, 3.0))
    return ax.figure


def draw_merge(d_in: int = 384, d_out: int = 384, r: int = 8, ax=None):
    """Merging: the trained pair B A is folded into W once, leaving one matrix of the original shape."""
    ax = _canvas(ax, 7, 2.6, "merging: W' = W + (alpha/r) B A, computed once after training")
    _box(ax, 0.2, 1.8, 2.0, 2.4, f"W\n{d_out} x {d_in}", "#dddddd")
    ax.text(2.6, 3.0, "+", fontsize=16, ha="center", va="center")
    _box(ax, 3.0, 2.2, 0.9, 1.6, f"B\n{d_out}x{r}", "#9ecae1", 8)
    _box(ax, 4.0, 2.7, 1.6, 0.6, f"A  {r}x{d_in}", "#9ecae1", 8)
    ax.text(6.3, 3.0, "=", fontsize=16, ha="center", va="center")
    _box(ax, 7.0, 1.8, 2.2, 2.4, f"W'\n{d_out} x {d_in}\nno extra cost\nat inference", "#c7e9c0")
    ax.text(4.6, 0.9, "after merging, each layer is one matrix multiplication again", ha="center", fontsize=8)
    return ax.figure
