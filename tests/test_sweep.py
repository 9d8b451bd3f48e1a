"""`spafit-course sweep`: a 2-cell grid on a tiny BERT and a handful of examples, saved as JSON and PNG."""

import json
import math

import pytest

from spafit_course.cli import build_parser, main
from spafit_course.runs.models import tiny_config, tiny_model
from spafit_course.runs.profiles import get_profile
from spafit_course.runs.sweep import (DEFAULT_N1, DEFAULT_N2, SWEEP_TRAIN_SIZE, load_sweep, parse_values, plot_sweep,
                                      run_sweep, save_sweep, sweep_grids, valid_cells)
from spafit_course.tuning.closed_form import closed_form_count
from spafit_course.tuning.spafit import SpafitConfig

VOCAB = 30522  # the quick profile's tokenizer


def tiny_factory(num_labels):
    return tiny_model("bert", num_layers=2, hidden=32, num_labels=num_labels, vocab_size=VOCAB)


def test_valid_cells_and_parse_values():
    assert valid_cells([0, 2, 4], [2, 4, 6], 6) == [(0, 2), (0, 4), (0, 6), (2, 2), (2, 4), (2, 6), (4, 4), (4, 6)]
    assert valid_cells([0, 3], [2, 8], 6) == [(0, 2)]
    assert parse_values("4, 0,2") == [0, 2, 4]
    for bad in ("a,b", "-1,2", ""):
        with pytest.raises(ValueError, match="comma-separated integers >= 0"):
            parse_values(bad)


def test_sweep_runs_two_cells_and_saves_json_and_png(tmp_path):
    profile = get_profile("quick").with_overrides(train_size=16, eval_size=16, batch_size=8, max_length=16)
    sweep = run_sweep(profile, [0, 2], [2], model_factory=tiny_factory, progress=False)
    assert [(c["n1"], c["n2"]) for c in sweep["cells"]] == [(0, 2), (2, 2)]
    assert sweep["train_pooler"] is profile.train_pooler is False
    s = profile.spafit
    for c in sweep["cells"]:
        config = SpafitConfig(n1=c["n1"], n2=c["n2"], targets=s["targets"], r=s["r"], alpha=s["alpha"],
                              train_pooler=profile.train_pooler)
        assert c["trainable"] == closed_form_count(tiny_config("bert", 2, 32, 2, VOCAB), config).trainable
        assert 0 <= c["score"] <= 1
    paths = save_sweep(sweep, tmp_path)
    assert load_sweep(paths["json"]) == json.loads(json.dumps(sweep))
    assert paths["png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_grids_leave_invalid_cells_blank():
    sweep = {"task": "polarity", "metric": "accuracy", "split": "validation", "num_layers": 6,
             "n1_values": [0, 4], "n2_values": [2, 6],
             "cells": [{"n1": 0, "n2": 2, "score": 0.7, "trainable": 100}, {"n1": 0, "n2": 6, "score": 0.6,
                                                                            "trainable": 50},
                       {"n1": 4, "n2": 6, "score": 0.65, "trainable": 30}]}
    score, trainable = sweep_grids(sweep)
    assert score[0].tolist() == [0.7, 0.6] and score[1, 1] == 0.65 and math.isnan(score[1, 0])
    assert trainable[0].tolist() == [100, 50] and math.isnan(trainable[1, 0])
    figure = plot_sweep(sweep)
    assert len(figure.axes) == 4  # two heatmaps, two colour bars
    assert [t.get_text() for t in figure.axes[0].texts] == ["0.700", "0.600", "0.650"]


def test_sweep_command_help_and_defaults(capsys):
    args = build_parser().parse_args(["sweep"])
    assert (args.n1, args.n2) == (",".join(map(str, DEFAULT_N1)), ",".join(map(str, DEFAULT_N2)))
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"{SWEEP_TRAIN_SIZE} training examples" in help_text and "10 minutes on 2 CPU cores" in help_text


def test_sweep_rejects_an_empty_grid():
    profile = get_profile("quick").with_overrides(train_size=16, eval_size=16)
    with pytest.raises(ValueError, match=r"no valid cell in the grid N1=\[3\] x N2=\[1\]: need N1 <= N2 <= L = 2"):
        run_sweep(profile, [3], [1], model_factory=tiny_factory, progress=False)


def test_score_heatmap_scale_starts_at_the_majority_rate_when_known():
    import matplotlib.pyplot as plt

    sweep = {"metric": "accuracy", "split": "test", "task": "polarity", "num_layers": 6, "n1_values": [0, 2],
             "n2_values": [4], "cells": [{"n1": 0, "n2": 4, "score": 0.70, "trainable": 10},
                                         {"n1": 2, "n2": 4, "score": 0.72, "trainable": 8}]}
    figure = plot_sweep(sweep)
    assert figure.axes[0].images[0].norm.vmin == pytest.approx(0.70)  # no majority: the scores' own range
    plt.close(figure)
    figure = plot_sweep({**sweep, "majority": 0.56})
    norm = figure.axes[0].images[0].norm
    assert (norm.vmin, norm.vmax) == pytest.approx((0.56, 0.91))
    assert "majority rate, 0.560" in figure.axes[0].get_title()
    plt.close(figure)
