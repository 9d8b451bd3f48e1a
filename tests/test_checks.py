"""The practice notebooks' checks (spafit_course.lessons.checks): the package's reference passes every check, and
known-wrong answers, kept here (at least three per check, of different kinds), each make their check print FAIL
with what was expected, what came back and what is wrong. These are the checks of code that re-implements what a
lesson showed (LoRA's layer and its injection, lesson 03's features, lesson 04's stratifier);
test_checks_practice.py holds the checks of experiments, measurements and readings."""

import math

import pytest
import torch
from torch import nn

from spafit_course import LoRALinear, apply_spafit, inject_lora, layer_groups
from spafit_course.lessons import checks
from spafit_course.lessons.checks import models as check_models
from spafit_course.lessons.checks import tools as check_tools
from spafit_course.tuning.architectures import get_layers, resolve_targets
from spafit_course.tuning.freezing import freeze_all, unfreeze_biases, unfreeze_head
from spafit_course.tuning.lora import lora_modules
from spafit_course.tuning.spafit import FROZEN, LORA_AND_BIAS


# ---------------------------------------------------------------- lesson 02


class LoRARandomB(LoRALinear):
    def __init__(self, base, r=8, alpha=16.0, dropout=0.0):
        super().__init__(base, r, alpha, dropout)
        nn.init.normal_(self.lora_B.data)


class LoRANoScaling(LoRALinear):
    def __init__(self, base, r=8, alpha=16.0, dropout=0.0):
        super().__init__(base, r, alpha, dropout)
        self.scaling = 1.0


class LoRABaseTrains(LoRALinear):
    def __init__(self, base, r=8, alpha=16.0, dropout=0.0):
        super().__init__(base, r, alpha, dropout)
        base.weight.requires_grad_(True)


class LoRAFrozenBias(LoRALinear):
    def __init__(self, base, r=8, alpha=16.0, dropout=0.0):
        super().__init__(base, r, alpha, dropout)
        base.requires_grad_(False)  # freezes b along with W


class LoRAIntegerScaling(LoRALinear):
    def __init__(self, base, r=8, alpha=16.0, dropout=0.0):
        super().__init__(base, r, alpha, dropout)
        self.scaling = alpha // r


class LoRADefaultDtype(LoRALinear):
    def __init__(self, base, r=8, alpha=16.0, dropout=0.0):
        super().__init__(base, r, alpha, dropout)
        self.lora_A = nn.Parameter(torch.randn(r, base.in_features) / 10)  # float32 on the CPU, whatever W is
        self.lora_B = nn.Parameter(torch.zeros(base.out_features, r))


class LoRAConstantA(LoRALinear):
    def __init__(self, base, r=8, alpha=16.0, dropout=0.0):
        super().__init__(base, r, alpha, dropout)
        nn.init.constant_(self.lora_A.data, 0.01)  # nonzero, yet every row the same: B A never grows past rank 1


def forward_detached_update(self, x):
    out = self.base(x)
    return out if self.merged else out + self.scaling * (x @ self.lora_A.data.T @ self.lora_B.data.T)


def forward_ignoring_dropout(self, x):
    out = self.base(x)
    return out if self.merged else out + self.scaling * (x @ self.lora_A.T @ self.lora_B.T)


def forward_dropout_on_output(self, x):
    out = self.base(x)
    return out if self.merged else out + self.dropout(self.scaling * (x @ self.lora_A.T @ self.lora_B.T))


def forward_without_scaling(self, x):
    out = self.base(x)
    return out if self.merged else out + x @ self.lora_A.T @ self.lora_B.T


def forward_ignoring_merged(self, x):
    return self.base(x) + self.scaling * (self.dropout(x) @ self.lora_A.T @ self.lora_B.T)


def forward_without_bias(self, x):
    out = x @ self.base.weight.T
    return out if self.merged else out + self.scaling * (x @ self.lora_A.T @ self.lora_B.T)


def merge_without_scaling(self):
    if not self.merged:
        self.base.weight += self.lora_B @ self.lora_A
        self.merged = True


def merge_without_flag(self):
    self.base.weight += self.scaling * self.lora_B @ self.lora_A


def merge_flag_only(self):
    self.merged = True


def merge_into_new_parameter(self):
    if not self.merged:
        self.base.weight = nn.Parameter(self.base.weight + self.scaling * self.lora_B @ self.lora_A)
        self.merged = True


def inject_reference(model, layers, targets, r, alpha):
    inject_lora(model, targets, layers, r=r, alpha=alpha)


def inject_one_based(model, layers, targets, r, alpha):
    inject_lora(model, targets, [i - 1 for i in layers], r=r, alpha=alpha)


