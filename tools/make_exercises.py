"""Generate exercises/ from solutions/ (the single source of every practice notebook).

    python tools/make_exercises.py          # rewrite exercises/ from solutions/
    python tools/make_exercises.py --check  # exit 1 if exercises/ is out of date

In a solution notebook, the answer to an exercise sits between a `### BEGIN SOLUTION` and a `### END SOLUTION`
line. In the exercise copy the region becomes `raise NotImplementedError("Exercise k.n: hint")`: k.n is the
number of the nearest `## Exercise k.n` heading above the cell (else k is the lesson, the file name's number, and
n the region's place in the notebook); the hint is a `# HINT: ...` line in the region, else the region's first
line. A region with `# STUB: code` lines becomes that code instead of the raise, for answers that are a value
rather than code (a prediction: `# STUB: prediction = None  # "a", "b" or "c"`). A raising region at the top
level of a cell would stop "Run All" there; the practice notebooks keep every raise inside a function, and a
cell that does raise gets `# NBVAL_RAISES_EXCEPTION` for nbval (only here: the solution cell does not raise).
`# NBVAL_CHECK_OUTPUT` lines (solutions' check cells must keep printing PASS) are dropped. Outputs and
execution counts are cleared, widget state is dropped, and the "Open in Colab" badge and install line come
from spafit_course/lessons/publish.py, the badge pointing at exercises/.

A line that looks like a marker but is not one exactly (`### BEGIN SOLUTION:`, `## end solution`), a marker
outside a code cell, an unbalanced or nested marker, and a notebook that cannot be read each stop the tool with
one line naming the file (and the cell), since each would publish an answer in exercises/. `--check` also fails
when an exercise notebook holds a line of a solution region's answer.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # spafit_course.lessons.publish, also when the package is not installed
from spafit_course.lessons.publish import publish_notebook  # noqa: E402

SOLUTIONS, EXERCISES = ROOT / "solutions", ROOT / "exercises"
BEGIN, END, HINT, STUB = "### BEGIN SOLUTION", "### END SOLUTION", "# HINT:", "# STUB:"
#: A markdown heading that opens an exercise: "## Exercise 1.2: ..." (its number names the stubs below it).
EXERCISE_HEADING = re.compile(r"^#{2,4} Exercises? (\d+\.\d+)\b", re.M)
RAISES_MARKER = "# NBVAL_RAISES_EXCEPTION"
CHECK_OUTPUT_MARKER = "# NBVAL_CHECK_OUTPUT"  # solutions' check cells must print PASS; an exercise's print FAIL
GENERATED_NOTE = ("*This copy is generated from `solutions/{name}` by `python tools/make_exercises.py`: "
                  "edit the solution notebook, never this file.*")


def looks_like_marker(line: str) -> bool:
    """A comment line whose letters begin BEGINSOLUTION or ENDSOLUTION: a marker, or a misspelt one."""
    letters = re.sub(r"[^A-Za-z]", "", line).upper()
    return line.lstrip().startswith("#") and letters.startswith(("BEGINSOLUTION", "ENDSOLUTION"))


def check_markers(source: str, where: str, code: bool = True) -> None:
    """Refuse a misspelt marker, or any marker in a cell that is not code (it would not be stripped)."""
    for number, line in enumerate(source.split("\n"), 1):
        if not looks_like_marker(line):
            continue
        if not code:
            raise ValueError(f"{where}, line {number}: {line.strip()!r} is a solution marker outside a code cell; "
                             "markers work in code cells only")
        if line.strip() not in (BEGIN, END):
            raise ValueError(f"{where}, line {number}: {line.strip()!r} looks like a solution marker but is not "
                             f"exactly {BEGIN!r} or {END!r}; fix it, or the answer is published in exercises/")


def strip_solutions(source: str, lesson: int, counter: list[int], where: str, number: str | None = None
                    ) -> tuple[str, bool]:
    """The cell's source with each solution region replaced by a stub; and whether a raising stub is at top level.

    `number` ("1.2") names the exercise the cell belongs to; without it the stubs are numbered lesson.counter.
    """
    check_markers(source, where)
    lines, out, top_level = source.split("\n"), [], False
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() != BEGIN:
            if line.strip() == END:
                raise ValueError(f"{where}: {END!r} without a {BEGIN!r} before it")
            out.append(line)
            i += 1
            continue
        indent = line[: len(line) - len(line.lstrip())]
        try:
            end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() in (BEGIN, END))
        except StopIteration:
            raise ValueError(f"{where}: {BEGIN!r} without a matching {END!r}") from None
        if lines[end].strip() == BEGIN:
            raise ValueError(f"{where}: solution regions cannot be nested")
        region = [r.strip() for r in lines[i + 1:end] if r.strip()]
        counter[0] += 1
        stubs = [r[len(STUB):].strip() for r in region if r.startswith(STUB)]
        if stubs:  # a value to fill in: the stub is code that runs
            out.extend(f"{indent}{stub}" for stub in stubs)
            i = end + 1
            continue
        hints = [r[len(HINT):].strip() for r in region if r.startswith(HINT)]
        hint = hints[0] if hints else (region[0].lstrip("#").strip() if region else "write the code")
        message = f"Exercise {number or f'{lesson}.{counter[0]}'}: {hint}"
        out.append(f"{indent}raise NotImplementedError({message!r})")
        top_level = top_level or indent == ""
        i = end + 1
    return "\n".join(out), top_level


def make_exercise(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The exercise copy of one solution notebook (the input is left unchanged)."""
    match = re.match(r"(\d+)_", name)
    if not match:
        raise ValueError(f"{name}: practice notebooks are named NN_topic_practice.ipynb, NN the lesson number")
    lesson, counter, number = int(match.group(1)), [0], None
    nb = nbformat.from_dict(solution)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # a deep copy
    nb.metadata.pop("widgets", None)
    publish_notebook(nb, f"{EXERCISES.name}/{name}")
    for index, cell in enumerate(nb.cells):
        if index == 0 and cell.cell_type == "markdown":
            cell.source += "\n\n" + GENERATED_NOTE.format(name=name)
        if cell.cell_type == "markdown":
            number = ([*EXERCISE_HEADING.findall(cell.source)] or [number])[-1]
        if cell.cell_type != "code":
            check_markers(cell.source, f"{name}, cell {index + 1}", code=False)
            continue
        source, raises = strip_solutions(cell.source, lesson, counter, f"{name}, cell {index + 1}", number)
        source = "\n".join(line for line in source.split("\n") if line.strip() != CHECK_OUTPUT_MARKER)
        if raises and not source.startswith(RAISES_MARKER):
            source = f"{RAISES_MARKER}\n{source}"
        cell.source = source
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
    if counter[0] == 0:
        raise ValueError(f"{name}: no {BEGIN!r} region, so there is no exercise to generate")
    return nb


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at `path`, or a ValueError naming it (truncated JSON, not a notebook, not UTF-8)."""
    try:
        return nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises NotJSONError, ValidationError, KeyError... for a damaged file
        first = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise ValueError(f"cannot read the notebook {path}: {first}") from None


def generate(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """{file name: notebook text} of every exercise notebook, built in memory."""
    texts = {}
    for path in sorted(solutions.glob("*.ipynb")):
        texts[path.name] = nbformat.writes(make_exercise(read_notebook(path), path.name)) + "\n"
    return texts


def answer_lines(solution: nbformat.NotebookNode) -> set[str]:
    """The lines of the solution's regions that are code of some length and appear nowhere else in it."""
    inside, outside = set(), set()
    for cell in solution.cells:
        if cell.cell_type != "code":
            continue
        within = False
        for line in cell.source.split("\n"):
            if line.strip() in (BEGIN, END):
                within = line.strip() == BEGIN
                continue
            (inside if within else outside).add(line.strip())
    return {line for line in inside - outside if len(line) >= 12 and not line.startswith("#")}


