"""Fixtures of the stand-in Hub (tests/standin_hub.py): built once per session, installed per test."""

import gc
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import standin_hub as standin  # noqa: E402


@pytest.fixture(scope="session")
def standin_hub_folder(tmp_path_factory):
    return standin.build(tmp_path_factory.mktemp("standin-hub"))


@pytest.fixture
def standin_hub(standin_hub_folder, monkeypatch):
    """The stand-in Hub installed for one test: monkeypatch undoes both patches afterwards."""
    import datasets

    import spafit_course.runs.models as models

    monkeypatch.setattr(models, "model_path", models.model_path)
    monkeypatch.setattr(datasets, "load_dataset", datasets.load_dataset)
    standin.install(standin_hub_folder)
    return standin_hub_folder


TINY_SIZES = {"SPAFIT_TRAIN_SIZE": "16", "SPAFIT_EVAL_SIZE": "8", "SPAFIT_BATCH_SIZE": "8",
              "SPAFIT_MAX_LENGTH": "32", "SPAFIT_EPOCHS": "1", "SPAFIT_SEEDS": "42,43"}


@pytest.fixture
def tiny_sizes(monkeypatch):
    """Every profile at tiny sizes, through the environment overrides that get_profile reads; one thread,
    because a tiny model's steps are far slower split over busy cores (2 s against 20 ms on a loaded CI box)."""
    import torch

    for variable, value in TINY_SIZES.items():
        monkeypatch.setenv(variable, value)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    gc.freeze()  # the Trainer runs gc.collect() after each run; skipping the long-lived objects makes it cheap
    yield
    gc.unfreeze()
    torch.set_num_threads(threads)


def pytest_addoption(parser):
    parser.addoption("--rerun-record", action="store_true",
                     help="also rerun seed 42 of every lesson experiment against the record (about a quarter of an hour)")


def pytest_configure(config):
    config.addinivalue_line("markers", "standin: runs notebooks under the colab profile on the stand-in Hub")
    config.addinivalue_line("markers", "rerun: reruns a recorded lesson experiment; runs with --rerun-record")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--rerun-record"):
        return
    skip = pytest.mark.skip(reason="reruns a recorded experiment (about a minute each); run with --rerun-record")
    for item in items:
        if "rerun" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def record():
    """The multi-seed record the lessons read (spafit_course/lessons/recorded/seeds-quick.json)."""
    from spafit_course.lessons.seeds import recorded_seeds

    return recorded_seeds()
