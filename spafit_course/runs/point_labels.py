"""Labels for the points of a scatter plot that neither cover each other nor leave the axes.

`label_points(ax, xs, ys, labels)` writes each label next to its point. Where it goes is decided each time the
figure is drawn, with the axes' final limits and scale (a caller may still change them after this call, as
lesson 04 does): for each point in turn, the first of a list of places around it (right, then left, then
further up or down, in the point's colour so that it still reads as the point's) whose text box stays inside
the axes and clears the labels already placed and the other points.
"""

from __future__ import annotations

from matplotlib.artist import Artist

#: (dx, dy) offsets in points from the point to the label's anchor, tried in this order: close by first.
_STEPS = (4, -12, 16, -24, 28, -36, 40, -48)
CANDIDATES = ([(7, dy) for dy in _STEPS[:2]] + [(-7, dy) for dy in _STEPS[:2]]
              + [(side * 7, dy) for dy in _STEPS[2:] for side in (1, -1)])
MARKER_RADIUS = 5  # points: what a label must not cover around every point


class PointLabels(Artist):
    """Places its annotations when the axes draw it; it draws first (zorder -1), the annotations after."""

    def __init__(self, ax, points, annotations):
        super().__init__()
        self.points, self.annotations = points, annotations
        self.set_zorder(-1)
        self.set_figure(ax.figure)
        self.axes = ax

    def draw(self, renderer):
        ax = self.axes
        box = ax.get_window_extent(renderer)
        pixels = renderer.points_to_pixels(1.0)
        radius = MARKER_RADIUS * pixels
        markers = [ax.transData.transform(p) for p in self.points]
        taken = []
        for annotation, (mx, my) in zip(self.annotations, markers):
            choice = None
            for dx, dy in CANDIDATES:
                place(annotation, dx, dy)
                extent = annotation.get_window_extent(renderer)
                inside = (extent.x0 >= box.x0 and extent.x1 <= box.x1 and extent.y0 >= box.y0
                          and extent.y1 <= box.y1)
                clear = not any(extent.overlaps(other) for other in taken) and not any(
                    extent.x0 - radius < x < extent.x1 + radius and extent.y0 - radius < y < extent.y1 + radius
                    for x, y in markers if (x, y) != (mx, my))
                if inside and clear:
                    choice = (dx, dy)
                    break
                if inside and choice is None:
                    choice = (dx, dy)  # inside at least, should every place overlap something
            place(annotation, *(choice or CANDIDATES[0]))
            taken.append(annotation.get_window_extent(renderer))
        self.stale = False


def place(annotation, dx: float, dy: float) -> None:
    """Put the label at (dx, dy) points from its point, aligned away from it."""
    annotation.xyann = (dx, dy)
    annotation.set_horizontalalignment("left" if dx >= 0 else "right")


def label_points(ax, xs, ys, labels, colors=None, fontsize: float = 9):
    """Label each (x, y) of `ax` with its text (in its point's colour, if given), placed at draw time where it
    collides with nothing; returns the annotations."""
    points = list(zip(xs, ys))
    colors = list(colors) if colors is not None else ["black"] * len(points)
    annotations = [ax.annotate(text, xy, xytext=(7, 4), textcoords="offset points", fontsize=fontsize,
                               color=color, va="bottom", annotation_clip=False)
                   for text, xy, color in zip(labels, points, colors)]
    ax.add_artist(PointLabels(ax, points, annotations))
    return annotations
