"""The lessons link the glossary where a term first appears (`[term](../docs/book/glossary.md#slug)`): every such
link names an entry the glossary has, by the slug MyST gives its `##` heading (myst_heading_anchors), and the
lessons link a good share of the entries."""

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "book" / "glossary.md"
LESSONS = sorted((ROOT / "notebooks").glob("0*.ipynb"))
LINK = re.compile(r"\]\(([^)\s]*glossary\.md[^)\s]*)\)")


def slugify(title: str) -> str:
    """MyST's default heading slug (myst_parser.mdit_to_docutils.base.default_slugify): lower case, spaces to
    hyphens, every character but word characters, CJK, hyphens and spaces dropped ("[CLS] vector" -> "cls-vector")."""
    return re.sub(r"[^\w\u4e00-\u9fff\- ]", "", title.lower().replace(" ", "-"))


def glossary_slugs() -> set[str]:
    return {slugify(title) for title in re.findall(r"^## (.+)$", GLOSSARY.read_text(encoding="utf-8"), re.M)}


def lesson_links() -> list[tuple[str, str]]:
    """(lesson, link target) for every link to the glossary in a lesson's markdown cells."""
    found = []
    for path in LESSONS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                found += [(path.name, target) for target in LINK.findall("".join(cell["source"]))]
    return found


def test_the_slug_is_the_one_myst_gives():
    try:
        from myst_parser.mdit_to_docutils.base import default_slugify
    except ImportError:  # the site's extras are not installed: the examples below still pin the rule
        default_slugify = None
    examples = {"Majority-class rate": "majority-class-rate", "[CLS] vector": "cls-vector", "N1 and N2": "n1-and-n2",
                "CKA": "cka", "Optimizer state": "optimizer-state"}
    for title, slug in examples.items():
        assert slugify(title) == slug
        assert default_slugify is None or default_slugify(title) == slug


def test_every_glossary_link_in_the_lessons_names_an_entry():
    slugs = glossary_slugs()
    for lesson, target in lesson_links():
        path, _, anchor = target.partition("#")
        assert path == "../docs/book/glossary.md", (lesson, target)
        assert anchor in slugs, f"{lesson} links {target}, but the glossary has no entry with that anchor"


def test_the_lessons_link_at_least_20_glossary_entries():
    linked = {target.partition("#")[2] for _, target in lesson_links()}
    assert len(linked & glossary_slugs()) >= 20, sorted(linked)
