"""Lesson 07's practice checks (spafit_course.lessons.checks.savings), in the style of test_checks_practice.py: the
reference answer passes, and wrong answers of at least three kinds FAIL with what was expected, what came back
and the likely cause."""

import pytest
import torch

from spafit_course.lessons import checks
from spafit_course.lessons.checks import cheapest, savings
from spafit_course.runs.costs import layers_reached
from spafit_course.tuning.architectures import get_layers

# ---------------------------------------------------------------- exercise 7.1: AdamW's state


def state_one_moment(model):
    return sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)


def state_with_gradients(model):
    return sum(3 * p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)


def state_of_every_parameter(model):
    return sum(2 * p.numel() * p.element_size() for p in model.parameters())


def state_in_float32_always(model):
    return sum(2 * p.numel() * 4 for p in model.parameters() if p.requires_grad)


# ---------------------------------------------------------------- exercise 7.2: the layers the gradient reaches


def reached_from_zero(model, batch):
    return [k - 1 for k in layers_reached(model, batch)]


def layers_that_train(model, batch):
    return [k for k, layer in enumerate(get_layers(model), 1) if any(p.requires_grad for p in layer.parameters())]


def how_many_layers(model, batch):
    return len(layers_reached(model, batch))


def hooks_left_behind(model, batch):
    reached = set()
    for k, layer in enumerate(get_layers(model), 1):
        def hook(module, inputs, output, k=k):
            hidden = output[0] if isinstance(output, tuple) else output
            if hidden.requires_grad:
                hidden.register_hook(lambda grad: reached.add(k))
        layer.register_forward_hook(hook)
    model(**batch).loss.backward()
    return sorted(reached)


def every_layer(model, batch):
    return list(range(1, len(get_layers(model)) + 1))


# ---------------------------------------------------------------- exercise 7.3: the cheapest setting that fits


def memory(c):
    return sum(c["parts"].values())


def cheapest_without_weights(costs, limit, floor):
    fits = [(c["step"], label) for label, c in costs.items()
            if memory(c) - c["parts"]["weights"] <= limit and c["trainable"] >= floor]
    return min(fits)[1] if fits else None


def cheapest_below_limit(costs, limit, floor):
    fits = [(c["step"], memory(c), label) for label, c in costs.items()
            if memory(c) < limit and c["trainable"] >= floor]
    return min(fits)[2] if fits else None


def cheapest_ignoring_floor(costs, limit, floor):
    return checks.reference_cheapest_within(costs, limit, 0)


def first_that_fits(costs, limit, floor):
    return next((label for label, c in costs.items() if memory(c) <= limit and c["trainable"] >= floor), None)


CODE_CASES = {
    "adam_state": (checks.check_adam_state, checks.reference_adam_state_bytes,
                   [(state_one_moment, "that is one moment"), (state_with_gradients, "counts the gradients too"),
                    (state_of_every_parameter, "counts frozen parameters too"),
                    (state_in_float32_always, "use p.element_size()")]),
    "layers_reached": (checks.check_layers_reached, layers_reached,
                       [(reached_from_zero, "numbered from 0"), (layers_that_train, "layers with trainable parameters"),
                        (how_many_layers, "return the layers, not how many"),
                        (hooks_left_behind, "call handle.remove()"), (every_layer, "every layer runs forward")]),
    "cheapest_within": (checks.check_cheapest_within, checks.reference_cheapest_within,
                        [(cheapest_without_weights, "the weights take memory too"),
                         (cheapest_below_limit, "exactly the limit fits"),
                         (cheapest_ignoring_floor, "under the floor"),
                         (first_that_fits, "has a cheaper step")]),
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


# ---------------------------------------------------------------- predictions and readings


def verdict(check, *given):
    ok, text = check.verdict(*given)
    return ok, " ".join(text.split())


FIXED_CHOICES = {
    checks.check_half_prediction: ("b", savings.HALF_OPTIONS),
    checks.check_step_reading: ("b", savings.STEP_OPTIONS),
    checks.check_cheapest_prediction: ("c", cheapest.CHEAPEST_OPTIONS),
}


@pytest.mark.parametrize("check", FIXED_CHOICES, ids=lambda c: c.__name__)
def test_a_choice_passes_right_and_fails_every_other_option_with_its_reasoning(check):
    right, options = FIXED_CHOICES[check]
    for spelling in (right, f"({right})", right.upper()):
        ok, text = verdict(check, spelling)
        assert ok, text
    for letter, option in options.items():
        if letter == right:
            continue
        ok, text = verdict(check, letter)
        assert not ok and "likely cause:" in text and " ".join(option.why.split())[:40] in text, text
    assert "no answer yet" in verdict(check, None)[1]


def test_the_cheapest_prediction_names_what_the_cost_model_picks():
    ok, text = verdict(checks.check_cheapest_prediction, "b")
    assert not ok and "the cost model picks spafit 4/4" in text


@pytest.mark.parametrize("answer, phrase", [
    (2 * 4 * 22_566_146 / 2**20, None), (2 * 4 * 22_566_146 / 1e6, None),  # MB of 2**20 bytes, or of 10**6
    (4 * 22_566_146 / 2**20, "one moment"), (12 * 22_566_146 / 2**20, "adds the gradients"),
    (0.3, "every parameter trains"), ("172", "a number of MB"), (None, "replace None"),
])
def test_the_adam_prediction_takes_a_number_of_megabytes(answer, phrase):
    ok, text = verdict(checks.check_adam_prediction, answer)
    assert ok is (phrase is None), text
    if phrase:
        assert phrase in text, text
        assert ("expected: 172.2 MB" in text) is isinstance(answer, float), text


@pytest.mark.parametrize("answer, phrase", [
    (12, None), (11, "half of 24 is 12"), (13, "half of 24 is 12"), (0, "expected: 12"), (None, "run your search"),
    (12.5, "a whole number"),
])
def test_the_halving_n1_is_measured_on_a_24_layer_model(answer, phrase):
    ok, text = verdict(checks.check_halving_n1, answer)
    assert ok is (phrase is None), text
    if phrase:
        assert phrase in text, text


def test_the_adam_measurement_of_the_check_counts_the_step_counters():
    model = savings._tiny("bitfit")
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert savings.measured_adam_state(model) == 8 * sum(p.numel() for p in trainable) + 4 * len(trainable)
    assert savings.reference_adam_state_bytes(savings._tiny("spafit", dtype=torch.float64)) == 16 * sum(
        p.numel() for p in savings._tiny("spafit").parameters() if p.requires_grad)