def inject_every_layer(model, layers, targets, r, alpha):
    inject_lora(model, targets, None, r=r, alpha=alpha)


def inject_default_alpha(model, layers, targets, r, alpha):
    inject_lora(model, targets, layers, r=r)


def inject_default_rank(model, layers, targets, r, alpha):
    inject_lora(model, targets, layers, alpha=alpha)


def inject_freezing_base_bias(model, layers, targets, r, alpha):
    inject_lora(model, targets, layers, r=r, alpha=alpha)
    for module in lora_modules(model).values():
        module.base.bias.requires_grad_(False)


def inject_query_value_only(model, layers, targets, r, alpha):
    inject_lora(model, ("query", "value"), layers, r=r, alpha=alpha)


def shift_key_biases(model):
    """Add to every key bias: softmax ignores the shift, so the logits stay the same, yet the model changed."""
    path = resolve_targets(model, ("key",))["key"]
    with torch.no_grad():
        for layer in get_layers(model):
            layer.get_submodule(path).bias.add_(1.0)


def inject_touching_key_biases(model, layers, targets, r, alpha):
    inject_lora(model, targets, layers, r=r, alpha=alpha)
    shift_key_biases(model)


# ---------------------------------------------------------------- lesson 03


def features_without_mask(model, input_ids, attention_mask):
    hidden = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
    return torch.stack([h.mean(1) for h in hidden])


def features_cls_only(model, input_ids, attention_mask):
    hidden = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
    return torch.stack([h[:, 0] for h in hidden])


def features_without_embeddings(model, input_ids, attention_mask):
    return checks.reference_layer_features(model, input_ids, attention_mask)[1:]


# ---------------------------------------------------------------- lesson 04


def spafit_from_parts(model, config, lora_biases=True, lora_from=LORA_AND_BIAS, defaults=False, pooler=True,
                      dropout=True):
    layers = get_layers(model)
    groups = layer_groups(len(layers), config.n1, config.n2)
    freeze_all(model)
    for layer, group in zip(layers, groups):
        if group != FROZEN and (lora_biases or group != LORA_AND_BIAS):
            unfreeze_biases(layer, config.bias_terms)
    chosen = [i for i, g in enumerate(groups) if g >= lora_from]
    if chosen and defaults:
        inject_lora(model, config.targets, chosen)
    elif chosen:
        inject_lora(model, config.targets, chosen, config.r, config.alpha, config.dropout if dropout else 0.0)
    unfreeze_head(model, config.train_pooler and pooler)
    return model


def spafit_without_group3_biases(model, config):
    return spafit_from_parts(model, config, lora_biases=False)


def spafit_lora_in_group2(model, config):
    return spafit_from_parts(model, config, lora_from=2)


def spafit_default_rank_and_alpha(model, config):
    return spafit_from_parts(model, config, defaults=True)


def spafit_ignoring_train_pooler(model, config):
    return spafit_from_parts(model, config, pooler=False)


def spafit_ignoring_dropout(model, config):
    return spafit_from_parts(model, config, dropout=False)


def spafit_touching_key_biases(model, config):
    apply_spafit(model, config)
    shift_key_biases(model)
    return model


def spafit_layernorm_by_name(model, config):
    """LayerNorm biases found by BERT's name for them: DistilBERT calls its LayerNorms sa_layer_norm and
    output_layer_norm."""
    layers = get_layers(model)
    groups = layer_groups(len(layers), config.n1, config.n2)
    freeze_all(model)
    for layer, group in zip(layers, groups):
        if group != FROZEN:
            unfreeze_biases(layer, "linear" if config.bias_terms == "all" else config.bias_terms)
            for name, p in layer.named_parameters():
                if config.bias_terms == "all" and "LayerNorm.bias" in name:
                    p.requires_grad_(True)
    chosen = [i for i, g in enumerate(groups) if g == LORA_AND_BIAS]
    if chosen:
        inject_lora(model, config.targets, chosen, config.r, config.alpha, config.dropout)
    unfreeze_head(model, config.train_pooler)
    return model


def spafit_empty_group3_as_none(model, config):
    """An empty list of LoRA layers passed on as "no choice": inject_lora's None means every layer."""
    layers = get_layers(model)
    groups = layer_groups(len(layers), config.n1, config.n2)
    freeze_all(model)
    for layer, group in zip(layers, groups):
        if group != FROZEN:
            unfreeze_biases(layer, config.bias_terms)
    chosen = [i for i, g in enumerate(groups) if g == LORA_AND_BIAS]
    inject_lora(model, config.targets, chosen or None, config.r, config.alpha, config.dropout)
    unfreeze_head(model, config.train_pooler)
    return model


