"""The practice notebooks' checks (spafit_course.checks): the package's reference passes every check, and
known-wrong answers, kept here, each make their check print FAIL with what was expected and what came back."""

import pytest
import torch
from torch import nn

from spafit_course import LoRALinear, apply_bitfit, apply_spafit, checks, closed_form_count, inject_lora, layer_groups
from spafit_course.architectures import get_layers, resolve_targets
from spafit_course.closed_form import bias_params_per_layer, head_params, lora_shapes
from spafit_course.freezing import freeze_all, unfreeze_biases, unfreeze_head
from spafit_course.models import tiny_model
from spafit_course.spafit import FROZEN, LORA_AND_BIAS


# ---------------------------------------------------------------- lesson 01


def attention_bitfit_model(also_layernorm=False, with_head=True):
    model = tiny_model()
    freeze_all(model)
    for layer in get_layers(model):
        for path in resolve_targets(model, checks.ATTENTION_TARGETS).values():
            layer.get_submodule(path).bias.requires_grad_(True)
        if also_layernorm:
            layer.attention.output.LayerNorm.weight.requires_grad_(True)
    if with_head:
        unfreeze_head(model)
    return model


def bitfit_also_layernorm_weights(model, bias_terms="linear"):
    apply_bitfit(model, bias_terms)
    for name, p in model.named_parameters():
        if "LayerNorm" in name or "layer_norm" in name:
            p.requires_grad_(True)
    return model


def bitfit_without_head(model, bias_terms="linear"):
    freeze_all(model)
    for layer in get_layers(model):
        unfreeze_biases(layer, bias_terms)
    return model


def bitfit_every_bias(model, bias_terms="linear"):
    for name, p in model.named_parameters():
        p.requires_grad_(name.endswith("bias") or "classifier" in name)
    return model


def bitfit_count_reference(config, bias_terms):
    return config.num_hidden_layers * bias_params_per_layer(config, bias_terms) + head_params(config)


def bitfit_count_without_head(config, bias_terms):
    return config.num_hidden_layers * bias_params_per_layer(config, bias_terms)


def bitfit_count_attention_only(config, bias_terms):
    return config.num_hidden_layers * 4 * config.hidden_size + head_params(config)


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


def forward_without_scaling(self, x):
    out = self.base(x)
    return out if self.merged else out + x @ self.lora_A.T @ self.lora_B.T


def forward_ignoring_merged(self, x):
    return self.base(x) + self.scaling * (x @ self.lora_A.T @ self.lora_B.T)


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


def inject_reference(model, layers, targets, r, alpha):
    inject_lora(model, targets, layers, r=r, alpha=alpha)


def inject_one_based(model, layers, targets, r, alpha):
    inject_lora(model, targets, [i - 1 for i in layers], r=r, alpha=alpha)


def inject_every_layer(model, layers, targets, r, alpha):
    inject_lora(model, targets, None, r=r, alpha=alpha)


def inject_default_alpha(model, layers, targets, r, alpha):
    inject_lora(model, targets, layers, r=r)


# ---------------------------------------------------------------- lesson 03


def features_without_mask(model, input_ids, attention_mask):
    hidden = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
    return torch.stack([h.mean(1) for h in hidden])


def features_cls_only(model, input_ids, attention_mask):
    hidden = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
    return torch.stack([h[:, 0] for h in hidden])


def features_without_embeddings(model, input_ids, attention_mask):
    return checks.reference_layer_features(model, input_ids, attention_mask)[1:]


def probes_scored_on_training_data(features, labels, n_train):
    from sklearn.linear_model import LogisticRegression

    return [LogisticRegression(max_iter=1000).fit(f[:n_train], labels[:n_train]).score(f[:n_train], labels[:n_train])
            for f in features]


def probes_without_embeddings(features, labels, n_train):
    return checks.reference_probe_accuracies(features, labels, n_train)[1:]


def boundaries_off_by_one(accuracies):
    n1, n2 = checks.reference_choose_boundaries(accuracies)
    return min(n1 + 1, len(accuracies) - 1), min(n2 + 1, len(accuracies) - 1)


