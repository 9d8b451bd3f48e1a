"""The course website (`make book`), built as a reader gets it and read as a reader meets it.

The book is built once from the notebooks' stored outputs (nothing runs; about 15 s), with every Sphinx warning an
error. The checks on its files: every page of the table of contents is there, the landing page links to every one
of them and to lesson 00 on Colab, every image and every internal link leads somewhere, no page shows a traceback,
a widget's text representation, test machinery (nbval markers, solution markers, the generated-copy note) or a
path of the machine that built it, solution pages say they are solutions, references are links, and the pictures,
the Colab badge and the favicon come from the site itself. Then headless Chromium opens every page: no console
error; at 390 px (a phone) no page is wider than the screen, every figure links to its full-size file, and the
sidebar and contents buttons open their menus; at 1280 px no cell output needs sideways scrolling. It keeps
screenshots of lesson 04, whose explorer must show as a picture.

Deselect both with `-m "not book"`. The browser check uses Debian's `chromium` and `chromium-driver` and is
skipped, saying so, where they are absent; screenshots go to $SPAFIT_SCREENSHOTS (default: _build/screenshots).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import time
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from spafit_course.lessons import publish

pytestmark = pytest.mark.book

ROOT = Path(__file__).resolve().parent.parent
TOC = ROOT / "docs" / "book" / "_toc.yml"
LANDING = "docs/book/intro"
LESSONS = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
NOTEBOOK_FOLDERS = ("notebooks/", "exercises/", "solutions/")
# what a reader must not meet: test and exercise-generator machinery, and where the site was built
MACHINERY = re.compile(r"NBVAL_|nbval-(check|ignore)|### (BEGIN|END) SOLUTION|# STUB:|This copy is generated")
DEVELOPER_PAGES = {"README"}  # the developers' page documents the machinery; learners' pages never show it
MACHINE_PATH = re.compile(r"(?<![\w.])(/work|/root|/tmp|/home/[\w.-]+|/Users/[\w.-]+)/")
# what a widget's text representation starts with, where its figure belongs
WIDGET_TEXT = re.compile(r"\b(VBox|HBox|Box|GridBox|Tab|Accordion|Output|IntSlider|Dropdown|SelectMultiple|Button)"
                         r"\((children|value|description|layout|outputs)=")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)|Error displaying widget|\w+Error: .*\n.*-{5,}")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


build_book = _load("build_book", ROOT / "tools" / "build_book.py")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site's html folder (a fresh build; any Sphinx warning fails it)."""
    if importlib.util.find_spec("jupyter_book") is None:
        pytest.skip('jupyter-book is not installed: pip install -e ".[book]" (make setup does)')
    index = build_book.build(tmp_path_factory.mktemp("book"), quiet=True)
    return index.parent


def toc_files() -> list[str]:
    import yaml

    toc = yaml.safe_load(TOC.read_text())
    return [toc["root"]] + [chapter["file"] for part in toc["parts"] for chapter in part["chapters"]]


class Page(HTMLParser):
    """What a reader meets on one page: images, links, anchors, and the text of the cells' outputs."""

    def __init__(self, path: Path):
        super().__init__()
        self.path, self.images, self.links, self.scripts, self.ids = path, [], [], [], set()
        self.outputs, self._depth, self._output_at, self._texts = [], 0, None, []
        self.text, self.icons, self._hidden, self._in, self.title, self.h1 = [], [], 0, None, "", ""
        self.feed(path.read_text(encoding="utf-8"))

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        elif tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "script" and attrs.get("src"):
            self.scripts.append(attrs["src"])
        elif tag == "link" and attrs.get("href") and "stylesheet" in (attrs.get("rel") or ""):
            self.scripts.append(attrs["href"])
        elif tag == "link" and attrs.get("href") and "icon" in (attrs.get("rel") or "").split():
            self.icons.append(attrs["href"])
        if tag in ("script", "style"):
            self._hidden += 1
        if tag in ("title", "h1") and not getattr(self, tag):
            self._in = tag
        if tag == "div":
            self._depth += 1
            if self._output_at is None and "cell_output" in (attrs.get("class") or "").split():
                self._output_at, self._texts = self._depth, []
                self.outputs.append({"text": "", "images": []})
        if tag == "img" and self._output_at is not None:
            self.outputs[-1]["images"].append(attrs.get("src", ""))

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1
        if tag == self._in:
            self._in = None
        if tag == "div":
            if self._output_at == self._depth:
                self.outputs[-1]["text"] = "".join(self._texts)
                self._output_at = None
            self._depth -= 1

    def handle_data(self, data):
        if self._in:
            setattr(self, self._in, getattr(self, self._in) + data)
        if self._hidden:
            return  # a script's or a style's text is not what a reader sees
        self.text.append(data)
        if self._output_at is not None:
            self._texts.append(data)


