"""Every lesson runs under the colab profile on the stand-in Hub, tiny sizes (tests/standin_notebooks.py says how);
the practice notebooks run in tests/test_standin_practice.py, so that two test workers can share the work."""

import pytest
from standin_notebooks import PROFILE_READERS, ROOT, notebooks_in, run_under_colab

LESSONS = [p for p in PROFILE_READERS if p.parent.name == "notebooks"]


def test_every_lesson_reads_the_profile():
    assert notebooks_in(ROOT, ("notebooks",)) == LESSONS


@pytest.mark.standin
@pytest.mark.parametrize("path", LESSONS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_runs_under_the_colab_profile(path, standin_hub_folder, tiny_sizes, monkeypatch, tmp_path):
    assert run_under_colab(path, standin_hub_folder, monkeypatch, tmp_path) == []
