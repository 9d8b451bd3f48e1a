"""One place says where the course is published (spafit_course/lessons/publish.py); every notebook agrees with it."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from spafit_course.lessons import publish

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import clean_notebooks as clean  # noqa: E402

NOTEBOOKS = clean.notebooks_in(ROOT)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_badge_install_line_and_kernelspec_agree(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    relative = f"{path.parent.name}/{path.name}"
    assert publish.publication_problems(nb, relative) == [], "run `python tools/clean_notebooks.py`"
    assert clean.kernelspec_problem(nb) is None, "run `python tools/clean_notebooks.py`"


def test_no_other_tracked_file_spells_out_the_address():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    spelled = [name for name in tracked.split()
               if not name.endswith((".ipynb", ".png", ".whl")) and name != "spafit_course/lessons/publish.py"
               and (ROOT / name).is_file() and publish.REPOSITORY in (ROOT / name).read_text(errors="ignore")]
    assert spelled == []


def notebook(first, code):
    return {"metadata": {}, "cells": [{"cell_type": "markdown", "metadata": {}, "source": first},
                                      {"cell_type": "code", "metadata": {}, "outputs": [], "source": code}]}


def test_moving_the_course_is_one_change(monkeypatch):
    old = notebook(publish.badge("notebooks/01_bitfit.ipynb") + "\n# Lesson 01",
                   ["import sys\n", "if on_colab:\n", "    " + publish.install_line() + "\n"])
    assert publish.publication_problems(old, "notebooks/01_bitfit.ipynb") == []
    monkeypatch.setattr(publish, "REPOSITORY", "someone/fork")
    monkeypatch.setattr(publish, "BRANCH", "dev")
    found = publish.publication_problems(old, "notebooks/01_bitfit.ipynb")
    assert len(found) == 2 and "someone/fork/blob/dev/notebooks/01_bitfit.ipynb" in found[0]
    assert "cell 1: install line" in found[1] and "git+https://github.com/someone/fork" in found[1]
    clean.clean_notebook(old, "notebooks/01_bitfit.ipynb")
    assert publish.publication_problems(old, "notebooks/01_bitfit.ipynb") == []
    assert old["cells"][0]["source"].endswith("\n# Lesson 01")
    assert old["cells"][1]["source"] == ('import sys\nif on_colab:\n    %pip install -q '
                                         '"spafit-course @ git+https://github.com/someone/fork"\n')
    assert old["metadata"]["kernelspec"]["display_name"] == "Python 3 (ipykernel)"


def test_a_badge_for_another_notebook_is_reported():
    nb = notebook(publish.badge("notebooks/02_lora.ipynb"), "x = 1")
    assert publish.publication_problems(nb, "notebooks/01_bitfit.ipynb") == [
        f"the first cell lacks the badge {publish.badge('notebooks/01_bitfit.ipynb')}"]
