"""The practice notebooks' checks (spafit_course.lessons.checks): the package's reference passes every check, and
known-wrong answers, kept here (at least three per check, of different kinds), each make their check print FAIL
with what was expected, what came back and what is wrong."""

import math

import pytest
import torch
from torch import nn

from spafit_course import (LoRALinear, SpafitConfig, apply_bitfit, apply_spafit, closed_form_count, inject_lora,
                           layer_groups)
from spafit_course.lessons import checks
from spafit_course.lessons.checks import tools as check_tools
from spafit_course.runs.models import tiny_model
from spafit_course.tuning.architectures import get_layers, resolve_targets
from spafit_course.tuning.closed_form import bias_params_per_layer, head_params, lora_shapes
from spafit_course.tuning.freezing import freeze_all, unfreeze_biases, unfreeze_head
from spafit_course.tuning.lora import lora_modules
from spafit_course.tuning.spafit import FROZEN, LORA_AND_BIAS


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


def bitfit_ignoring_bias_terms(model, bias_terms="linear"):
    return apply_bitfit(model, "linear")


def bitfit_count_reference(config, bias_terms):
    return config.num_hidden_layers * bias_params_per_layer(config, bias_terms) + head_params(config)


def bitfit_count_without_head(config, bias_terms):
    return config.num_hidden_layers * bias_params_per_layer(config, bias_terms)


def bitfit_count_attention_only(config, bias_terms):
    return config.num_hidden_layers * 4 * config.hidden_size + head_params(config)


def bitfit_count_two_labels(config, bias_terms):
    return config.num_hidden_layers * bias_params_per_layer(config, bias_terms) + config.hidden_size * 2 + 2


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


def probes_fit_on_one_more(features, labels, n_train):
    return checks.reference_probe_accuracies(features, labels, n_train + 1)


def boundaries_off_by_one(accuracies, low=1 / 3, high=2 / 3):
    n1, n2 = checks.reference_choose_boundaries(accuracies, low, high)
    return min(n1 + 1, len(accuracies) - 1), min(n2 + 1, len(accuracies) - 1)


def boundaries_swapped_thresholds(accuracies, low=1 / 3, high=2 / 3):
    n2, n1 = checks.reference_choose_boundaries(accuracies, low=high, high=low)
    return min(n1, n2), max(n1, n2)


def boundaries_ignoring_embeddings(accuracies, low=1 / 3, high=2 / 3):
    n1, n2 = checks.reference_choose_boundaries(accuracies[1:], low, high)
    return n1 + 1, n2 + 1


def boundaries_rising_to_the_last_layer(accuracies, low=1 / 3, high=2 / 3):
    a = [float(v) for v in accuracies]
    rise = a[-1] - a[0]
    if rise <= 0:
        return len(a) - 1, len(a) - 1
    progress = [(v - a[0]) / rise for v in a]
    n1 = next(k for k in range(1, len(a)) if progress[k] >= low) - 1
    n2 = next(k for k in range(1, len(a)) if progress[k] >= high) - 1
    return n1, max(n1, n2)


def boundaries_fixed_thresholds(accuracies, low=1 / 3, high=2 / 3):
    return checks.reference_choose_boundaries(accuracies)


# ---------------------------------------------------------------- lesson 04


def groups_off_by_one(num_layers, n1, n2):
    return [1 if k < n1 else 2 if k < n2 else 3 for k in range(1, num_layers + 1)]


def groups_swapped(num_layers, n1, n2):
    return [{2: 3, 3: 2}.get(g, g) for g in layer_groups(num_layers, n1, n2)]


def groups_reversed(num_layers, n1, n2):
    return layer_groups(num_layers, n1, n2)[::-1]


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


def spafit_count_two_labels(config, spafit):
    return spafit_count_reference(config, spafit) - head_params(config) + 2 * config.hidden_size + 2


