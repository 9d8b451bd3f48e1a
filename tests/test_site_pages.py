"""The website's own pages, as written (tests/test_book.py reads them built): the landing page maps every lesson
with its practice, solutions, time and Colab button at the published address; the glossary has an entry, at a
stable anchor, for every term the lessons link to; the open problems cover every lesson and end in a capstone."""

import re
import sys
from pathlib import Path

import pytest

from spafit_course.lessons import publish

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "docs" / "book"
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
#: the glossary's anchors the lessons link to (`[term](../docs/book/glossary.md#anchor)`): renaming an entry
#: would break those links, so each must stay
GLOSSARY_ANCHORS = (
    "ablation", "adam", "alpha", "bias-terms", "bitfit", "budget", "catastrophic-forgetting", "cka", "cls-vector",
    "control", "cost-model", "drift", "embeddings", "full-fine-tuning", "glue", "head", "holm-correction",
    "layernorm", "lora", "majority-class-rate", "matthews-correlation", "mean-head", "merge", "n1-and-n2",
    "not-detectable-at-this-budget", "optimizer-state", "paired-difference", "paired-interval", "peft", "pooler",
    "probe", "profile", "rank", "rule-of-thumb", "seed", "sign-count", "spafit", "standard-error", "stratifier",
    "targets", "test-split", "trec", "trainable-parameters", "validation-split",)


def headings(path: Path, level: str = "##") -> list[str]:
    return re.findall(rf"^{level} (.+)$", path.read_text(encoding="utf-8"), re.M)


def published(page: Path) -> str:
    """A page as the site shows it: the published addresses written in where it holds their placeholders."""
    sys.path.insert(0, str(BOOK))
    import course_book

    source = [page.read_text(encoding="utf-8")]
    course_book.published_addresses(None, f"docs/book/{page.stem}", source)
    return source[0]


def test_the_landing_page_spells_out_no_address_and_the_site_writes_them_in():
    written = (BOOK / "intro.md").read_text(encoding="utf-8")
    assert publish.REPOSITORY not in written and "{colab}notebooks/" in written and "{repository}" in written
    shown = published(BOOK / "intro.md")
    assert "{colab}" not in shown and "{repository}" not in shown
    assert f"git clone {publish.repository_url()}" in shown


def test_the_landing_page_lists_every_lesson_with_its_practice_solutions_time_and_colab():
    text = published(BOOK / "intro.md")
    for lesson in LESSONS:
        rows = [line for line in text.splitlines() if line.startswith("|")
                and f"(../../notebooks/{lesson}.ipynb)" in line]
        assert len(rows) == 1, f"the course map has {len(rows)} rows for {lesson}"
        assert f"(../../exercises/{lesson}_practice.ipynb)" in rows[0], lesson
        assert f"(../../solutions/{lesson}_practice.ipynb)" in rows[0], lesson
        assert re.search(r"\| \d+ min \|", rows[0]) and re.search(r"practice\]\([^)]*\), \d+ min", rows[0]), lesson
    start = text.index("**Start here:**")
    assert start < 1500 and f"({publish.badge_url('notebooks/00_setup_and_full_finetuning.ipynb')})" in text[start:]
    for url in re.findall(r"\]\((https://colab\.research\.google\.com/github/[^)]+)\)", text):
        assert url == publish.badge_url(url.split(f"/blob/{publish.BRANCH}/", 1)[-1]), url  # the published address
    for page in ("../results.md", "../paper-profile.md", "glossary.md", "peft-landscape.md", "open-problems.md"):
        assert f"]({page})" in text, page


def test_the_glossary_keeps_an_entry_for_every_linked_term_in_order():
    slugify = pytest.importorskip("myst_parser.mdit_to_docutils.base").default_slugify  # as the site resolves links
    terms = headings(BOOK / "glossary.md")
    slugs = [slugify(term) for term in terms]
    assert sorted(set(GLOSSARY_ANCHORS) - set(slugs)) == []
    assert [t.lstrip("[").lower() for t in terms] == sorted(t.lstrip("[").lower() for t in terms)  # alphabetical


def test_every_glossary_entry_links_where_it_is_first_met_and_those_lessons_exist():
    text = (BOOK / "glossary.md").read_text(encoding="utf-8")
    for entry in text.split("\n## ")[1:]:
        links = re.findall(r"\]\(\.\./\.\./notebooks/([\w.]+\.ipynb)\)", entry)
        assert all((ROOT / "notebooks" / link).is_file() for link in links), (entry[:40], links)
        assert "First met in [lesson" in entry, entry[:40]


def test_the_open_problems_cover_every_lesson_and_end_in_a_capstone():
    sections = headings(BOOK / "open-problems.md")
    numbers = [m.group(1) for s in sections for m in [re.match(r"After lesson (\d\d)", s)] if m]
    assert numbers == [lesson[:2] for lesson in LESSONS]
    assert sections[-1].startswith("Capstone project")