def raise_not_implemented(*args, **kwargs):
    raise NotImplementedError("Exercise 9.9: write me")


class NotImplementedLoRA(nn.Module):
    def __init__(self, base, r=8, alpha=16.0, dropout=0.0):
        super().__init__()
        raise NotImplementedError("Exercise 9.9: write me")

    def forward(self, x):
        raise NotImplementedError("Exercise 9.9: write me")

    def merge(self):
        raise NotImplementedError("Exercise 9.9: write me")


# check, reference answer, known-wrong answers with a phrase their FAIL must contain (what is wrong)
CASES = {
    "lora_init": (checks.check_lora_init, LoRALinear,
                  [(LoRARandomB, "B must start at zero"), (LoRANoScaling, "the scaling is missing"),
                   (LoRABaseTrains, "W must stay frozen"), (LoRAFrozenBias, "the bias keeps its own setting"),
                   (LoRAIntegerScaling, "integer division"), (LoRADefaultDtype, "dtype=base.weight.dtype"),
                   (LoRAConstantA, "rank 1, every entry the same")]),
    "lora_forward": (checks.check_lora_forward, LoRALinear,
                     [(forward_without_scaling, "not multiplied by scaling"),
                      (forward_ignoring_merged, "counts it twice"), (forward_without_bias, "base bias is missing"),
                      (forward_detached_update, "detached"), (forward_ignoring_dropout, "dropout=0.5 in train mode"),
                      (forward_dropout_on_output, "dropout applies to the update's input only")]),
    "lora_merge": (checks.check_lora_merge, LoRALinear,
                   [(merge_without_scaling, "added without the scaling alpha / r"),
                    (merge_without_flag, "self.merged"), (merge_flag_only, "W did not change"),
                    (merge_into_new_parameter, "W after merge() must stay frozen")]),
    "inject_lora": (checks.check_inject_lora, inject_reference,
                    [(inject_one_based, "0-based"), (inject_every_layer, "wrapped modules"),
                     (inject_default_alpha, "defaults are r=8, alpha=16"),
                     (inject_default_rank, "defaults are r=8, alpha=16"),
                     (inject_freezing_base_bias, "the bias keeps its own setting"),
                     (inject_query_value_only, "wrap the targets passed in"),
                     (inject_touching_key_biases, "every weight and bias already there keeps its value")]),
    "layer_features": (checks.check_layer_features, checks.reference_layer_features,
                       [(features_without_mask, "padding is averaged in"), (features_cls_only, "[CLS]"),
                        (features_without_embeddings, "shape (4, 3, 16)")]),
    "spafit": (checks.check_spafit, apply_spafit,
               [(spafit_without_group3_biases, "should train"), (spafit_lora_in_group2, "group 3 only"),
                (spafit_default_rank_and_alpha, "(r, scaling, dropout)"),
                (spafit_ignoring_train_pooler, "train_pooler says so"),
                (spafit_ignoring_dropout, "(r, scaling, dropout)"),
                (spafit_touching_key_biases, "every weight and bias keeps its value"),
                (spafit_layernorm_by_name, "distilbert, N1=1, N2=4"), (spafit_empty_group3_as_none, "group 3 only")]),
}

OBJECT_CHECKS: set[str] = set()  # checks that take the learner's model, not a function


def answer(key, candidate):
    return candidate() if key in OBJECT_CHECKS else candidate


@pytest.mark.parametrize("key", CASES)
def test_reference_passes(key):
    check, reference, _ = CASES[key]
    ok, printed = checks.captured(check, answer(key, reference))
    assert ok is True, printed
    assert printed.startswith(f"PASS {check.__name__}:")


@pytest.mark.parametrize("key,index", [(k, i) for k, (_, _, wrong) in CASES.items() for i in range(len(wrong))])
def test_wrong_answer_fails_naming_expected_got_and_what_is_wrong(key, index):
    check, _, wrong = CASES[key]
    candidate, phrase = wrong[index]
    ok, printed = checks.captured(check, answer(key, candidate))
    assert ok is False
    assert printed.startswith(f"FAIL {check.__name__}:")
    assert "\n  expected: " in printed and "\n  got:      " in printed, printed
    assert phrase in " ".join(printed.split()), printed  # verdicts are wrapped between words
    assert all(len(line) <= check_tools.WIDTH or " " not in line.strip() for line in printed.splitlines())


def test_every_check_keeps_three_wrong_answers():
    assert all(len(wrong) >= 3 for _, _, wrong in CASES.values())