def spafit_count_biases_in_group_2_only(config, spafit):
    groups = layer_groups(config.num_hidden_layers, spafit.n1, spafit.n2)
    shapes = lora_shapes(config)
    lora = sum(spafit.r * sum(shapes[t]) for t in spafit.targets) * groups.count(LORA_AND_BIAS)
    return groups.count(2) * bias_params_per_layer(config, spafit.bias_terms) + lora + head_params(config)


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
    "attention_biases": (checks.check_attention_biases, attention_bitfit_model,
                         [(lambda: attention_bitfit_model(also_layernorm=True), "should be frozen"),
                          (lambda: attention_bitfit_model(with_head=False), "the classifier always trains"),
                          (lambda: apply_bitfit(tiny_model()), "should be frozen")]),
    "bitfit": (checks.check_bitfit, apply_bitfit,
               [(bitfit_also_layernorm_weights, "LayerNorm"), (bitfit_without_head, "classifier always trains"),
                (bitfit_every_bias, "should be frozen"), (bitfit_ignoring_bias_terms, "bias_terms='all'")]),
    "bitfit_count": (checks.check_bitfit_count, bitfit_count_reference,
                     [(bitfit_count_without_head, "the classifier (H*C + C) trains too"),
                      (bitfit_count_attention_only, "= biases 3 layers x 224 + head 66"),
                      (bitfit_count_two_labels, "the number of labels is not always 2")]),
    "lora_init": (checks.check_lora_init, LoRALinear,
                  [(LoRARandomB, "B must start at zero"), (LoRANoScaling, "the scaling is missing"),
                   (LoRABaseTrains, "W must stay frozen"), (LoRAFrozenBias, "the bias keeps its own setting"),
                   (LoRAIntegerScaling, "integer division"), (LoRADefaultDtype, "dtype=base.weight.dtype")]),
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
                     (inject_query_value_only, "wrap the targets passed in")]),
    "layer_features": (checks.check_layer_features, checks.reference_layer_features,
                       [(features_without_mask, "padding is averaged in"), (features_cls_only, "[CLS]"),
                        (features_without_embeddings, "shape (4, 3, 16)")]),
    "probe_accuracies": (checks.check_probe_accuracies, checks.reference_probe_accuracies,
                         [(probes_scored_on_training_data, "held-out accuracies"),
                          (probes_without_embeddings, "row 0 of features is the embeddings"),
                          (probes_fit_on_one_more, "features[:n_train] exactly")]),
    "choose_boundaries": (checks.check_choose_boundaries, checks.reference_choose_boundaries,
                          [(boundaries_off_by_one, "(N1, N2) for accuracies"),
                           (boundaries_swapped_thresholds, "(N1, N2) for accuracies"),
                           (boundaries_ignoring_embeddings, "(N1, N2) for accuracies"),
                           (boundaries_rising_to_the_last_layer, "not to the last one"),
                           (boundaries_fixed_thresholds, "not fixed thresholds")]),
    "layer_groups": (checks.check_layer_groups, layer_groups,
                     [(groups_off_by_one, "layer k is frozen when k <= N1"), (groups_swapped, "groups of layers"),
                      (groups_reversed, "index 0 holds layer 1")]),
    "spafit": (checks.check_spafit, apply_spafit,
               [(spafit_without_group3_biases, "should train"), (spafit_lora_in_group2, "group 3 only"),
                (spafit_default_rank_and_alpha, "(r, scaling, dropout)"),
                (spafit_ignoring_train_pooler, "train_pooler says so"),
                (spafit_ignoring_dropout, "(r, scaling, dropout)")]),
    "spafit_count": (checks.check_spafit_count, spafit_count_reference,
                     [(spafit_count_lora_r_times_d_in, "+ LoRA 1 layers x 1,792 +"),
                      (spafit_count_lora_on_n2_layers, "+ LoRA 1 layers x 1,792 +"),
                      (spafit_count_two_labels, "the number of labels is not always 2"),
                      (spafit_count_biases_in_group_2_only, "= biases 2 layers x 288")]),
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
    assert checks.check_layer_groups(layer_groups) is None
    assert checks.check_layer_groups(groups_off_by_one) is None
    out = capsys.readouterr().out
    assert out.startswith("PASS check_layer_groups:") and out.count("\nFAIL check_layer_groups:") == 1
    assert checks.check_layer_groups(groups_off_by_one, verbose=False) is None
    assert capsys.readouterr().out == ""
    assert checks.passes(checks.check_layer_groups, layer_groups)
    assert not checks.passes(checks.check_layer_groups, groups_off_by_one)


def test_lora_linear_runs_all_three_layer_checks(capsys):
    assert checks.check_lora_linear(LoRALinear) is None
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines if not line.startswith("  ")] == [
        "PASS check_lora_init", "PASS check_lora_forward", "PASS check_lora_merge"]
    assert max(map(len, lines)) <= 100  # verdicts are wrapped to fit a notebook's output area
    ok, printed = checks.captured(checks.check_lora_linear, LoRANoScaling)
    assert not ok and "FAIL check_lora_init" in printed and "PASS check_lora_merge" in printed


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
                   "from here on this notebook uses layer_groups instead\n")


def test_wrong_answer_message_names_numbers():
    ok, printed = checks.captured(checks.check_spafit_count, spafit_count_lora_r_times_d_in)
    assert not ok
    config = checks.bert_configs()["tiny BERT"]
    spafit = SpafitConfig(1, 2, targets=("query", "value", "ffn_in"), r=8, bias_terms="all")
    assert f"expected: {closed_form_count(config, spafit).trainable:,}" in printed
    assert f"got:      {spafit_count_lora_r_times_d_in(config, spafit):,}" in printed


def test_check_inputs_vary_what_a_learner_could_hard_code():
    from spafit_course.lessons.checks import lora as checks_lora

    assert any(not float(alpha / r).is_integer() for *_, r, alpha in checks_lora.INJECT_CASES)
    assert {"ffn_out", "ffn_in"} <= {t for case in checks_lora.INJECT_CASES for t in case[2]}
    spafits = [config for _, config in checks.SPAFIT_CASES]
    assert any(c.train_pooler for c in spafits) and any(c.dropout > 0 for c in spafits)
    assert any(not math.isclose(c.alpha / c.r, 2.0) for c in spafits)
    assert {config.num_labels for config in checks.bert_configs().values()} >= {2, 3}
    assert {classes for *_, classes, _ in checks.PROBE_CASES} >= {2, 3}
    assert any(max(s) != s[-1] for *_, s in checks.PROBE_CASES)
    assert any(max(a) != a[-1] for a, _ in checks.BOUNDARY_CASES)


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
