"""Lesson 04's claims, held against the multi-seed record it reads (tests/conftest.py: `record`).

Each test names the sentence it holds; "about N points" is held to within a point.
"""

import pytest

from spafit_course.lessons.budget import CONTROL
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.lessons.stats import mean_and_se, paired_difference

FULL = "full fine-tuning"


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

def test_spafit_and_bitfit_cannot_be_told_apart(record):
    # "SPAFIT against BitFit: no difference detectable at this budget"; section 6, recap
    assert not difference(record, "04", "SPAFIT", "BitFit").excludes_zero


def test_lora_beats_spafit_by_about_2_5_points_on_every_seed(record):
    # "LoRA scores higher, by about 2.5 points, on every seed"
    d = difference(record, "04", "LoRA", "SPAFIT")
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n and about(d, 2.5)


def test_full_fine_tuning_beats_spafit_by_about_3_5_points_on_every_seed(record):
    # "full fine-tuning scores higher, by about 3.5 points, on every seed"; "SPAFIT stays below full fine-tuning"
    d = difference(record, "04", FULL, "SPAFIT")
    assert d.excludes_zero and d.mean > 0 and d.higher == d.n and about(d, 3.5)


def test_spafit_beats_the_head_alone_by_about_2_points_on_4_of_5_seeds(record):
    # "SPAFIT scores higher, by about 2 points (on 4 of 5 seeds)"
    d = difference(record, "04", "SPAFIT", CONTROL)
    assert d.excludes_zero and d.mean > 0 and about(d, 2.0)
    assert (d.higher, d.n) == (4, 5)


def test_bitfit_gain_over_the_head_alone_is_not_detectable_though_positive_on_every_seed(record):
    # "BitFit's gain over it is not detectable at this budget (positive on every seed, but its interval reaches zero)"
    d = difference(record, "04", "BitFit", CONTROL)
    assert not d.excludes_zero and d.higher == d.n


@pytest.mark.parametrize("method, points", [("LoRA", 4.5), (FULL, 5.5)])
def test_lora_and_full_add_about_4_5_and_5_5_points_to_the_head_alone(record, method, points):
    # "LoRA and full fine-tuning add about 4.5 and 5.5 points to the head alone"
    d = difference(record, "04", method, CONTROL)
    assert d.excludes_zero and d.mean > 0 and about(d, points)


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


@pytest.mark.parametrize("method", ["BitFit", "LoRA", "SPAFIT", FULL])
def test_every_method_beats_the_top_layer_probe(probes, methods, method):
    # "Every method beats the top layer's probe"
    d = paired_difference(methods[method], probes["mean probe, layer 6"])
    assert d.excludes_zero and d.mean > 0


@pytest.mark.parametrize("method, points", [("BitFit", None), ("SPAFIT", None), ("LoRA", 3.0), (FULL, 4.0)])
def test_against_the_best_frozen_layer_only_lora_and_full_score_higher(probes, methods, method, points):
    # "against the best frozen layer only LoRA and full fine-tuning score detectably higher, by about 3 and 4
    # points; BitFit and SPAFIT cannot be told apart from a logistic regression on frozen layer 4"
    d = paired_difference(methods[method], probes["mean probe, layer 4"])
    if points is None:
        assert not d.excludes_zero
    else:
        assert d.excludes_zero and d.mean > 0 and about(d, points)


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
