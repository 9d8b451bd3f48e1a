"""Build the course website with Jupyter Book 1.x from the notebooks' stored outputs (`make book`).

    python tools/build_book.py             # writes _build/html; prints the path of its index page
    python tools/build_book.py --output D  # the same into D/_build/html

Nothing is executed and nothing is downloaded: the notebooks are rendered as committed, the themes ship inside
their Python packages, and the pages load no script from the network. The configuration and the table of
contents are docs/book/_config.yml and docs/book/_toc.yml; the book's source folder is the repository root.
Any Sphinx warning (a missing file, a broken reference, a docstring that does not parse) fails the build, and so
does a notebook whose stored outputs hold an error or a traceback (named with its cell), or one that cannot be
read. The site is built into a fresh folder beside the old one and replaces it only once the build succeeded, so
a failed build leaves the previous site as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
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


class BookError(Exception):
    """A notebook the book would publish wrongly (a traceback in its outputs) or cannot read."""


def toc_notebooks(toc: Path = TOC, root: Path = ROOT) -> list[Path]:
    """The notebooks the table of contents publishes (its `file:` entries that are .ipynb files)."""
    names = re.findall(r"^\s*-?\s*(?:file|root):\s*(\S+)\s*$", toc.read_text(encoding="utf-8"), re.M)
    return [root / f"{name}.ipynb" for name in names if (root / f"{name}.ipynb").is_file()]


def check_notebook(path: Path) -> None:
    """Refuse a notebook that cannot be read, or whose stored outputs show an error or a traceback."""
    try:
        notebook = json.loads(Path(path).read_text(encoding="utf-8"))
        cells = notebook["cells"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise BookError(f"cannot read the notebook {path}: {str(error).splitlines()[0] if str(error) else error!r}"
                        ) from None
    for number, cell in enumerate(cells, 1):
        for output in cell.get("outputs", []) if isinstance(cell, dict) else []:
            text = output.get("text", "") if output.get("output_type") == "stream" else json.dumps(
                output.get("data", {})) if output.get("output_type") != "error" else ""
            text = "".join(text) if isinstance(text, list) else str(text)
            if output.get("output_type") == "error" or "Traceback (most recent call last)" in text:
                what = output.get("ename") or "a traceback"
                raise BookError(f"{path}, cell {number}: its stored output shows {what}; run the notebook again "
                                "until it runs clean, then save it") from None


def build(output: Path = ROOT, quiet: bool = False) -> Path:
    """Build the whole site afresh into `output`; returns the index page. Raises CalledProcessError on failure.

    Every published notebook is checked first (`check_notebook`, BookError). The build goes into a new folder
    beside OUTPUT/_build, which replaces it only when the build succeeded.
    """
    output = Path(output).resolve()
    for notebook in toc_notebooks():
        check_notebook(notebook)
    output.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".book-build-", dir=output))  # a fresh build: every page's warnings
    try:
        env = dict(os.environ, HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
                   MPLBACKEND="Agg",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        command = [jupyter_book(), "build", str(ROOT), "--path-output", str(staging), "--config", str(CONFIG),
                   "--toc", str(TOC), "--warningiserror", "--keep-going", "--all"]
        subprocess.run(command + (["--quiet"] if quiet else []), cwd=ROOT, env=env, check=True)
        if not (html_folder(staging) / "index.html").exists():
            raise FileNotFoundError(f"the build wrote no {html_folder(staging) / 'index.html'}")
        replace_folder(staging / "_build", output / "_build")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return html_folder(output) / "index.html"


def replace_folder(new: Path, old: Path) -> None:
    """Put `new` where `old` is: the old one is moved aside first and removed only after the new one is in place."""
    aside = old.with_name(f".{old.name}.old-{os.getpid()}")
    if old.exists():
        os.replace(old, aside)
    try:
        os.replace(new, old)
    except OSError:
        if aside.exists():
            os.replace(aside, old)
        raise
    shutil.rmtree(aside, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=ROOT, help="folder for _build/ (default: the repository)")
    args = parser.parse_args(argv)
    try:
        index = build(args.output)
    except subprocess.CalledProcessError as error:
        print(f"the book did not build (exit {error.returncode}); see the warnings above; the previous site is "
              "kept", file=sys.stderr)
        return 1
    except (BookError, OSError) as error:
        print(f"the book was not built: {error}", file=sys.stderr)
        return 1
    print(f"the course website: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
