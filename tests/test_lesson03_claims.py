"""Lesson 03's claims, held against the multi-seed record it reads (tests/conftest.py: `record`).

Each test names the sentence it holds; "about N points" is held to within a point (or the stated range). A verdict
the lesson calls "higher" must survive Holm's correction over the family of comparisons its cell prints, and one it
calls not detectable must not.
"""

import statistics

import pytest

from spafit_course.lessons.layer_runs import boundaries_from_probe_curve
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.lessons.stats import holm_adjusted, mean_and_se, paired_difference, paired_p_value

PROBES, RUNS = "03-probes", "03-top-k"
CONTROL, FULL = "head only (control)", "every layer (full fine-tuning)"
ALPHA = 0.05


def mean(k: int) -> str:
    return f"mean probe, layer {k}"


def cls(k: int) -> str:
    return f"cls probe, layer {k}"


def top(k: int) -> str:
    return f"top {k} layers"


def bottom(k: int) -> str:
    return f"bottom {k} layers"


def holm(pairs) -> list[float]:
    """Holm-adjusted p-values of a family [(A scores, B scores)], in its order."""
    return holm_adjusted([paired_p_value(a, b) for a, b in pairs])


@pytest.fixture(scope="module")
def probes(record):
    """({label: accuracy per seed}, majority per seed) of the probes."""
    return seed_scores(record, PROBES)


@pytest.fixture(scope="module")
def runs(record) -> dict:
    return seed_scores(record, RUNS)[0]


@pytest.fixture(scope="module")
def layers(record) -> int:
    """Embeddings + L layers."""
    return len(record["results"][PROBES]["42"]["mean"])


@pytest.fixture(scope="module")
def curve(probes, layers) -> list[float]:
    """The mean-of-tokens probe per layer, averaged over the seeds."""
    return [mean_and_se(probes[0][mean(k)]).mean for k in range(layers)]


@pytest.fixture(scope="module")
def curve_family(probes, layers):
    """Section 2's seven comparisons, as its cell prints them: every layer against the embeddings, then the best
    layer against the top layer; {(a, b): Holm-adjusted p}."""
    scores = probes[0]
    pairs = [(mean(k), mean(0)) for k in range(1, layers)] + [(mean(4), mean(layers - 1))]
    return dict(zip(pairs, holm([(scores[a], scores[b]) for a, b in pairs])))


SECTION_3 = [(top(2), bottom(2)), (top(4), bottom(4)), (top(1), FULL), (top(4), FULL), (top(4), top(1)),
             (top(2), top(1))]
AGAINST_CONTROL = [(label, CONTROL) for label in (top(1), top(2), top(4), bottom(2), bottom(4), FULL)]


@pytest.fixture(scope="module")
def section_3(runs):
    """The six pairs the question is about, corrected together: {(a, b): Holm-adjusted p}."""
    return dict(zip(SECTION_3, holm([(runs[a], runs[b]) for a, b in SECTION_3])))


@pytest.fixture(scope="module")
def against_control(runs):
    """Every run against the head alone, the verdicts under the table, corrected together."""
    return dict(zip(AGAINST_CONTROL, holm([(runs[a], runs[b]) for a, b in AGAINST_CONTROL])))


# ---------------------------------------------------------------- section 2: the probe curve

def test_the_best_layer_on_average_is_a_middle_layer(curve, layers):
    # "the best layer on the five seeds' mean: layer 4" (printed), "not the steady rise with depth"
    best = max(range(layers), key=curve.__getitem__)
    assert 0 < best < layers - 1
    assert best == 4


@pytest.mark.parametrize("k", [3, 4, 5])
def test_the_middle_layers_scored_above_the_embeddings_on_every_seed_by_2_to_3_points(record, k):
    # "Layers 3 to 5 scored above the embeddings on every seed, by about 2 to 3 points on average"
    d = difference(record, PROBES, mean(k), mean(0))
    assert d.higher == d.n and 0.015 <= d.mean <= 0.035