def answers_left(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[str]:
    """'exercises/NAME, cell K: LINE' for each marker or line of a solution's answer found in an exercise."""
    found = []
    for path in sorted(exercises.glob("*.ipynb")):
        exercise = read_notebook(path)
        answers = answer_lines(read_notebook(solutions / path.name)) if (solutions / path.name).is_file() else set()
        for index, cell in enumerate(exercise.cells, 1):
            for line in cell.source.split("\n"):
                if looks_like_marker(line) or (cell.cell_type == "code" and line.strip() in answers):
                    found.append(f"{exercises.name}/{path.name}, cell {index}: {line.strip()!r}")
    return found


def out_of_date(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[str]:
    """Names of exercise notebooks that are missing, stale, or have no solution source any more."""
    expected = generate(solutions)
    present = {p.name for p in exercises.glob("*.ipynb")}
    stale = [n for n, text in expected.items()
             if n not in present or (exercises / n).read_text(encoding="utf-8") != text]
    return sorted(stale + sorted(present - set(expected)))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only report whether exercises/ is up to date")
    args = parser.parse_args(argv)
    try:
        return check() if args.check else write()
    except ValueError as error:
        print(f"make_exercises: error: {error}", file=sys.stderr)
        return 1


def check() -> int:
    """Exit status 1 when exercises/ is out of date or holds an answer, naming each file."""
    stale, left = out_of_date(SOLUTIONS, EXERCISES), answers_left(SOLUTIONS, EXERCISES)
    for name in stale:
        print(f"out of date: exercises/{name}")
    for place in left:
        print(f"answer left in {place}")
    return 1 if stale or left else 0


def write() -> int:
    texts = generate(SOLUTIONS)
    EXERCISES.mkdir(exist_ok=True)
    for name, text in texts.items():
        (EXERCISES / name).write_text(text, encoding="utf-8")
    for path in EXERCISES.glob("*.ipynb"):
        if path.name not in texts:
            path.unlink()  # its solution notebook is gone
    print(f"wrote {len(texts)} exercise notebooks to exercises/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
