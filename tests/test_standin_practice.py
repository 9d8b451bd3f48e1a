"""Every practice solution that reads the profile runs under the colab profile on the stand-in Hub, tiny sizes
(tests/standin_notebooks.py says how; the lessons are in test_standin_notebooks.py).

The exercises are not run here: each is its solution with the solution's lines replaced by the stub
(tools/make_exercises.py; tests/test_exercises_generated.py holds them to it), nbval runs every exercise under the
quick profile, and what follows a stub reads the profile exactly as the solution does."""

import pytest
from standin_notebooks import PROFILE_READERS, run_under_colab

PRACTICE = [p for p in PROFILE_READERS if p.parent.name == "solutions"]


def test_the_practice_notebooks_with_live_runs_are_here():
    assert len(PRACTICE) >= 7


@pytest.mark.standin
@pytest.mark.parametrize("path", PRACTICE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_runs_under_the_colab_profile(path, standin_hub_folder, tiny_sizes, monkeypatch, tmp_path):
    assert run_under_colab(path, standin_hub_folder, monkeypatch, tmp_path) == []