def test_no_difference_of_the_curve_survives_the_correction(curve_family):
    # "after Holm's correction over the seven comparisons none of these differences is detectable with five seeds"
    assert len(curve_family) == 7
    assert min(curve_family.values()) >= ALPHA


def test_the_best_layer_scored_about_3_points_above_the_top_layer(record, layers):
    # "and the best layer above the top layer by about 3"
    d = difference(record, PROBES, mean(4), mean(layers - 1))
    assert d.higher == d.n and abs(d.mean - 0.03) <= 0.01


def test_the_top_layer_and_the_embeddings_cannot_be_told_apart_within_a_point(record, layers):
    # "Between the top layer and the embeddings no difference is detectable, and there the interval itself is
    # narrow, under a point on either side"
    d = difference(record, PROBES, mean(layers - 1), mean(0))
    assert not d.excludes_zero
    assert -0.01 < d.low and d.high < 0.01


def test_the_curve_spans_about_3_points_and_sits_10_points_above_the_majority_rate(probes, curve):
    # "The whole curve spans about 3 points, while the embeddings alone already sit about 10 points above the
    # majority rate"; recap: "every layer, embeddings included, reads sentiment at least 10 points above it"
    majority = mean_and_se(probes[1]).mean
    assert abs(max(curve) - min(curve) - 0.03) <= 0.005
    assert abs(curve[0] - majority - 0.10) <= 0.01
    assert min(curve) - majority >= 0.10


@pytest.mark.parametrize("k", [6, 4])
def test_the_mean_of_the_tokens_beats_cls_by_about_3_points(record, probes, k):
    # "by about 3 points on the top layer and on layer 4 (both verdicts survive the correction over these two)"
    scores = probes[0]
    adjusted = holm([(scores[mean(j)], scores[cls(j)]) for j in (6, 4)])
    d = difference(record, PROBES, mean(k), cls(k))
    assert d.mean > 0 and abs(d.mean - 0.03) <= 0.01
    assert adjusted[(6, 4).index(k)] < ALPHA


def test_the_mean_of_the_tokens_beats_cls_on_every_layer_and_every_seed(record, layers):
    # "on every layer from 1 to 6 it scored higher on every seed"
    for k in range(1, layers):
        d = difference(record, PROBES, mean(k), cls(k))
        assert d.higher == d.n, k


def test_layer_0_cls_is_constant_so_it_has_no_probe(record):
    # "Layer 0's [CLS] vector ... the same vector for every sentence ... we do not fit one"
    assert all(result["cls"][0] is None for result in record["results"][PROBES].values())


# ---------------------------------------------------------------- section 3: top k beside bottom k

def test_the_top_2_layers_beat_the_bottom_2_by_about_3_points_on_every_seed(record, section_3):
    # "The top 2 layers score higher than the bottom 2, by about 3 points, on every seed: of the six comparisons
    # above it is the one that survives the correction"
    d = difference(record, RUNS, top(2), bottom(2))
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n
    assert abs(d.mean - 0.03) <= 0.01
    assert [pair for pair, p in section_3.items() if p < ALPHA] == [(top(2), bottom(2))]


def test_the_top_4_and_bottom_4_cannot_be_told_apart(record):
    # "With 4 layers no difference is detectable"
    assert not difference(record, RUNS, top(4), bottom(4)).excludes_zero


def test_the_top_layer_alone_scored_below_full_fine_tuning_on_every_seed_but_not_detectably(record, section_3):
    # "The top layer alone scored below full fine-tuning on every seed, by about 2 points on average, but after
    # the correction that difference is not detectable either"
    d = difference(record, RUNS, top(1), FULL)
    assert d.mean < 0 and d.lower == d.n and abs(d.mean + 0.02) <= 0.01
    assert section_3[(top(1), FULL)] >= ALPHA


