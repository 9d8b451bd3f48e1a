"""Build the course website with Jupyter Book 1.x from the notebooks' stored outputs (`make book`).

    python tools/build_book.py             # writes _build/html; prints the path of its index page
    python tools/build_book.py --output D  # the same into D/_build/html

Nothing is executed and nothing is downloaded: the notebooks are rendered as committed, the themes ship inside
their Python packages, and the pages load no script from the network. The configuration and the table of
contents are docs/book/_config.yml and docs/book/_toc.yml; the book's source folder is the repository root.
Any Sphinx warning (a missing file, a broken reference, a docstring that does not parse) fails the build.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "docs" / "book" / "_config.yml"
TOC = ROOT / "docs" / "book" / "_toc.yml"


def html_folder(output: Path = ROOT) -> Path:
    """Where the site lands for an output folder: Jupyter Book writes OUTPUT/_build/html."""
    return Path(output) / "_build" / "html"


def jupyter_book() -> str:
    """The jupyter-book command of this interpreter's environment, or exit saying how to install it."""
    candidate = Path(sys.executable).parent / "jupyter-book"
    found = str(candidate) if candidate.exists() else shutil.which("jupyter-book")
    if not found:
        sys.exit('jupyter-book is not installed: pip install -e ".[book]" (make book does it)')
    return found


def build(output: Path = ROOT, quiet: bool = False) -> Path:
    """Build the whole site afresh into `output`; returns the index page. Raises CalledProcessError on failure."""
    output = Path(output).resolve()
    shutil.rmtree(output / "_build", ignore_errors=True)  # a fresh build: warnings of every page are seen
    env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    command = [jupyter_book(), "build", str(ROOT), "--path-output", str(output), "--config", str(CONFIG),
               "--toc", str(TOC), "--warningiserror", "--keep-going", "--all"]
    subprocess.run(command + (["--quiet"] if quiet else []), cwd=ROOT, env=env, check=True)
    index = html_folder(output) / "index.html"
    if not index.exists():
        raise FileNotFoundError(f"the build wrote no {index}")
    return index


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT, help="folder for _build/ (default: the repository)")
    args = parser.parse_args(argv)
    try:
        index = build(args.output)
    except subprocess.CalledProcessError as error:
        print(f"the book did not build (exit {error.returncode}); see the warnings above", file=sys.stderr)
        return 1
    print(f"the course website: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
