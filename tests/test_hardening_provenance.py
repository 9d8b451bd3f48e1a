"""Provenance (issue 26): every results file says what made it, the effective profile after every override, the
versions and whether it ran distributed, and the header the command prints is made from the same record."""

import csv
import json

import pytest

from spafit_course import cli
from spafit_course.runs import experiments
from spafit_course.runs.experiments import load_results
from spafit_course.runs.models import tiny_model
from spafit_course.runs.provenance import describe_run, run_record
from spafit_course.runs.sweep import SWEEP_TRAIN_SIZE

from cli_run import run

SIZES = {"SPAFIT_TRAIN_SIZE": "8", "SPAFIT_EVAL_SIZE": "8", "SPAFIT_BATCH_SIZE": "8", "SPAFIT_MAX_LENGTH": "16"}


@pytest.fixture
def tiny_compare(monkeypatch):
    for variable in ("SPAFIT_PROFILE", "SPAFIT_EPOCHS", "RANK", "WORLD_SIZE"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in SIZES.items():
        monkeypatch.setenv(variable, value)
    real = experiments.compare_methods
    monkeypatch.setattr(experiments, "compare_methods", lambda profile, methods, task, **kwargs: real(
        profile, methods, task, progress=False, on_result=kwargs.get("on_result"),
        model_factory=lambda n: tiny_model("bert", num_layers=6, num_labels=n, vocab_size=30522)))


def test_compare_records_the_effective_profile_and_prints_the_same(tiny_compare, tmp_path, capsys):
    status, out, err = run(["compare", "--methods", "bitfit,spafit", "--seed", "7", "--epochs", "2",
                            "--output", str(tmp_path), "--save-adapters"], capsys)
    assert status == 0, err
    saved = load_results(tmp_path / "compare.json")
    run_info, profile = saved["run"], saved["run"]["profile"]
    # the overrides of the environment and of the command line, not the quick profile's own values
    assert (profile["name"], profile["train_size"], profile["eval_size"], profile["batch_size"],
            profile["max_length"], profile["seed"], profile["epochs"]) == ("quick", 8, 8, 8, 16, 7, 2.0)
    assert profile["learning_rates"]["spafit"] == 3e-3 and profile["spafit"]["n1"] == 2
    assert run_info["task"] == "polarity" and run_info["methods"] == ["bitfit", "spafit"]
    assert run_info["distributed"] is False and run_info["command"].endswith("--save-adapters")
    versions = run_info["versions"]
    assert versions["spafit-course"] == __import__("spafit_course").__version__
    assert versions["torch"] == __import__("torch").__version__ and versions["transformers"]
    assert out.startswith(describe_run(run_info) + "\n")  # printed and saved from one record
    assert "seed 7" in out and "2 epoch(s)" in out and "spafit 0.003" in out
    with open(tmp_path / "compare.csv") as f:
        assert {row["run_id"] for row in csv.DictReader(f)} == {run_info["run_id"]}
    for method in ("bitfit", "spafit"):  # the adapters beside it say which run made them
        adapter = json.loads((tmp_path / "adapters" / method / "spafit_adapter.json").read_text())
        assert adapter["metadata"] == {"run_id": run_info["run_id"], "profile": "quick", "seed": 7}
    # the printed table is the saved rows'
    assert [r["method"] for r in saved["rows"]] == ["bitfit", "spafit"]
    for row in saved["rows"]:
        assert f"{row['trainable']:,}" in out and f"{row['score']:.4f}" in out


def test_two_runs_into_one_folder_can_be_told_apart(tiny_compare, tmp_path, capsys):
    ids = []
    for _ in range(2):
        assert run(["compare", "--methods", "bitfit", "--output", str(tmp_path)], capsys)[0] == 0
        ids.append(load_results(tmp_path / "compare.json")["run"]["run_id"])
    assert ids[0] != ids[1]


def test_the_sweep_records_its_own_train_size(tmp_path, capsys, monkeypatch):
    for variable in ("SPAFIT_PROFILE", "SPAFIT_TRAIN_SIZE", "SPAFIT_EPOCHS", "RANK", "WORLD_SIZE"):
        monkeypatch.delenv(variable, raising=False)

    def fake_sweep(profile, n1_values, n2_values, task, **kwargs):
        return {"task": task, "metric": "accuracy", "split": "validation", "profile": profile.name,
                "model": profile.model_name, "num_layers": 6, "n1_values": n1_values, "n2_values": n2_values,
                "cells": [{"n1": 0, "n2": 2, "score": 0.7, "trainable": 10, "train_seconds": 1.0}]}

    monkeypatch.setattr(cli.sweep, "run_sweep", fake_sweep)
    status, out, err = run(["sweep", "--n1", "0", "--n2", "2", "--output", str(tmp_path)], capsys)
    assert status == 0, err
    saved = json.loads((tmp_path / "sweep.json").read_text())
    assert saved["run"]["profile"]["train_size"] == SWEEP_TRAIN_SIZE  # the sweep's budget, not the profile's
    assert saved["run"]["n1_values"] == [0] and saved["run"]["n2_values"] == [2]
    assert out.startswith(describe_run(saved["run"]))
    assert f"{SWEEP_TRAIN_SIZE} training examples" in out


def test_the_bench_report_records_versions_and_launch(tmp_path, capsys, monkeypatch):
    for variable in ("RANK", "WORLD_SIZE"):
        monkeypatch.delenv(variable, raising=False)
    status, out, err = run(["bench", "--tiny", "--in-process", "--methods", "full,bitfit", "--batch-size", "2",
                            "--seq-length", "8", "--steps", "1", "--warmup", "0", "--rounds", "1",
                            "--output", str(tmp_path)], capsys)
    assert status == 0, err
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report["run"]["versions"]["torch"] == __import__("torch").__version__
    assert report["run"]["distributed"] is False and f"run {report['run']['run_id']}" in out
    assert [p.name for p in tmp_path.iterdir()] == ["bench.json"]  # and no lock left behind


def test_a_distributed_run_says_so():
    record = run_record(launch={"world_size": 2, "rank": 0})
    assert record["distributed"] == {"world_size": 2, "rank": 0}
    assert "distributed over 2 processes" in describe_run(record)


def test_results_files_of_before_and_of_another_shape(tmp_path):
    old = tmp_path / "old.json"
    old.write_text(json.dumps([{"method": "lora"}]))
    assert load_results(old) == {"format": "spafit-course results", "run": None, "rows": [{"method": "lora"}]}
    for name, text in (("other.json", '{"rows": 3}'), ("cut.json", '{"format": "spafit-co')):
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=str(tmp_path / name)):
            load_results(tmp_path / name)
