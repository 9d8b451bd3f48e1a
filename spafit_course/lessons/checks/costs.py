"""Checks of lesson 04's practice experiments: which boundaries a parameter count allows (exercise 4.2), and how
far back the backward pass runs for a given stratification (exercise 4.3)."""

from __future__ import annotations

from ...runs.models import KNOWN_CONFIGS, model_config, tiny_config, tiny_model
from ...tuning.architectures import get_layers
from ...tuning.closed_form import closed_form_count
from ...tuning.freezing import freeze_all, unfreeze_head
from ...tuning.spafit import SpafitConfig, apply_spafit
from ...runs.overrides import is_int
from .answers import answer_check, single_threaded
from .models import check_values_kept, compare_names, sample_inputs, snapshot, trainable_names
from .readings import Option, judge_choice
from .tools import CheckFailed, as_number, learner_check, safe_repr
from .values import pairs_of

# ---------------------------------------------------------------- exercise 4.2

#: The paper's range of trainable parameters for SPAFIT on bert-large-cased, and the reconstruction's LoRA.
PAPER_RANGE = (5_650_000, 7_490_000)
PAPER_LORA = {"r": 64, "targets": ("query", "key", "value")}


def count_of(config, n1: int, n2: int, r: int, targets) -> int:
    return closed_form_count(config, SpafitConfig(n1, n2, targets=tuple(targets), r=r)).trainable


def reference_settings_in_range(config, low: int, high: int, r: int, targets) -> list[tuple[int, int]]:
    """Every valid (N1, N2), 0 <= N1 <= N2 <= L, whose SPAFIT count (closed form) lies in [low, high]."""
    layers = config.num_hidden_layers
    return [(n1, n2) for n1 in range(layers + 1) for n2 in range(n1, layers + 1)
            if low <= count_of(config, n1, n2, r, targets) <= high]


def _range_cases():
    from transformers import BertConfig

    tiny = tiny_config("bert", num_layers=4, hidden=32)
    base = BertConfig(**KNOWN_CONFIGS["bert-base-cased"], num_labels=2)
    edge = count_of(tiny, 1, 2, 4, ("query", "value"))  # a range whose ends are counts themselves
    return [("a tiny 4-layer BERT", tiny, edge, count_of(tiny, 0, 1, 4, ("query", "value")), 4, ("query", "value")),
            ("bert-base-cased", base, 1_000_000, 2_000_000, 16, ("query", "key", "value"))]


@learner_check("every valid (N1, N2) with its count in range, ends included, on two models")
def check_settings_in_range(search_fn):
    """Exercise 4.2: `search_fn(config, low, high, r, targets)` lists every (N1, N2) whose count is in range (in
    any order: a set of pairs is a right answer too)."""
    for label, config, low, high, r, targets in _range_cases():
        expected = reference_settings_in_range(config, low, high, r, targets)
        got = sorted(pairs_of(search_fn(config, low, high, r, targets), f"{label}: the settings in range"))
        if len(set(got)) < len(got):
            raise CheckFailed(f"{label}: each setting once", f"{len(expected)} settings",
                              f"{len(got)} settings, {len(got) - len(set(got))} of them repeats")
        if got == expected:
            continue
        layers, extra, missing = config.num_hidden_layers, sorted(set(got) - set(expected)), sorted(
            set(expected) - set(got))
        hint = ("N1 <= N2 only: a pair with N1 > N2 is not a stratification" if any(a > b for a, b in extra) else
                "N2 can be L (group 3 empty) and N1 can equal N2 (group 2 empty): range(L + 1)" if missing and all(
                    b == layers or a == b for a, b in missing) else
                "the range includes its ends: low <= count <= high" if missing and all(
                    count_of(config, a, b, r, targets) in (low, high) for a, b in missing) else
                "count with closed_form_count(config, SpafitConfig(n1, n2, targets=targets, r=r)).trainable")
        raise CheckFailed(f"{label}, r = {r} on {'/'.join(targets)}, counts in [{low:,}, {high:,}]",
                          f"{len(expected)} settings",
                          f"{len(got)} settings" + (f"; extra {extra[:3]}" if extra else "")
                          + (f"; missing {missing[:3]}" if missing else ""), hint)


