"""exercises/ is generated from solutions/ by tools/make_exercises.py: it must be up to date, every solution region
must become a stub named after its exercise (or the value a `# STUB:` line gives), and no stub may stop "Run All"."""

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


def test_every_lesson_has_a_practice_notebook_whose_exercises_each_have_a_region():
    lessons = sorted(p.stem for p in (ROOT / "notebooks").glob("0*.ipynb"))
    assert [p.stem for p in SOLUTIONS] == [f"{stem}_practice" for stem in lessons]
    for path in SOLUTIONS:
        nb = nbformat.read(path, as_version=4)
        exercise, regions = None, {}
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                exercise = ([*make_exercises.EXERCISE_HEADING.findall(cell.source)] or [exercise])[-1]
            elif make_exercises.BEGIN in cell.source:
                regions[exercise] = regions.get(exercise, 0) + cell.source.count(make_exercises.BEGIN)
        headings = make_exercises.EXERCISE_HEADING.findall("\n".join(c.source for c in nb.cells
                                                                     if c.cell_type == "markdown"))
        assert len(headings) >= 2 and None not in regions, path.name
        assert sorted(regions) == sorted(headings), (path.name, regions, headings)


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


def test_a_region_is_named_after_its_exercise_heading_and_a_stub_line_is_kept_as_code():
    source = ("def f(x):\n    ### BEGIN SOLUTION\n    # HINT: add one\n    return x + 1\n    ### END SOLUTION\n"
              "### BEGIN SOLUTION\n# STUB: choice = None  # \"a\" or \"b\"\nchoice = \"a\"\n### END SOLUTION")
    counter = [0]
    stub, raises = make_exercises.strip_solutions(source, 3, counter, "test", number="3.2")
    assert raises is False and counter == [2]
    assert stub == ("def f(x):\n    raise NotImplementedError('Exercise 3.2: add one')\n"
                    "choice = None  # \"a\" or \"b\"")
    assert make_exercises.EXERCISE_HEADING.findall("## Exercise 3.2: a title\n\n## Exercises 3.3 to 3.4") == [
        "3.2", "3.3"]


def test_tags_carry_over_and_a_stub_that_raises_is_tagged_for_nbval():
    solution = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("[![Open In Colab](x)](y)"),
        nbformat.v4.new_markdown_cell("# Solutions to lesson 03 practice: a topic\n\n## Exercise 3.1: one"),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx = 1\n### END SOLUTION",
                                  metadata={"tags": ["lesson-code"]}),
        nbformat.v4.new_code_cell("check(x)", metadata={"tags": ["nbval-check-output", "keep-me"]})])
    exercise = make_exercises.make_exercise(solution, "03_topic_practice.ipynb")
    assert exercise.cells[1].source.startswith("# Lesson 03 practice: a topic")
    assert exercise.cells[2].metadata["tags"] == ["lesson-code", "nbval-raises-exception"]
    assert exercise.cells[3].metadata["tags"] == ["keep-me"]
    assert solution.cells[3].metadata["tags"] == ["nbval-check-output", "keep-me"]  # the input is left as it was
    solution.cells[1].source = "# Lesson 03 practice: a topic\n\n## Exercise 3.1: one"
    with pytest.raises(ValueError, match="# Solutions to lesson 03 practice: topic"):
        make_exercises.make_exercise(solution, "03_topic_practice.ipynb")


def test_a_solution_only_cell_is_left_out_and_may_not_hold_an_exercise():
    solution = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("[![Open In Colab](x)](y)"),
        nbformat.v4.new_markdown_cell("# Solutions to lesson 03 practice: a topic\n\n## Exercise 3.1: one"),
        nbformat.v4.new_code_cell("### BEGIN SOLUTION\n# STUB: choice = None\nchoice = \"a\"\n### END SOLUTION"),
        nbformat.v4.new_code_cell("check(choice)", metadata={"tags": ["nbval-check-output"]}),
        nbformat.v4.new_markdown_cell("Why (a): the interval lies above zero.",
                                      metadata={"tags": [make_exercises.SOLUTION_ONLY_TAG]}),
        nbformat.v4.new_markdown_cell("## Exercise 3.2: two")])
    exercise = make_exercises.make_exercise(solution, "03_topic_practice.ipynb")
    assert [c.source for c in exercise.cells[3:]] == ["check(choice)", "## Exercise 3.2: two"]
    assert len(solution.cells) == 6  # the input is left as it was
    for source in ("## Exercise 3.2: two", "### BEGIN SOLUTION\nx = 1\n### END SOLUTION"):
        solution.cells[4].source = source
        with pytest.raises(ValueError, match="03_topic_practice.ipynb, cell 5: a cell tagged 'solution-only'"):
            make_exercises.make_exercise(solution, "03_topic_practice.ipynb")


