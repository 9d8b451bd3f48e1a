"""Figures a reader meets: labels stay inside their axes and clear of each other, arrows cross no text."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from spafit_course.runs.experiments import plot_metric_vs_parameters
from spafit_course.lessons.figures import draw_lora_layer, draw_merge


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def row(label, trainable, score):
    return {"method": label, "label": label, "trainable": trainable, "score": score, "metric": "accuracy",
            "split": "test", "task": "polarity"}


# Lesson 04's four methods (bitfit, lora and spafit within 0.02 and a factor 1.3 of each other), the explorer's
# long labels, one point at the right edge of the axes.
LESSON_04 = [row("full", 22_713_986, 0.743), row("bitfit", 169_346, 0.697), row("lora", 222_338, 0.713),
             row("spafit", 187_010, 0.710)]
EXPLORER = [row("N1=2 N2=4 r=8 query/value", 187_010, 0.71),
            row("N1=0 N2=0 r=64 query/key/value/attention_output", 900_000, 0.72),
            row("N1=6 N2=6 r=8 query/value", 148_610, 0.705)]


def label_boxes(figure, ax):
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in ax.texts], ax.get_window_extent(renderer)


@pytest.mark.parametrize("rows, ylim, size", [(LESSON_04, (0.4, 1.0), (5.5, 3.4)), (LESSON_04, None, (6, 4)),
                                              (EXPLORER, None, (6, 4)), (EXPLORER[:1], None, (6, 4))])
def test_point_labels_stay_inside_the_axes_and_apart(rows, ylim, size):
    figure, ax = plt.subplots(figsize=size)
    plot_metric_vs_parameters(rows, ax=ax)
    if ylim:
        ax.set_ylim(*ylim)  # as lesson 04 does after the call: the labels are placed when drawn
    boxes, frame = label_boxes(figure, ax)
    assert [t.get_text() for t in ax.texts] == [r["label"] for r in rows]
    for box, r in zip(boxes, rows):
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, r["label"]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not a.overlaps(b)


def arrows_and_texts(figure):
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    ax = figure.axes[0]
    arrows = [t.arrow_patch.get_path().transformed(t.arrow_patch.get_transform())
              for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    texts = [(t.get_text(), t.get_window_extent(renderer)) for t in ax.texts if t.get_text()]
    return arrows, texts


@pytest.mark.parametrize("draw", [draw_lora_layer, lambda: draw_lora_layer(1024, 1024, 64, 128), draw_merge])
def test_no_arrow_crosses_a_text(draw):
    arrows, texts = arrows_and_texts(draw())
    assert arrows or draw is draw_merge
    for text, box in texts:
        assert not any(path.intersects_bbox(box, filled=False) for path in arrows), text
