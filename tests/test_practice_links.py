"""Lessons, practice notebooks and the README point to each other: every lesson has a practice notebook (in
solutions/, and generated in exercises/), its "## Practice" section links to that notebook, every practice
notebook names its lesson and carries a time estimate, every notebook link in a practice notebook exists, and the
README's table lists every practice notebook."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
PRACTICE = sorted((ROOT / "solutions").glob("*.ipynb")) + sorted((ROOT / "exercises").glob("*.ipynb"))
LINK = re.compile(r"\]\(((?!https?:)[^)\s]+\.(?:ipynb|md))\)")  # relative links to notebooks and pages
HEADING = re.compile(r"^## Exercise (\d+)\.(\d+):", re.M)


def markdown(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]


def practice_name(lesson: Path) -> str:
    return f"{lesson.stem}_practice.ipynb"


def practice_section(lesson: Path) -> str:
    text = "\n".join(markdown(lesson))
    return text[text.index("## Practice"):] if "## Practice" in text else ""


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_every_lesson_has_a_practice_notebook_and_links_to_it(lesson):
    name = practice_name(lesson)
    assert (ROOT / "solutions" / name).is_file() and (ROOT / "exercises" / name).is_file(), name
    links = LINK.findall(practice_section(lesson))
    assert f"../exercises/{name}" in links, f"{lesson.name}'s Practice section does not link to exercises/{name}"
    assert f"../solutions/{name}" in links, f"{lesson.name}'s Practice section does not link to solutions/{name}"
    for link in links:
        assert (lesson.parent / link).resolve().is_file(), f"{lesson.name} links to {link}, which does not exist"


@pytest.mark.parametrize("path", PRACTICE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_practice_notebook_names_its_lesson_and_its_time(path):
    lesson = path.name.removesuffix("_practice.ipynb") + ".ipynb"
    opening = "\n".join(markdown(path)[:2])
    assert (ROOT / "notebooks" / lesson).is_file(), f"{path.name} has no lesson notebooks/{lesson}"
    assert f"](../notebooks/{lesson})" in opening, f"{path.name} does not link to its lesson at the top"
    assert re.search(r"^Time: about \d+ minutes", opening, re.M), f"{path.name} has no time estimate at the top"


@pytest.mark.parametrize("path", PRACTICE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_link_of_a_practice_notebook_exists(path):
    for text in markdown(path):
        for link in LINK.findall(text):
            assert (path.parent / link).resolve().is_file(), f"{path.name} links to {link}, which does not exist"


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_exercises_are_numbered_by_their_lesson_in_order(path):
    numbers = [(int(a), int(b)) for a, b in HEADING.findall("\n".join(markdown(path)))]
    lesson = int(path.name[:2])
    assert len(numbers) >= 2, f"{path.name} has fewer than two exercises"
    assert numbers == [(lesson, n) for n in range(1, len(numbers) + 1)], numbers


def test_the_readme_lists_every_practice_notebook_beside_its_lesson():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for lesson in LESSONS:
        name = practice_name(lesson)
        rows = [line for line in readme.splitlines() if line.startswith("|") and f"(exercises/{name})" in line]
        assert rows, f"README's practice table has no row for exercises/{name}"
        assert f"(solutions/{name})" in rows[0] and f"(notebooks/{lesson.name})" in rows[0], rows[0]
    for link in re.findall(r"\]\(((?:exercises|solutions|notebooks)/[\w.-]+\.ipynb)\)", readme):
        assert (ROOT / link).is_file(), f"README links to {link}, which does not exist"


def test_the_checker_sees_a_broken_pointer(tmp_path):
    lesson = tmp_path / "notebooks" / "07_new.ipynb"
    lesson.parent.mkdir()
    lesson.write_text(json.dumps({"cells": [{"cell_type": "markdown", "source": [
        "## Practice\n", "[practice](../exercises/04_spafit_practice.ipynb)"]}]}))
    links = LINK.findall(practice_section(lesson))
    assert links == ["../exercises/04_spafit_practice.ipynb"]
    assert f"../exercises/{practice_name(lesson)}" not in links