def boundaries_swapped_thresholds(accuracies):
    n2, n1 = checks.reference_choose_boundaries(accuracies, low=2 / 3, high=1 / 3)
    return min(n1, n2), max(n1, n2)


def boundaries_ignoring_embeddings(accuracies):
    n1, n2 = checks.reference_choose_boundaries(accuracies[1:])
    return n1 + 1, n2 + 1


# ---------------------------------------------------------------- lesson 04


def groups_off_by_one(num_layers, n1, n2):
    return [1 if k < n1 else 2 if k < n2 else 3 for k in range(1, num_layers + 1)]


def groups_swapped(num_layers, n1, n2):
    return [{2: 3, 3: 2}.get(g, g) for g in layer_groups(num_layers, n1, n2)]


def spafit_from_parts(model, config, lora_biases=True, lora_from=LORA_AND_BIAS):
    layers = get_layers(model)
    groups = layer_groups(len(layers), config.n1, config.n2)
    freeze_all(model)
    for layer, group in zip(layers, groups):
        if group != FROZEN and (lora_biases or group != LORA_AND_BIAS):
            unfreeze_biases(layer, config.bias_terms)
    chosen = [i for i, g in enumerate(groups) if g >= lora_from]
    if chosen:
        inject_lora(model, config.targets, chosen, config.r, config.alpha, config.dropout)
    unfreeze_head(model, config.train_pooler)
    return model


def spafit_without_group3_biases(model, config):
    return spafit_from_parts(model, config, lora_biases=False)


def spafit_lora_in_group2(model, config):
    return spafit_from_parts(model, config, lora_from=2)


def spafit_count_reference(config, spafit):
    groups = layer_groups(config.num_hidden_layers, spafit.n1, spafit.n2)
    shapes = lora_shapes(config)
    lora = sum(spafit.r * sum(shapes[t]) for t in spafit.targets) * groups.count(LORA_AND_BIAS)
    return (sum(g != FROZEN for g in groups) * bias_params_per_layer(config, spafit.bias_terms) + lora
            + head_params(config))


def spafit_count_lora_r_times_d_in(config, spafit):
    groups = layer_groups(config.num_hidden_layers, spafit.n1, spafit.n2)
    shapes = lora_shapes(config)
    lora = sum(spafit.r * shapes[t][0] for t in spafit.targets) * groups.count(LORA_AND_BIAS)
    return (sum(g != FROZEN for g in groups) * bias_params_per_layer(config, spafit.bias_terms) + lora
            + head_params(config))


def spafit_count_lora_on_n2_layers(config, spafit):
    shapes = lora_shapes(config)
    groups = layer_groups(config.num_hidden_layers, spafit.n1, spafit.n2)
    lora = sum(spafit.r * sum(shapes[t]) for t in spafit.targets) * spafit.n2
    return (sum(g != FROZEN for g in groups) * bias_params_per_layer(config, spafit.bias_terms) + lora
            + head_params(config))


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


