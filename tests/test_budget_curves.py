"""Lesson 05's budget record: how it is planned, stored and resumed, and how the lesson reads it.

The record's mechanics run on fake runs (a planted function in place of training), so these tests take
seconds; `test_lesson_record.py` reruns real runs against the stored record.
"""

import json

import numpy as np
import pytest

import spafit_course.lessons.budget_curves as curves
from spafit_course.lessons.budget_views import (PAIRS, budget_table, budget_verdicts, complete_seeds,
                                                ordering_table, plot_budget_curves, plot_validation_curves,
                                                rate_check_text, recorded_budgets, scores_at)
from spafit_course.lessons.spafit_runs import LESSON_04_METHODS
from spafit_course.lessons.inference import compare_family
from spafit_course.runs.profiles import get_profile

PROFILE = get_profile("quick")
SEEDS = [42, 43, 44, 45, 46]
#: A made-up truth: the control flat, the methods rising with the budget at different speeds.
GAIN = {"head": 0.00, "bitfit": 0.02, "lora": 0.05, "spafit": 0.035, "full": 0.06}


def fake_run(profile, run, threads=None):
    kind, seed, *rest = run
    noise = np.random.default_rng([seed, *(ord(c) for c in str(rest))]).normal(0, 0.004)
    if kind == "rate":
        method, rate = rest
        return run, {"method": method, "seed": seed, "learning_rate": rate, "validation": 0.7 + noise, "steps": 672}
    budget, method = rest
    size = 10752 if budget is None else budget
    score = 0.70 + GAIN[method] * np.log10(size / 250) + noise
    steps = -(-size // 16)
    return run, {"label": LESSON_04_METHODS[method], "method": method, "budget": size, "seed": seed,
                 "learning_rate": profile.learning_rates[method], "score": score, "metric": "accuracy",
                 "split": "test", "majority": 0.578, "eval_size": 1000, "validation": score + 0.01,
                 "trainable": 1, "steps": steps, "train_seconds": 1.0, "loss_curve": [[1, 0.7], [steps, 0.5]],
                 "watch_curve": [[steps // 3, 0.6, score - 0.02], [steps, 0.55, score + 0.01]]}


@pytest.fixture
def record(tmp_path, monkeypatch):
    monkeypatch.setattr(curves, "run_planned", fake_run)
    path = tmp_path / "budgets.json"
    return curves.record_budgets(PROFILE, SEEDS, path=path), path


def test_the_plan_trains_every_method_at_every_budget_for_every_seed_and_checks_the_rates():
    runs = curves.planned_runs(PROFILE, SEEDS)
    assert len(runs) == len(set(runs))
    assert {(seed, budget, method) for kind, seed, budget, method in runs if kind == "curve"} == {
        (seed, budget, method) for seed in SEEDS for budget in curves.BUDGETS for method in LESSON_04_METHODS}
    rates = [run for run in runs if run[0] == "rate"]
    # two rates besides the lessons' own for each method, on the first two seeds
    assert len(rates) == 2 * len(LESSON_04_METHODS) * curves.RATE_SEEDS
    assert all(rate != PROFILE.learning_rates[method] for _, _, method, rate in rates)
    # the smaller budgets of every seed come before any run at the whole split
    first_whole = next(i for i, run in enumerate(runs) if run[0] == "curve" and run[2] is None)
    assert all(run[2] is not None for run in runs[:first_whole]) and first_whole == 3 * 5 * len(SEEDS)


def test_a_record_is_stored_after_every_run_and_resumed_where_it_stopped(tmp_path, monkeypatch):
    path = tmp_path / "budgets.json"
    done = []

    def stop_after_seven(profile, run, threads=None):
        if len(done) == 7:
            raise KeyboardInterrupt
        done.append(run)
        return fake_run(profile, run)

    monkeypatch.setattr(curves, "run_planned", stop_after_seven)
    with pytest.raises(KeyboardInterrupt):
        curves.record_budgets(PROFILE, SEEDS, path=path)
    partial = json.loads(path.read_text())
    assert not partial["complete"]
    assert sum(len(b) for m in partial["curves"].values() for b in m.values()) == 7

    resumed = []
    monkeypatch.setattr(curves, "run_planned", lambda p, run, threads=None: (resumed.append(run), fake_run(p, run))[1])
    record = curves.record_budgets(PROFILE, SEEDS, path=path)
    assert record["complete"] and not set(resumed) & set(done)
    assert len(resumed) + len(done) == len(curves.planned_runs(PROFILE, SEEDS))


def test_a_record_of_other_settings_is_started_anew(record, monkeypatch):
    _, path = record
    stored = json.loads(path.read_text())
    stored["versions"]["torch"] = "0.0.1"
    path.write_text(json.dumps(stored))
    again = []
    monkeypatch.setattr(curves, "run_planned", lambda p, run, threads=None: (again.append(run), fake_run(p, run))[1])
    curves.record_budgets(PROFILE, SEEDS, path=path)
    assert len(again) == len(curves.planned_runs(PROFILE, SEEDS))


@pytest.mark.parametrize("seeds", [[42], [42, 42, 43], []])
def test_a_record_needs_two_distinct_seeds(tmp_path, seeds):
    with pytest.raises(ValueError, match="two or more distinct seeds"):
        curves.record_budgets(PROFILE, seeds, path=tmp_path / "b.json")


@pytest.mark.parametrize("text, message", [("{", "cannot read the budget record"),
                                           ("null", "lacks profile"), ('{"profile": {}}', "lacks seeds")])
def test_a_damaged_record_is_refused_naming_the_file(tmp_path, text, message):
    path = tmp_path / "budgets.json"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as error:
        curves.read_budget_record(path)
    assert str(path) in str(error.value)


def test_a_partial_record_is_refused_where_a_complete_one_is_asked_for(tmp_path):
    record = curves.new_record(PROFILE, SEEDS)
    (tmp_path / "b.json").write_text(json.dumps(record, default=list))
    with pytest.raises(ValueError, match="not complete.*resumes"):
        curves.read_budget_record(tmp_path / "b.json", complete=True)


def test_the_views_pair_methods_by_seed_and_correct_each_budget_for_its_comparisons(record):
    record, _ = record
    assert recorded_budgets(record) == ["250", "1000", "3000", "all"]
    seeds, scores = scores_at(record, "all")
    assert seeds == [str(s) for s in SEEDS]
    text = budget_verdicts(record, "all")
    assert text.startswith("10,752 snippets (672 steps), 5 seeds:")
    # at 250 snippets the made-up gains are zero: nothing may be called higher there
    assert "scores higher" not in budget_verdicts(record, "250")
    table = ordering_table(record)
    head = next(line for line in table.splitlines() if line.startswith("LoRA vs head"))
    assert head.split()[-4:] == ["~", ">", ">", ">"]
    # the '>' signs are exactly the Holm-adjusted p-values below 0.05
    found = compare_family({(a, b): (scores[a], scores[b]) for a, b in PAIRS})
    assert sum(c.adjusted < 0.05 for c in found) == text.count("scores higher") > 0
    assert "10,752" in budget_table(record)


def test_the_rate_check_says_whether_the_best_rate_moved(record):
    record, _ = record
    text = rate_check_text(record, PROFILE)
    assert all(line.endswith(("(held)", "(moved)")) for line in text.splitlines()[2:])
    assert "0.003:" in text and "0.0002 (" in text


def test_the_budget_pictures_draw_every_method(record):
    import matplotlib.pyplot as plt

    record, _ = record
    figure = plot_budget_curves(record)
    assert len(figure.axes[0].get_legend().get_texts()) == len(LESSON_04_METHODS) + 1
    plt.close(figure)
    figure = plot_validation_curves(record, "all")
    assert len(figure.axes[0].lines) == len(LESSON_04_METHODS) * len(complete_seeds(record, "all"))
    plt.close(figure)
