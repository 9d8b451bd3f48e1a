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


# --- sections 1-5: the comparison across budgets (the budget record) ------------------------------------------------

@pytest.fixture(scope="module")
def budgets():
    from spafit_course.lessons.budget_curves import read_budget_record

    return read_budget_record()


def family(budgets, key):
    from spafit_course.lessons.budget_views import PAIRS, scores_at

    _, scores = scores_at(budgets, key)
    return {(a, b): c for (a, b), c in zip(PAIRS, compare_family({(a, b): (scores[a], scores[b]) for a, b in PAIRS}))}


def test_the_record_holds_three_budgets_for_five_seeds_so_far(budgets):
    # the lesson's opening: "today it holds 250, 1,000 and 3,000 snippets for all five seeds, 42 to 46, and not yet
    # the whole split"
    from spafit_course.lessons.budget_views import complete_seeds, recorded_budgets

    assert recorded_budgets(budgets) == ["250", "1000", "3000"]
    assert all(complete_seeds(budgets, key) == ["42", "43", "44", "45", "46"] for key in recorded_budgets(budgets))
    assert sum(len(runs) for by_budget in budgets["curves"].values() for runs in by_budget.values()) == 75


def test_at_250_snippets_only_lora_below_the_control_is_detectable(budgets):
    # "At 250 snippets (16 steps) one difference is detectable: LoRA scores lower than the control, by about 2.6
    # points. BitFit too sits below the head alone on every seed, by about 2.7 points; its plain interval lies below
    # zero, but the correction leaves it undetected."
    from spafit_course.lessons.budget_views import scores_at

    found = family(budgets, "250")
    assert [pair for pair, c in found.items() if c.detected] == [("LoRA", CONTROL)]
    lora, bitfit = found[("LoRA", CONTROL)].difference, found[("BitFit", CONTROL)].difference
    assert abs(lora.mean * 100 + 2.6) < 0.1 and lora.lower == 5
    assert abs(bitfit.mean * 100 + 2.7) < 0.1 and bitfit.excludes_zero and bitfit.high < 0
    _, scores = scores_at(budgets, "250")
    for method in ("BitFit", "LoRA"):  # "below the head alone on every seed"
        assert all(m < h for m, h in zip(scores[method], scores[CONTROL])), method


def test_at_1000_snippets_three_methods_beat_the_control_and_lora_beats_spafit(budgets):
    # "At 1,000 snippets BitFit, LoRA and full fine-tuning score higher than the control after the correction, by
    # about 1.5, 3.8 and 4.8 points, and LoRA higher than SPAFIT, by about 2.2. The means put full fine-tuning and
    # LoRA on top, ... but no difference between full fine-tuning and LoRA is detectable. SPAFIT's plain interval
    # against the control only just clears zero, and the correction leaves it undetected too"
    from spafit_course.lessons.budget_views import scores_at

    found = family(budgets, "1000")
    detected = {pair for pair, c in found.items() if c.detected}
    assert detected == {("BitFit", CONTROL), ("LoRA", CONTROL), ("full fine-tuning", CONTROL), ("LoRA", "SPAFIT")}
    assert all(found[pair].difference.mean > 0 for pair in detected)
    for pair, points in ((("BitFit", CONTROL), 1.5), (("LoRA", CONTROL), 3.8), (("full fine-tuning", CONTROL), 4.8),
                         (("LoRA", "SPAFIT"), 2.2)):
        assert abs(found[pair].difference.mean * 100 - points) < 0.1, pair
    spafit = found[("SPAFIT", CONTROL)].difference
    assert spafit.excludes_zero and 0 < spafit.low < 0.002
    means = {label: sum(v) / len(v) for label, v in scores_at(budgets, "1000")[1].items()}
    assert sorted(means, key=means.get, reverse=True)[:2] == ["full fine-tuning", "LoRA"]  # "on top"


def test_at_3000_snippets_every_method_beats_the_control_and_lora_and_full_lead(budgets):
    # "At 3,000 snippets every method scores higher than the control after the correction, by about 4 (SPAFIT) to 8
    # (full fine-tuning) points; LoRA scores higher than SPAFIT, by about 1.8 points, and full fine-tuning higher
    # than LoRA, by about 2.5. No difference between SPAFIT and BitFit is detectable."
    found = family(budgets, "3000")
    gains = {method: found[(method, CONTROL)] for method in ("BitFit", "LoRA", "SPAFIT", "full fine-tuning")}
    assert all(c.detected and c.difference.mean > 0 for c in gains.values())
    points = {method: gains[method].difference.mean * 100 for method in gains}
    assert round(points["SPAFIT"]) == 4 and round(points["full fine-tuning"]) == 8
    assert min(points, key=points.get) == "SPAFIT" and max(points, key=points.get) == "full fine-tuning"
    lora = found[("LoRA", "SPAFIT")]
    full = found[("full fine-tuning", "LoRA")]
    assert lora.detected and lora.difference.mean > 0 and abs(lora.difference.mean * 100 - 1.8) < 0.1
    assert full.detected and full.difference.mean > 0 and abs(full.difference.mean * 100 - 2.5) < 0.1
    assert not found[("SPAFIT", "BitFit")].detected


