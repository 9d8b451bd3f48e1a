"""BitFit, LoRA and SPAFIT on every supported encoder family, and clear refusals for the others.

Expected counts are derived by hand from each tiny config: every layer has four H x H attention matrices and an
H -> I -> H feed-forward block, so its Linear biases number 5H + I, and LoRA of rank r on an (in -> out) matrix
adds r * (in + out). The heads differ by family and are written out below.
"""

import pytest
import torch
from torch import nn
from transformers import AlbertConfig, AlbertForSequenceClassification, GPT2Config, GPT2ForSequenceClassification

from spafit_course import (LoRALinear, SpafitConfig, UnsupportedModelError, apply_bitfit, apply_lora, apply_spafit,
                           inject_lora)
from spafit_course.runs.models import TINY_FAMILIES, tiny_model
from spafit_course.tuning.lora import lora_modules
from spafit_course.tuning.params import count_parameters

L, H, C = 3, 16, 2  # layers, hidden size, labels of the tiny models
I = 2 * H  # tiny_config's intermediate (feed-forward) size

# Each family's path to its layer stack and native names of query / key / value / attention-output / FFN in, out.
NATIVE = {
    "bert": ("bert.encoder.layer", "attention.self.query", "attention.self.key", "attention.self.value",
             "attention.output.dense", "intermediate.dense", "output.dense"),
    "roberta": ("roberta.encoder.layer", "attention.self.query", "attention.self.key", "attention.self.value",
                "attention.output.dense", "intermediate.dense", "output.dense"),
    "electra": ("electra.encoder.layer", "attention.self.query", "attention.self.key", "attention.self.value",
                "attention.output.dense", "intermediate.dense", "output.dense"),
    "deberta-v2": ("deberta.encoder.layer", "attention.self.query_proj", "attention.self.key_proj",
                   "attention.self.value_proj", "attention.output.dense", "intermediate.dense", "output.dense"),
    "distilbert": ("distilbert.transformer.layer", "attention.q_lin", "attention.k_lin", "attention.v_lin",
                   "attention.out_lin", "ffn.lin1", "ffn.lin2"),
}
TARGET_INDEX = {"query": 1, "key": 2, "value": 3, "attention_output": 4, "ffn_in": 5, "ffn_out": 6}
SHAPES = {"query": (H, H), "key": (H, H), "value": (H, H), "attention_output": (H, H), "ffn_in": (H, I),
          "ffn_out": (I, H)}  # (in, out)

# The task head, which always trains: BERT a Linear on the (frozen) pooler; RoBERTa and ELECTRA a dense layer
# and an output projection; DeBERTa-v2 its context pooler and a classifier; DistilBERT pre_classifier and classifier.
HEAD = {"bert": H * C + C, "roberta": H * H + H + H * C + C, "electra": H * H + H + H * C + C,
        "deberta-v2": H * H + H + H * C + C, "distilbert": H * H + H + H * C + C}
BIASES_PER_LAYER = 5 * H + I


def lora_count(targets, r):
    return sum(r * sum(SHAPES[t]) for t in targets)


def expected_paths(family, targets, layers):
    stack, *names = NATIVE[family]
    return {f"{stack}.{i}.{names[TARGET_INDEX[t] - 1]}" for i in layers for t in targets}


@pytest.fixture(params=TINY_FAMILIES)
def family(request):
    return request.param


def inputs():
    generator = torch.Generator().manual_seed(0)
    return {"input_ids": torch.randint(5, 1000, (2, 7), generator=generator),
            "attention_mask": torch.ones(2, 7, dtype=torch.long)}


def logits(model):
    with torch.no_grad():
        return model(**inputs()).logits


def test_families_cover_the_table():
    assert set(NATIVE) == set(TINY_FAMILIES)


def test_bitfit_trains_every_linear_bias_and_the_head(family):
    model = apply_bitfit(tiny_model(family, L, H, C))
    assert count_parameters(model).trainable == L * BIASES_PER_LAYER + HEAD[family]
    trained = {n for n, p in model.named_parameters() if p.requires_grad}
    stack, *names = NATIVE[family]
    assert {f"{stack}.{i}.{name}.bias" for i in range(L) for name in names} <= trained
    assert not any(n.endswith(".weight") and n.startswith(stack) for n in trained)


def test_lora_wraps_the_mapped_matrices_and_keeps_logits(family):
    model = tiny_model(family, L, H, C)
    before = logits(model)
    apply_lora(model, targets=("query", "value"), r=4)
    wrapped = lora_modules(model)
    assert set(wrapped) == expected_paths(family, ("query", "value"), range(L))
    assert all(isinstance(m.base, nn.Linear) and not m.base.weight.requires_grad for m in wrapped.values())
    assert count_parameters(model).trainable == L * lora_count(("query", "value"), 4) + HEAD[family]
    torch.testing.assert_close(logits(model), before, rtol=0, atol=0)  # B = 0: the same function


