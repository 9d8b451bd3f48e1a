"""Where the course is published: the one place that holds its GitHub address.

Every notebook's "Open in Colab" badge and its Colab install cell are generated from here by
`tools/clean_notebooks.py` (and `tools/make_exercises.py` for exercises/); `tests/test_publication.py` fails
when a notebook disagrees. To publish elsewhere, change REPOSITORY or BRANCH, then run
`python tools/clean_notebooks.py` and `python tools/make_exercises.py`.
"""

from __future__ import annotations

import re

REPOSITORY = "spafit-course/spafit-course"  # owner/name on GitHub
BRANCH = "main"
PACKAGE = "spafit-course"
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"

BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
INSTALL = re.compile(r"%pip install -q \"" + re.escape(PACKAGE) + r" @ [^\"]*\"")


def repository_url() -> str:
    return f"https://github.com/{REPOSITORY}"


def install_line() -> str:
    """The notebook line that installs the course on Colab (pip keeps Colab's own torch)."""
    return f'%pip install -q "{PACKAGE} @ git+{repository_url()}"'


def badge_url(relative_path: str) -> str:
    """Colab's address of a notebook, e.g. badge_url("notebooks/01_bitfit.ipynb")."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/{relative_path}"


def badge(relative_path: str) -> str:
    return f"[![Open In Colab]({BADGE_IMAGE})]({badge_url(relative_path)})"


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def publish_notebook(nb: dict, relative_path: str) -> dict:
    """Rewrite the first cell's badge and every install line to this module's address, in place."""
    for index, cell in enumerate(nb.get("cells", [])):
        source = _source(cell)
        if index == 0 and cell.get("cell_type") == "markdown":
            source = BADGE.sub(lambda _: badge(relative_path), source, count=1)
        if cell.get("cell_type") == "code":
            source = INSTALL.sub(lambda _: install_line(), source)
        cell["source"] = source
    return nb


def publication_problems(nb: dict, relative_path: str) -> list[str]:
    """What in the notebook disagrees with this module: its badge, its install lines; one line each."""
    cells = nb.get("cells", [])
    found = []
    first = _source(cells[0]) if cells and cells[0].get("cell_type") == "markdown" else ""
    if badge(relative_path) not in first:
        found.append(f"the first cell lacks the badge {badge(relative_path)}")
    installs = [(i, line.strip()) for i, cell in enumerate(cells) if cell.get("cell_type") == "code"
                for line in _source(cell).splitlines() if "%pip install" in line and PACKAGE in line]
    found += [f"cell {i}: install line {line!r}, expected {install_line()!r}"
              for i, line in installs if line != install_line()]
    return found
