"""LoRALinear from scratch: zero start, scaling, merge, and equality with peft's LoRA."""

import copy

import pytest
import torch
from peft import LoraConfig, get_peft_model
from torch import nn

from spafit_course import LoRALinear, apply_lora, count_parameters, inject_lora, merge_lora, unmerge_lora
from spafit_course.runs.models import tiny_model
from spafit_course.tuning.lora import lora_modules


def inputs(vocab=1000, batch=3, length=7, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {"input_ids": torch.randint(0, vocab, (batch, length), generator=g),
            "attention_mask": torch.ones(batch, length, dtype=torch.long)}


def test_zero_initialised_b_leaves_the_layer_unchanged():
    base = nn.Linear(6, 5)
    x = torch.randn(4, 6)
    expected = base(x)
    layer = LoRALinear(base, r=2, alpha=4)
    assert torch.equal(layer.lora_B, torch.zeros(5, 2))
    assert torch.equal(layer(x), expected)


def test_forward_is_base_plus_scaled_low_rank_update():
    torch.manual_seed(0)
    base = nn.Linear(6, 5)
    layer = LoRALinear(base, r=3, alpha=12)
    nn.init.normal_(layer.lora_B)
    x = torch.randn(4, 6)
    expected = x @ base.weight.T + base.bias + (12 / 3) * x @ layer.lora_A.T @ layer.lora_B.T
    assert torch.allclose(layer(x), expected, atol=1e-6)
    assert torch.allclose(layer.delta_weight(), 4.0 * layer.lora_B @ layer.lora_A)


def test_merge_and_unmerge_keep_outputs_and_restore_the_weight():
    torch.manual_seed(0)
    layer = LoRALinear(nn.Linear(8, 8), r=2, alpha=16)
    nn.init.normal_(layer.lora_B)
    x = torch.randn(3, 8)
    before, weight = layer(x), layer.base.weight.clone()
    layer.merge()
    assert layer.merged and torch.allclose(layer(x), before, atol=1e-5)
    assert torch.allclose(layer.base(x), before, atol=1e-5)  # the plain Linear now carries the update
    layer.merge()  # idempotent
    layer.unmerge()
    assert torch.allclose(layer.base.weight, weight, atol=1e-6)
    assert torch.allclose(layer(x), before, atol=1e-5)


def test_only_a_and_b_train_in_the_wrapper_and_bias_flag_is_kept():
    base = nn.Linear(4, 4)
    layer = LoRALinear(base, r=2)
    assert not base.weight.requires_grad and base.bias.requires_grad
    assert layer.lora_A.requires_grad and layer.lora_B.requires_grad


@pytest.mark.parametrize("r, alpha, dropout, message", [
    (0, 16, 0.0, "rank r must be a positive integer"), (-2, 16, 0.0, "positive integer"),
    (2.5, 16, 0.0, "positive integer"), (4, 0, 0.0, "alpha must be > 0"), (4, 8, 1.0, r"dropout must be in \[0, 1\)"),
])
def test_bad_hyperparameters_are_refused(r, alpha, dropout, message):
    with pytest.raises(ValueError, match=message):
        LoRALinear(nn.Linear(3, 3), r=r, alpha=alpha, dropout=dropout)


@pytest.mark.parametrize("head", ["cls", "mean"])
def test_from_scratch_lora_matches_peft_logits_and_counts(head):
    ours = tiny_model("bert", num_layers=3, hidden=32, head=head)
    reference = copy.deepcopy(ours)
    apply_lora(ours, targets=("query", "value"), r=4, alpha=8)
    peft_model = get_peft_model(reference, LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, lora_dropout=0.0,
                                                      target_modules=["query", "value"]))
    torch.manual_seed(3)
    peft_state = dict(peft_model.named_parameters())
    for name, module in lora_modules(ours).items():
        nn.init.normal_(module.lora_B, std=0.5)
        path = name.removesuffix(".base")
        with torch.no_grad():
            peft_state[f"base_model.model.{path}.lora_A.default.weight"].copy_(module.lora_A)
            peft_state[f"base_model.model.{path}.lora_B.default.weight"].copy_(module.lora_B)
    ours.eval(), peft_model.eval()
    batch = inputs()
    with torch.no_grad():
        difference = (ours(**batch).logits - peft_model(**batch).logits).abs().max().item()
    assert difference <= 1e-5
    assert difference < 1e-3 * ours(**batch).logits.abs().max().item() + 1e-5
    peft_trainable, peft_total = peft_model.get_nb_trainable_parameters()
    assert count_parameters(ours).trainable == peft_trainable


def test_lora_changes_the_model_once_b_is_nonzero():
    model = tiny_model("bert", num_layers=2)
    batch = inputs()
    with torch.no_grad():
        before = model(**batch).logits
    inject_lora(model, targets=("query",), layers=[1], r=2)
    with torch.no_grad():
        assert torch.equal(model(**batch).logits, before)
        for m in lora_modules(model).values():
            nn.init.normal_(m.lora_B)
        changed = model(**batch).logits
    assert not torch.allclose(changed, before)
    merge_lora(model)
    with torch.no_grad():
        assert torch.allclose(model(**batch).logits, changed, atol=1e-5)
    unmerge_lora(model)


def test_inject_lora_wraps_exactly_the_chosen_layers_and_targets():
    model = tiny_model("bert", num_layers=4)
    wrapped = inject_lora(model, targets=("key", "ffn_out"), layers=[0, 3], r=2)
    assert sorted(lora_modules(model)) == sorted(
        f"bert.encoder.layer.{i}.{path}" for i in (0, 3) for path in ("attention.self.key", "output.dense"))
    assert len(wrapped) == 4


def test_inject_lora_refuses_bad_layers_targets_and_double_wrapping():
    model = tiny_model("bert", num_layers=2)
    with pytest.raises(ValueError, match=r"out of range; this model has layers 0..1"):
        inject_lora(model, layers=[2])
    with pytest.raises(ValueError, match="unknown LoRA target.*choose from query, key, value"):
        inject_lora(model, targets=("qurey",))
    assert not lora_modules(model)
    inject_lora(model, layers=[0])
    with pytest.raises(ValueError, match="already has LoRA"):
        inject_lora(model, layers=[1, 0])
    assert sorted(lora_modules(model)) == ["bert.encoder.layer.0.attention.self.query",
                                           "bert.encoder.layer.0.attention.self.value"]