# check, reference answer, known-wrong answers (each must FAIL)
CASES = {
    "attention_biases": (checks.check_attention_biases, attention_bitfit_model,
                         [lambda: attention_bitfit_model(also_layernorm=True),
                          lambda: attention_bitfit_model(with_head=False),
                          lambda: apply_bitfit(tiny_model())]),
    "bitfit": (checks.check_bitfit, apply_bitfit,
               [bitfit_also_layernorm_weights, bitfit_without_head, bitfit_every_bias]),
    "bitfit_count": (checks.check_bitfit_count, bitfit_count_reference,
                     [bitfit_count_without_head, bitfit_count_attention_only]),
    "lora_init": (checks.check_lora_init, LoRALinear, [LoRARandomB, LoRANoScaling, LoRABaseTrains]),
    "lora_forward": (checks.check_lora_forward, LoRALinear,
                     [forward_without_scaling, forward_ignoring_merged, forward_without_bias]),
    "lora_merge": (checks.check_lora_merge, LoRALinear, [merge_without_scaling, merge_without_flag, merge_flag_only]),
    "inject_lora": (checks.check_inject_lora, inject_reference,
                    [inject_one_based, inject_every_layer, inject_default_alpha]),
    "layer_features": (checks.check_layer_features, checks.reference_layer_features,
                       [features_without_mask, features_cls_only, features_without_embeddings]),
    "probe_accuracies": (checks.check_probe_accuracies, checks.reference_probe_accuracies,
                         [probes_scored_on_training_data, probes_without_embeddings]),
    "choose_boundaries": (checks.check_choose_boundaries, checks.reference_choose_boundaries,
                          [boundaries_off_by_one, boundaries_swapped_thresholds, boundaries_ignoring_embeddings]),
    "layer_groups": (checks.check_layer_groups, layer_groups, [groups_off_by_one, groups_swapped]),
    "spafit": (checks.check_spafit, apply_spafit, [spafit_without_group3_biases, spafit_lora_in_group2]),
    "spafit_count": (checks.check_spafit_count, spafit_count_reference,
                     [spafit_count_lora_r_times_d_in, spafit_count_lora_on_n2_layers]),
}

OBJECT_CHECKS = {"attention_biases"}  # these checks take the learner's model, not a function


def answer(key, candidate):
    return candidate() if key in OBJECT_CHECKS else candidate


@pytest.mark.parametrize("key", CASES)
def test_reference_passes(key):
    check, reference, _ = CASES[key]
    ok, printed = checks.captured(check, answer(key, reference))
    assert ok is True, printed
    assert printed.startswith(f"PASS {check.__name__}:")


@pytest.mark.parametrize("key,index", [(k, i) for k, (_, _, wrong) in CASES.items() for i in range(len(wrong))])
def test_wrong_answer_fails_naming_expected_and_got(key, index):
    check, _, wrong = CASES[key]
    assert len(wrong) >= 2
    ok, printed = checks.captured(check, answer(key, wrong[index]))
    assert ok is False
    assert printed.startswith(f"FAIL {check.__name__}:")
    assert "\n  expected: " in printed and "\n  got:      " in printed, printed


@pytest.mark.parametrize("key", sorted(set(CASES) - OBJECT_CHECKS))
def test_raising_answer_fails_with_its_message(key):
    check = CASES[key][0]
    learner = NotImplementedLoRA if key.startswith("lora_") else raise_not_implemented
    ok, printed = checks.captured(check, learner)
    assert ok is False
    assert printed == f"FAIL {check.__name__}: your code raised NotImplementedError: Exercise 9.9: write me\n"


def test_check_of_a_non_model_fails():
    ok, printed = checks.captured(checks.check_attention_biases, None)
    assert ok is False and "expected: an nn.Module" in printed and "got:      NoneType" in printed


def test_use_or_reference_keeps_a_passing_answer_silently(capsys):
    assert checks.use_or_reference(layer_groups, groups_off_by_one, checks.check_layer_groups) is layer_groups
    assert capsys.readouterr().out == ""


def test_use_or_reference_falls_back_with_a_note(capsys):
    chosen = checks.use_or_reference(raise_not_implemented, layer_groups, checks.check_layer_groups)
    assert chosen is layer_groups
    out = capsys.readouterr().out
    assert out == ("note: raise_not_implemented does not pass its check yet; "
                   "the cells below use the package's layer_groups instead\n")


def test_wrong_answer_message_names_numbers():
    ok, printed = checks.captured(checks.check_spafit_count, spafit_count_lora_r_times_d_in)
    assert not ok
    config = checks._bert_configs()["tiny BERT"]
    spafit = checks.SpafitConfig(1, 2, targets=("query", "value", "ffn_in"), r=8, bias_terms="all")
    assert f"expected: {closed_form_count(config, spafit).trainable:,}" in printed
    assert f"got:      {spafit_count_lora_r_times_d_in(config, spafit):,}" in printed


def test_checks_leave_the_global_random_state_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    checks.check_lora_forward(LoRALinear, verbose=False)
    assert torch.equal(torch.rand(3), expected)
