"""The pieces of the lessons' experiments that the lessons' numbers pass through (lessons 01-05)."""

import json
from collections import Counter

import numpy as np
import pytest
import torch
from test_lessons_match_package import lesson_namespace

from spafit_course.cli import main as cli_main
from spafit_course.lessons.bitfit_runs import bias_change_by_family
from spafit_course.lessons.budget import lesson_profile, majority_rate, remembered
from spafit_course.lessons.layer_runs import top_k_layers
from spafit_course.lessons.lora_runs import first_step_change
from spafit_course.lessons.results import results_text, trained_results
from spafit_course.runs.models import tiny_model
from spafit_course.runs.probes import constant_rows, layer_features, probe_accuracy


def test_majority_rate_is_the_commonest_labels_share():
    evals = {"test": {"labels": [1, 0, 1, 1, 0, 1, 1]}}
    assert majority_rate(evals, "polarity") == pytest.approx(5 / 7)
    three = {"validation_matched": {"labels": [2, 2, 0, 1]}}
    assert majority_rate(three, "mnli") == pytest.approx(0.5)
    assert majority_rate({"validation": {"labels": [0.5, 1.0]}}, "stsb") is None


def test_remembered_computes_once_per_key_and_returns_the_same_result(tmp_path, monkeypatch):
    monkeypatch.setenv("SPAFIT_RUN_MEMO", str(tmp_path))
    calls = Counter()

    def compute(value):
        calls[value] += 1
        return {"score": value / 3, "rows": [value]}

    first = remembered("demo", lambda: compute(1), seed=1)
    again = remembered("demo", lambda: compute(1), seed=1)
    other = remembered("demo", lambda: compute(2), seed=2)
    assert first == again == {"score": 1 / 3, "rows": [1]} and other["rows"] == [2]
    assert calls == {1: 1, 2: 1}
    monkeypatch.delenv("SPAFIT_RUN_MEMO")
    remembered("demo", lambda: compute(1), seed=1)
    assert calls[1] == 2  # no memo folder: always computed


def test_lesson_profile_uses_the_lesson_budget_and_lets_size_variables_win(monkeypatch):
    monkeypatch.delenv("SPAFIT_TRAIN_SIZE", raising=False)
    small = lesson_profile(seed=7)
    assert (small.train_size, small.eval_size, small.batch_size, small.seed) == (1000, None, 16, 7)  # whole split
    monkeypatch.setenv("SPAFIT_TRAIN_SIZE", "24")
    assert lesson_profile().train_size == 24


def test_results_text_puts_the_majority_apart_and_the_gain_beside_each_score():
    result = {"majority": 0.55, "rows": [{"label": "BitFit", "trainable": 169346, "score": 0.7, "metric": "accuracy"},
                                         {"label": "full", "trainable": 22713986, "score": 0.75,
                                          "metric": "accuracy"}]}
    lines = results_text(result).splitlines()
    assert "majority" in lines[0] and "0.550" in lines[0]
    assert "majority" not in "\n".join(lines[1:])
    assert lines[1].split() == ["result", "trainable", "accuracy", "gain"]
    assert lines[3].split() == ["BitFit", "169,346", "0.700", "+0.150"]
    assert lines[4].split() == ["full", "22,713,986", "0.750", "+0.200"]


def test_trained_results_of_rows_cells_and_probes():
    assert trained_results({"rows": [{"label": "a", "score": 0.7}]}) == [("a", 0.7)]
    assert trained_results({"cells": [{"n1": 0, "n2": 4, "score": 0.7}]}) == [("SPAFIT N1=0 N2=4", 0.7)]
    probes = trained_results({"cls": [None, 0.6], "mean": [0.65, 0.7]})
    assert probes == [("cls probe, layer 1", 0.6), ("mean probe, layer 0", 0.65), ("mean probe, layer 1", 0.7)]


