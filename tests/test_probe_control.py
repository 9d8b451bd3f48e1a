"""Lesson 03's control task (Hewitt & Liang's, on sentences): the probe on labels reassigned at random."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from spafit_course.lessons.probe_control import control_labels, control_task_on_features, control_task_text
from spafit_course.runs.probes import probe_accuracy, probe_scores


def planted(n: int, hidden: int, seed: int):
    """Two layers of features: layer 0 noise, layer 1 carrying the label along one direction."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.6).astype(int)
    noise = rng.normal(size=(2, n, hidden))
    noise[1, :, 0] += 3.0 * (2 * y - 1)
    return noise, y


def test_control_labels_keep_the_class_balance_and_lose_the_order():
    y = np.array([0] * 40 + [1] * 60)
    shuffled = control_labels(y, seed=1)
    assert np.bincount(shuffled).tolist() == [40, 60]
    assert (shuffled != y).any()
    assert (control_labels(y, seed=1) == shuffled).all() and (control_labels(y, seed=2) != shuffled).any()


def test_probe_scores_are_sklearns_on_training_and_held_out_rows():
    features, y = planted(300, 20, 0)
    train, test = slice(0, 200), slice(200, 300)
    clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, C=0.1))
    clf.fit(features[1][train], y[train])
    expected = (clf.score(features[1][train], y[train]), clf.score(features[1][test], y[test]))
    assert probe_scores(features[1][train], y[train], features[1][test], y[test]) == pytest.approx(expected)
    assert probe_accuracy(features[1][train], y[train], features[1][test], y[test]) == pytest.approx(expected[1])


def test_a_layer_that_carries_the_label_is_selective_and_noise_is_not():
    features, y = planted(600, 40, 3)
    result = control_task_on_features(features[:, :400], y[:400], features[:, 400:], y[400:], seed=7,
                                      reassignments=4)
    assert len(result["control"]) == 2 and all(len(layer) == 4 for layer in result["control"])
    selectivity = [real - np.mean(control) for real, control in zip(result["real"], result["control"])]
    assert result["real"][1] > 0.9 and selectivity[1] > 0.3  # the label is linearly readable from layer 1
    assert abs(selectivity[0]) < 0.1  # from noise, the real labels are no easier than random ones
    # on held-out sentences a random label can only be guessed: a guess independent of the labels matches a
    # share between the two classes' shares
    p = y[400:].mean()
    assert all(min(p, 1 - p) - 0.07 <= np.mean(layer) <= max(p, 1 - p) + 0.07 for layer in result["control"])
    # what the probe fits of its own random labels is what it can memorise: more than it guesses held out
    assert all(np.mean(t) > np.mean(h) for t, h in zip(result["control_train"], result["control"]))


def test_the_control_task_names_what_is_wrong_with_its_input():
    features, y = planted(100, 5, 0)
    with pytest.raises(ValueError, match=r"reassignments must be a whole number from 1 to 20, got 0"):
        control_task_on_features(features[:, :60], y[:60], features[:, 60:], y[60:], seed=0, reassignments=0)
    with pytest.raises(ValueError, match="same layers, got 2 and 1"):
        control_task_on_features(features[:, :60], y[:60], features[:1, 60:], y[60:], seed=0)


def test_the_table_prints_each_layer_and_its_selectivity():
    result = {"majority": 0.6, "real_train": [0.8, 0.9], "real": [0.7, 0.75], "control_train": [[0.7, 0.72],
              [0.74, 0.76]], "control": [[0.52, 0.54], [0.50, 0.52]]}
    lines = control_task_text(result).splitlines()
    assert lines[0] == "majority-class rate of the held-out sentences: 0.600"
    assert "2 random reassignments" in lines[1]
    assert lines[-2].split() == ["embeddings", "0.800", "0.700", "0.710", "0.530", "+0.170"]
    assert lines[-1].split() == ["layer", "1", "0.900", "0.750", "0.750", "0.510", "+0.240"]
    assert max(map(len, lines)) <= 100


# --- the learning-rate check of lesson 03's layer runs (the bottom k's rate, validated on its own) ---------------------

def test_the_layer_rate_check_trains_each_k_at_the_rule_and_the_flat_rate_on_validation(monkeypatch):
    from spafit_course.lessons import layer_runs

    trained = []

    def fake_train(small, data, which, k, rate, task=None):
        trained.append((small.seed, which, k, round(rate, 6), task.eval_splits))
        return {"score": 0.5 + k / 100}

    monkeypatch.setattr(layer_runs, "_train_layers", fake_train)
    monkeypatch.setattr(layer_runs, "prepared_data", lambda small, task: None)
    rows = layer_runs.layer_rate_check(seeds=(42, 43), which="bottom")
    # the course model has 6 layers: k = 2 and 4; the rule gives full's rate (2e-4) x 6 / k
    assert [(s, k, r) for s, _, k, r, _ in trained] == [(42, 2, 6e-4), (42, 2, 2e-4), (42, 4, 3e-4), (42, 4, 2e-4),
                                                        (43, 2, 6e-4), (43, 2, 2e-4), (43, 4, 3e-4), (43, 4, 2e-4)]
    assert all(which == "bottom" and splits == ("validation",) for _, which, _, _, splits in trained)
    assert [r["rule"] for r in rows[:2]] == ["L / k", "flat"] and rows[0]["accuracy"] == 0.52


@pytest.mark.parametrize("arguments, message", [({"which": "middle"}, "which must be 'top' or 'bottom', got 'middle'"),
                                                ({"ks": (0,)}, r"ks must be whole numbers between 1 and L = 6; got \[0\]"),
                                                ({"ks": (7,)}, r"got \[7\]"), ({"ks": ()}, r"got \[\]")])
def test_the_layer_rate_check_names_what_is_wrong(arguments, message):
    from spafit_course.lessons.layer_runs import layer_rate_check

    with pytest.raises(ValueError, match=message):
        layer_rate_check(**arguments)
