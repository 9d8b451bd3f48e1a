"""Every lesson notebook has the sections of a course lesson (issue 11), found by simple markers:

- before the first code cell: a markdown heading "## Learning objectives" and the words "Time:" (the time
  estimate on CPU and on a Colab GPU);
- at least two "**Think first**" questions, each answer folded in a `<details><summary>...</summary>` block;
- after the last code cell, in this order: "## Recap", "## References" (with at least one arXiv link) and
  "## Practice" (with a link to a notebook in solutions/ or exercises/ that exists).
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
ARXIV = re.compile(r"https://arxiv\.org/abs/\d{4}\.\d{4,5}")
PRACTICE_LINK = re.compile(r"\]\(\.\./((?:solutions|exercises)/[\w.-]+\.ipynb)\)")
DETAILS = re.compile(r"<details>\s*<summary>.+?</summary>.+?</details>", re.S)


def cells(path: Path) -> list[tuple[str, str]]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return [(c["cell_type"], "".join(c["source"])) for c in nb["cells"]]


def heading_index(found, title: str) -> int | None:
    pattern = re.compile(rf"^## {re.escape(title)}\s*$", re.M | re.I)
    return next((i for i, (kind, text) in enumerate(found) if kind == "markdown" and pattern.search(text)), None)


def missing_sections(path: Path) -> list[str]:
    found = cells(path)
    code = [i for i, (kind, _) in enumerate(found) if kind == "code"]
    first_code, last_code = (code[0], code[-1]) if code else (len(found), -1)
    opening = "\n".join(text for kind, text in found[:first_code] if kind == "markdown")
    markdown = "\n".join(text for kind, text in found if kind == "markdown")
    missing = []
    objectives = heading_index(found, "Learning objectives")
    if objectives is None or objectives > first_code:
        missing.append("a '## Learning objectives' heading before the first code cell")
    if "Time:" not in opening:
        missing.append("'Time:' (the time estimate) before the first code cell")
    if len(re.findall(r"\*\*Think first", markdown)) < 2:
        missing.append("two '**Think first**' questions")
    if len(DETAILS.findall(markdown)) < 2:
        missing.append("two answers folded in <details><summary>...</summary>...</details>")
    closing = [heading_index(found, title) for title in ("Recap", "References", "Practice")]
    for title, index in zip(("Recap", "References", "Practice"), closing):
        if index is None or index < last_code:
            missing.append(f"a '## {title}' heading after the last code cell")
    if None not in closing and closing != sorted(closing):
        missing.append("Recap, References and Practice in that order")
    section = lambda index: found[index][1] if index is not None else ""
    if closing[1] is not None and not ARXIV.search(section(closing[1])):
        missing.append("an https://arxiv.org/abs/... link under '## References'")
    links = PRACTICE_LINK.findall(section(closing[2]))
    if closing[2] is not None and not any((ROOT / link).is_file() for link in links):
        missing.append("a link to an existing ../solutions/ or ../exercises/ notebook under '## Practice'")
    return missing


def test_there_are_lessons():
    assert len(LESSONS) >= 7


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_lesson_has_every_course_section(path):
    assert missing_sections(path) == []


def test_checker_finds_what_is_missing(tmp_path):
    def notebook(*cells):
        path = tmp_path / "lesson.ipynb"
        path.write_text(json.dumps({"cells": [{"cell_type": k, "source": s} for k, s in cells]}))
        return path

    bare = notebook(("markdown", "# Lesson"), ("code", "x = 1"))
    assert len(missing_sections(bare)) == 7
    whole = notebook(
        ("markdown", "# Lesson\n\nTime: 5 min on a CPU, 2 min on a Colab GPU\n\n## Learning objectives\n- a"),
        ("markdown", "**Think first.** Why?\n\n<details><summary>Answer</summary>Because.</details>"),
        ("code", "x = 1"),
        ("markdown", "**Think first.** And?\n\n<details>\n<summary>Answer</summary>\n\nSo.\n</details>"),
        ("code", "y = 2"),
        ("markdown", "## Recap\n- a"),
        ("markdown", "## References\n- [LoRA](https://arxiv.org/abs/2106.09685)"),
        ("markdown", "## Practice\n[LoRA practice](../solutions/02_lora_practice.ipynb), exercise 2.1"))
    assert missing_sections(whole) == []
    broken = json.loads(whole.read_text())
    broken["cells"][-1]["source"] = "## Practice\n[nowhere](../solutions/99_none.ipynb)"
    broken["cells"][1]["source"] = "**Think first.** Why? Because."
    whole.write_text(json.dumps(broken))
    assert missing_sections(whole) == [
        "two answers folded in <details><summary>...</summary>...</details>",
        "a link to an existing ../solutions/ or ../exercises/ notebook under '## Practice'"]
