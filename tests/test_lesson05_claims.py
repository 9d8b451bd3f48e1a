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


def test_the_record_holds_four_budgets_and_the_rate_check_for_five_seeds(budgets):
    # the lesson's opening and section 1: 250, 1,000 and 3,000 snippets and the whole training split (10,752), one
    # epoch each, for seeds 42 to 46; section 5: the rate check on two seeds
    from spafit_course.lessons.budget_views import complete_seeds, recorded_budgets, run_of

    assert budgets["complete"]
    assert recorded_budgets(budgets) == ["250", "1000", "3000", "all"]
    assert all(complete_seeds(budgets, key) == ["42", "43", "44", "45", "46"] for key in recorded_budgets(budgets))
    assert sum(len(runs) for by_budget in budgets["curves"].values() for runs in by_budget.values()) == 100
    assert (run_of(budgets, "all")["budget"], run_of(budgets, "all")["steps"]) == (10752, 672)
    assert sum(len(runs) for by_rate in budgets["rates"].values() for runs in by_rate.values()) == 20


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


def test_at_the_whole_split_lora_no_longer_leads_spafit_and_bitfit_edges_above_it(budgets):
    # "At the whole training split (10,752 snippets, 672 steps) every method again scores higher than the control, by
    # about 5.6 (SPAFIT) to 8.9 (full fine-tuning) points, and full fine-tuning higher than LoRA, by about 2.0. ...
    # LoRA's lead over SPAFIT is no longer detectable: LoRA is higher on four of the five seeds, by about 1.3 points
    # on average, with an interval from about 0.2 points below to 2.8 above. And BitFit now scores higher than
    # SPAFIT, by about 0.7 points, on every seed"
    found = family(budgets, "all")
    gains = {method: found[(method, CONTROL)] for method in ("BitFit", "LoRA", "SPAFIT", "full fine-tuning")}
    assert all(c.detected and c.difference.mean > 0 for c in gains.values())
    points = {method: round(gains[method].difference.mean * 100, 1) for method in gains}
    assert min(points.values()) == points["SPAFIT"] == 5.6 and max(points.values()) == points["full fine-tuning"] == 8.9
    full = found[("full fine-tuning", "LoRA")]
    assert full.detected and round(full.difference.mean * 100, 1) == 2.0
    lora = found[("LoRA", "SPAFIT")]
    assert not lora.detected and lora.difference.higher == 4 and round(lora.difference.mean * 100, 1) == 1.3
    assert round(lora.difference.low * 100, 1) == -0.2 and round(lora.difference.high * 100, 1) == 2.8
    spafit = found[("SPAFIT", "BitFit")]
    assert spafit.detected and spafit.difference.mean < 0 and spafit.difference.lower == 5
    assert round(spafit.difference.mean * 100, 1) == -0.7
    # "LoRA's lead over SPAFIT, detected at 1,000 and 3,000 snippets"
    assert family(budgets, "1000")[("LoRA", "SPAFIT")].detected and family(budgets, "3000")[("LoRA", "SPAFIT")].detected
    # "from 3,000 snippets on full fine-tuning has the highest mean, detectably above LoRA's, the next highest"
    from spafit_course.lessons.budget_views import scores_at

    for key in ("3000", "all"):
        means = {label: sum(v) / len(v) for label, v in scores_at(budgets, key)[1].items()}
        assert sorted(means, key=means.get, reverse=True)[:2] == ["full fine-tuning", "LoRA"], key
        assert family(budgets, key)[("full fine-tuning", "LoRA")].detected, key


def test_the_control_rises_least_from_3000_snippets_to_the_whole_split(budgets):
    # "from 3,000 snippets to the whole split by 1.4 points against 2.1 to 3.3"
    from spafit_course.lessons.budget_views import scores_at

    low, high = scores_at(budgets, "3000")[1], scores_at(budgets, "all")[1]
    rise = {label: (sum(high[label]) - sum(low[label])) / len(low[label]) * 100 for label in low}
    assert round(rise.pop(CONTROL), 1) == 1.4
    assert (round(min(rise.values()), 1), round(max(rise.values()), 1)) == (2.1, 3.3)


def test_the_control_rises_least_from_1000_to_3000_snippets(budgets):
    # "from 1,000 to 3,000 snippets its mean rises by under 2 points, the other methods' by 3.8 to 5.2"
    from spafit_course.lessons.budget_views import scores_at

    low, high = scores_at(budgets, "1000")[1], scores_at(budgets, "3000")[1]
    rise = {label: (sum(high[label]) - sum(low[label])) / len(low[label]) * 100 for label in low}
    assert 0 < rise.pop(CONTROL) < 2
    assert (round(min(rise.values()), 1), round(max(rise.values()), 1)) == (3.8, 5.2)


