"""Strip notebooks for the repository, and refuse ones that leak the machine they ran on.

    python tools/clean_notebooks.py                   # clean every notebook in notebooks/, solutions/, exercises/
    python tools/clean_notebooks.py FILE ...          # clean only these
    python tools/clean_notebooks.py --check FILE ...  # only report, change nothing

Cleaning turns nbval's comment markers (a `# NBVAL_CHECK_OUTPUT` line, and the others nbval knows) into the cell
tags nbval reads the same way (`nbval-check-output`), so a reader sees code, not test machinery. It removes
stored widget state (`metadata.widgets`: GitHub cannot render it without the live kernel), and with it each
stored output's reference to a widget view where the output carries a static picture of the widget (so
JupyterLab shows that picture before the notebook runs, not "Error displaying widget: model not found"), and
nbconvert's per-cell execution timestamps, sets the kernelspec ipykernel installs ("Python 3 (ipykernel)"), and
writes the "Open in Colab" badge and the Colab install line from `spafit_course/lessons/publish.py`. It then
fails (exit 1) when an output still holds a machine path (/work, /root, /tmp, /home/NAME), a stderr stream, a
widget with no static picture, or an nbval comment marker (with --check, which converts nothing): each means a
reader would meet something they should not (a path, a warning, a widget's text representation where its figure
belongs, test machinery), and the fix for the first three belongs in the notebook's code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # spafit_course.lessons.publish, also when the package is not installed
from spafit_course.lessons.publish import (  # noqa: E402
    badge_url,
    publication_problems,
    publish_notebook,
)

FOLDERS = ("notebooks", "solutions", "exercises")
MACHINE_PATH = re.compile(r"(?<![\w.])(/work|/root|/tmp|/home/[\w.-]+)(/|\b)")
# What `python -m ipykernel install` writes: Jupyter shows this name, and a different one reads as another kernel.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
STATIC = ("image/png", "image/svg+xml", "image/jpeg")  # a widget's static fallback: a picture of it
# nbval's comment markers and the cell tags it reads as the same instruction (nbval 0.11, plugin.py)
NBVAL_TAGS = {marker: marker.lower().replace("_", "-") for marker in
              ("NBVAL_CHECK_OUTPUT", "NBVAL_IGNORE_OUTPUT", "NBVAL_RAISES_EXCEPTION", "NBVAL_SKIP")}
NBVAL_MARKER = re.compile(r"^\s*#+\s*(" + "|".join(NBVAL_TAGS) + r")\b\s*(?::\s*(.*))?$")


def output_texts(output: dict):
    """Every piece of text an output shows a reader: stream text, non-image data, tracebacks."""
    if output.get("output_type") == "stream":
        yield _join(output.get("text", ""))
    for mime, value in output.get("data", {}).items():
        if not mime.startswith("image/"):  # base64 images can spell "/tmp" by chance
            yield value if isinstance(value, str) else _join(value) if isinstance(value, list) else json.dumps(value)
    if output.get("output_type") == "error":
        yield "\n".join(output.get("traceback", []))


def _join(text) -> str:
    return "".join(text) if isinstance(text, list) else text


def markers_to_tags(cell: dict) -> list[str]:
    """Move the cell's nbval comment markers into its tags, in place; returns the tags added.

    `# NBVAL_CHECK_OUTPUT` becomes the tag `nbval-check-output` and its line goes. A marker with a reason
    (`# NBVAL_IGNORE_OUTPUT: the verdict rests on a borderline measurement`) keeps the reason as a comment.
    """
    if cell.get("cell_type") != "code":
        return []
    kept, added = [], []
    for line in _join(cell.get("source", "")).split("\n"):
        match = NBVAL_MARKER.match(line)
        if not match:
            kept.append(line)
            continue
        added.append(NBVAL_TAGS[match.group(1)])
        if match.group(2):
            kept.append(f"{line[:len(line) - len(line.lstrip())]}# {match.group(2).strip()}")
    if added:
        cell["source"] = "\n".join(kept)
        tags = cell.setdefault("metadata", {}).setdefault("tags", [])
        tags.extend(tag for tag in dict.fromkeys(added) if tag not in tags)
    return added


def clean_notebook(nb: dict, relative_path: str | None = None) -> dict:
    """Turn nbval comment markers into cell tags, remove widget state and execution timestamps, set the
    kernelspec and, given the notebook's path in the repository, its badge and install lines; in place; returns
    the notebook."""
    metadata = nb.setdefault("metadata", {})
    metadata.pop("widgets", None)
    metadata["kernelspec"] = dict(KERNELSPEC)
    for cell in nb.get("cells", []):
        cell.get("metadata", {}).pop("execution", None)
        markers_to_tags(cell)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and any(mime in data for mime in STATIC):
                del data[WIDGET_VIEW]  # its state is not stored: the picture is what a reader can see
    if relative_path is not None:
        publish_notebook(nb, relative_path)
    return nb


def problems(nb: dict) -> list[str]:
    """What keeps a notebook out of the repository: widget state, machine paths, stderr, widgets without a
    static picture, nbval comment markers; one line each."""
    found = []
    if "widgets" in nb.get("metadata", {}):
        found.append("notebook metadata stores widget state ('widgets')")
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") == "code":
            for line in _join(cell.get("source", "")).split("\n"):
                if NBVAL_MARKER.match(line):
                    found.append(f"cell {index}: nbval marker {line.strip()!r} in the code a reader sees; "
                                 "`python tools/clean_notebooks.py FILE` makes it a cell tag")
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW in data and not any(mime in data for mime in STATIC):
                shown = _join(data.get("text/plain", "")).strip()[:60]
                found.append(f"cell {index}: a widget with no static picture (readers without a kernel see "
                             f"{shown!r}); display it with an image/png fallback")
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                first = _join(output.get("text", "")).strip().splitlines()[:1]
                found.append(f"cell {index}: stderr output: {first[0][:80] if first else ''!r}")
            for text in output_texts(output):
                match = MACHINE_PATH.search(text)
                if match:
                    start = max(0, match.start() - 20)
                    found.append(f"cell {index}: machine path {match.group(1)!r} in "
                                 f"{text[start:match.end() + 30]!r}")
    return found


def badge_problem(nb: dict, relative_path: str) -> str | None:
    """None when the first cell is an Open-in-Colab badge pointing at this notebook, else what is wrong."""
    cells = nb.get("cells", [])
    if not cells or cells[0].get("cell_type") != "markdown":
        return "the first cell is not a markdown cell with the Open-in-Colab badge"
    source = _join(cells[0].get("source", ""))
    expected = badge_url(relative_path)
    if "colab-badge.svg" not in source or expected not in source:
        return f"the first cell lacks an Open-in-Colab badge linking to {expected}"
    return None


def kernelspec_problem(nb: dict) -> str | None:
    kernelspec = nb.get("metadata", {}).get("kernelspec")
    return None if kernelspec == KERNELSPEC else f"kernelspec is {kernelspec}, expected {KERNELSPEC}"


def relative_to_root(path: Path) -> str:
    return path.resolve().relative_to(ROOT).as_posix()


def notebooks_in(root: Path, folders=FOLDERS) -> list[Path]:
    return sorted(p for folder in folders for p in (root / folder).glob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: every one in " + ", ".join(FOLDERS) + ")")
    parser.add_argument("--check", action="store_true", help="report problems only; write nothing")
    args = parser.parse_args(argv)
    paths = args.paths or notebooks_in(ROOT)
    failed = False
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        if not args.check:
            before = json.dumps(nb, sort_keys=True)
            clean_notebook(nb, relative_to_root(path))
            if json.dumps(nb, sort_keys=True) != before:
                import nbformat

                nbformat.write(nbformat.from_dict(nb), str(path))
                print(f"cleaned {path}")
        found = problems(nb) + publication_problems(nb, relative_to_root(path)) + [kernelspec_problem(nb)]
        for problem in filter(None, found):
            failed = True
            print(f"{path}: {problem}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