@pytest.mark.parametrize("key", sorted(set(CASES) - OBJECT_CHECKS))
def test_raising_answer_fails_with_its_message(key):
    check = CASES[key][0]
    learner = NotImplementedLoRA if key.startswith("lora_") else raise_not_implemented
    ok, printed = checks.captured(check, learner)
    assert ok is False
    assert printed == f"FAIL {check.__name__}: your code raised NotImplementedError: Exercise 9.9: write me\n"


def test_check_prints_its_verdict_once_and_returns_nothing(capsys):
    assert checks.check_layer_features(checks.reference_layer_features) is None
    assert checks.check_layer_features(features_without_mask) is None
    out = capsys.readouterr().out
    assert out.startswith("PASS check_layer_features:") and out.count("\nFAIL check_layer_features:") == 1
    assert checks.check_layer_features(features_without_mask, verbose=False) is None
    assert capsys.readouterr().out == ""
    assert checks.passes(checks.check_layer_features, checks.reference_layer_features)
    assert not checks.passes(checks.check_layer_features, features_without_mask)


def test_lora_linear_runs_all_three_layer_checks(capsys):
    assert checks.check_lora_linear(LoRALinear) is None
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines if not line.startswith("  ")] == [
        "PASS check_lora_init", "PASS check_lora_forward", "PASS check_lora_merge"]
    assert max(map(len, lines)) <= 100  # verdicts are wrapped to fit a notebook's output area
    ok, printed = checks.captured(checks.check_lora_linear, LoRANoScaling)
    assert not ok and "FAIL check_lora_init" in printed and "PASS check_lora_merge" in printed


def test_use_or_reference_keeps_a_passing_answer_silently(capsys):
    assert checks.use_or_reference(apply_spafit, spafit_without_group3_biases, checks.check_spafit) is apply_spafit
    assert capsys.readouterr().out == ""


def test_use_or_reference_falls_back_with_a_note(capsys):
    chosen = checks.use_or_reference(raise_not_implemented, apply_spafit, checks.check_spafit)
    assert chosen is apply_spafit
    out = capsys.readouterr().out
    assert out == ("note: raise_not_implemented does not pass its check yet; "
                   "from here on this notebook uses apply_spafit instead\n")


def test_check_inputs_vary_what_a_learner_could_hard_code():
    from spafit_course.lessons.checks import lora as checks_lora

    assert any(not float(alpha / r).is_integer() for *_, r, alpha in checks_lora.INJECT_CASES)
    assert {"ffn_out", "ffn_in"} <= {t for case in checks_lora.INJECT_CASES for t in case[2]}
    spafits = [config for _, config in checks.SPAFIT_CASES]
    assert any(c.train_pooler for c in spafits) and any(c.dropout > 0 for c in spafits)
    assert any(not math.isclose(c.alpha / c.r, 2.0) for c in spafits)


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    checks.check_lora_forward(LoRALinear, verbose=False)
    assert torch.equal(torch.rand(3), expected)


def test_verdict_lines_wrap_between_words_under_their_label():
    text = ("FAIL check_x: the trainable parameters differ (should be frozen: [bert.encoder.layer.0.attention.self."
            "query.weight, bert.encoder.layer.0.attention.self.key.weight, ...] (12 in all))\n  expected: "
            + "twelve trainable tensors " * 6 + "\n  got:      13")
    wrapped = check_tools.wrap(text)
    lines = wrapped.splitlines()
    assert wrapped.split() == text.split()  # the same words in the same order: none is cut
    assert max(map(len, lines)) <= check_tools.WIDTH
    assert lines[0].startswith("FAIL check_x:") and lines[1].startswith("  [bert.encoder")
    at = next(i for i, line in enumerate(lines) if line.startswith("  expected: "))
    assert lines[at + 1].startswith(" " * len("  expected: ") + "t")
    assert lines[-1] == "  got:      13"
    assert check_tools.wrap("x" * 130) == "x" * 130  # one word longer than a line stays whole


def test_a_key_bias_shift_leaves_the_logits_alone_so_values_are_compared():
    from spafit_course.runs.models import tiny_model

    model = tiny_model("bert", num_layers=2, hidden=16)
    ids, mask = check_models.sample_inputs(model)
    before = check_models.logits(model, ids, mask)
    shift_key_biases(model)
    assert torch.allclose(check_models.logits(model, ids, mask), before, atol=1e-5)  # the logits cannot see it


def test_each_bias_family_is_asked_for_alone():
    from spafit_course.lessons.checks import bitfit

    assert {f for case in bitfit.FAMILY_CASES if len(case) == 1 for f in case} == set(bitfit.FAMILIES)