def pages(site: Path) -> dict[str, Page]:
    return {name: Page(site / f"{name}.html") for name in toc_files()}


@pytest.fixture(scope="module")
def read(site) -> dict[str, Page]:
    return pages(site)


def local(url: str) -> bool:
    return not urlsplit(url).scheme and not url.startswith(("#", "//"))


def test_every_page_of_the_table_of_contents_is_built(site):
    files = toc_files()
    assert files[0] == LANDING and [f for f in files if f.startswith("notebooks/")] == [f"notebooks/{s}" for s in
                                                                                        LESSONS]
    assert {"docs/book/api", "docs/results", "docs/paper-profile", "docs/book/glossary", "docs/book/peft-landscape",
            "docs/book/open-problems", "README"} <= set(files)
    assert sorted(f for f in files if f.startswith(("exercises/", "solutions/"))) == sorted(
        p.relative_to(ROOT).with_suffix("").as_posix() for folder in ("exercises", "solutions")
        for p in (ROOT / folder).glob("*.ipynb"))
    missing = [f for f in files if not (site / f"{f}.html").is_file()]
    assert missing == []
    assert f"{LANDING}.html" in (site / "index.html").read_text()  # the site opens on the learners' page


def test_the_landing_page_maps_the_course_and_starts_lesson_00_in_one_click(read, site):
    page = read[LANDING]
    targets = {(page.path.parent / unquote(urlsplit(url).path)).resolve() for url in page.links if local(url)}
    unlinked = [name for name in toc_files()[1:] if (site / f"{name}.html").resolve() not in targets]
    assert unlinked == [], f"the landing page does not link to {unlinked}"
    notebooks = [url for url in page.links if local(url) and "/notebooks/" in url]
    assert notebooks[0].endswith("notebooks/00_setup_and_full_finetuning.html"), notebooks[:1]  # "Start here"
    colab = [url for url in page.links if url.startswith("https://colab.research.google.com/")]
    assert colab and colab[0] == publish.badge_url("notebooks/00_setup_and_full_finetuning.ipynb")
    text = " ".join(" ".join(page.text).split())
    for heading in ("What you will learn", "what you need first", "The course map", "How to run it",
                    "Results and the paper"):
        assert heading in text, heading
    html = page.path.read_text(encoding="utf-8")
    rows = [row for row in html.split("<tr")[1:] if "notebooks/" in row]
    assert len(rows) == len(LESSONS) and all(re.search(r"\d+ min", row) for row in rows)  # each lesson's time


def test_every_image_script_stylesheet_and_icon_comes_from_the_site(read):
    for name, page in read.items():
        assert len(page.icons) == 1, f"{name}: favicon links {page.icons}"
        for url in page.images + page.scripts + page.icons:
            assert local(url), f"{name} loads {url} from the network"  # the Colab badge too: it works offline
            target = (page.path.parent / unquote(urlsplit(url).path)).resolve()
            assert target.is_file(), f"{name}: {url}"


def test_internal_links_resolve(read):
    for name, page in read.items():
        for url in page.links:
            if url.startswith("#"):
                assert url[1:] in page.ids or url == "#", f"{name}: {url}"
                continue
            if not local(url):
                continue
            parts = urlsplit(url)
            target = (page.path.parent / unquote(parts.path)).resolve()
            assert target.exists(), f"{name}: {url}"
            if parts.fragment and target.suffix == ".html":
                assert f'id="{parts.fragment}"' in target.read_text(encoding="utf-8"), f"{name}: {url}"


