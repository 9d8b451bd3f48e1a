"""Every committed notebook renders on GitHub and leaks nothing: checked with tools/clean_notebooks.py."""

import importlib.util
import json
from pathlib import Path

import pytest

from spafit_course.lessons import publish

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("clean_notebooks", ROOT / "tools" / "clean_notebooks.py")
clean = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(clean)

NOTEBOOKS = clean.notebooks_in(ROOT)
LESSONS = ["00_setup_and_full_finetuning", "01_bitfit", "02_lora", "03_where_knowledge_lives", "04_spafit",
           "05_glue_comparison", "06_forgetting_and_ablation", "07_what_peft_buys"]


def test_the_lessons_are_there():
    assert [p.stem for p in clean.notebooks_in(ROOT, ("notebooks",))] == LESSONS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_notebook_is_clean(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert "widgets" not in nb["metadata"]
    assert clean.problems(nb) == []
    assert clean.badge_problem(nb, f"{path.parent.name}/{path.name}") is None
    assert clean.kernelspec_problem(nb) is None  # "Python 3 (ipykernel)", as ipykernel installs it


@pytest.mark.parametrize("path", clean.notebooks_in(ROOT, ("notebooks",)), ids=lambda p: p.name)
def test_lesson_starts_with_the_shared_setup_and_keeps_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    setup = "".join(nb["cells"][1]["source"])
    assert 'if "google.colab" in sys.modules:' in setup and "%pip install" in setup
    assert "start_lesson()" in setup
    # Outputs stay stored so a reader on GitHub sees them: every code cell ran.
    assert all(c["execution_count"] is not None for c in nb["cells"] if c["cell_type"] == "code")


def notebook(outputs, metadata=None):
    return {"metadata": metadata or {}, "cells": [{"cell_type": "code", "metadata": {"execution": {"t": 1}},
                                                   "outputs": outputs, "source": "x"}]}


def test_problems_finds_widget_state_stderr_and_machine_paths():
    nb = notebook([
        {"output_type": "stream", "name": "stderr", "text": ["Some weights were not initialized\n"]},
        {"output_type": "stream", "name": "stdout", "text": "saved to /tmp/spafit-abc/compare.json\n"},
        {"output_type": "execute_result", "data": {"text/plain": "PosixPath('/root/.cache/x')"}},
        {"output_type": "error", "ename": "E", "evalue": "", "traceback": ["File /work/main/a.py, line 3"]},
        {"output_type": "display_data", "data": {"text/html": "<td>/home/alice/data</td>"}},
    ], metadata={"widgets": {"state": {}}})
    found = clean.problems(nb)
    assert found[0] == "notebook metadata stores widget state ('widgets')"
    assert found[1] == "cell 0: stderr output: 'Some weights were not initialized'"
    assert [f.split("'")[1] for f in found[2:]] == ["/tmp", "/root", "/work", "/home/alice"]


def test_problems_ignores_images_and_lookalike_text():
    nb = notebook([
        {"output_type": "display_data", "data": {"image/png": "iVBOR/tmp/work/xyz", "text/plain": "<Figure>"}},
        {"output_type": "stream", "name": "stdout", "text": "rate 3/tmp2 and spafit_course/workers.py\n"},
    ])
    assert clean.problems(nb) == []


def test_clean_removes_widget_state_and_timestamps_only():
    nb = notebook([{"output_type": "stream", "name": "stdout", "text": "hi\n"}], metadata={"widgets": {}, "k": 1})
    clean.clean_notebook(nb)
    assert nb["metadata"] == {"k": 1, "kernelspec": clean.KERNELSPEC}
    assert nb["cells"][0]["metadata"] == {}
    assert nb["cells"][0]["outputs"] == [{"output_type": "stream", "name": "stdout", "text": "hi\n"}]


def test_badge_must_point_at_the_notebook_itself():
    cell = {"cell_type": "markdown", "metadata": {}, "source": (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({publish.badge_url('notebooks/01_bitfit.ipynb')})")}
    nb = {"metadata": {}, "cells": [cell]}
    assert clean.badge_problem(nb, "notebooks/01_bitfit.ipynb") is None
    assert "notebooks/02_lora.ipynb" in clean.badge_problem(nb, "notebooks/02_lora.ipynb")
    assert clean.badge_problem({"metadata": {}, "cells": []}, "x.ipynb").startswith("the first cell is not")


WIDGET = {"model_id": "abc", "version_major": 2, "version_minor": 0}


def test_a_widget_needs_a_static_picture():
    bare = notebook([{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                      "data": {clean.WIDGET_VIEW: WIDGET, "text/plain": "VBox(children=(HBox(children=()),))"}}])
    assert clean.problems(bare) == [
        "cell 0: a widget with no static picture (readers without a kernel see 'VBox(children=(HBox(children=()),))'); "
        "display it with an image/png fallback"]
    clean.clean_notebook(bare)
    assert clean.WIDGET_VIEW in bare["cells"][0]["outputs"][0]["data"]  # nothing to show instead: left, reported


def test_clean_keeps_a_widgets_picture_and_drops_its_dangling_view():
    nb = notebook([{"output_type": "execute_result", "execution_count": 1, "metadata": {},
                    "data": {clean.WIDGET_VIEW: WIDGET, "image/png": "iVBORw0KGgo=", "text/plain": "explorer"}}],
                  metadata={"widgets": {"state": {}}})
    clean.clean_notebook(nb)
    assert nb["cells"][0]["outputs"][0]["data"] == {"image/png": "iVBORw0KGgo=", "text/plain": "explorer"}
    assert clean.problems(nb) == []


def test_nbval_markers_become_cell_tags_and_a_left_marker_is_a_problem():
    cell = {"cell_type": "code", "metadata": {"tags": ["lesson-code"]}, "outputs": [], "source": [
        "# NBVAL_CHECK_OUTPUT\n", "print(1)\n", "    ## NBVAL_IGNORE_OUTPUT: timing varies\n", "x = 2  # NBVAL_SKIP"]}
    nb = {"metadata": {}, "cells": [cell]}
    assert [p.split(":")[0] for p in clean.problems(nb)] == ["cell 0", "cell 0"]  # the two whole-line markers
    clean.clean_notebook(nb)
    assert cell["metadata"]["tags"] == ["lesson-code", "nbval-check-output", "nbval-ignore-output"]
    assert cell["source"] == "print(1)\n    # timing varies\nx = 2  # NBVAL_SKIP"  # nbval ignores a trailing one too
    assert clean.problems(nb) == []
    clean.clean_notebook(nb)  # a second run changes nothing
    assert cell["metadata"]["tags"] == ["lesson-code", "nbval-check-output", "nbval-ignore-output"]


def test_the_tags_are_the_ones_nbval_reads():
    nbval = pytest.importorskip("nbval.plugin")
    assert set(clean.NBVAL_TAGS.values()) <= set(nbval.metadata_tags)
    assert set(clean.NBVAL_TAGS) <= set(nbval.comment_markers)
