"""Every practice notebook that reads the profile (exercises/ and solutions/) runs under the colab profile on the
stand-in Hub, tiny sizes (tests/standin_notebooks.py says how; the lessons are in test_standin_notebooks.py)."""

import pytest
from standin_notebooks import PROFILE_READERS, run_under_colab

PRACTICE = [p for p in PROFILE_READERS if p.parent.name in ("exercises", "solutions")]


def test_the_practice_notebooks_with_live_runs_are_here():
    assert len(PRACTICE) >= 10 and {p.parent.name for p in PRACTICE} == {"exercises", "solutions"}


@pytest.mark.standin
@pytest.mark.parametrize("path", PRACTICE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_runs_under_the_colab_profile(path, standin_hub_folder, tiny_sizes, monkeypatch, tmp_path):
    assert run_under_colab(path, standin_hub_folder, monkeypatch, tmp_path) == []
