"""Every test runs offline: the Hub is never asked, notebooks' kernels inherit these settings.

The lesson experiments (spafit_course.lessons) keep their results in one fresh folder per test session, so a
notebook executed by nbval shows the very runs that a test has just made instead of training them a second time
(a run is deterministic for its seed; tests/test_lesson_record.py holds that).
"""

import os
import tempfile

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("MPLBACKEND", "Agg")
# A fresh folder unless one is given (to reuse runs across sessions on purpose; stale after any code change).
os.environ.setdefault("SPAFIT_RUN_MEMO", tempfile.mkdtemp(prefix="spafit-runs-"))
# The lessons' notebooks read their seed 42 from the record instead of training it (the learner's default is to
# train it live): tests/test_lesson_record.py reruns it against the record, and the stand-in Hub's notebook
# runs (tests/test_standin_notebooks.py) train it live at tiny sizes.
os.environ.setdefault("SPAFIT_LIVE", "0")
# Under pytest-xdist (`make test`: two workers on two cores) one torch thread per worker, and in the notebooks'
# kernels too: torch's threads of two processes would wait for each other.
if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ["OMP_NUM_THREADS"] = "1"
    import torch

    torch.set_num_threads(1)


#: Test files whose items each run a whole notebook in a kernel of their own, independent of one another.
ONE_UNIT_PER_TEST = ("tests/test_standin_notebooks.py", "tests/test_standin_practice.py")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """`make test`'s `--dist loadfile`, with two changes. The stand-in notebook runs (10-30 s each) are handed out
    one by one instead of file by file, so the last minutes are shared by both workers rather than left to one. A
    practice notebook's solution and its exercise go to the same worker, solution first, so the exercise reads the
    snippet pools the solution has just computed from the run memo instead of computing them beside it. Every
    notebook nbval runs stays whole on one worker (its cells share one kernel), as does every other file."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class NotebooksWhole(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            if path in ONE_UNIT_PER_TEST:
                return nodeid
            folder, _, name = path.partition("/")
            return f"practice/{name}" if folder in ("solutions", "exercises") else path

    return NotebooksWhole(config, log)
