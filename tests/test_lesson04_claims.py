"""Lesson 04's claims, held against the multi-seed record it reads (tests/conftest.py: `record`).

Each test names the sentence it holds; "about N points" is held to within a point (or the stated tolerance). A
verdict the lesson calls "higher" must survive Holm's correction over the family its cell prints, and one it calls
not detectable must not.
"""

import pytest

from spafit_course.lessons.budget import CONTROL
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.lessons.stats import holm_adjusted, mean_and_se, paired_difference, paired_p_value

FULL = "full fine-tuning"
ALPHA = 0.05


def about(d, points: float, tolerance: float = 1.0) -> bool:
    return abs(d.mean * 100 - points) <= tolerance


@pytest.fixture(scope="module")
def counts(record) -> dict:
    """Trainable parameters by label, the same on every seed."""
    by_seed = [{row["label"]: row["trainable"] for row in result["rows"]}
               for result in record["results"]["04"].values()]
    assert all(seed == by_seed[0] for seed in by_seed)
    return by_seed[0]


# ---------------------------------------------------------------- section 5: the answer to the think-first question

SECTION_5 = [("SPAFIT", "BitFit"), ("SPAFIT", "LoRA"), ("SPAFIT", FULL), ("SPAFIT", CONTROL), ("BitFit", CONTROL),
             ("LoRA", CONTROL), (FULL, CONTROL)]


@pytest.fixture(scope="module")
def section_5(record) -> dict:
    """The seven comparisons of section 5, corrected together (Holm): {(a, b): adjusted p}."""
    scores = seed_scores(record, "04")[0]
    return dict(zip(SECTION_5, holm_adjusted([paired_p_value(scores[a], scores[b]) for a, b in SECTION_5])))


def test_the_verdicts_that_survive_the_correction(section_5):
    # section 5's printed verdicts and the answer: every comparison but SPAFIT against BitFit and against the head
    # alone survives Holm's correction over the seven
    assert {pair for pair, p in section_5.items() if p >= ALPHA} == {("SPAFIT", "BitFit"), ("SPAFIT", CONTROL)}


def test_spafit_and_bitfit_cannot_be_told_apart(record):
    # "SPAFIT against BitFit: no difference detectable"; section 6, recap
    assert not difference(record, "04", "SPAFIT", "BitFit").excludes_zero


def test_lora_beats_spafit_by_about_2_points_on_every_seed(record, section_5):
    # "LoRA scores higher, by about 2 points, on every seed"; section 6: "a verdict that survives the correction"
    d = difference(record, "04", "LoRA", "SPAFIT")
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n and about(d, 2.0)
    assert section_5[("SPAFIT", "LoRA")] < ALPHA


def test_full_fine_tuning_beats_spafit_by_about_3_points_on_every_seed(record):
    # "full fine-tuning scores higher, by about 3 points, on every seed"; "SPAFIT stays below full fine-tuning"
    d = difference(record, "04", FULL, "SPAFIT")
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n and about(d, 3.0)


def test_spafits_gain_over_the_head_alone_does_not_survive_the_correction(record, section_5):
    # "SPAFIT scored higher on 4 of 5 seeds, by about 1.5 points on average, and its plain interval only just
    # clears zero; after the correction over the seven comparisons no difference is detectable." "Without the
    # correction SPAFIT's gain over the control would have read as 'higher' too"
    d = difference(record, "04", "SPAFIT", CONTROL)
    assert (d.higher, d.n) == (4, 5) and about(d, 1.5, 0.5)
    assert d.excludes_zero and 0 < d.low < 0.005
    assert section_5[("SPAFIT", CONTROL)] >= ALPHA


@pytest.mark.parametrize("method, points", [("BitFit", 1.5), ("LoRA", 4.0), (FULL, 5.0)])
def test_bitfit_lora_and_full_add_about_1_5_4_and_5_points_to_the_head_alone(record, section_5, method, points):
    # "BitFit, LoRA and full fine-tuning add about 1.5, 4 and 5 points to the head alone, on every seed, and each of
    # these verdicts survives the correction"
    d = difference(record, "04", method, CONTROL)
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n and about(d, points, 0.5)
    assert section_5[(method, CONTROL)] < ALPHA


def test_the_parameter_ratios_the_answer_states(counts):
    # "SPAFIT trains about 1.8 times as many parameters [as BitFit]"; LoRA "trains about twice as many";
    # the question: "SPAFIT trains 39,170 parameters, BitFit 21,506, LoRA 74,498"
    assert (counts["SPAFIT"], counts["BitFit"], counts["LoRA"], counts[CONTROL]) == (39170, 21506, 74498, 770)
    assert round(counts["SPAFIT"] / counts["BitFit"], 1) == 1.8
    assert round(counts["LoRA"] / counts["SPAFIT"]) == 2


