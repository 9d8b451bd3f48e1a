"""The package's parts and their one-way imports: tuning <- runs <- lessons <- cli (issue: folders show the parts)."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import spafit_course

PACKAGE = Path(spafit_course.__file__).parent
PARTS = ("tuning", "runs", "lessons", "cli")  # each may import only the parts before it
MAX_LINES = 300


def modules():
    return sorted(p for p in PACKAGE.rglob("*.py"))


def part_of(module_path: Path) -> str:
    relative = module_path.relative_to(PACKAGE).parts
    return relative[0] if len(relative) > 1 else "tuning"  # the top level re-exports the library


def imported_parts(path: Path) -> list[tuple[int, str]]:
    """(line, part) of every import of this package's parts in the module, lazy imports inside functions too."""
    package = ["spafit_course", *path.relative_to(PACKAGE).parts[:-1]]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            names = [".".join([*base, node.module] if node.module else base)]
            if names[0] in ("spafit_course", "spafit_course.") or node.module is None:
                names = [f"{names[0]}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            pieces = name.split(".")
            if pieces[0] == "spafit_course" and len(pieces) > 1 and pieces[1] in PARTS:
                found.append((node.lineno, pieces[1]))
    return found


def test_every_module_belongs_to_a_part():
    loose = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert loose == [], f"modules outside the parts {PARTS}: {loose}"
    assert sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()) == sorted(PARTS)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path):
    own = PARTS.index(part_of(path))
    upward = [f"line {line}: {part}" for line, part in imported_parts(path) if PARTS.index(part) > own]
    assert upward == [], f"{path.relative_to(PACKAGE)} ({PARTS[own]}) imports a part above its own: {upward}"


def test_the_direction_check_sees_an_upward_import(tmp_path):
    fake = PACKAGE / "tuning" / "_layout_probe.py"
    try:
        fake.write_text("def f():\n    from ..runs.models import load_model\n    from .lora import LoRALinear\n")
        assert imported_parts(fake) == [(2, "runs"), (3, "tuning")]
    finally:
        fake.unlink()


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_over_300_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines; split it by idea"


def test_every_part_says_what_it_is_for_and_what_it_may_import():
    for part in PARTS:
        doc = ast.get_docstring(ast.parse((PACKAGE / part / "__init__.py").read_text()))
        assert doc, f"spafit_course.{part} has no docstring"
        assert "import" in doc, f"spafit_course.{part}'s docstring does not say what it may import"


def test_the_library_loads_alone():
    code = ("import sys, spafit_course.tuning, spafit_course; "
            "from spafit_course import SpafitConfig, apply_spafit, apply_bitfit, inject_lora, LoRALinear, "
            "count_parameters, save_adapter, load_adapter, merge_adapter; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('datasets', 'sklearn', 'matplotlib', "
            "'ipywidgets', 'peft') or m.startswith(('spafit_course.runs', 'spafit_course.lessons', "
            "'spafit_course.cli'))); print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"importing the tuning library also imported {out.strip()}"


def test_the_public_api_is_listed():
    for name in ("SpafitConfig", "apply_spafit", "apply_bitfit", "inject_lora", "LoRALinear", "count_parameters",
                 "save_adapter", "load_adapter", "merge_adapter"):
        assert name in spafit_course.__all__
        assert getattr(spafit_course, name).__module__.startswith("spafit_course.tuning.")
    readme = (PACKAGE.parent / "README.md").read_text()
    assert all(name in readme for name in spafit_course.__all__ if not name.isupper()), \
        [name for name in spafit_course.__all__ if name not in readme]


def test_a_compare_run_resolves_its_task_name_once(monkeypatch):
    from spafit_course.runs import tasks
    from spafit_course.runs.experiments import compare_methods
    from spafit_course.runs.models import tiny_model
    from spafit_course.runs.profiles import get_profile

    lookups = []

    class CountingTasks(dict):
        def __getitem__(self, key):
            lookups.append(key)
            return super().__getitem__(key)

    monkeypatch.setattr(tasks, "TASKS", CountingTasks(tasks.TASKS))
    profile = get_profile("quick").with_overrides(train_size=8, eval_size=8, batch_size=4, max_length=16)
    compare_methods(profile, ["bitfit", "spafit"], progress=False,
                    model_factory=lambda labels: tiny_model("bert", num_layers=6, num_labels=labels, vocab_size=30522))
    assert lookups == ["polarity"], f"the task was looked up by name {len(lookups)} times: {lookups}"
