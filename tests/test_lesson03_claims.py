"""Lesson 03's claims, held against the multi-seed record it reads (tests/conftest.py: `record`).

Each test names the sentence it holds; "about N points" is held to within a point (or the stated range).
"""

import pytest

from spafit_course.lessons.layer_runs import boundaries_from_probe_curve
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.lessons.stats import mean_and_se, paired_difference

PROBES, RUNS = "03-probes", "03-top-k"
CONTROL, FULL = "head only (control)", "every layer (full fine-tuning)"


def mean(k: int) -> str:
    return f"mean probe, layer {k}"


def cls(k: int) -> str:
    return f"cls probe, layer {k}"


@pytest.fixture(scope="module")
def probes(record):
    """({label: accuracy per seed}, majority per seed) of the probes."""
    return seed_scores(record, PROBES)


@pytest.fixture(scope="module")
def layers(record) -> int:
    """Embeddings + L layers."""
    return len(record["results"][PROBES]["42"]["mean"])


@pytest.fixture(scope="module")
def curve(probes, layers) -> list[float]:
    """The mean-of-tokens probe per layer, averaged over the seeds."""
    return [mean_and_se(probes[0][mean(k)]).mean for k in range(layers)]


# ---------------------------------------------------------------- section 2: the probe curve

def test_the_best_layer_on_average_is_a_middle_layer(curve, layers):
    # "the best layer on the five seeds' mean: layer 4" (printed), "not the steady rise with depth"
    best = max(range(layers), key=curve.__getitem__)
    assert 0 < best < layers - 1
    assert best == 4


@pytest.mark.parametrize("k", [3, 4, 5])
def test_the_middle_layers_beat_the_embeddings_by_2_to_3_5_points_on_every_seed(record, k):
    # "the middle layers (3 to 5) read sentiment about 2 to 3.5 points better than the embeddings, on every seed"
    d = difference(record, PROBES, mean(k), mean(0))
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n
    assert 0.015 <= d.mean <= 0.04


def test_the_top_layer_falls_back_to_the_embeddings_level(record, layers):
    # "the top layer falls back to the embeddings' level (no difference detectable between the two)"
    assert not difference(record, PROBES, mean(layers - 1), mean(0)).excludes_zero
    # and the best layer scores above the top layer
    d = difference(record, PROBES, mean(4), mean(layers - 1))
    assert d.excludes_zero and d.mean > 0


def test_the_curve_spans_about_3_5_points_and_starts_14_points_above_the_majority_rate(probes, curve):
    # "The whole curve spans about 3.5 points, while the embeddings alone already sit about 14 points above the
    # majority rate"; recap: "every layer, embeddings included, reads sentiment at least 14 points above it"
    majority = mean_and_se(probes[1]).mean
    assert 0.03 <= max(curve) - min(curve) <= 0.04
    assert abs(curve[0] - majority - 0.14) <= 0.01
    assert min(curve) - majority >= 0.135


def test_the_mean_of_the_tokens_beats_cls_by_about_3_points_on_the_top_layer(record, layers):
    # "The mean of the tokens reads sentiment better than the [CLS] vector, by about 3 points on the top layer"
    d = difference(record, PROBES, mean(layers - 1), cls(layers - 1))
    assert d.excludes_zero and d.mean > 0
    assert abs(d.mean - 0.03) <= 0.01


def test_the_mean_of_the_tokens_beats_cls_on_every_layer_and_every_seed(record, layers):
    # "on every layer from 1 to 6 it scores higher on every seed"
    for k in range(1, layers):
        d = difference(record, PROBES, mean(k), cls(k))
        assert d.higher == d.n, k


def test_layer_0_cls_is_constant_so_it_has_no_probe(record):
    # "Layer 0's [CLS] vector ... the same vector for every sentence ... we do not fit one"
    assert all(result["cls"][0] is None for result in record["results"][PROBES].values())


# ---------------------------------------------------------------- section 3: top k beside bottom k

def test_the_top_2_layers_beat_the_bottom_2_by_about_2_points(record):
    # "The top 2 layers score higher than the bottom 2, by about 2 points (higher on 4 seeds, level on the fifth)"
    d = difference(record, RUNS, "top 2 layers", "bottom 2 layers")
    assert d.excludes_zero and d.mean > 0
    assert abs(d.mean - 0.02) <= 0.01
    assert (d.higher, d.lower) == (4, 0)


def test_the_top_4_and_bottom_4_cannot_be_told_apart(record):
    # "With 4 layers no difference is detectable at this budget"
    assert not difference(record, RUNS, "top 4 layers", "bottom 4 layers").excludes_zero


def test_the_top_layer_alone_stays_about_2_5_points_below_full_fine_tuning_on_every_seed(record):
    # "The top layer alone stays below full fine-tuning, by about 2.5 points, on every seed"
    d = difference(record, RUNS, "top 1 layers", FULL)
    assert d.excludes_zero and d.mean < 0 and d.lower == d.n
    assert abs(d.mean + 0.025) <= 0.01