def test_no_pooler_trains_so_each_count_is_the_method_and_the_head(record, counts):
    # "No pooler trains, so each count above is the method's own parameters plus the head's 770"
    assert all(result["head"] == "mean" for result in record["results"]["04"].values())
    assert counts["BitFit"] == 21506 and counts[CONTROL] == 770


# ---------------------------------------------------------------- the frozen probe as a second control

@pytest.fixture(scope="module")
def probes(record):
    return seed_scores(record, "03-probes")[0]


@pytest.fixture(scope="module")
def methods(record):
    return seed_scores(record, "04")[0]


def test_lesson_03s_best_layer_is_layer_4(probes):
    # "layer 4 (lesson 03's best)"
    layers = sum(label.startswith("mean probe") for label in probes)
    assert max(range(layers), key=lambda k: mean_and_se(probes[f"mean probe, layer {k}"]).mean) == 4


METHODS = ("BitFit", "LoRA", "SPAFIT", FULL)


@pytest.fixture(scope="module")
def against_probes(probes, methods) -> dict:
    """Each method against the top layer's probe and the best layer's, eight comparisons corrected together."""
    pairs = [(method, k) for k in (6, 4) for method in METHODS]
    adjusted = holm_adjusted([paired_p_value(methods[m], probes[f"mean probe, layer {k}"]) for m, k in pairs])
    return dict(zip(pairs, adjusted))


@pytest.mark.parametrize("method", METHODS)
def test_every_method_beats_the_top_layer_probe_by_3_5_to_7_points(probes, methods, against_probes, method):
    # "Every method scores higher than the top layer's probe (the features its classifier reads), by about 3.5 to 7
    # points"
    d = paired_difference(methods[method], probes["mean probe, layer 6"])
    assert d.excludes_zero and 0.03 <= d.mean <= 0.075
    assert against_probes[(method, 6)] < ALPHA


@pytest.mark.parametrize("method, points", [("BitFit", None), ("SPAFIT", None), ("LoRA", 3.0), (FULL, 4.0)])
def test_against_the_best_frozen_layer_only_lora_and_full_score_higher(probes, methods, against_probes, method,
                                                                        points):
    # "Against the best frozen layer only LoRA and full fine-tuning score detectably higher, by about 3 and 4
    # points; BitFit and SPAFIT cannot be told apart from a logistic regression on frozen layer 4"
    d = paired_difference(methods[method], probes["mean probe, layer 4"])
    if points is None:
        assert not d.excludes_zero and against_probes[(method, 4)] >= ALPHA
    else:
        assert d.mean > 0 and about(d, points) and against_probes[(method, 4)] < ALPHA


def test_the_probes_score_on_the_same_test_split(record):
    # "Lesson 03's probes scored on the same 1,000 test snippets"
    for seed in record["seeds"]:
        assert record["results"]["03-probes"][str(seed)]["majority"] == record["results"]["04"][str(seed)]["majority"]


# ---------------------------------------------------------------- section 6: the paper beside the lesson

def test_spafit_trains_fewer_parameters_than_lora_and_more_than_bitfit(counts):
    # "Agrees: SPAFIT trains fewer parameters than LoRA"; "SPAFIT trains more parameters than BitFit, not a
    # fraction of them, here as on BERT-large"
    assert counts["BitFit"] < counts["SPAFIT"] < counts["LoRA"]
    from spafit_course.lessons.explorer import explorer_counts

    qkv = ("query", "key", "value")
    spafit = explorer_counts("bert-large-cased", 4, 9, r=64, targets=qkv).trainable
    bitfit = explorer_counts("bert-large-cased", 0, 24, r=64, targets=qkv).trainable
    assert (spafit, bitfit) == (6_084_610, 223_234)


def test_the_paper_facts_the_lesson_prints_are_the_stated_ones():
    # section 6 prints the model, depth and SPAFIT's count from paper.STATED (stated by the paper)
    from spafit_course.lessons.paper import STATED

    assert (STATED["model"], STATED["layers"]) == ("bert-large-cased", 24)
    assert STATED["best N1, N2"] == (4, 9)
    assert (STATED["SPAFIT trains"], STATED["share of the model"]) == ("5.65M to 7.49M", "1.65% to 2.24%")
