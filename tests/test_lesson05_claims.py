"""Lesson 05's claims, held against the records it reads: the budget record (`budget_curves.read_budget_record`),
the multi-seed record (tests/conftest.py: `record`), and the paper's statements (`lessons/paper.py`), each
labelled with where the paper states it, apart from the course's own."""

from collections import Counter

import pytest

from spafit_course.lessons.budget import CONTROL, LEARNING_MARGIN
from spafit_course.lessons.seeds import difference, seed_scores
from spafit_course.lessons.inference import compare_family

PROFILE_CELL = "SPAFIT N1=2 N2=4"
CHOSEN, PROFILE_RUN = "SPAFIT, boundaries chosen on validation", "SPAFIT, boundaries from the profile"
NAMES = {"head": CONTROL, "bitfit": "BitFit", "lora": "LoRA", "spafit": "SPAFIT", "full": "full fine-tuning"}


def gap(d, points: float, tolerance: float = 0.6) -> bool:
    """An interval that excludes zero, with a mean of about `points` points (the lesson's "by about N")."""
    return d.excludes_zero and abs(d.mean * 100 - points) <= tolerance


# --- section 6: boundaries chosen on validation, scored once on test -----------------------------------------------

def test_the_sweep_is_scored_on_validation_and_the_choice_once_on_test(record):
    for result in record["results"]["05"].values():
        assert result["split"] == "validation"
        assert [row["label"] for row in result["test"]["rows"]] == [CONTROL, PROFILE_RUN, CHOSEN]
        assert all(row["split"] == "test" for row in result["test"]["rows"])
        best = max(result["cells"], key=lambda c: (c["score"], -c["trainable"]))
        assert (result["test"]["rows"][-1]["n1"], result["test"]["rows"][-1]["n2"]) == (best["n1"], best["n2"])
    # every trained cell learns on validation
    scores, majority = seed_scores(record, "05")
    assert min(min(v) - m for v, m in zip(zip(*scores.values()), majority)) >= LEARNING_MARGIN


def test_validation_chooses_four_cells_and_the_profiles_once(record):
    # "validation chose four different cells over the five seeds ... and the profile's own cell only once"
    chosen = Counter((r["test"]["rows"][-1]["n1"], r["test"]["rows"][-1]["n2"]) for r in record["results"]["05"].values())
    assert len(chosen) == 4 and chosen[(2, 4)] == 1


def test_the_grid_is_flat_within_what_five_seeds_resolve(record):
    scores, _ = seed_scores(record, "05")
    for cell in scores:
        if cell != PROFILE_CELL:  # "every interval against it includes zero"
            assert not difference(record, "05", cell, PROFILE_CELL).excludes_zero, cell
    freeze = difference(record, "05", "SPAFIT N1=4 N2=4", "SPAFIT N1=0 N2=4")
    # "scored lower on four of five seeds, by about a point on average, with an interval from about three points
    # below to a few tenths of a point above"
    assert not freeze.excludes_zero and freeze.lower == 4 and -0.015 < freeze.mean < -0.005
    assert -0.035 < freeze.low < -0.025 and 0 < freeze.high < 0.006
    assert not difference(record, "05", "SPAFIT N1=2 N2=2", PROFILE_CELL).excludes_zero
    family = compare_family({(a, b): (scores[a], scores[b]) for a, b in (("SPAFIT N1=4 N2=4", "SPAFIT N1=0 N2=4"),
                                                                         ("SPAFIT N1=2 N2=2", PROFILE_CELL))})
    assert not any(c.detected for c in family)


def test_choosing_on_validation_does_not_detectably_beat_the_profile_on_test(record):
    scores, _ = seed_scores(record, "05", part="test")
    family = compare_family({(a, b): (scores[a], scores[b]) for a, b in ((CHOSEN, PROFILE_RUN), (PROFILE_RUN, CONTROL),
                                                                         (CHOSEN, CONTROL))})
    detected = [c.detected for c in family]
    d = difference(record, "05", CHOSEN, PROFILE_RUN, part="test")
    # "about one and a half points higher on average, higher on four of the five seeds ... the interval runs from
    # about zero to three points above, and Holm's correction leaves it undetected"
    assert 0.01 <= d.mean <= 0.02 and (d.higher, d.lower) == (4, 0) and abs(d.low) < 0.003 and 0.025 <= d.high <= 0.035
    assert not detected[0]
    same = [r for r in record["results"]["05"].values()
            if (r["test"]["rows"][-1]["n1"], r["test"]["rows"][-1]["n2"]) == (2, 4)]
    assert len(same) == 1 and all(r["test"]["rows"][1]["score"] == r["test"]["rows"][2]["score"] for r in same)
    # "the chosen cell scores higher than the head-only control, by about three points, on every seed, and that
    # survives the correction"; "the profile's cell against the control does not: its plain interval only just
    # clears zero"
    chosen_run = difference(record, "05", CHOSEN, CONTROL, part="test")
    assert gap(chosen_run, 3.0) and chosen_run.higher == 5 and detected[2]
    profile_run = difference(record, "05", PROFILE_RUN, CONTROL, part="test")
    assert profile_run.excludes_zero and profile_run.low < 0.002 and not detected[1]


# --- section 5: the paper's statements, labelled --------------------------------------------------------------------

def test_every_stated_fact_says_where_the_paper_states_it():
    from spafit_course.lessons.paper import STATED, WHERE, stated_facts_text

    assert set(WHERE) == set(STATED)
    assert set(WHERE.values()) <= {"abstract", "experiments", "results", "section 4"}
    lines = stated_facts_text().splitlines()
    assert len(lines) == len(STATED) and all(line.endswith(f"({WHERE[line.split('  ')[0]]})") for line in lines)
    assert max(len(line) for line in lines) <= 100
    assert {"model", "layers", "SPAFIT trains", "share of the model"} <= set(STATED)  # lesson 04 reads these


def test_untraceable_statements_are_gone_and_the_course_suggestions_stand_apart():
    from spafit_course.lessons.paper import COURSE_SUGGESTIONS, LIMITATIONS, OPEN_QUESTIONS, STATED

    printed = " ".join([*map(str, STATED), *map(str, STATED.values()), *LIMITATIONS, *OPEN_QUESTIONS]).lower()
    for gone in ("mrpc", "sts-b", "every peft", "evenly", "budget"):
        assert gone not in printed
    assert len(OPEN_QUESTIONS) == 3
    assert any("evenly" in text and where == "lesson 06" for text, where in COURSE_SUGGESTIONS)
    assert all(len(f" - {text} ({where})") <= 100 for text, where in COURSE_SUGGESTIONS)


def test_spafit_trains_many_times_bitfit_on_bert_large():
    # section 5: "a fraction of the parameters of other methods" holds against LoRA, not against BitFit
    from spafit_course.runs.models import model_config
    from spafit_course.runs.profiles import get_profile
    from spafit_course.tuning.closed_form import closed_form_count
    from spafit_course.tuning.methods import method_config

    paper, config = get_profile("paper"), model_config("bert-large-cased")
    counts = {m: closed_form_count(config, method_config(m, 24, paper)).trainable for m in ("bitfit", "lora", "spafit")}
    assert counts["spafit"] > 10 * counts["bitfit"] and counts["spafit"] < counts["lora"]
