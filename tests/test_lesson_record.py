"""The multi-seed record the lessons read (lessons 01-06) is what the code makes: one seed rerun equals it.

The record (`spafit-course lessons --record-seeds`) holds every lesson experiment on the quick profile for seeds
42-46; the lessons show seed 42 in full and compare methods over all five. Rerunning seed 42 of an experiment must
give the recorded numbers, within two snippets of the 1,000 in the test split (for a different thread count). Every
test session reruns two of lesson 04's runs, the head-only control and LoRA; `--rerun-record` reruns every
experiment whole.
"""

import json
from dataclasses import asdict

import pytest

from spafit_course.lessons.budget import CONTROL, SEEDS
from spafit_course.lessons.catalogue import RECORDED_EXPERIMENTS, lesson_result, lesson_seeds
from spafit_course.lessons.results import trained_results
from spafit_course.lessons.seeds import recorded_seeds, seed_scores
from spafit_course.runs.profiles import get_profile

PROFILE = get_profile("quick")
TOLERANCE = 0.002


def far_from_record(rerun: dict, recorded: dict) -> dict:
    """{name: (rerun, recorded)} for every score the rerun moved by more than `TOLERANCE`."""
    return {name: (round(rerun[name], 4), round(recorded[name], 4)) for name in rerun
            if abs(rerun[name] - recorded[name]) > TOLERANCE}


@pytest.fixture(scope="module")
def record():
    return recorded_seeds()


def test_the_record_was_made_with_this_profile_and_every_experiment(record):
    assert record["profile"] == json.loads(json.dumps(asdict(PROFILE), default=list))
    assert record["seeds"] == list(SEEDS)
    assert set(record["results"]) == set(RECORDED_EXPERIMENTS)
    for name, by_seed in record["results"].items():
        assert sorted(by_seed) == sorted(map(str, SEEDS)), name


#: Every experiment reruns whole with `--rerun-record` (about a quarter of an hour more on 2 cores); a full rerun
#: of lessons 01 and 04 (161 s of one worker) would take `make test` past its 13 minutes.
@pytest.mark.parametrize("experiment", [pytest.param(name, marks=pytest.mark.rerun) for name in RECORDED_EXPERIMENTS])
def test_seed_42_rerun_equals_the_record(record, experiment):
    rerun = dict(trained_results(RECORDED_EXPERIMENTS[experiment](PROFILE, 42)))
    recorded = dict(trained_results(record["results"][experiment]["42"]))
    assert rerun.keys() == recorded.keys()
    far = far_from_record(rerun, recorded)
    assert not far, f"seed 42 rerun against the record: {far}"


#: What reruns in every test session: two of lesson 04's runs, the head-only control (the data, seed, Trainer and
#: scoring every run shares) and LoRA (the adapter SPAFIT builds on and lessons 02-06 reuse).
EVERY_TIME = ("head", "lora")


def test_seed_42_of_the_control_and_lora_reruns_to_the_record(record):
    from spafit_course.lessons.budget import lesson_profile, shared_run
    from spafit_course.lessons.spafit_runs import LESSON_04_METHODS

    small = lesson_profile(PROFILE, 42)
    recorded = {row["method"]: row["score"] for row in record["results"]["04"]["42"]["rows"]}
    rerun = {method: shared_run(small, method, LESSON_04_METHODS[method])["score"] for method in EVERY_TIME}
    far = far_from_record(rerun, recorded)
    assert not far, f"seed 42 rerun against the record: {far}"


def test_every_comparison_has_its_control_and_the_whole_test_split(record):
    for experiment in ("01", "02", "04", "03-top-k", "06-forgetting"):
        scores, _ = seed_scores(record, experiment)
        assert CONTROL in scores or "head" in scores, experiment
    assert CONTROL in seed_scores(record, "05", part="test")[0]
    result = record["results"]["04"]["42"]
    assert all(row["split"] == "test" for row in result["rows"])


def test_lessons_read_the_record_on_the_quick_profile(record):
    assert lesson_seeds("04", PROFILE) == record
    assert lesson_result("04", PROFILE) == record["results"]["04"]["42"]


@pytest.mark.rerun  # about 90 s on one core: with `--rerun-record`, so that `make test` keeps to its time
def test_the_budget_records_smallest_budget_reruns_to_its_seed_42():
    # every method at 250 snippets, seed 42: what lesson 05 trains live
    from spafit_course.lessons.budget_curves import budget_run, read_budget_record
    from spafit_course.lessons.spafit_runs import LESSON_04_METHODS

    budgets = read_budget_record()
    assert budgets["profile"] == json.loads(json.dumps(asdict(PROFILE), default=list))
    rerun = {method: budget_run(PROFILE, 42, 250, method, watch_points=0)["score"] for method in LESSON_04_METHODS}
    far = far_from_record(rerun, {method: budgets["curves"][method]["250"]["42"]["score"] for method in rerun})
    assert not far, f"seed 42 at 250 snippets against the budget record: {far}"