def _paper_settings():
    return reference_settings_in_range(model_config("bert-large-cased"), *PAPER_RANGE, PAPER_LORA["r"],
                                       PAPER_LORA["targets"])


COUNT_OPTIONS = {
    "a": Option("only (4, 9), the paper's best boundaries", "the count depends almost only on how many layers get "
                "LoRA, so many pairs land in the same range"),
    "b": Option("a handful (2 to 9)", "N1 barely changes the count, so every N1 up to N2 comes along with each "
                                      "N2 that fits"),
    "c": Option("dozens or more", "a parameter range constrains the boundaries only loosely"),
}


@answer_check
def check_count_prediction(prediction):
    """Exercise 4.2: how many (N1, N2) of bert-large-cased land in the paper's range."""
    found = _paper_settings()
    right = "a" if found == [(4, 9)] else "b" if len(found) < 10 else "c"
    options = {k: Option(o.text, f"{len(found)} of 325 settings land in 5.65M-7.49M; {o.why}")
               for k, o in COUNT_OPTIONS.items()}
    return judge_choice("settings of bert-large-cased in the paper's range", prediction, options, right)


BOUNDARY_OPTIONS = {
    "a": Option("N2: the number of layers with LoRA", "one layer of LoRA at r = 64 on three 1,024 x 1,024 "
                                                      "matrices is 393,216 parameters, a layer's biases 9,216"),
    "b": Option("N1: the number of frozen layers", "moving N1 shifts layers between frozen and bias-only, which "
                                                   "costs only a layer's biases each (9,216 on bert-large)"),
    "c": Option("both about equally", "compare what one step of N1 and one step of N2 change in the count"),
}


@answer_check
def check_boundary_reading(reading):
    """Exercise 4.2: which boundary decides whether a setting lands in the paper's range."""
    config, r, targets = model_config("bert-large-cased"), PAPER_LORA["r"], PAPER_LORA["targets"]
    layers = config.num_hidden_layers
    by_n1 = max(count_of(config, n2, n2, r, targets) - count_of(config, 0, n2, r, targets) for n2 in range(layers + 1))
    by_n2 = max(count_of(config, n1, n1, r, targets) - count_of(config, n1, layers, r, targets)
                for n1 in range(layers + 1))
    right = "a" if by_n2 > 3 * abs(by_n1) else "b" if abs(by_n1) > 3 * by_n2 else "c"
    return judge_choice("which boundary the count follows", reading, BOUNDARY_OPTIONS, right)


# ---------------------------------------------------------------- exercise 4.3


def reference_backward_layers(model, batch) -> int:
    """How many layers the backward pass runs through: those whose output depends on a trainable parameter."""
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], output_hidden_states=True)
    return sum(bool(h.requires_grad) for h in out.hidden_states[1:])


def bottom_layers(model, k: int):
    """Only the bottom k layers train in full, plus the head (lesson 03's control for top k)."""
    freeze_all(model)
    for layer in get_layers(model)[:k]:
        layer.requires_grad_(True)
    unfreeze_head(model)
    return model


def _prepared(layers: int, setting: str, family: str = "bert"):
    model = tiny_model(family, num_layers=layers, hidden=16)
    if setting == "bitfit":
        return apply_spafit(model, SpafitConfig(0, layers))
    if setting == "spafit":
        return apply_spafit(model, SpafitConfig(2, 4))
    if setting == "full":  # the embeddings train too: their output needs a gradient, yet it is not a layer
        return model.requires_grad_(True)
    return bottom_layers(model, 1)


#: (layers, setting, family): every group of the stratifier, the bottom layer alone, full fine-tuning (where the
#: embeddings' output carries a gradient) and a DistilBERT, whose layers have other names.
BACKWARD_CASES = ((6, "bitfit", "bert"), (6, "spafit", "bert"), (6, "bottom 1", "bert"), (5, "spafit", "bert"),
                  (3, "full", "bert"), (5, "spafit", "distilbert"))