def test_bias_change_by_family_measures_each_family_per_value():
    reference = tiny_model("bert", 2, 16)
    trained = tiny_model("bert", 2, 16)
    with torch.no_grad():
        for layer in trained.bert.encoder.layer:
            layer.attention.self.query.bias += 0.5
            layer.intermediate.dense.bias -= 0.25
    change = bias_change_by_family(trained, reference)
    assert change["query"] == pytest.approx(0.5) and change["FFN in"] == pytest.approx(0.25)
    assert change["key"] == change["value"] == change["attention output"] == change["FFN out"] == 0


def test_first_step_change_is_the_same_for_the_lessons_and_the_packages_lora():
    lesson = lesson_namespace("02_lora")["LoRALinear"]
    for r, alpha in [(1, 16), (8, 16), (32, 64)]:
        assert first_step_change(r, alpha, lesson, size=48) == pytest.approx(
            first_step_change(r, alpha, size=48), rel=1e-6)
    assert first_step_change(4, 16, size=48) > 0


def test_lesson_probe_functions_match_the_packages():
    lesson = lesson_namespace("03_where_knowledge_lives")
    from transformers import AutoTokenizer

    from spafit_course.runs.models import model_path
    from spafit_course.runs.profiles import QUICK_MODEL

    tokenizer = AutoTokenizer.from_pretrained(model_path(QUICK_MODEL))
    model = tiny_model("bert", 3, 16, vocab_size=tokenizer.vocab_size)
    sentences = ["a fine film", "dull and long, far too long", "I laughed", "no", "what a mess of a plot"] * 4
    ours = lesson["layer_features"](model, tokenizer, sentences, 16, batch_size=3)
    package = layer_features(model, tokenizer, sentences, 16, batch_size=7)
    for a, b in zip(ours, package):
        assert a.shape == (4, 20, 16)
        np.testing.assert_allclose(a, b, atol=1e-5)
    assert constant_rows(package[0][0]) and not constant_rows(package[1][0])
    y = np.array([1, 0, 1, 0, 0] * 4)
    x = package[1][-1]
    assert lesson["probe"](x[:12], y[:12], x[12:], y[12:]) == probe_accuracy(x[:12], y[:12], x[12:], y[12:])


def test_top_k_layers_refuses_a_k_outside_the_model():
    for bad in ([7], [-1, 2], [2.5], []):
        with pytest.raises(ValueError, match="between 0 and L = 6"):
            top_k_layers(ks=bad)


def test_the_budget_record_matches_this_version_of_the_package():
    """Lesson 05 reads the budget record; it must have been made with today's quick profile, learning rates,
    budgets and counts, and every run scored on the whole test split once."""
    from dataclasses import asdict

    from spafit_course.lessons.budget_curves import BUDGETS, RATE_GRID, budget_key, read_budget_record
    from spafit_course.runs.counting import method_counts
    from spafit_course.runs.profiles import get_profile
    from spafit_course.tuning.methods import METHODS, method_config

    record = read_budget_record()
    profile = get_profile("quick")
    assert record["profile"] == json.loads(json.dumps(asdict(profile), default=list))
    assert record["budgets"] == [budget_key(b) for b in BUDGETS]
    assert record["rate_grid"] == {m: list(g) for m, g in RATE_GRID.items()}
    counts = method_counts(profile.model_name, {m: method_config(m, 6, profile) for m in METHODS})
    for method, by_budget in record["curves"].items():
        for runs in by_budget.values():
            for run in runs.values():
                assert run["trainable"] == counts[method].trainable
                assert run["learning_rate"] == profile.learning_rates[method]
                assert (run["split"], run["eval_size"]) == ("test", 1000)


@pytest.mark.parametrize("argv, message", [(["--seeds", "4x"], "comma-separated whole numbers"),
                                           (["--lessons", "07"], "must name some of"),
                                           (["--profile", "huge"], "invalid choice")])
def test_seed_command_refuses_bad_arguments_in_one_line(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli_main(["lessons", *argv])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