def test_the_control_rises_least_from_1000_to_3000_snippets(budgets):
    # "from 1,000 to 3,000 snippets its mean rises by under 2 points, the other methods' by 3.8 to 5.2"
    from spafit_course.lessons.budget_views import scores_at

    low, high = scores_at(budgets, "1000")[1], scores_at(budgets, "3000")[1]
    rise = {label: (sum(high[label]) - sum(low[label])) / len(low[label]) * 100 for label in low}
    assert 0 < rise.pop(CONTROL) < 2
    assert (round(min(rise.values()), 1), round(max(rise.values()), 1)) == (3.8, 5.2)


def test_the_recap_names_what_the_verdicts_say_at_the_smallest_and_largest_budget(budgets):
    # recap: "at 250 snippets no method is detectably above the head-only control and LoRA is detectably below it; at
    # 3,000 snippets every method is above it, and LoRA scores higher than SPAFIT and full fine-tuning higher than
    # LoRA"; "at 1,000 snippets SPAFIT's plain interval against the control clears zero, and its corrected verdict
    # does not"
    from spafit_course.lessons.budget_views import PAIRS, holm_signs

    signs = {key: dict(zip(PAIRS, holm_signs(budgets, key, PAIRS))) for key in ("250", "1000", "3000")}
    against_control = [pair for pair in PAIRS if pair[1] == CONTROL]
    assert [signs["250"][pair] for pair in against_control] == ["~", "<", "~", "~"]
    assert [signs["3000"][pair] for pair in against_control] == [">"] * 4
    assert signs["3000"][("LoRA", "SPAFIT")] == signs["3000"][("full fine-tuning", "LoRA")] == ">"
    assert signs["1000"][("SPAFIT", CONTROL)] == "~"
    assert family(budgets, "1000")[("SPAFIT", CONTROL)].difference.excludes_zero


def test_validation_curves_at_3000_rise_on_most_seeds_and_all_fall_on_seed_43(budgets):
    # "Between the last two checks every method rose on three or four of the five seeds and fell on the others (all
    # five methods fell on seed 43), by up to two and a half points ... Rises outnumber falls, 18 to 7"
    moves = {}
    for method, by_budget in budgets["curves"].items():
        runs = by_budget["3000"]
        moves[method] = {seed: runs[seed]["watch_curve"][-1][2] - runs[seed]["watch_curve"][-2][2]
                         for seed in ("42", "43", "44", "45", "46")}
        assert all(m != 0 for m in moves[method].values()), method
        assert sum(m > 0 for m in moves[method].values()) in (3, 4), method
        assert moves[method]["43"] < 0, method
    steps = [m for by_seed in moves.values() for m in by_seed.values()]
    assert (sum(m > 0 for m in steps), sum(m < 0 for m in steps)) == (18, 7)
    assert 0.024 <= max(abs(m) for m in steps) <= 0.026


def test_what_moves_first_at_250_snippets(budgets):
    # "the head alone (learning rate 1e-2) and full fine-tuning (every weight) are above the majority rate on the
    # validation split by step 12 on every seed (the head by 1 to 9 points, full fine-tuning by 1 to 11), while
    # BitFit, LoRA and SPAFIT, at 3e-3, are within 3 points of it on four of the five. The contrast is not clean: on
    # two seeds the head too is within a point of the majority rate."
    def at_step_12(method):  # points above the majority rate
        runs = budgets["curves"][method]["250"]
        return [100 * (next(a for s, _, a in runs[seed]["watch_curve"] if s == 12) - runs[seed]["majority"])
                for seed in ("42", "43", "44", "45", "46")]

    head, full = at_step_12("head"), at_step_12("full")
    assert all(g > 0 for g in head + full)
    assert (round(min(head)), round(max(head))) == (1, 9) and (round(min(full)), round(max(full))) == (1, 11)
    assert sum(g < 1 for g in head) == 2
    for method in ("bitfit", "lora", "spafit"):
        assert sum(abs(g) <= 3 for g in at_step_12(method)) == 4, method


def test_the_learning_rate_check_is_not_recorded_yet(budgets):
    # "The check runs at the whole training split, which this record does not hold yet"
    assert budgets["rates"] == {} and "all" not in {key for m in budgets["curves"].values() for key in m}
