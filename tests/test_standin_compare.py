"""`spafit-course compare` on every GLUE task under the colab profile, and on one task of each kind under paper,
on the stand-in Hub."""

import csv
import json

import pytest
from transformers import AutoConfig

from spafit_course import cli
from spafit_course.runs import models
from spafit_course.runs.profiles import get_profile
from spafit_course.runs.tasks import GLUE_TASKS, TASKS
from spafit_course.tuning.closed_form import closed_form_count
from spafit_course.tuning.methods import METHODS, method_config


#: Every GLUE task under colab; under paper (the same code on a 24-layer model) one task of each kind: a
#: sentence pair scored by accuracy, the regression, and the task with two evaluation splits.
PAPER_TASKS = ("rte", "stsb", "mnli")


@pytest.mark.parametrize("profile, task", [("colab", t) for t in GLUE_TASKS] + [("paper", t) for t in PAPER_TASKS])
def test_compare_runs_every_glue_task(profile, task, standin_hub, tiny_sizes, tmp_path, capsys):
    assert cli.main(["compare", "--profile", profile, "--task", task, "--output", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    t, p = TASKS[task], get_profile(profile)
    saved = json.loads((tmp_path / "compare.json").read_text())
    assert saved["run"]["profile"]["name"] == profile and saved["run"]["task"] == task
    rows = saved["rows"]
    assert [r["method"] for r in rows] == list(METHODS)

    # the stand-in's model (12 or 24 layers) trains exactly what the closed form says for each method
    config = AutoConfig.from_pretrained(models.model_path(p.model_name), num_labels=t.num_labels)
    assert config.num_hidden_layers == {"colab": 12, "paper": 24}[profile]
    for r in rows:
        expected = closed_form_count(config, method_config(r["method"], config.num_hidden_layers, p))
        assert (r["trainable"], r["total"]) == (expected.trainable, expected.total), r["method"]
        assert r["steps"] == 2  # 16 examples in batches of 8
        assert set(r["all_metrics"]) == set(t.eval_splits)

    # every metric of every eval split, in the table and in the CSV
    header = printed.splitlines()[printed.splitlines().index("") + 1]
    with open(tmp_path / "compare.csv") as f:
        table = list(csv.DictReader(f))
    for split in t.eval_splits:
        for metric in t.metrics:
            assert metric in header
            if len(t.eval_splits) > 1:
                assert f"({split})" in header
            assert [float(row[f"{split}/{metric}"]) for row in table] == pytest.approx(
                [r["all_metrics"][split][metric] for r in rows], nan_ok=True)
