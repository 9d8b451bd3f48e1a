"""exercises/ is generated from solutions/ by tools/make_exercises.py: it must be up to date, and the generator
must turn every solution region into a stub nbval expects to raise."""

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from spafit_course.lessons import publish

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_exercises", ROOT / "tools" / "make_exercises.py")
make_exercises = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_exercises)

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def test_exercises_are_up_to_date():
    stale = make_exercises.out_of_date()
    assert stale == [], f"exercises/ is out of date for {stale}: run `python tools/make_exercises.py`"


def test_every_lesson_01_to_04_has_a_practice_notebook_with_three_exercises():
    names = [p.name for p in SOLUTIONS]
    assert [n[:3] for n in names] == ["01_", "02_", "03_", "04_"]
    for path in SOLUTIONS:
        assert path.read_text().count(make_exercises.BEGIN) >= 3, path.name


def test_a_top_level_region_becomes_a_marked_stub_with_its_hint():
    source = "model = build()\n### BEGIN SOLUTION\n# HINT: freeze it\nfreeze(model)\n### END SOLUTION\nprint(1)"
    stub, raises = make_exercises.strip_solutions(source, 1, [0], "test")
    assert raises is True
    assert stub == "model = build()\nraise NotImplementedError('Exercise 1.1: freeze it')\nprint(1)"


def test_an_indented_region_keeps_its_indent_and_numbers_follow_on():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n"
              "def g(x):\n    ### BEGIN SOLUTION\n    # HINT: double it\n    return 2 * x\n    ### END SOLUTION")
    counter = [2]
    stub, raises = make_exercises.strip_solutions(source, 4, counter, "test")
    assert raises is False and counter == [4]
    assert stub == ("def f(x):\n    raise NotImplementedError('Exercise 4.3: return x + 1')\n"
                    "def g(x):\n    raise NotImplementedError('Exercise 4.4: double it')")


@pytest.mark.parametrize("source,message", [
    ("### BEGIN SOLUTION\nx = 1", "without a matching"),
    ("x = 1\n### END SOLUTION", "without a '### BEGIN SOLUTION' before it"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "cannot be nested"),
])
def test_malformed_regions_fail_naming_the_cell(source, message):
    with pytest.raises(ValueError, match=re.escape(message)) as error:
        make_exercises.strip_solutions(source, 1, [0], "x.ipynb, cell 3")
    assert str(error.value).startswith("x.ipynb, cell 3: ")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_generated_copy_has_stubs_no_answers_and_no_outputs(path):
    solution = nbformat.read(path, as_version=4)
    exercise = make_exercises.make_exercise(solution, path.name)
    regions = sum(c.source.count(make_exercises.BEGIN) for c in solution.cells if c.cell_type == "code")
    code = [c for c in exercise.cells if c.cell_type == "code"]
    stubs = re.findall(r"raise NotImplementedError\(['\"]Exercise (\d+)\.(\d+): ",
                       "\n".join(c.source for c in code))
    assert stubs == [(str(int(path.name[:2])), str(n)) for n in range(1, regions + 1)]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert not any("SOLUTION" in c.source or "NBVAL_CHECK_OUTPUT" in c.source for c in code)
    for cell in code:  # a cell that raises when run is marked for nbval; the others are not
        top_level_stub = re.search(r"^raise NotImplementedError", cell.source, re.M)
        assert cell.source.startswith(make_exercises.RAISES_MARKER) == bool(top_level_stub)
    assert publish.badge_url(f"exercises/{path.name}") in exercise.cells[0].source
    assert "solutions" in solution.cells[0].source  # the input was not modified


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_notebook_hygiene(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown"
    assert publish.badge_url(f"solutions/{path.name}") in nb.cells[0].source
    setup = nb.cells[[c.cell_type for c in nb.cells].index("code")].source
    assert '"google.colab" in sys.modules' in setup
    assert publish.install_line() in setup
    assert "silence_libraries()" in setup or "start_lesson(" in setup
    assert "widgets" not in nb.metadata
    text = path.read_text()
    assert not re.search(r"/(work|root|tmp)/", text)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            assert output.output_type != "error" and output.get("name") != "stderr", (path.name, output)
        if cell.cell_type == "code" and re.search(r"^checks\.check_", cell.source, re.M):
            assert "NBVAL_CHECK_OUTPUT" in cell.source  # nbval then holds the stored PASS to account
            assert cell.outputs and cell.outputs[0].text.startswith("PASS "), (path.name, cell.source)