def test_no_page_shows_a_traceback_or_a_widget_as_text(read):
    for name, page in read.items():
        for output in page.outputs:
            assert not TRACEBACK.search(output["text"]), f"{name}: {output['text'][:300]}"
            assert not WIDGET_TEXT.search(output["text"]), f"{name}: {output['text'][:300]}"
        assert "application/vnd.jupyter.widget" not in "".join(page.text), name


def test_no_page_shows_test_machinery_or_a_machine_path(read, site):
    for name, page in read.items():
        text = "".join(page.text)
        match = None if name in DEVELOPER_PAGES else MACHINERY.search(text)
        assert not match, f"{name}: {text[max(0, match.start() - 80):match.end() + 40]!r}"
    import sysconfig

    here = [str(ROOT), *{p for key in ("stdlib", "purelib") for p in (sysconfig.get_paths()[key],
                                                                     str(Path(sysconfig.get_paths()[key]).resolve()))}]
    for path in [*site.rglob("*.html"), site / "searchindex.js"]:  # attributes and search results too
        html = path.read_text(encoding="utf-8")
        match = MACHINE_PATH.search(html) or re.search("|".join(map(re.escape, here)), html)
        assert not match, f"{path.relative_to(site)}: {html[max(0, match.start() - 80):match.end() + 40]!r}"


def test_solution_pages_say_they_are_solutions(read):
    for name, page in read.items():
        if name.startswith(("solutions/", "exercises/")):
            lesson = name.split("/")[1][:2]
            expected = f"Solutions to lesson {lesson} practice" if name.startswith("solutions/") else \
                f"Lesson {lesson} practice"
            assert page.h1.startswith(expected) and page.title.startswith(expected), (name, page.h1, page.title)


def test_references_are_links(read):
    for lesson in LESSONS:
        page = read[f"notebooks/{lesson}"]
        nb = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())
        cited = {url for c in nb["cells"] if c["cell_type"] == "markdown"
                 for url in re.findall(r"https://arxiv\.org/abs/[\w./]+\d", "".join(c["source"]))}
        assert cited, lesson
        assert cited <= set(page.links), (lesson, sorted(cited - set(page.links)))
    for name in ("docs/book/peft-landscape", "docs/book/glossary"):
        assert sum(url.startswith("https://arxiv.org/abs/") for url in read[name].links) >= 5, name


def test_notebook_pages_launch_in_colab_and_download_from_the_published_address(read):
    notebooks = [name for name in read if name.startswith(NOTEBOOK_FOLDERS)]
    practice = [p for folder in ("exercises", "solutions") for p in (ROOT / folder).glob("*.ipynb")]
    assert len(notebooks) == len(LESSONS) + len(practice) and len(LESSONS) >= 7 and len(practice) == 2 * len(LESSONS)
    for name in notebooks:
        links = read[name].links
        assert publish.badge_url(f"{name}.ipynb") in links, name
        assert f"{publish.repository_url()}/raw/{publish.BRANCH}/{name}.ipynb" in links, name


def test_lessons_keep_their_figures_folded_answers_and_references(read):
    for lesson in LESSONS:
        page = read[f"notebooks/{lesson}"]
        nb = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())
        figures = sum("image/png" in o.get("data", {}) for c in nb["cells"] for o in c.get("outputs", []))
        assert sum(len(o["images"]) for o in page.outputs) == figures, lesson
        html = page.path.read_text(encoding="utf-8")
        answers = sum("".join(c["source"]).count("<details>") for c in nb["cells"] if c["cell_type"] == "markdown")
        assert answers and html.count("<details>") == answers and html.count("<summary>") >= answers, lesson
        assert "references" in page.ids, lesson


def test_lesson_04_shows_the_explorer_as_a_picture(read):
    page = read["notebooks/04_spafit"]
    html = page.path.read_text(encoding="utf-8")
    cell = html[html.index("make_explorer"):]
    output = cell[cell.index('class="cell_output'):cell.index('class="cell docutils', 1)]
    assert "<img" in output and "VBox" not in output