def test_the_top_4_layers_come_within_a_point_of_full_fine_tuning(record):
    # "the top 4 layers come within a point of it (no difference detectable)"
    d = difference(record, RUNS, "top 4 layers", FULL)
    assert not d.excludes_zero and abs(d.mean) < 0.01


@pytest.mark.parametrize("fewer", ["top 1 layers", "top 2 layers"])
def test_training_more_layers_helped(record, fewer):
    # "the top 4 score about 2 points above the top 1 and above the top 2"
    d = difference(record, RUNS, "top 4 layers", fewer)
    assert d.excludes_zero and d.mean > 0
    assert abs(d.mean - 0.02) <= 0.01


def test_the_top_1_and_top_2_are_level(record):
    # "(the top 1 and top 2 are level)"
    assert not difference(record, RUNS, "top 2 layers", "top 1 layers").excludes_zero


@pytest.mark.parametrize("run", ["top 1 layers", "top 2 layers", "top 4 layers"])
def test_every_top_k_run_beats_the_head_alone(record, run):
    # "Every top-k run scores above the head alone"
    d = difference(record, RUNS, run, CONTROL)
    assert d.excludes_zero and d.mean > 0


def test_the_bottom_2_layers_do_not_detectably_beat_the_head_alone(record):
    # "the bottom 2 layers do not detectably beat it"
    assert not difference(record, RUNS, "bottom 2 layers", CONTROL).excludes_zero


def test_the_top_and_bottom_k_train_as_many_parameters(record):
    # "as many parameters, in the layers the premise says to freeze"
    for result in record["results"][RUNS].values():
        count = {row["label"]: row["trainable"] for row in result["rows"]}
        assert count["top 2 layers"] == count["bottom 2 layers"]
        assert count["top 4 layers"] == count["bottom 4 layers"]
        assert count[CONTROL] == 770


# ---------------------------------------------------------------- the frozen probe beside the trained runs

def test_the_head_alone_beats_the_top_layer_probe_by_about_2_points_on_every_seed(record, probes, layers):
    # "trained for 63 steps it scores about 2 points higher than that probe, on every seed"
    control = seed_scores(record, RUNS)[0][CONTROL]
    d = paired_difference(control, probes[0][mean(layers - 1)])
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n
    assert abs(d.mean - 0.02) <= 0.01


def test_the_best_layer_probe_and_the_head_alone_are_level_near_0_70(record, probes):
    # "The best layer's probe is not distinguishable from the control. So at this budget frozen features alone
    # reach about 0.70"
    control = seed_scores(record, RUNS)[0][CONTROL]
    assert not paired_difference(probes[0][mean(4)], control).excludes_zero
    for values in (control, probes[0][mean(4)]):
        assert abs(mean_and_se(values).mean - 0.70) <= 0.015


def test_the_probes_and_the_runs_score_on_the_same_test_split(record):
    # "The probes of section 2 score on the same 1,000 test snippets"
    for seed in record["seeds"]:
        assert record["results"][PROBES][str(seed)]["majority"] == record["results"][RUNS][str(seed)]["majority"]


# ---------------------------------------------------------------- section 4: the rule of thumb moves

def test_the_rule_picks_five_different_boundaries_from_five_samples(record):
    # "Five samples, five different answers: N1 runs from 0 to 3 and N2 from 1 to 3 ... Neither the profile's
    # boundaries nor the paper's scaled to six layers are among the five."
    picked = [boundaries_from_probe_curve(record["results"][PROBES][str(seed)]["mean"]) for seed in record["seeds"]]
    assert len(set(picked)) == len(picked) == 5
    assert (min(n1 for n1, _ in picked), max(n1 for n1, _ in picked)) == (0, 3)
    assert (min(n2 for _, n2 in picked), max(n2 for _, n2 in picked)) == (1, 3)
    profile = record["profile"]["spafit"]
    assert (profile["n1"], profile["n2"]) not in picked
    assert (round(4 * 6 / 24), round(9 * 6 / 24)) not in picked


def test_the_curve_rises_about_3_5_points_to_its_best_layer(curve):
    # "The curve rises only about 3.5 points from the embeddings to its best layer"
    assert abs(max(curve) - curve[0] - 0.035) <= 0.005


def test_the_rule_as_the_lesson_states_it():
    # "Freeze the layers before the first one that reaches a third of the rise (N1 of them), ... before the first
    # one that reaches two thirds train their biases only (up to N2, never below N1) ... If the curve never rises,
    # N1 = N2 = L."
    assert boundaries_from_probe_curve([0.5, 0.5, 0.5]) == (2, 2)
    assert boundaries_from_probe_curve([0.60, 0.61, 0.66, 0.74, 0.80, 0.82, 0.83]) == (2, 3)
    assert boundaries_from_probe_curve([0.50, 0.58, 0.66, 0.80, 0.74, 0.70, 0.62]) == (1, 2)  # rise to the best
    assert boundaries_from_probe_curve([0.55, 0.90, 0.91]) == (0, 0)
