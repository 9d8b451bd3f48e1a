"""Publishing fails safe (issue 26): the website refuses a notebook whose stored outputs show a traceback and keeps
the previous site when a build fails; the exercise generator refuses misspelt, misplaced or unbalanced markers and
damaged notebooks, naming the file, and `--check` finds an answer left in an exercise."""

import importlib.util
import json
import stat
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parents[1]


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_book = load("build_book")
make_exercises = load("make_exercises")


# --- the website ---------------------------------------------------------------------------------------------------

def notebook_file(path: Path, *outputs) -> Path:
    cell = new_code_cell("run()", outputs=list(outputs))
    nbformat.write(new_notebook(cells=[new_markdown_cell("# A lesson"), cell]), path)
    return path


@pytest.mark.parametrize("output, shown", [
    (new_output("error", ename="ValueError", evalue="bad", traceback=["..."]), "ValueError"),
    (new_output("stream", name="stderr", text="Traceback (most recent call last):\n  File ..."), "a traceback"),
    (new_output("execute_result", data={"text/plain": "Traceback (most recent call last):"}), "a traceback"),
])
def test_a_notebook_whose_outputs_show_a_traceback_is_refused_naming_it(tmp_path, output, shown):
    path = notebook_file(tmp_path / "lesson.ipynb", output)
    with pytest.raises(build_book.BookError, match=f"{path}, cell 2: its stored output shows {shown}"):
        build_book.check_notebook(path)


def test_a_clean_notebook_passes_and_a_damaged_one_is_named(tmp_path):
    build_book.check_notebook(notebook_file(tmp_path / "fine.ipynb", new_output("stream", name="stdout",
                                                                                  text="PASS\n")))
    cut = tmp_path / "cut.ipynb"
    cut.write_text((tmp_path / "fine.ipynb").read_text()[:50])
    with pytest.raises(build_book.BookError, match=f"cannot read the notebook {cut}"):
        build_book.check_notebook(cut)


def test_every_notebook_the_table_of_contents_publishes_is_checked():
    published = build_book.toc_notebooks()
    lessons = sorted((ROOT / "notebooks").glob("0*.ipynb"))
    assert lessons and set(lessons) <= set(published) and all(p.suffix == ".ipynb" for p in published)
    assert {ROOT / "exercises" / f"{p.stem}_practice.ipynb" for p in lessons} <= set(published)
    for path in published:
        build_book.check_notebook(path)


@pytest.fixture
def fake_book(tmp_path, monkeypatch):
    """A stand-in for jupyter-book that writes a page, then succeeds or fails as $FAKE_BOOK says."""
    script = tmp_path / "jupyter-book"
    script.write_text('#!/bin/sh\nwhile [ "$1" != "--path-output" ]; do shift; done\nmkdir -p "$2/_build/html"\n'
                      'echo new > "$2/_build/html/index.html"\nexit "${FAKE_BOOK:-0}"\n')
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(build_book, "jupyter_book", lambda: str(script))
    monkeypatch.setattr(build_book, "toc_notebooks", lambda: [])
    site = tmp_path / "out"
    (site / "_build" / "html").mkdir(parents=True)
    (site / "_build" / "html" / "index.html").write_text("old")
    return site


def test_a_failed_build_keeps_the_previous_site(fake_book, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_BOOK", "1")
    assert build_book.main(["--output", str(fake_book)]) == 1
    assert (fake_book / "_build" / "html" / "index.html").read_text() == "old"
    assert [p.name for p in fake_book.iterdir()] == ["_build"]  # no build folder left beside it
    assert "the previous site is kept" in capsys.readouterr().err


def test_a_successful_build_replaces_the_site_whole(fake_book, capsys):
    (fake_book / "_build" / "html" / "gone.html").write_text("a page the new build does not have")
    assert build_book.main(["--output", str(fake_book)]) == 0
    assert sorted(p.name for p in (fake_book / "_build" / "html").iterdir()) == ["index.html"]
    assert (fake_book / "_build" / "html" / "index.html").read_text() == "new\n"
    assert [p.name for p in fake_book.iterdir()] == ["_build"]


def test_a_traceback_stops_the_build_before_it_starts(fake_book, monkeypatch, tmp_path, capsys):
    bad = notebook_file(tmp_path / "bad.ipynb", new_output("error", ename="KeyError", evalue="x", traceback=[]))
    monkeypatch.setattr(build_book, "toc_notebooks", lambda: [bad])
    monkeypatch.setattr(build_book, "jupyter_book", lambda: pytest.fail("the build started"))
    assert build_book.main(["--output", str(fake_book)]) == 1
    err = capsys.readouterr().err
    assert err == f"the book was not built: {bad}, cell 2: its stored output shows KeyError; run the notebook " \
                  "again until it runs clean, then save it\n"
    assert (fake_book / "_build" / "html" / "index.html").read_text() == "old"


# --- the exercises -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("marker", ["### BEGIN SOLUTION:", "## BEGIN SOLUTION", "### begin solution",
                                    "###BEGIN_SOLUTION", "### BEGIN SOLUTIONS", "### END SOLUTION."])