def test_inject_lora_on_chosen_layers_only_wraps(family):
    model = tiny_model(family, L, H, C)
    paths = inject_lora(model, ("key", "ffn_in"), layers=[2], r=2)
    assert len(paths) == 2
    assert set(lora_modules(model)) == expected_paths(family, ("key", "ffn_in"), [2])
    # Only wrapping: the wrapped weights freeze, everything else keeps training as before.
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert frozen == {f"{path}.base.weight" for path in expected_paths(family, ("key", "ffn_in"), [2])}


def test_spafit_count_per_group(family):
    targets = ("query", "key", "value", "attention_output", "ffn_in", "ffn_out")
    config = SpafitConfig(n1=1, n2=2, targets=targets, r=2)
    model = tiny_model(family, L, H, C)
    before = logits(model)
    apply_spafit(model, config)
    assert model.spafit_config is config
    # Layer 1 frozen, layers 2-3 biases, layer 3 LoRA on all six matrices (10H + 2I per unit of rank).
    assert lora_count(targets, 2) == 2 * (10 * H + 2 * I)
    expected = (L - 1) * BIASES_PER_LAYER + (L - 2) * lora_count(targets, 2) + HEAD[family]
    assert count_parameters(model).trainable == expected
    assert set(lora_modules(model)) == expected_paths(family, targets, [2])
    stack = NATIVE[family][0]
    assert not any(p.requires_grad for n, p in model.named_parameters() if n.startswith(f"{stack}.0."))
    torch.testing.assert_close(logits(model), before, rtol=0, atol=0)


def test_spafit_all_bias_terms_adds_layernorm_biases(family):
    model = apply_spafit(tiny_model(family, L, H, C), SpafitConfig(n1=0, n2=L, bias_terms="all"))
    assert count_parameters(model).trainable == L * (BIASES_PER_LAYER + 2 * H) + HEAD[family]


def test_forward_and_backward_after_spafit(family):
    model = apply_spafit(tiny_model(family, L, H, C), SpafitConfig(n1=1, n2=1, r=2))
    out = model(**inputs(), labels=torch.tensor([0, 1]))
    out.loss.backward()
    grads = {n for n, p in model.named_parameters() if p.grad is not None}
    assert grads == {n for n, p in model.named_parameters() if p.requires_grad}


# --- models SPAFIT does not apply to -----------------------------------------------------------------------------

def albert():
    config = AlbertConfig(vocab_size=100, embedding_size=8, hidden_size=H, num_hidden_layers=L,
                          num_attention_heads=2, intermediate_size=I)
    return AlbertForSequenceClassification(config)


def gpt2():
    config = GPT2Config(vocab_size=100, n_embd=H, n_layer=L, n_head=2, n_positions=32, bos_token_id=0,
                        eos_token_id=0, pad_token_id=0)
    return GPT2ForSequenceClassification(config)


def bert_without_layers():
    model = tiny_model("bert", L, H, C)
    model.bert.encoder = nn.Identity()  # a known family whose layer stack is not where the family keeps it
    return model


def plain():
    return nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 2))


UNSUPPORTED = {
    "albert": (albert, "SPAFIT does not apply to model type 'albert': ALBERT shares one set of layer weights"),
    "gpt2": (gpt2, "cannot find the layer stack of model type 'gpt2'; supported model types: bert, deberta-v2, "
                   "distilbert, electra, roberta"),
    "no-stack": (bert_without_layers, "cannot find the layer stack 'encoder.layer' in this "
                                      "BertForSequenceClassification (model type 'bert')"),
    "plain": (plain, "cannot find the layer stack of this Sequential: it is not a Hugging Face model"),
}
APPLY = {
    "apply_bitfit": lambda m: apply_bitfit(m),
    "apply_lora": lambda m: apply_lora(m),
    "inject_lora": lambda m: inject_lora(m),
    "apply_spafit": lambda m: apply_spafit(m, SpafitConfig(n1=1, n2=1)),
}


@pytest.mark.parametrize("kind", UNSUPPORTED)
@pytest.mark.parametrize("method", APPLY)
def test_unsupported_models_are_refused_untouched(kind, method):
    build, message = UNSUPPORTED[kind]
    model = build()
    state = {n: (p.requires_grad, p.detach().clone()) for n, p in model.named_parameters()}
    modules = [type(m) for m in model.modules()]
    with pytest.raises(UnsupportedModelError) as raised:
        APPLY[method](model)
    assert message in str(raised.value)
    assert not any(isinstance(m, LoRALinear) for m in model.modules())
    assert [type(m) for m in model.modules()] == modules
    assert getattr(model, "spafit_config", None) is None
    for name, p in model.named_parameters():
        assert p.requires_grad == state[name][0]
        assert torch.equal(p, state[name][1])