def test_the_recap_names_what_the_verdicts_say_at_the_smallest_and_largest_budgets(budgets):
    # recap: "at 250 snippets no method is detectably above the head-only control and LoRA is detectably below it;
    # from 3,000 snippets on every method is above it and full fine-tuning above LoRA ... LoRA's lead over SPAFIT,
    # detected at 1,000 and 3,000 snippets, is not detectable at the whole split, where BitFit edges above SPAFIT";
    # "at 1,000 snippets SPAFIT's plain interval against the control clears zero, and its corrected verdict does not"
    from spafit_course.lessons.budget_views import PAIRS, holm_signs

    signs = {key: dict(zip(PAIRS, holm_signs(budgets, key, PAIRS))) for key in ("250", "1000", "3000", "all")}
    against_control = [pair for pair in PAIRS if pair[1] == CONTROL]
    assert [signs["250"][pair] for pair in against_control] == ["~", "<", "~", "~"]
    for key in ("3000", "all"):
        assert [signs[key][pair] for pair in against_control] == [">"] * 4
        assert signs[key][("full fine-tuning", "LoRA")] == ">"
    assert [signs[key][("LoRA", "SPAFIT")] for key in ("1000", "3000", "all")] == [">", ">", "~"]
    assert signs["all"][("SPAFIT", "BitFit")] == "<"
    assert signs["1000"][("SPAFIT", CONTROL)] == "~"
    assert family(budgets, "1000")[("SPAFIT", CONTROL)].difference.excludes_zero


def test_validation_curves_at_the_whole_split_were_still_rising(budgets):
    # "Between the last two checks (two thirds of the epoch and its end) 22 of the 25 runs rose and 3 fell, each of
    # those by under a point (the head alone on seeds 42 and 45, BitFit on seed 44): LoRA, SPAFIT and full
    # fine-tuning rose on all five seeds, BitFit on four, the head alone on three. Sixteen of the 22 rises are of a
    # point or more, up to seven (full fine-tuning on seed 46): as large as or larger than the gaps this budget
    # detects between neighbouring methods (0.7 points between BitFit and SPAFIT, 2.0 between full fine-tuning and
    # LoRA)"
    moves = {}
    for method, by_budget in budgets["curves"].items():
        runs = by_budget["all"]
        assert all([s / runs[seed]["steps"] for s, _, _ in runs[seed]["watch_curve"]][-2:] == [2 / 3, 1.0]
                   for seed in runs)
        moves[method] = {seed: runs[seed]["watch_curve"][-1][2] - runs[seed]["watch_curve"][-2][2] for seed in runs}
    rises = {method: sum(m > 0 for m in by_seed.values()) for method, by_seed in moves.items()}
    assert rises == {"head": 3, "bitfit": 4, "lora": 5, "spafit": 5, "full": 5}
    falls = {(method, seed): m for method, by_seed in moves.items() for seed, m in by_seed.items() if m <= 0}
    assert set(falls) == {("head", "42"), ("head", "45"), ("bitfit", "44")}
    assert all(-0.01 < m < 0 for m in falls.values())
    up = sorted(m for by_seed in moves.values() for m in by_seed.values() if m > 0)
    assert len(up) == 22 and sum(m >= 0.0095 for m in up) == 16
    assert round(up[-1] * 100) == 7 and moves["full"]["46"] == up[-1]


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


def test_the_learning_rate_check_held_every_methods_rate(budgets):
    # section 5: "The lessons' rate had the best mean validation accuracy for every method ... for the head alone the
    # three rates lie within 0.6 points of one another, and for SPAFIT 1e-3 sits only 0.4 points below 3e-3 ... LoRA
    # at 1e-2 ends at 0.578 on both seeds, the majority-class rate ..., and full fine-tuning at 4e-4 does the same on
    # seed 43"
    from spafit_course.lessons.budget_curves import RATE_GRID
    from spafit_course.lessons.budget_views import rate_check_text
    from spafit_course.runs.profiles import get_profile

    profile = get_profile("quick")
    chosen = profile.learning_rates

    def validation(method, rate):
        runs = budgets["curves"][method]["all"] if rate == chosen[method] else budgets["rates"][method][repr(rate)]
        return {seed: runs[seed]["validation"] for seed in ("42", "43")}

    means = {m: {rate: sum(validation(m, rate).values()) / 2 for rate in grid} for m, grid in RATE_GRID.items()}
    assert all(max(by_rate, key=by_rate.get) == chosen[m] for m, by_rate in means.items())
    rows = rate_check_text(budgets, profile).splitlines()[2:]
    assert len(rows) == 5 and all(row.endswith("(held)") and " 2 " in row for row in rows)
    assert round(max(means["head"].values()) - min(means["head"].values()), 4) <= 0.006
    assert round((means["spafit"][0.003] - means["spafit"][0.001]) * 100, 1) == 0.4
    assert validation("lora", 0.01) == {"42": 0.578, "43": 0.578}
    assert validation("full", 0.0004)["43"] == 0.578 and validation("full", 0.0004)["42"] > 0.7
    assert budgets["curves"]["head"]["all"]["42"]["majority"] == 0.578  # the test split's; validation keeps its balance