def test_the_api_reference_documents_every_module(read, site):
    import sys

    sys.path.insert(0, str(ROOT / "docs" / "book"))
    try:
        course_book = _load("course_book", ROOT / "docs" / "book" / "course_book.py")
    finally:
        sys.path.remove(str(ROOT / "docs" / "book"))
    api = read["docs/book/api"]
    modules = course_book.package_modules()
    assert "spafit_course.tuning.spafit" in modules and len(modules) > 20
    assert {f"module-{m}" for m in modules} <= api.ids
    assert {"spafit_course.tuning.spafit.apply_spafit", "spafit_course.tuning.lora.LoRALinear",
            "spafit_course.lessons.explorer.make_explorer"} <= api.ids


# ---------------------------------------------------------------------------------------------- in a browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not Path(path).is_file()]
    if missing:
        pytest.skip(f"headless Chromium is not installed ({', '.join(missing)} missing; on Debian: "
                    "apt-get install chromium chromium-driver)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip('selenium is not installed: pip install -e ".[dev]"')
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + (f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def open_page(driver, path: Path) -> list[dict]:
    """Load the page, wait until it and its images have loaded; return its console's errors."""
    driver.get(path.as_uri())
    deadline = time.time() + 20
    while time.time() < deadline and not driver.execute_script(
            "return document.readyState === 'complete' && [...document.images].every(i => i.complete)"):
        time.sleep(0.1)
    time.sleep(0.3)  # scripts that run on load
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@contextmanager
def phone(driver, width: int = 390, height: int = 844):
    """The browser as a phone: a 390 x 844 screen at 3 pixels a point that honours the pages' viewport tag."""
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                                  "deviceScaleFactor": 3, "mobile": True})
    try:
        yield driver
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


@contextmanager
def window(driver, width: int, height: int = 900):
    """The browser window at this size (a laptop: 1280 x 900); back to the default size afterwards."""
    driver.set_window_size(width, height)
    try:
        yield driver
    finally:
        driver.set_window_size(1400, 1000)


@pytest.fixture(scope="module")
def on_a_laptop(site, browser) -> dict[str, dict]:
    """Every page of the table of contents opened once in a laptop's window (1280 x 900): its console's errors,
    the images that did not load, its text, and the code and output blocks that would scroll sideways."""
    seen = {}
    with window(browser, 1280):
        for name in toc_files():
            errors = open_page(browser, site / f"{name}.html")
            seen[name] = {
                "errors": errors,
                "broken": browser.execute_script(
                    "return [...document.images].filter(i => !i.naturalWidth).map(i => i.src)"),
                "text": browser.find_element("tag name", "body").text,
                "cut": browser.execute_script(
                    "return [...document.querySelectorAll('div.cell_output pre, div.cell_input pre')]"
                    ".filter(p => p.scrollWidth > p.clientWidth + 1).map(p => p.textContent.slice(0, 120))")}
    return seen


def test_every_page_loads_in_chromium_without_console_errors(on_a_laptop):
    for name, page in on_a_laptop.items():
        assert page["errors"] == [], f"{name}: {page['errors']}"
        assert page["broken"] == [], f"{name}: images that did not load: {page['broken']}"
        if name.startswith("notebooks/"):
            assert not WIDGET_TEXT.search(page["text"]), name


def test_on_a_phone_no_page_is_wider_than_the_screen_and_figures_open_full_size(site, browser):
    with phone(browser):
        for name in toc_files():
            open_page(browser, site / f"{name}.html")
            width, page_width = browser.execute_script(
                "return [document.documentElement.clientWidth, document.documentElement.scrollWidth]")
            assert width <= 400 and page_width <= width, f"{name}: {page_width} px wide on a {width} px screen"
            figures = browser.execute_script(
                "return [...document.querySelectorAll('div.cell_output img')].map(i => [i.src, "
                "i.getBoundingClientRect().right, i.closest('a') && i.closest('a').href])")
            for src, right, link in figures:
                assert right <= width and link == src, f"{name}: {src} reaches {right} px, links to {link}"