def test_the_top_4_layers_and_full_fine_tuning_cannot_be_told_apart_within_a_point(record):
    # "The top 4 layers and full fine-tuning cannot be told apart, and their interval is narrow, under a point on
    # either side"
    d = difference(record, RUNS, top(4), FULL)
    assert not d.excludes_zero and -0.01 < d.low and d.high < 0.01


def test_the_top_4_scored_above_the_top_1_on_every_seed_but_not_detectably(record, section_3):
    # "the top 4 scored above the top 1 on every seed, by about 2 points on average, which does not survive the
    # correction"
    d = difference(record, RUNS, top(4), top(1))
    assert d.higher == d.n and abs(d.mean - 0.02) <= 0.01
    assert section_3[(top(4), top(1))] >= ALPHA


def test_the_top_1_and_top_2_cannot_be_told_apart(record):
    # "the top 1 and top 2 cannot be told apart"
    assert not difference(record, RUNS, top(2), top(1)).excludes_zero


def test_against_the_head_alone(record, against_control):
    # "the top 1, the top 4 and full fine-tuning score detectably higher. The top 2 and the bottom 4 scored higher
    # on every seed, but their verdicts do not survive the correction, and the bottom 2 do not detectably beat it."
    survive = {a for (a, _), p in against_control.items() if p < ALPHA}
    assert survive == {top(1), top(4), FULL}
    for label in survive:
        assert difference(record, RUNS, label, CONTROL).mean > 0
    for label in (top(2), bottom(4)):
        d = difference(record, RUNS, label, CONTROL)
        assert d.higher == d.n, label
    assert not difference(record, RUNS, bottom(2), CONTROL).excludes_zero


def test_the_top_and_bottom_k_train_as_many_parameters(record):
    # "as many parameters, in the layers the premise says to freeze"
    for result in record["results"][RUNS].values():
        count = {row["label"]: row["trainable"] for row in result["rows"]}
        assert count[top(2)] == count[bottom(2)]
        assert count[top(4)] == count[bottom(4)]
        assert count[CONTROL] == 770


def test_the_top_k_learning_rate_rule_is_the_same_for_the_bottom_k(record):
    # "The top 4 and the bottom k train at the same rule without a check of their own"
    for result in record["results"][RUNS].values():
        rate = {row["label"]: row["learning_rate"] for row in result["rows"] if "learning_rate" in row}
        assert rate[top(2)] == rate[bottom(2)] and rate[top(4)] == rate[bottom(4)]
        assert rate[top(1)] == 2 * rate[top(2)]


def test_lees_yardstick_and_the_share_of_full_fine_tunings_gain(runs):
    # "the head alone already reaches about 94 % of full fine-tuning's accuracy. Measured from the control
    # instead, the top layer alone gains about 60 % of what full fine-tuning gains over the head alone, and the
    # top 4 nearly all of it"
    m = {label: statistics.mean(values) for label, values in runs.items()}
    assert abs(m[CONTROL] / m[FULL] - 0.94) <= 0.01
    gain = lambda label: (m[label] - m[CONTROL]) / (m[FULL] - m[CONTROL])
    assert abs(gain(top(1)) - 0.60) <= 0.05
    assert gain(top(4)) >= 0.9


# ---------------------------------------------------------------- the frozen probe beside the trained runs

def test_the_head_alone_beats_the_top_layer_probe_by_about_2_points_on_every_seed(probes, runs, layers):
    # "trained for 63 steps it scores about 2 points higher than that probe, on every seed (the verdict survives
    # the correction over these two)... The best layer's probe and the control cannot be told apart."
    control, scores = runs[CONTROL], probes[0]
    adjusted = holm([(control, scores[mean(layers - 1)]), (scores[mean(4)], control)])
    d = paired_difference(control, scores[mean(layers - 1)])
    assert d.mean > 0 and d.higher == d.n and abs(d.mean - 0.02) <= 0.01
    assert adjusted[0] < ALPHA <= adjusted[1]
    assert not paired_difference(scores[mean(4)], control).excludes_zero


