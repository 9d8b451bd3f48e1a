"""The course website's own Sphinx extension (docs/book/_config.yml loads it).

- Where the course is published comes from `spafit_course.lessons.publish`, the one place that keeps it: the
  repository button, each notebook page's Colab launch button, and a "download from GitHub" link beside the
  theme's own download buttons.
- What a learner reads holds no machinery: the solution notebooks' `### BEGIN SOLUTION` / `### END SOLUTION`
  / `# STUB:` lines (tools/make_exercises.py reads them) are left out of their pages, no page shows a path of
  the machine that built the site (the API reference's constants and defaults), and the "Open in Colab" badge
  and the favicon are served from the site's own `_static/` folder (next to this file), with the course's
  styles (`course.css`: outputs wrap, figures scale) and script (`course.js`: the phone menus, figures open at
  full size).
- The `course-api` directive documents every module of the package from its docstrings, found by walking the
  package, so a module that is added or moved needs no edit here. The docstrings are plain text written for
  `help()` and a reader of the source, not reStructuredText: `plain_docstring` keeps their aligned tables and
  indented examples as they are typed.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import posixpath
import re
import sys
import sysconfig
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from spafit_course.lessons import publish

#: The folders whose pages are notebooks a reader can launch or download.
NOTEBOOK_FOLDERS = ("notebooks/", "exercises/", "solutions/")
PACKAGE = "spafit_course"
STATIC = Path(__file__).resolve().parent / "_static"
ROOT = Path(__file__).resolve().parents[2]  # the repository: the book's source folder
BADGE = "colab-badge.svg"  # the site's copy of publish.BADGE_IMAGE
#: The lines tools/make_exercises.py reads in a solution notebook; a page of solutions shows the code without them.
SOLUTION_MARKERS = re.compile(r"^\s*(### BEGIN SOLUTION|### END SOLUTION|# STUB:.*)\s*$")


def download_url(relative_path: str) -> str:
    """The notebook's raw file at the published address, e.g. download_url("notebooks/04_spafit.ipynb")."""
    return f"{publish.repository_url()}/raw/{publish.BRANCH}/{relative_path}"


def set_published_address(app, config) -> None:
    """Repository, branch and Colab launch buttons, as sphinx-book-theme reads them, from spafit_course.lessons.publish."""
    options = dict(config.html_theme_options or {})
    options.update(repository_url=publish.repository_url(), repository_branch=publish.BRANCH, path_to_docs="",
                   use_repository_button=True)
    # Light, as the figures are drawn; without a default the theme logs an error on a reader's first visit.
    config.html_context = {"default_mode": "light", **(config.html_context or {})}
    options["launch_buttons"] = {**options.get("launch_buttons", {}), "colab_url": "https://colab.research.google.com"}
    config.html_theme_options = options
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    config.html_favicon = str(STATIC / "favicon.svg")


def add_download_link(app, pagename, templatename, context, doctree) -> None:
    """Add "from GitHub" to a notebook page's download buttons (after the theme has made them)."""
    if not pagename.startswith(NOTEBOOK_FOLDERS):
        return
    link = {"type": "link", "url": download_url(f"{pagename}.ipynb"), "text": "from GitHub",
            "tooltip": "Download this notebook from the course's repository", "icon": "fab fa-github",
            "label": "download-github-button"}
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].insert(0, link)
            return
    context.setdefault("header_buttons", []).append(
        {"type": "group", "tooltip": "Download this page", "icon": "fas fa-download", "buttons": [link],
         "label": "download-buttons"})


def drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    """Keep one copy of each script: with Sphinx 7.4, sphinx-thebe's and sphinx-togglebutton's inline set-up
    scripts land twice on every page, and the second `const THEBE_JS_URL` is a JavaScript error in the browser."""
    seen, kept = set(), []
    for script in context.get("script_files", []):
        key = (getattr(script, "filename", None) or "", repr(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    if "script_files" in context:
        context["script_files"] = kept


def drop_solution_markers(app, docname, source) -> None:
    """A solution notebook's page shows the answers as plain code: the region and stub lines are left out."""
    if not docname.startswith("solutions/"):
        return
    nb = json.loads(source[0])
    for cell in nb.get("cells", []):
        if cell.get("cell_type") == "code":
            lines = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = "\n".join(line for line in lines.split("\n") if not SOLUTION_MARKERS.match(line))
    source[0] = json.dumps(nb)


#: The published addresses a page of docs/ writes as placeholders, so that only publish.py spells them out:
#: `{colab}notebooks/00_setup_and_full_finetuning.ipynb` is that notebook's Colab link, `{repository}` the repository.
PLACEHOLDERS = {"{colab}": lambda: publish.badge_url(""), "{repository}": publish.repository_url}


def published_addresses(app, docname, source) -> None:
    """Write the published addresses into a page of docs/ where it holds their placeholders."""
    if docname.startswith("docs/"):
        for placeholder, address in PLACEHOLDERS.items():
            source[0] = source[0].replace(placeholder, address())


def local_badge(app, doctree, docname) -> None:
    """The "Open in Colab" badge from the site's own files, so a page offline shows the button, not its alt text."""
    for image in doctree.findall(nodes.image):
        if image.get("uri") == publish.BADGE_IMAGE:
            image["uri"] = posixpath.relpath(f"_static/{BADGE}", posixpath.dirname(docname) or ".")


def machine_prefixes() -> list[tuple[str, str]]:
    """(path prefix of the building machine, what a reader sees instead), longest first: the repository, the
    installed packages, the standard library, the interpreter and the home folder."""
    named = {f"'{ROOT}/'": "'<repository>/'", f"{ROOT}/": "", os.path.join(os.path.expanduser("~"), ""): "~/"}
    paths = sysconfig.get_paths()
    for key, name in (("purelib", "<site-packages>"), ("platlib", "<site-packages>"), ("stdlib", "<stdlib>"),
                      ("platstdlib", "<stdlib>")):
        if paths.get(key):
            for form in {paths[key], str(Path(paths[key]).resolve())}:
                named[os.path.join(form, "")] = f"{name}/"
    for prefix in {sys.prefix, sys.base_prefix}:
        named.setdefault(os.path.join(prefix, ""), "<python>/")
    return sorted(named.items(), key=lambda item: -len(item[0]))


def machine_paths(app, doctree) -> None:
    """No path of the machine that built the site: the package's files by their path in the repository, other
    paths by what they are (`<stdlib>/`, `<site-packages>/`). A default or a module constant that is a path
    (`RECORDED_SEEDS`, `NOT_LEARNERS`), or a module's repr, would otherwise show them."""
    prefixes = machine_prefixes()
    for text in list(doctree.findall(nodes.Text)):
        if any(prefix in text for prefix, _ in prefixes):
            shown = str(text)
            for prefix, name in prefixes:
                shown = shown.replace(prefix, name)
            text.parent.replace(text, nodes.Text(shown))


def package_modules(package: str = PACKAGE) -> list[str]:
    """Every module of the package, sub-packages included, in name order (the package itself first)."""
    root = importlib.import_module(package)
    found = [package]
    for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            found.append(info.name)
    return sorted(found, key=lambda name: (name != package, name))


ALIGNED = re.compile(r"\S {2,}\S")  # words set in columns: a table typed with spaces


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _paragraphs(lines: list[str]) -> list[list[str]]:
    paragraphs, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            paragraphs.append(current)
            current = []
    return paragraphs


def plain_docstring(app, what, name, obj, options, lines) -> None:
    """Keep a plain-text docstring's indented or column-aligned paragraphs as typed (literal blocks); the rest
    stays prose, with `backticks` as code (default_role)."""
    result = []
    for paragraph in _paragraphs(lines):
        lead = []  # prose that runs into an indented block without a blank line stays prose
        while len(paragraph) > 1 and _indent(paragraph[0]) == 0 < _indent(paragraph[1]) and not ALIGNED.search(
                paragraph[0]):
            lead.append(paragraph.pop(0))
        typed = not paragraph[0].lstrip().startswith((":", "..")) and (
            any(_indent(line) > _indent(paragraph[0]) for line in paragraph[1:])
            or any(ALIGNED.search(line.strip()) for line in paragraph))
        result += lead + [""] if lead else []
        result += ([".. code-block:: text", ""] + ["    " + line for line in paragraph] if typed else paragraph) + [""]
    lines[:] = result


class CourseApi(SphinxDirective):
    """One section per module: its docstring and its public members' docstrings, in source order."""

    def run(self):
        lines = []  # MyST markdown, as the page that holds the directive; autodoc itself writes reStructuredText
        for name in package_modules():
            lines += [f"## `{name}`", "", "```{eval-rst}", f".. automodule:: {name}"]
            # A package (the top one, a sub-package) re-exports its modules' functions: it gives its docstring,
            # and each function is documented in the module that defines it.
            package = hasattr(importlib.import_module(name), "__path__")
            lines += ["```", ""] if package else ["   :members:", "```", ""]
        container = nodes.container()
        nested_parse_with_titles(self.state, StringList(lines, source="course-api"), container)
        return container.children


def setup(app):
    app.connect("config-inited", set_published_address)
    app.connect("source-read", drop_solution_markers)
    app.connect("source-read", published_addresses)
    app.connect("doctree-resolved", local_badge)
    app.connect("doctree-read", machine_paths)
    app.add_css_file("course.css")
    app.add_js_file("course.js")
    app.connect("html-page-context", add_download_link, priority=600)  # after sphinx-book-theme's (501)
    app.connect("html-page-context", drop_repeated_scripts, priority=900)
    app.add_directive("course-api", CourseApi)
    app.connect("autodoc-process-docstring", plain_docstring)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
