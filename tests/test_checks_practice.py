"""The practice notebooks' checks of experiments, measurements and readings (spafit_course.lessons.checks): the
reference answer passes, and wrong answers of at least three kinds FAIL with what was expected, what came back and
the reasoning (test_checks.py holds the checks of code that re-implements a lesson's)."""

import copy

import numpy as np
import pytest
import torch

from spafit_course.lessons import checks, practice
from spafit_course.lessons.checks import answers, comparison, costs, forgetting, probes, rank, setup
from spafit_course.lessons.checks.bitfit import reference_train_only_biases
from spafit_course.lessons.stats import paired_difference
from spafit_course.runs.models import tiny_model
from spafit_course.tuning.freezing import freeze_all, unfreeze_head

# ---------------------------------------------------------------- code checks run on hidden inputs


def share_in_percent(model):
    return 100 * checks.reference_embedding_share(model)


def share_of_word_embeddings(model):
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for n, p in model.named_parameters() if "word_embeddings" in n) / total


def share_of_the_rest(model):
    return 1 - checks.reference_embedding_share(model)


def scores_same_rows_every_seed(pool, seeds, size, readout="mean"):
    return checks.reference_head_scores(pool, [seeds[0]] * len(seeds), size, readout)


def scores_ignoring_readout(pool, seeds, size, readout="mean"):
    return checks.reference_head_scores(pool, seeds, size, "mean")


def scores_on_training_rows(pool, seeds, size, readout="mean"):
    train = pool["train"]
    out = []
    for seed in seeds:
        rows = practice.draw(len(train["labels"]), size, seed)
        x = setup.readout_features(train, readout)[rows]
        out.append(setup.probe_accuracy(x, train["labels"][rows], x, train["labels"][rows]))
    return out


def biases_without_head(model, families):
    reference_train_only_biases(model, families)
    for name, p in model.named_parameters():
        if "classifier" in name:
            p.requires_grad_(False)
    return model


def biases_every_family(model, families):
    return reference_train_only_biases(model, ("query", "key", "value", "attention_output", "ffn_in", "ffn_out"))


def whole_modules(model, families):
    reference_train_only_biases(model, families)
    from spafit_course.tuning.architectures import get_layers, resolve_targets

    for layer in get_layers(model):
        for path in (resolve_targets(model, tuple(families)) if families else {}).values():
            layer.get_submodule(path).requires_grad_(True)
    return model


def logits_training_base_in_place(base, families, batches, lr, eval_batch):
    model = reference_train_only_biases(base, families)
    practice.train_steps(model, batches, lr)
    return practice.logits(model, eval_batch)


def logits_every_bias(base, families, batches, lr, eval_batch):
    return checks.reference_trained_logits(base, ("query", "key", "value", "attention_output", "ffn_in", "ffn_out"),
                                           batches, lr, eval_batch)


def logits_untrained(base, families, batches, lr, eval_batch):
    return practice.logits(base, eval_batch)


def biases_value_and_output_swapped(model, families):
    """value and attention_output mixed up: invisible while they are only ever asked for together."""
    swap = {"value": "attention_output", "attention_output": "value"}
    return reference_train_only_biases(model, tuple(swap.get(f, f) for f in families))


def biases_initialised_afresh(model, families):
    reference_train_only_biases(model, families)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad and name.endswith("bias") and "classifier" not in name:
                torch.nn.init.normal_(p, std=0.02)
    return model


def movement_ignoring_optimizer(base, batches, optimizer, lr):
    return checks.reference_bias_movement(base, batches, "adam", lr)


def movement_as_list(base, batches, optimizer, lr):
    return list(checks.reference_bias_movement(base, batches, optimizer, lr).values())


def movement_of_a_trained_base(base, batches, optimizer, lr):
    model = reference_train_only_biases(base, ("query", "key", "value", "attention_output", "ffn_in", "ffn_out"))
    practice.train_steps(model, batches, lr, optimizer)
    return checks.reference_bias_movement(model, batches, optimizer, lr)


def best_error_absolute(delta, r):
    s = torch.linalg.svdvals(delta.double())
    return float(s[r:].square().sum().sqrt())


def best_error_plain_sum(delta, r):
    s = torch.linalg.svdvals(delta.double())
    return float(s[r:].sum() / s.sum())


def best_error_kept_part(delta, r):
    s = torch.linalg.svdvals(delta.double())
    return float(s[:r].square().sum().sqrt() / s.square().sum().sqrt())


def curve_plain_logistic(pool, rows):
    return probes._plain_curve(pool, np.asarray(rows))


def curve_on_training_rows(pool, rows):
    train = pool["train"]
    return [setup.probe_accuracy(train["mean"][k][rows], train["labels"][rows], train["mean"][k][rows],
                                 train["labels"][rows]) for k in range(len(train["mean"]))]


def curve_without_embeddings(pool, rows):
    return checks.reference_probe_curve(pool, rows)[1:]


def curve_on_every_row(pool, rows):
    return checks.reference_probe_curve(pool, np.arange(len(pool["train"]["labels"])))


def search_strict(config, low, high, r, targets):
    return [c for c in checks.reference_settings_in_range(config, low, high, r, targets)
            if low < costs.count_of(config, *c, r, targets) < high]