def test_frozen_features_alone_reach_about_0_71(probes, runs):
    # "So at this budget frozen features alone reach about 0.71"
    for values in (runs[CONTROL], probes[0][mean(4)]):
        assert abs(mean_and_se(values).mean - 0.71) <= 0.01


def test_the_probes_and_the_runs_score_on_the_same_test_split(record):
    # "The probes of section 2 score on the same 1,000 test snippets"
    for seed in record["seeds"]:
        assert record["results"][PROBES][str(seed)]["majority"] == record["results"][RUNS][str(seed)]["majority"]


# ---------------------------------------------------------------- section 4: the rule of thumb moves

def test_the_rule_picks_five_different_boundaries_from_five_samples(record):
    # "Five samples, five different answers: N1 runs from 0 to 3 and N2 from 1 to 4 ... Neither the profile's
    # boundaries nor the paper's scaled to six layers are among the five."
    picked = [boundaries_from_probe_curve(record["results"][PROBES][str(seed)]["mean"]) for seed in record["seeds"]]
    assert len(set(picked)) == len(picked) == 5
    assert (min(n1 for n1, _ in picked), max(n1 for n1, _ in picked)) == (0, 3)
    assert (min(n2 for _, n2 in picked), max(n2 for _, n2 in picked)) == (1, 4)
    profile = record["profile"]["spafit"]
    assert (profile["n1"], profile["n2"]) not in picked
    assert (round(4 * 6 / 24), round(9 * 6 / 24)) not in picked


def test_the_rise_is_about_3_points_and_positive_on_every_seed(record, curve):
    # "The curve rises only about 3 points from the embeddings to its best layer"; "The rise it reads ... is about 3
    # points and positive on every seed"
    assert abs(max(curve) - curve[0] - 0.03) <= 0.005
    d = difference(record, PROBES, mean(4), mean(0))
    assert d.higher == d.n


def test_the_marks_and_the_steps_are_about_the_seed_to_seed_spread(probes, curve, layers):
    # "a third and two thirds of it are about 1 and 2 points, and the steps between neighbouring layers are a point
    # or so, about as much as one layer's probe moves from seed to seed (its standard deviation over the five seeds
    # is about a point)"
    rise = max(curve) - curve[0]
    assert abs(rise / 3 - 0.01) <= 0.002 and abs(2 * rise / 3 - 0.02) <= 0.003
    steps = [abs(b - a) for a, b in zip(curve, curve[1:])]
    assert statistics.median(steps) <= 0.015
    spread = statistics.mean(statistics.stdev(probes[0][mean(k)]) for k in range(layers))
    assert 0.007 <= spread <= 0.015


def test_the_rule_as_the_lesson_states_it():
    # "Freeze the layers before the first one that reaches a third of the rise (N1 of them), ... before the first
    # one that reaches two thirds train their biases only (up to N2, never below N1) ... If the curve never rises,
    # N1 = N2 = L."
    assert boundaries_from_probe_curve([0.5, 0.5, 0.5]) == (2, 2)
    assert boundaries_from_probe_curve([0.60, 0.61, 0.66, 0.74, 0.80, 0.82, 0.83]) == (2, 3)
    assert boundaries_from_probe_curve([0.50, 0.58, 0.66, 0.80, 0.74, 0.70, 0.62]) == (1, 2)  # rise to the best
    assert boundaries_from_probe_curve([0.55, 0.90, 0.91]) == (0, 0)


# --- the control task (seed 42, computed live in the lesson from section 1's features) ------------------------------