def test_on_a_laptop_no_cell_output_needs_sideways_scrolling(on_a_laptop):
    notebook_pages = {name: page for name, page in on_a_laptop.items() if name.startswith(NOTEBOOK_FOLDERS)}
    assert len(notebook_pages) >= 24
    for name, page in notebook_pages.items():
        assert page["cut"] == [], f"{name}: {len(page['cut'])} blocks scroll sideways, e.g. {page['cut'][:2]}"


def visible_links(driver, container) -> list[str]:
    return driver.execute_script(
        "const box = document.querySelector(arguments[0]); return box ? [...box.querySelectorAll('a')]"
        ".filter(a => { const r = a.getBoundingClientRect(); return r.width > 0 && r.right > 0 && "
        "r.left < innerWidth && r.top < innerHeight; }).map(a => a.getAttribute('href')) : []", container)


def test_on_a_phone_the_sidebar_and_contents_buttons_open_their_menus(site, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with phone(browser):
        for name, kind in ((LANDING, "primary"), ("notebooks/04_spafit", "primary"),
                           ("notebooks/04_spafit", "secondary")):
            open_page(browser, site / f"{name}.html")
            dialog = f"#pst-{kind}-sidebar-modal"
            assert visible_links(browser, dialog) == [], f"{name}: the {kind} menu is open before a tap"
            buttons = [b for b in browser.find_elements(By.CSS_SELECTOR, f".{kind}-toggle") if b.is_displayed()]
            assert buttons, f"{name}: no {kind} button on a phone"
            buttons[0].click()
            time.sleep(0.5)
            links = visible_links(browser, dialog)
            assert browser.execute_script(f"return document.querySelector('{dialog}').open"), (name, kind)
            if kind == "primary":  # the course's pages, lesson 00 among them, one tap away
                assert any("00_setup_and_full_finetuning.html" in link for link in links), (name, links)
            else:  # the page's own sections
                assert "#references" in links, (name, links)
            ActionChains(browser).send_keys(Keys.ESCAPE).perform()
            time.sleep(0.3)
            assert not browser.execute_script(f"return document.querySelector('{dialog}').open"), (name, kind)


def test_the_landing_page_takes_a_learner_to_lesson_00_in_one_click(site, browser):
    from selenium.webdriver.common.by import By

    with phone(browser):
        open_page(browser, site / f"{LANDING}.html")
        start = browser.find_element(By.CSS_SELECTOR, "article a[href$='notebooks/00_setup_and_full_finetuning.html']")
        assert start.location["y"] < 1200, "the way to lesson 00 is not near the top of the landing page"
        start.click()
        time.sleep(0.5)
        assert browser.current_url.endswith("notebooks/00_setup_and_full_finetuning.html")


def test_lesson_04_in_chromium_shows_the_explorer_as_a_picture(site, browser):
    from selenium.webdriver.common.by import By

    folder = Path(os.environ.get("SPAFIT_SCREENSHOTS") or ROOT / "_build" / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    open_page(browser, site / "notebooks" / "04_spafit.html")  # its console: the test above
    cells = browser.find_elements(By.CSS_SELECTOR, "div.cell")
    explorer = next(c for c in cells if "make_explorer(" in c.find_element(By.CSS_SELECTOR, ".cell_input").text)
    output = explorer.find_element(By.CSS_SELECTOR, ".cell_output")
    picture = output.find_element(By.TAG_NAME, "img")
    width, height = browser.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", picture)
    assert width > 600 and height > 250  # the explorer's default view, not an icon
    assert "VBox" not in output.text and not WIDGET_TEXT.search(output.text)
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", explorer)
    assert explorer.screenshot(str(folder / "lesson04-explorer.png"))
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1400, min(height + 100, 16000))
    try:
        assert browser.save_screenshot(str(folder / "lesson04-page.png"))
    finally:
        browser.set_window_size(1400, 1000)
    print(f"screenshots of lesson 04: {folder}")