#: A check cell that judges a prediction, a reading or a decision (`prediction_3_4`, `reading_6_2`, ...).
ANSWER_CHECK = re.compile(r"\b(?:prediction|reading|decision)_\d+_\d+\b")


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_every_answers_check_is_followed_by_its_reasoning_in_the_solution_only(path):
    """Under each prediction's, reading's or decision's check, reasoning that the exercise copy leaves out."""
    solution = nbformat.read(path, as_version=4)
    checks = [i for i, c in enumerate(solution.cells) if c.cell_type == "code"
              and make_exercises.CHECK_OUTPUT_TAG in c.metadata.get("tags", []) and ANSWER_CHECK.search(c.source)]
    assert checks, path.name
    for i in checks:
        following = solution.cells[i + 1] if i + 1 < len(solution.cells) else nbformat.v4.new_code_cell()
        tags = following.metadata.get("tags", [])
        assert following.cell_type == "markdown" and make_exercises.SOLUTION_ONLY_TAG in tags, (
            f"{path.name}, cell {i + 1}: no solution-only paragraph of reasoning under the check")
    reasoning = {c.source for c in solution.cells if make_exercises.SOLUTION_ONLY_TAG in c.metadata.get("tags", [])}
    exercise = make_exercises.make_exercise(solution, path.name)
    assert not reasoning & {c.source for c in exercise.cells}


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
    solution_code = "\n".join(c.source for c in solution.cells if c.cell_type == "code")
    value_regions = len(re.findall(r"^\s*### BEGIN SOLUTION\n\s*# STUB:", solution_code, re.M))
    regions = solution_code.count(make_exercises.BEGIN) - value_regions
    code = [c for c in exercise.cells if c.cell_type == "code"]
    stubs = re.findall(r"raise NotImplementedError\(['\"]Exercise (\d+\.\d+): ", "\n".join(c.source for c in code))
    headings = make_exercises.EXERCISE_HEADING.findall("\n".join(c.source for c in solution.cells
                                                                 if c.cell_type == "markdown"))
    assert len(stubs) == regions and set(stubs) <= set(headings), (stubs, headings)
    assert all(s.startswith(f"{int(path.name[:2])}.") for s in stubs)
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    assert not any("SOLUTION" in c.source or "NBVAL" in c.source or make_exercises.STUB in c.source
                   or make_exercises.CHECK_OUTPUT_TAG in c.metadata.get("tags", []) for c in code)
    for cell in code:  # a cell that raises when run is tagged for nbval; the others are not
        top_level_stub = re.search(r"^raise NotImplementedError", cell.source, re.M)
        assert (make_exercises.RAISES_TAG in cell.metadata.get("tags", [])) == bool(top_level_stub)
    assert publish.badge_url(f"exercises/{path.name}") in exercise.cells[0].source
    assert "solutions" in solution.cells[0].source  # the input was not modified
    # what a learner reads: the exercise's own title, no note for maintainers; the provenance is in the metadata
    title = int(path.name[:2])
    assert f"# Solutions to lesson {title:02d} practice:" in solution.cells[1].source
    assert f"# Lesson {title:02d} practice:" in exercise.cells[1].source
    assert "generated" not in "\n".join(c.source for c in exercise.cells if c.cell_type == "markdown")
    assert exercise.metadata["spafit_course"]["generated_from"] == f"solutions/{path.name}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_no_stub_stops_run_all(path):
    """Every raising stub sits inside a function: running the exercise copy top to bottom never stops."""
    exercise = make_exercises.make_exercise(nbformat.read(path, as_version=4), path.name)
    stopping = [i for i, c in enumerate(exercise.cells) if c.cell_type == "code"
                and make_exercises.RAISES_TAG in c.metadata.get("tags", [])]
    assert stopping == [], f"{path.name}: cells {stopping} raise at the top level"


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
            # nbval then holds the stored PASS to account; a verdict on a borderline measurement is tagged
            # nbval-ignore-output and says why in a comment on its first line
            tags = cell.metadata.get("tags", [])
            assert "nbval-check-output" in tags or "nbval-ignore-output" in tags and cell.source.startswith("# ")
            assert cell.outputs and cell.outputs[0].text.startswith("PASS "), (path.name, cell.source)