def control_table() -> dict:
    """The stored table of the lesson's control-task cell: {column: [value per layer]} and the majority rate."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "notebooks" / "03_where_knowledge_lives.ipynb"
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    (cell,) = [c for c in cells if c["cell_type"] == "code" and "control_task_on_features(" in "".join(c["source"])]
    text = "".join("".join(o.get("text", "")) for o in cell["outputs"])
    rows = [line.split()[-5:] for line in text.splitlines() if line.strip().startswith(("embeddings", "layer "))
            and line.split()[-1].startswith("+")]
    columns = ("real_train", "real", "control_train", "control", "selectivity")
    table = {name: [float(row[i]) for row in rows] for i, name in enumerate(columns)}
    table["majority"] = float(text.split("held-out sentences: ")[1].split()[0])
    return table


def test_the_control_task_reads_as_the_lesson_says():
    t = control_table()
    assert len(t["real"]) == 7 and t["majority"] == 0.578
    # "fits about 80 to 84 % of the random labels, far above the 58 % a constant guess gets"
    assert 0.795 <= min(t["control_train"]) and max(t["control_train"]) <= 0.845
    assert 0.89 <= min(t["real_train"]) and max(t["real_train"]) <= 0.935  # "about 0.90 to 0.93"
    # "0.50 to 0.52 on the random labels ... (0.578² + 0.422² ≈ 0.51), and 0.68 to 0.73 on the real ones"
    assert 0.50 <= min(t["control"]) and max(t["control"]) <= 0.525
    assert round(0.578 ** 2 + 0.422 ** 2, 2) == 0.51
    assert 0.68 <= min(t["real"]) and max(t["real"]) <= 0.735
    # "every layer is selective, by about 17 to 22 points"
    assert 0.165 <= min(t["selectivity"]) and max(t["selectivity"]) <= 0.225


@pytest.mark.rerun
def test_the_stored_control_task_is_what_the_package_computes_for_seed_42():
    from spafit_course.lessons.budget import lesson_profile
    from spafit_course.lessons.layer_runs import probe_sentences
    from spafit_course.lessons.probe_control import control_task_on_features
    from spafit_course.runs.models import load_model_and_tokenizer
    from spafit_course.runs.probes import layer_features

    profile = lesson_profile(seed=42)
    model, tokenizer = load_model_and_tokenizer(profile.model_name, seed=42)
    train_text, y_train, test_text, y_test = probe_sentences(profile)
    _, train_mean = layer_features(model, tokenizer, train_text, profile.max_length)
    _, test_mean = layer_features(model, tokenizer, test_text, profile.max_length)
    result = control_task_on_features(train_mean, y_train, test_mean, y_test, seed=42, reassignments=3)
    stored = control_table()
    assert [round(v, 3) for v in result["real"]] == stored["real"]
    assert [round(statistics.mean(v), 3) for v in result["control"]] == pytest.approx(stored["control"], abs=0.0015)


def test_the_bottom_k_rate_was_checked_on_validation_as_the_lesson_says():
    # section 3: "For the bottom 2 ... it scored higher on 3 of 3 seeds, by 7 to 9.5 points ... For the bottom 4 the
    # two rates could not be told apart (the rule higher on 1 of 3 seeds, within about 2.5 points either way)"
    import json
    from pathlib import Path

    saved = json.loads((Path(__file__).resolve().parent.parent / "docs" / "layer-rates-quick.json").read_text())
    assert saved["split"] == "validation" and saved["profile"] == "quick"
    rows = saved["rows"]
    gaps = {k: [next(r["accuracy"] for r in rows if (r["k"], r["seed"], r["rule"]) == (k, seed, "L / k"))
                - next(r["accuracy"] for r in rows if (r["k"], r["seed"], r["rule"]) == (k, seed, "flat"))
                for seed in (42, 43, 44)] for k in (2, 4)}
    assert all(0.07 <= g <= 0.096 for g in gaps[2])
    assert sum(g > 0 for g in gaps[4]) == 1 and max(abs(g) for g in gaps[4]) <= 0.025
    assert {r["rate"] for r in rows if r["rule"] == "L / k"} == {6e-4, 3e-4} and {r["rate"] for r in rows
                                                                                  if r["rule"] == "flat"} == {2e-4}