@learner_check("the backward pass's depth matches for BitFit, SPAFIT and the bottom layer alone")
@single_threaded
def check_backward_layers(count_fn):
    """Exercise 4.3: `count_fn(model, batch)` counts the layers the backward pass must run through."""
    for layers, setting, family in BACKWARD_CASES:
        model = _prepared(layers, setting, family)
        ids, mask = sample_inputs(model)
        batch = {"input_ids": ids, "attention_mask": mask}
        expected = reference_backward_layers(model, batch)
        before, trains = snapshot(model), trainable_names(model)
        got = as_number(count_fn(model, batch))
        label = f"{setting} on a tiny {layers}-layer {family}"
        compare_names(f"{label}, after your function", trains, trainable_names(model))
        check_values_kept(label, before, model, "counting changes nothing: run the model, read its hidden states")
        if not is_int(got):
            raise CheckFailed(label, f"an int: {expected}", f"a {type(got).__name__}: {safe_repr(got)}",
                              "count the layers: a whole number")
        if got != expected:
            trained = sum(any(p.requires_grad for p in layer.parameters()) for layer in get_layers(model))
            hint = ("that counts the embeddings' output too: hidden_states[0] is not a layer" if got == expected + 1
                    else "that counts the layers with trainable parameters; the backward pass also runs through "
                         "frozen layers above the lowest trainable one" if got == trained
                    else "under torch.no_grad nothing requires a gradient: run the forward pass normally"
                    if got == 0 else None)
            raise CheckFailed(label, expected, got, hint)


def _pattern(counts: dict, layers: int) -> str:
    key = (counts["bitfit"], counts["spafit"], counts["bottom 1"])
    return {(layers, layers - 2, layers): "a", (layers, layers - 2, 1): "b", (layers, layers, layers): "c",
            (0, layers - 4, 1): "d"}.get(key, "a")


BACKWARD_OPTIONS = {
    "a": Option("BitFit: all L; SPAFIT: the L - N1 layers above N1; the bottom layer alone: all L",
                "the backward pass starts at the loss and must reach the lowest trainable parameter, passing "
                "through every layer above it, frozen or not"),
    "b": Option("BitFit: all L; SPAFIT: the L - N1 layers above N1; the bottom layer alone: 1",
                "to reach layer 1's parameters the gradient has to pass back through every layer above it"),
    "c": Option("all L in every case", "below the lowest trainable parameter nothing needs a gradient, so the "
                                       "backward pass stops there: SPAFIT's frozen bottom layers are skipped"),
    "d": Option("BitFit: none; SPAFIT: the L - N2 LoRA layers; the bottom layer alone: 1",
                "a bias in layer 1 needs the gradient of layer 1's output, which comes back through every layer "
                "above it"),
}


@answer_check
@single_threaded
def check_backward_prediction(prediction):
    """Exercise 4.3: through how many layers the backward pass runs, for BitFit, SPAFIT 2/4 and the bottom layer."""
    counts = {}
    for setting in ("bitfit", "spafit", "bottom 1"):
        model = _prepared(6, setting)
        ids, mask = sample_inputs(model)
        counts[setting] = reference_backward_layers(model, {"input_ids": ids, "attention_mask": mask})
    return judge_choice("the backward pass's depth on a 6-layer model", prediction, BACKWARD_OPTIONS,
                        _pattern(counts, 6))


COST_OPTIONS = {
    "a": Option("its backward pass still runs through every layer to reach the lowest biases: only the weight "
                "gradients are skipped, not the gradients of the activations",
                "a step's cost is mostly the forward pass and the backward pass through the layers"),
    "b": Option("the biases are updated more often than weights", "every trainable parameter is updated once per "
                                                                  "step, biases and weights alike"),
    "c": Option("Adam's state for the biases is large", "Adam keeps two numbers per trainable parameter: for "
                                                        "BitFit that is tiny"),
}


@answer_check
def check_cost_reading(reading):
    """Exercise 4.3: why a BitFit step costs far more than its share of the parameters."""
    return judge_choice("why a BitFit step costs far more than its share of parameters", reading, COST_OPTIONS, "a")