def test_a_misspelt_marker_is_refused_naming_the_place(marker):
    source = f"def f():\n    {marker}\n    return 42\n    ### END SOLUTION"
    if marker.startswith("### END"):
        source = f"def f():\n    ### BEGIN SOLUTION\n    return 42\n    {marker}"
    with pytest.raises(ValueError, match=r"x.ipynb, cell 3, line \d: .* looks like a solution marker but is not "
                                         "exactly '### BEGIN SOLUTION' or '### END SOLUTION'"):
        make_exercises.strip_solutions(source, 1, [0], "x.ipynb, cell 3")


def solution_notebook(path: Path, *cells) -> Path:
    nbformat.write(new_notebook(cells=[new_markdown_cell("# Solutions to lesson 01 practice: x"),
                                       new_markdown_cell("## Exercise 1.1: f"),
                                       *cells]), path)
    return path


def test_a_marker_outside_a_code_cell_is_refused(tmp_path):
    nb = nbformat.read(solution_notebook(tmp_path / "01_x_practice.ipynb",
                                         new_markdown_cell("### BEGIN SOLUTION\nthe answer\n### END SOLUTION"),
                                         new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION")), as_version=4)
    with pytest.raises(ValueError, match="01_x_practice.ipynb, cell 3, line 1: '### BEGIN SOLUTION' is a solution "
                                         "marker outside a code cell"):
        make_exercises.make_exercise(nb, "01_x_practice.ipynb")


@pytest.fixture
def folders(tmp_path, monkeypatch):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    exercises.mkdir()
    monkeypatch.setattr(make_exercises, "SOLUTIONS", solutions)
    monkeypatch.setattr(make_exercises, "EXERCISES", exercises)
    return solutions, exercises


def test_check_fails_on_a_misspelt_marker_whose_answer_the_exercise_would_show(folders, capsys):
    solutions, exercises = folders
    solution_notebook(solutions / "01_x_practice.ipynb",
                      new_code_cell("def f():\n    ### BEGIN SOLUTION:\n    return 'the secret answer'\n"
                                    "    ### END SOLUTION"))
    assert make_exercises.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("make_exercises: error: 01_x_practice.ipynb, cell 3, line 2: '### BEGIN SOLUTION:' looks "
                          "like a solution marker") and len(err.splitlines()) == 1
    assert make_exercises.main([]) == 1 and list(exercises.iterdir()) == []  # nothing published


def test_check_finds_an_answer_left_in_an_exercise(folders, capsys):
    solutions, exercises = folders
    solution_notebook(solutions / "01_x_practice.ipynb",
                      new_code_cell("def f():\n    ### BEGIN SOLUTION\n    return 'the secret answer'\n"
                                    "    ### END SOLUTION"))
    assert make_exercises.main([]) == 0 and make_exercises.main(["--check"]) == 0
    path = exercises / "01_x_practice.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[-1].source += "\n    return 'the secret answer'"
    nbformat.write(nb, path)
    capsys.readouterr()
    assert make_exercises.main(["--check"]) == 1
    out = capsys.readouterr().out
    assert "answer left in exercises/01_x_practice.ipynb, cell 3: \"return 'the secret answer'\"" in out


@pytest.mark.parametrize("text", ['{"cells": [', "", "not json at all", json.dumps({"cells": 3})])
def test_a_damaged_solution_notebook_is_named(folders, capsys, text):
    solutions, _ = folders
    (solutions / "02_y_practice.ipynb").write_text(text)
    assert make_exercises.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"make_exercises: error: cannot read the notebook {solutions / '02_y_practice.ipynb'}")
    assert "Traceback" not in err and len(err.splitlines()) == 1