def search_without_empty_groups(config, low, high, r, targets):
    layers = config.num_hidden_layers
    return [(a, b) for a, b in checks.reference_settings_in_range(config, low, high, r, targets)
            if a < b < layers]


def search_any_order(config, low, high, r, targets):
    found = checks.reference_settings_in_range(config, low, high, r, targets)
    return found + [(b, a) for a, b in found if a < b]


def backward_with_embeddings(model, batch):
    return checks.reference_backward_layers(model, batch) + 1


def backward_trainable_layers(model, batch):
    from spafit_course.tuning.architectures import get_layers

    return sum(any(p.requires_grad for p in layer.parameters()) for layer in get_layers(model))


def backward_counting_every_hidden_state(model, batch):
    """Counts hidden_states[0] too, which needs a gradient only when the embeddings train."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True)
    return sum(h.requires_grad for h in out.hidden_states)


def backward_freezing_first(model, batch):
    freeze_all(model)
    return checks.reference_backward_layers(model, batch)


def search_with_a_repeat(config, low, high, r, targets):
    found = checks.reference_settings_in_range(config, low, high, r, targets)
    return found + found[:1]


def backward_under_no_grad(model, batch):
    with torch.no_grad():
        return checks.reference_backward_layers(model, batch)


def choose_on_test(cells, train_cell, score):
    models = {tuple(c): train_cell(*c) for c in cells}
    test = {c: score(m, "test") for c, m in models.items()}
    validation = {c: score(m, "validation") for c, m in models.items()}
    chosen = max(test, key=test.get)
    return {"validation": validation, "chosen": chosen, "test": test[chosen]}


def choose_reporting_validation(cells, train_cell, score):
    result = checks.reference_choose_and_report(cells, train_cell, score)
    return {**result, "test": result["validation"][result["chosen"]]}


def choose_worst(cells, train_cell, score):
    models = {tuple(c): train_cell(*c) for c in cells}
    validation = {c: score(m, "validation") for c, m in models.items()}
    chosen = min(validation, key=validation.get)
    return {"validation": validation, "chosen": chosen, "test": score(models[chosen], "test")}


def choose_reading_test_twice(cells, train_cell, score):
    result = checks.reference_choose_and_report(cells, train_cell, score)
    score(("model", *result["chosen"]), "test")
    return result


def selection_reporting_validation(pool, rows):
    train = pool["train"]
    validation = [comparison.fitted_probe(train["mean"][k][rows], train["labels"][rows])
                  .score(pool["validation"]["mean"][k], pool["validation"]["labels"])
                  for k in range(len(train["mean"]))]
    return max(validation), checks.reference_selection_scores(pool, rows)[1]


def selection_both_on_test(pool, rows):
    best = checks.reference_selection_scores(pool, rows)[1]
    return best, best


def selection_top_layer_only(pool, rows):
    train = pool["train"]
    probe = comparison.fitted_probe(train["mean"][-1][rows], train["labels"][rows])
    return probe.score(pool["test"]["mean"][-1], pool["test"]["labels"]), \
        checks.reference_selection_scores(pool, rows)[1]


def correct_as_accuracy(features, layer):
    return float(checks.reference_question_correct(features, layer).mean())


def correct_one_layer_up(features, layer):
    return checks.reference_question_correct(features, min(layer + 1, len(features["train"]) - 1) if layer + 1 <
                                             len(features["train"]) else layer - 1)


def correct_on_training_questions(features, layer):
    probe = comparison.fitted_probe(features["train"][layer], features["train_labels"])
    return (probe.predict(features["train"][layer]) == features["train_labels"]).astype(int)


# check, reference answer, known-wrong answers with a phrase their FAIL must contain
CODE_CASES = {
    "embedding_share": (checks.check_embedding_share, checks.reference_embedding_share,
                        [(share_in_percent, "a percentage came back"), (share_of_word_embeddings, "positions"),
                         (share_of_the_rest, "everything except the embeddings")]),
    "head_scores": (checks.check_head_scores, checks.reference_head_scores,
                    [(scores_same_rows_every_seed, "every seed drew the same rows"),
                     (scores_ignoring_readout, "read the top layer's features for the readout asked"),
                     (scores_on_training_rows, "score on all of the pool's test rows")]),
    "train_only_biases": (checks.check_train_only_biases, reference_train_only_biases,
                          [(biases_without_head, "the classifier always trains"),
                           (biases_every_family, "should be frozen"),
                           (whole_modules, "a weight matrix trains where only biases should"),
                           (biases_value_and_output_swapped, "families ['value']"),
                           (biases_initialised_afresh, "leave the weights and biases as they are")]),
    "trained_logits": (checks.check_trained_logits, checks.reference_trained_logits,
                       [(logits_training_base_in_place, "train a copy"),
                        (logits_every_bias, "every bias trained"), (logits_untrained, "nothing trained")]),
    "bias_movement": (checks.check_bias_movement, checks.reference_bias_movement,
                      [(movement_ignoring_optimizer, "the optimizer passed in was not used"),
                       (movement_as_list, "one number per bias family"),
                       (movement_of_a_trained_base, "train a copy (copy.deepcopy(base))")]),
    "best_error": (checks.check_best_error, checks.reference_best_error,
                   [(best_error_absolute, "divide by the norm of delta"), (best_error_plain_sum, "not their plain sum"),
                    (best_error_kept_part, "the error is what it leaves out")]),
    "probe_curve": (checks.check_probe_curve, checks.reference_probe_curve,
                    [(curve_plain_logistic, "a plain LogisticRegression"),
                     (curve_on_training_rows, "scored on the training rows"),
                     (curve_without_embeddings, "row 0 of the features is the embeddings"),
                     (curve_on_every_row, "fit on train_rows only")]),
    "settings_in_range": (checks.check_settings_in_range, checks.reference_settings_in_range,
                          [(search_strict, "the range includes its ends"),
                           (search_without_empty_groups, "range(L + 1)"),
                           (search_any_order, "N1 <= N2 only"), (search_with_a_repeat, "each setting once")]),
    "backward_layers": (checks.check_backward_layers, checks.reference_backward_layers,
                        [(backward_with_embeddings, "hidden_states[0] is not a layer"),
                         (backward_trainable_layers, "frozen layers above the lowest trainable one"),
                         (backward_under_no_grad, "torch.no_grad"),
                         (backward_counting_every_hidden_state, "full on a tiny 3-layer bert"),
                         (backward_freezing_first, "after your function")]),
    "choose_and_report": (checks.check_choose_and_report, checks.reference_choose_and_report,
                          [(choose_on_test, "every cell was scored on test"),
                           (choose_reporting_validation, "that is its validation score"),
                           (choose_worst, "the chosen cell is the one with the best validation score"),
                           (choose_reading_test_twice, "the test split is read once")]),
    "selection_scores": (checks.check_selection_scores, checks.reference_selection_scores,
                         [(selection_reporting_validation, "not its validation score"),
                          (selection_both_on_test, "both numbers chose on test"),
                          (selection_top_layer_only, "(test score of the validation choice, best test score)")]),
    "question_correct": (checks.check_question_correct, checks.reference_question_correct,
                         [(correct_as_accuracy, "not their mean"), (correct_one_layer_up, "row k of the features"),
                          (correct_on_training_questions, "the probe's answers")]),
}


@pytest.mark.parametrize("key", CODE_CASES)
def test_reference_code_passes(key):
    check, reference, _ = CODE_CASES[key]
    ok, printed = checks.captured(check, reference)
    assert ok is True, printed
    assert printed.startswith(f"PASS {check.__name__}:")


@pytest.mark.parametrize("key,index", [(k, i) for k, (_, _, wrong) in CODE_CASES.items() for i in range(len(wrong))])
def test_wrong_code_fails_naming_expected_got_and_the_cause(key, index):
    check, _, wrong = CODE_CASES[key]
    candidate, phrase = wrong[index]
    ok, printed = checks.captured(check, candidate)
    assert ok is False
    assert printed.startswith(f"FAIL {check.__name__}:")
    assert "\n  expected: " in printed and "\n  got:      " in printed, printed
    assert phrase in " ".join(printed.split()), printed


def test_every_code_check_keeps_three_wrong_answers():
    assert all(len(wrong) >= 3 for _, _, wrong in CODE_CASES.values())


@pytest.mark.parametrize("key", CODE_CASES)
def test_an_unwritten_function_fails_with_its_message(key):
    def unwritten(*args, **kwargs):
        raise NotImplementedError("Exercise 9.9: write me")

    ok, printed = checks.captured(CODE_CASES[key][0], unwritten)
    assert ok is False
    name = CODE_CASES[key][0].__name__
    assert printed == f"FAIL {name}: your code raised NotImplementedError: Exercise 9.9: write me\n"


# ---------------------------------------------------------------- answers: choices, readings, decisions


def verdict(check, *answers_given):
    ok, text = check.verdict(*answers_given)
    return ok, " ".join(text.split())


#: Choices whose right option is fixed (or fixed by the course's model and the paper's numbers).
FIXED_CHOICES = {
    checks.check_embedding_prediction: ("d", setup.EMBEDDING_OPTIONS),
    checks.check_key_bias_prediction: ("a", __import__("spafit_course.lessons.checks.bitfit",
                                                       fromlist=["KEY_OPTIONS"]).KEY_OPTIONS),
    checks.check_flip_reading: ("a", probes.READ_FLIP_OPTIONS),
    checks.check_count_prediction: ("c", costs.COUNT_OPTIONS),
    checks.check_boundary_reading: ("a", costs.BOUNDARY_OPTIONS),
    checks.check_backward_prediction: ("a", costs.BACKWARD_OPTIONS),
    checks.check_cost_reading: ("a", costs.COST_OPTIONS),
    checks.check_estimate_reading: ("a", comparison.ESTIMATE_OPTIONS),
    checks.check_cka_reading: ("a", forgetting.CKA_OPTIONS),
}


@pytest.mark.parametrize("check", FIXED_CHOICES, ids=lambda c: c.__name__)
def test_a_fixed_choice_passes_right_and_fails_every_other_option_with_its_reasoning(check):
    right, options = FIXED_CHOICES[check]
    for spelling in (right, f"({right})", right.upper(), f"{right}) because"):
        ok, text = verdict(check, spelling)
        assert ok, text
    for letter, option in options.items():
        if letter == right:
            continue
        ok, text = verdict(check, letter)
        assert not ok and "likely cause:" in text and " ".join(option.why.split())[:40] in text, text
    ok, text = verdict(check, None)
    assert not ok and "no answer yet" in text
    ok, text = verdict(check, "z")
    assert not ok and "not one of the options" in text


def test_the_spread_prediction_is_judged_against_the_learners_own_seeds():
    wide = [0.60, 0.64, 0.66, 0.68]  # 8 points
    assert verdict(checks.check_spread_prediction, "c", wide)[0]
    ok, text = verdict(checks.check_spread_prediction, "b", wide)
    assert not ok and "spread over 8.0 points" in text
    assert verdict(checks.check_spread_prediction, "b", [0.66, 0.67, 0.68])[0]
    # the bands do not overlap: 5 points exactly is (c), "5 to 15", not (b), "1 to under 5"
    assert verdict(checks.check_spread_prediction, "c", [0.623, 0.673])[0]
    assert verdict(checks.check_spread_prediction, "b", [0.624, 0.673])[0]
    ok, text = verdict(checks.check_spread_prediction, "c", None)
    assert not ok and "no scores to check yet" in text
    ok, text = verdict(checks.check_spread_prediction, "a", [0.6])
    assert not ok and "at least two finite numbers" in text


def test_the_movement_reading_follows_the_two_spreads():
    adam = {"query": 8e-3, "key": 1e-5, "value": 8.2e-3, "attention output": 8.7e-3, "FFN in": 8.3e-3, "FFN out": 9e-3}
    sgd = {"query": 9e-6, "key": 1e-12, "value": 6e-5, "attention output": 7e-5, "FFN in": 2e-5, "FFN out": 8e-5}
    assert verdict(checks.check_movement_reading, "a", adam, sgd)[0]
    ok, text = verdict(checks.check_movement_reading, "b", adam, sgd)
    assert not ok and "depends on the optimizer" in text and "Adam 1.1x" in text
    assert not verdict(checks.check_movement_reading, "c", adam, sgd)[0]
    assert "no Adam movement to check yet" in verdict(checks.check_movement_reading, "a", None, sgd)[1]


def test_the_rank_prediction_and_reading_follow_the_fitted_errors():
    errors = {1: 0.744, 2: 0.499, 4: 0.0, 8: 0.003}
    assert verdict(checks.check_rank_prediction, "b", errors)[0]
    ok, text = verdict(checks.check_rank_prediction, "c", errors)
    assert not ok and "however long it trains" in text
    assert not verdict(checks.check_rank_prediction, "a", errors)[0]
    assert verdict(checks.check_rank_prediction, "d", {1: 0.9, 2: 0.8})[0]
    _, delta = practice.low_rank_update(32, 4, 0)
    bound = rank.reference_best_error(delta, 2)
    assert verdict(checks.check_rank_reading, "a", delta, {2: bound + 0.001})[0]
    ok, text = verdict(checks.check_rank_reading, "b", delta, {2: bound + 0.001})
    assert not ok and "no room left" in text
    assert verdict(checks.check_rank_reading, "b", delta, {2: bound + 0.2})[0]
    assert "an entry for r = 2" in verdict(checks.check_rank_reading, "a", delta, {4: 0.0})[1]


def test_the_alpha_prediction_reruns_the_settings():
    errors = rank.reference_alpha_errors()
    assert verdict(checks.check_alpha_prediction, "a", errors)[0]
    ok, text = verdict(checks.check_alpha_prediction, "b", errors)
    assert not ok and "four times smaller at r = 32" in text
    ok, text = verdict(checks.check_alpha_prediction, "a", {**errors, ("fixed", 8): errors[("2r", 8)] + 0.1})
    assert not ok and "a different alpha, step count or learning rate" in text
    ok, text = verdict(checks.check_alpha_prediction, "a", {("fixed", 8): 0.5})
    assert not ok and "one error per convention and rank" in text


def test_the_flip_checks_redraw_the_samples():
    pool = setup.synthetic_pool(seed=5, layers=4, sizes=(120, 0, 60))
    curves = {seed: probes.reference_probe_curve(pool, practice.draw(120, 50, seed)) for seed in range(12)}
    found = {seed: practice.boundaries_from_curve(c) for seed, c in curves.items()}
    a, b = next((a, b) for a in found for b in found if a < b and found[a] != found[b])
    same = next((a, b) for a in found for b in found if a < b and found[a] == found[b])
    assert verdict(checks.check_flip, pool, 50, (a, b))[0]
    ok, text = verdict(checks.check_flip, pool, 50, same)
    assert not ok and "pick two rows of the table whose (N1, N2) differ" in text
    ok, text = verdict(checks.check_flip, pool, 50, (a, a))
    assert not ok and "two different seeds" in text
    assert not verdict(checks.check_flip, pool, 50, None)[0]
    distinct = len(set(found.values()))
    right = "a" if distinct == 1 else "b" if distinct <= 3 else "c"
    assert verdict(checks.check_flip_prediction, right, list(found.values()))[0]
    wrong = next(k for k in "abc" if k != right)
    ok, text = verdict(checks.check_flip_prediction, wrong, list(found.values()))
    assert not ok and f"your samples gave {distinct} different pairs" in text


def test_the_control_checks_read_the_paired_gaps():
    pretrained = [[0.62, 0.66, 0.66], [0.64, 0.65, 0.67], [0.60, 0.66, 0.68], [0.63, 0.64, 0.66]]
    control_curves = [[0.56, 0.56, 0.55], [0.57, 0.56, 0.56], [0.55, 0.57, 0.56], [0.56, 0.55, 0.57]]
    assert verdict(checks.check_control_prediction, "b", pretrained, control_curves, 0.53)[0]
    ok, text = verdict(checks.check_control_prediction, "a", pretrained, control_curves, 0.53)
    assert not ok and "says which words it contains" in text
    assert verdict(checks.check_control_prediction, "a", pretrained, control_curves, 0.56)[0]
    assert verdict(checks.check_control_reading, "a", pretrained, control_curves, 0.53)[0]
    ok, text = verdict(checks.check_control_reading, "b", pretrained, control_curves, 0.53)
    assert not ok and "wholly below zero" in text and "top gap minus embeddings' gap +0.045 [+0.012, +0.078]" in text, text
    ok, text = verdict(checks.check_control_reading, "c", pretrained, control_curves, 0.53)
    assert not ok and "includes zero; here it does not" in text, text
    close = [[c[0] + 0.06 + e, c[1], c[2] + 0.06 + d] for c, d, e in zip(control_curves, (0.01, -0.01, 0.02, -0.015),
                                                                        (0.01, 0.0, -0.01, 0.005))]
    assert verdict(checks.check_control_reading, "c", close, control_curves, 0.53)[0]  # overlapping gaps
    ok, text = verdict(checks.check_control_reading, "a", close, control_curves, 0.53)
    assert not ok and "wholly above zero" in text, text
    ok, text = verdict(checks.check_control_reading, "a", pretrained, control_curves[:2], 0.53)
    assert not ok and "pair up sample by sample" in text


def test_the_forgetting_prediction_reads_the_top_layers_change():
    before = [1] * 70 + [0] * 30
    kept, lost = [1] * 72 + [0] * 28, [1] * 60 + [0] * 40
    assert verdict(checks.check_forgetting_prediction, "b", kept, before)[0]
    ok, text = verdict(checks.check_forgetting_prediction, "a", kept, before)
    assert not ok and "from 0.700 to 0.720 (+0.020)" in text and "can survive it" in text
    assert verdict(checks.check_forgetting_prediction, "a", lost, before)[0]
    ok, text = verdict(checks.check_forgetting_prediction, "b", lost, before)
    assert not ok and "did overwrite what the probe reads" in text
    assert "no answers after to check yet" in verdict(checks.check_forgetting_prediction, "a", None, before)[1]


def test_the_stretch_check_reads_the_measured_drift_and_probe():
    assert verdict(checks.check_stretch, "b", 0.27, 0.0)[0]
    ok, text = verdict(checks.check_stretch, "c", 0.27, 0.0)
    assert not ok and "it can learn the inverse" in text
    ok, text = verdict(checks.check_stretch, "a", 0.27, 0.0)
    assert not ok and "measured drift 0.270" in text
    assert verdict(checks.check_stretch, "a", 0.01, 0.0)[0]
    # a regularised probe moves a little either way; a gain is never read as "worse"
    assert verdict(checks.check_stretch, "b", 0.27, +0.08)[0]
    assert verdict(checks.check_stretch, "b", 0.27, -0.03)[0]
    ok, text = verdict(checks.check_stretch, "b", 0.27, -0.05)
    assert not ok and "probe change -0.050" in text
    assert verdict(checks.check_stretch, "c", 0.27, -0.05)[0]


# ---------------------------------------------------------------- paired intervals and the decisions they allow

A = [0.70, 0.72, 0.69, 0.74, 0.71]
B = [0.66, 0.70, 0.66, 0.69, 0.68]
LEVEL = [0.70, 0.68, 0.71, 0.69, 0.70]  # against B: an interval that includes zero
NOISY = [0.70, 0.66, 0.73, 0.65, 0.71]  # against B: a positive mean, an interval that includes zero

#: 0/1 answers on 40 questions: clearly better after, level, and a small gain the interval cannot tell from zero
BEFORE = [1] * 20 + [0] * 20
AFTER = [1] * 20 + [1] * 12 + [0] * 8
LEVEL_ANSWERS = [1] * 18 + [0, 0] + [1, 1] + [0] * 18
NOISY_ANSWERS = [1] * 19 + [0] + [1] * 3 + [0] * 17


def unpaired(a, b):
    return answers._unpaired(a, b)


def normal_interval(a, b):
    d = np.subtract(a, b)
    se = d.std(ddof=1) / np.sqrt(len(d))
    return d.mean(), d.mean() - 1.96 * se, d.mean() + 1.96 * se


#: check, then (higher, lower, level, noisy) lists that fit what it measures: accuracies per seed or sample (the
#: best on test is never below the chosen layer's score), or 0/1 answers per question.
PAIRED_CHECKS = {
    "readout": (checks.check_readout_claim, (A, B, LEVEL, NOISY)),
    "depth": (checks.check_depth_claim, (A, B, LEVEL, NOISY)),
    "optimism": (checks.check_optimism_claim, (A, B, [0.70, 0.70, 0.71, 0.69, 0.70], [0.70, 0.72, 0.66, 0.71, 0.68])),
    "forgetting": (checks.check_forgetting, (AFTER, BEFORE, LEVEL_ANSWERS, NOISY_ANSWERS)),
}


@pytest.mark.parametrize("key", PAIRED_CHECKS)
def test_a_paired_claim_passes_with_the_interval_and_its_reading(key):
    check, (high, low, level, _) = PAIRED_CHECKS[key]
    assert verdict(check, high, low, paired_difference(high, low), "a")[0]
    difference = paired_difference(high, low)
    assert verdict(check, high, low, (difference.mean, difference.low, difference.high), "a")[0]
    assert verdict(check, level, low, paired_difference(level, low), "b")[0]
    assert verdict(check, np.array(high), tuple(low), paired_difference(high, low), "a")[0]  # other containers


@pytest.mark.parametrize("key", PAIRED_CHECKS)
def test_a_paired_claim_fails_on_each_usual_mistake(key):
    check, (high, low, _, noisy) = PAIRED_CHECKS[key]
    right = paired_difference(high, low)
    cases = [(unpaired(high, low), "treated as unpaired"), (normal_interval(high, low), "t distribution"),
             (paired_difference(low, high), "a and b are swapped")]
    for wrong, cause in cases:
        ok, text = verdict(check, high, low, wrong, "a")
        assert not ok and cause in text, text
    ok, text = verdict(check, high, low, right, "b")
    assert not ok and "includes zero; here it does not" in text
    noisy_difference = paired_difference(noisy, low)
    assert noisy_difference.mean > 0 and noisy_difference.low < 0
    ok, text = verdict(check, noisy, low, noisy_difference, "a")
    assert not ok and "needs the whole 95 % interval above zero" in text
    ok, text = verdict(check, high, low[:3], right, "a")
    assert not ok and "pair up" in text
    assert not verdict(check, None, low, right, "a")[0]


@pytest.mark.parametrize("key", sorted(set(PAIRED_CHECKS) - {"optimism"}))
def test_one_list_passed_twice_is_not_a_comparison(key):
    check, (high, *_) = PAIRED_CHECKS[key]
    ok, text = verdict(check, high, high, paired_difference(high, high), "b")
    assert not ok and "the same list was passed for both" in text, text


def test_swapped_lists_cannot_make_choosing_on_validation_look_better():
    ok, text = verdict(checks.check_optimism_claim, B, A, paired_difference(B, A), "c")
    assert not ok and "the two lists are swapped: the best on test comes first" in text, text
    best = list(A)
    best[2] = B[2] - 0.01
    ok, text = verdict(checks.check_optimism_claim, best, B, paired_difference(best, B), "a")
    assert not ok and "lower on samples [2]" in text, text
    assert verdict(checks.check_optimism_claim, B, B, paired_difference(B, B), "b")[0]  # the choice was always best


@pytest.mark.parametrize("key", ["readout", "depth", "optimism"])
def test_accuracies_are_fractions(key):
    check, (high, low, *_) = PAIRED_CHECKS[key]
    percent = [100 * v for v in high], [100 * v for v in low]
    ok, text = verdict(check, *percent, paired_difference(*percent), "a")
    assert not ok and "not a percentage" in text and "your code raised" not in text, text
    ok, text = verdict(check, [float("nan"), *high[1:]], low, paired_difference(high, low), "a")
    assert not ok and "one finite number per" in text, text


def test_answers_are_zero_or_one_per_question_and_booleans_count():
    after, before = np.array(AFTER, dtype=bool), np.array(BEFORE, dtype=bool)
    assert verdict(checks.check_forgetting, after, before, paired_difference(AFTER, BEFORE), "a")[0]
    assert verdict(checks.check_forgetting_prediction, "b", after.tolist(), before)[0]
    for wrong in ([0.5] * 40, [[1, 0]] * 20, 0.8, [2] * 40):
        ok, text = verdict(checks.check_forgetting, wrong, BEFORE, paired_difference(AFTER, BEFORE), "a")
        assert not ok and "1 if right and 0 if wrong" in text and "your code raised" not in text, text
    ok, text = verdict(checks.check_forgetting_prediction, "b", AFTER[:30], BEFORE)
    assert not ok and "pair up question by question" in text, text
    ok, text = verdict(checks.check_forgetting_prediction, "b", BEFORE, BEFORE)
    assert not ok and "the same list was passed for both" in text, text


# ---------------------------------------------------------------- the notebook machinery


def test_try_run_returns_the_result_or_none_with_one_note(capsys):
    assert answers.try_run(lambda x: x + 1, 1) == 2

    def unwritten():
        raise NotImplementedError("Exercise 0.2: a hint")

    assert answers.try_run(unwritten) is None
    out = capsys.readouterr().out
    assert out.startswith("note: unwritten raised NotImplementedError: Exercise 0.2: a hint;") and out.count("\n") == 1


def test_an_answer_check_prints_once_and_returns_nothing(capsys):
    assert checks.check_cka_reading("a") is None
    assert checks.check_cka_reading("b") is None
    out = capsys.readouterr().out
    assert out.startswith("PASS check_cka_reading:") and out.count("\nFAIL check_cka_reading:") == 1
    assert checks.check_cka_reading("a", verbose=False) is None and capsys.readouterr().out == ""


def test_a_copy_keeps_the_base_model_for_the_next_run():
    base = tiny_model("bert", num_layers=2, hidden=16)
    before = copy.deepcopy(base.state_dict())
    model = reference_train_only_biases(copy.deepcopy(base), ("query",))
    freeze_all(model)
    unfreeze_head(model)
    assert all(torch.equal(before[k], v) for k, v in base.state_dict().items())


# ---------------------------------------------------------------- answers in the wrong form, and in right ones


@pytest.mark.parametrize("answer", ["b or c", "(b) or (c)", "b/c", "b, c", "b and c", "b) or c)", "B OR C"])
def test_one_letter_means_one_letter(answer):
    ok, text = verdict(checks.check_cka_reading, answer)
    assert not ok and "one option only" in text, text


@pytest.mark.parametrize("answer", ["bc", "because b", ["b"], 2, "e"])
def test_what_is_not_a_letter_of_the_options_fails(answer):
    ok, text = verdict(checks.check_cka_reading, answer)
    assert not ok and "not one of the options" in text, text


@pytest.mark.parametrize("answer", ["a", " (a) ", "A.", "a: drift measures change", "(a) because b) is wrong"[:3]])
def test_a_letter_with_its_reasoning_reads_as_that_letter(answer):
    assert verdict(checks.check_cka_reading, answer)[0]


NAN = float("nan")
MOVEMENT = {"query": 8e-3, "key": 1e-5, "value": 8.2e-3, "attention output": 8.7e-3, "FFN in": 8.3e-3,
            "FFN out": 9e-3}
CURVES = [[0.62, 0.66, 0.66], [0.64, 0.65, 0.67], [0.60, 0.66, 0.68], [0.63, 0.64, 0.66]]


@pytest.mark.parametrize("check, answers_given", [
    (checks.check_stretch, ("b", NAN, 0.0)),
    (checks.check_stretch, ("b", 0.27, float("inf"))),
    (checks.check_spread_prediction, ("c", [0.6, NAN, 0.7])),
    (checks.check_movement_reading, ("a", {**MOVEMENT, "value": NAN}, MOVEMENT)),
    (checks.check_rank_prediction, ("b", {1: 0.7, 2: NAN, 4: 0.0})),
    (checks.check_rank_reading, ("b", torch.eye(4), {2: NAN})),
    (checks.check_alpha_prediction, ("a", {k: NAN for k in rank.reference_alpha_errors()})),
    (checks.check_control_prediction, ("b", [[NAN, 0.6, 0.6]] + CURVES[1:], CURVES, 0.5)),
    (checks.check_control_reading, ("a", CURVES, CURVES, NAN)),
    (checks.check_forgetting_prediction, ("b", [1, 0, NAN], [1, 0, 1])),
], ids=lambda x: getattr(x, "__name__", ""))
def test_a_measurement_must_be_a_finite_number(check, answers_given):
    ok, text = verdict(check, *answers_given)
    assert not ok and ("finite" in text or "1 if right and 0 if wrong" in text), text
    assert "your code raised" not in text and "could not use" not in text, text


@pytest.mark.parametrize("check, answers_given, phrase", [
    (checks.check_spread_prediction, ("c", [60.1, 64.0, 66.2]), "not a percentage"),
    (checks.check_stretch, ("b", 1.7, 0.0), "between 0 and 1"),
    (checks.check_stretch, ("b", 0.3, 3.0), "between -1 and 1"),
    (checks.check_control_prediction, ("b", [[62, 66, 66]] * 2, CURVES[:2], 0.5), "not a percentage"),
    (checks.check_control_reading, ("a", CURVES, [[0.5, 0.5, 0.5]] * 4, 53), "between 0 and 1"),
    (checks.check_rank_prediction, ("b", {1: 0.7, 2: -0.1}), "of at least 0"),
], ids=lambda x: getattr(x, "__name__", ""))
def test_a_measurement_out_of_its_range_fails(check, answers_given, phrase):
    ok, text = verdict(check, *answers_given)
    assert not ok and phrase in text and "your code raised" not in text, text


@pytest.mark.parametrize("check, answers_given, phrase", [
    (checks.check_flip_prediction, ("c", [1, 2, 3]), "a list of pairs of integers"),
    (checks.check_flip_prediction, ("c", [(2, 1), (0, 3)]), "0 <= N1 <= N2"),
    (checks.check_flip_prediction, ("c", "(0, 1), (1, 2)"), "a list of pairs of integers"),
    (checks.check_control_prediction, ("b", [[0.6, 0.6], [0.6]], CURVES[:2], 0.5), "one per layer"),
    (checks.check_control_prediction, ("b", "curves", CURVES, 0.5), "one probe curve per sample"),
    (checks.check_control_reading, ("a", CURVES, CURVES, 0.5), "the same curves twice"),
    (checks.check_movement_reading, ("a", MOVEMENT, MOVEMENT), "the same movement twice"),
    (checks.check_movement_reading, ("a", [1, 2, 3], MOVEMENT), "one number per bias family"),
    (checks.check_movement_reading, ("a", {**MOVEMENT, "query": 0.0}, {**MOVEMENT, "value": 1.0}),
     "every family but the key biases moved"),
    (checks.check_rank_prediction, ("b", [0.7, 0.5]), "a dict {rank: error}"),
    (checks.check_rank_reading, ("a", torch.eye(4), {2: 0.1, 1: 0.0}), "no error below its bound"),
    (checks.check_rank_reading, ("a", "delta", {2: 0.1}), "a 2-D tensor"),
    (checks.check_alpha_prediction, ("a", [0.1, 0.2]), "one error per convention and rank"),
    (checks.check_stretch, ("b", "0.27", 0.0), "a finite number"),
], ids=lambda x: getattr(x, "__name__", ""))
def test_a_value_of_the_wrong_kind_fails_saying_what_was_expected(check, answers_given, phrase):
    ok, text = verdict(check, *answers_given)
    assert not ok and phrase in text, text
    assert "your code raised" not in text and "could not use" not in text, text


def test_check_flip_takes_two_seeds_in_any_container_and_refuses_what_is_not():
    pool = setup.synthetic_pool(seed=5, layers=4, sizes=(120, 0, 60))
    found = {seed: practice.boundaries_from_curve(probes.reference_probe_curve(pool, practice.draw(120, 50, seed)))
             for seed in range(12)}
    a, b = next((a, b) for a in found for b in found if a < b and found[a] != found[b])
    for seeds in ((a, b), [a, b], np.array([a, b]), {a, b}, (np.int64(a), b)):
        assert verdict(checks.check_flip, pool, 50, seeds)[0], seeds
    for seeds, phrase in (((a, a), "two different seeds"), ((0.5, 1), "two whole numbers"), ("0,1", "two different"),
                          ((a, b, 3), "two different seeds")):
        ok, text = verdict(checks.check_flip, pool, 50, seeds)
        assert not ok and phrase in text and "your code raised" not in text, text
    ok, text = verdict(checks.check_flip, {"train": [1, 2]}, 50, (a, b))
    assert not ok and "a dict with 'train' and 'test' parts" in text, text


def settings_as_a_set(config, low, high, r, targets):
    return set(checks.reference_settings_in_range(config, low, high, r, targets))


def choose_with_numpy_cells(cells, train_cell, score):
    result = checks.reference_choose_and_report(cells, train_cell, score)
    return {**result, "chosen": np.array(result["chosen"]), "test": np.float64(result["test"])}


def correct_as_booleans(features, layer):
    return checks.reference_question_correct(features, layer).astype(bool)


@pytest.mark.parametrize("check, learner", [
    (checks.check_settings_in_range, settings_as_a_set),
    (checks.check_choose_and_report, choose_with_numpy_cells),
    (checks.check_question_correct, correct_as_booleans),
], ids=lambda x: getattr(x, "__name__", ""))
def test_a_right_answer_in_another_form_passes(check, learner):
    ok, printed = checks.captured(check, learner)
    assert ok, printed


@pytest.mark.parametrize("check, answers_given", [
    (checks.check_stretch, ("b", np.float32(0.27), np.float64(0.0))),
    (checks.check_movement_reading, ("a", {k: np.float32(v) for k, v in MOVEMENT.items()},
                                     {**MOVEMENT, "query": 9e-6, "value": 6e-5})),
    (checks.check_rank_prediction, ("b", {np.int64(1): 0.744, np.int64(2): 0.499, np.int64(4): 0.0})),
    (checks.check_spread_prediction, ("c", np.array([0.60, 0.64, 0.66, 0.68]))),
    (checks.check_forgetting_prediction, ("b", torch.tensor(AFTER), np.array(BEFORE))),
    (checks.check_flip_prediction, ("b", np.array([[0, 2], [0, 3], [0, 2]]))),
    (checks.check_control_prediction, ("b", np.array(CURVES), tuple(map(tuple, np.array(CURVES) - [[0.06], [0.05],
                                                                                                [0.07], [0.06]])),
                                       0.5)),
], ids=lambda x: getattr(x, "__name__", ""))
def test_a_right_value_in_another_container_passes(check, answers_given):
    ok, text = verdict(check, *answers_given)
    assert ok, text


# ---------------------------------------------------------------- who raised


def test_your_code_raised_only_when_the_learners_code_raised():
    def raising(*args):
        raise ValueError("mine")

    ok, printed = checks.captured(checks.check_probe_curve, raising)
    assert not ok and "your code raised ValueError: mine" in printed
    ok, printed = checks.captured(checks.check_probe_curve, lambda pool, rows: np.ones(3) + "x")
    assert not ok and "your code raised" in printed  # numpy raised, called from the learner's lambda

    from spafit_course.lessons.checks.tools import verdict as run_verdict

    ok, text = run_verdict("check_x", float, "not a number")  # the check's own code (float) raised, no learner's
    assert not ok and "your code raised" not in text and "the check could not use what it was given" in text, text


def test_learner_raised_looks_for_a_frame_outside_the_package_and_libraries():
    from spafit_course.lessons.checks.tools import learner_raised

    try:
        np.asarray([[1], [1, 2]], dtype=float)
    except ValueError as error:
        library_only = error
    try:
        (lambda: 1 / 0)()
    except ZeroDivisionError as error:
        here = error
    assert learner_raised(here)  # this test file stands for a notebook cell
    assert not learner_raised(library_only.with_traceback(None))


def test_the_same_difference_on_every_seed_is_a_fail_not_an_error():
    ok, text = verdict(checks.check_readout_claim, A, [a - 0.02 for a in A], (0.02, 0.02, 0.02), "a")
    assert not ok and "the same difference every time" in text and "could not use" not in text, text
    shifted = [[v - 0.06 for v in curve] for curve in CURVES]
    ok, text = verdict(checks.check_control_reading, "a", CURVES, shifted, 0.5)
    assert not ok and "the same difference every time" in text, text
