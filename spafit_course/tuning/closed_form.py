"""Parameter counts of a BERT-family classifier from its dimensions alone (lessons 01, 02 and 04).

A learner can check every count the model reports with pencil and paper; tests hold these formulas and the
real models to the same numbers. Symbols: H hidden size, I FFN size, L layers, V vocabulary, P positions,
T token types, C labels, r LoRA rank.

The head (`heads.py`) is the config's own unless given: "cls" has BERT's pooler (H^2 + H) before the classifier,
"mean" has no pooler.
"""

from __future__ import annotations

from .heads import check_head, head_of_config
from .params import ParameterCount
from .spafit import FROZEN, LORA_AND_BIAS, SpafitConfig, layer_groups


def _dims(config) -> tuple[int, int, int]:
    return config.hidden_size, config.intermediate_size, config.num_hidden_layers


def lora_shapes(config) -> dict[str, tuple[int, int]]:
    """(in_features, out_features) of each LoRA target in a BERT layer."""
    h, i, _ = _dims(config)
    return {"query": (h, h), "key": (h, h), "value": (h, h), "attention_output": (h, h),
            "ffn_in": (h, i), "ffn_out": (i, h)}


def lora_params_per_layer(config, targets, r: int) -> int:
    """A is r x in, B is out x r: r * (in + out) per target."""
    shapes = lora_shapes(config)
    return sum(r * (shapes[t][0] + shapes[t][1]) for t in targets)


def bias_params_per_layer(config, bias_terms: str = "linear") -> int:
    """Linear biases: 4H (attention) + I + H (FFN); "all" adds the two LayerNorms' 2H."""
    h, i, _ = _dims(config)
    linear = 4 * h + i + h
    return {"none": 0, "linear": linear, "all": linear + 2 * h}[bias_terms]


def layer_params(config) -> int:
    """One BERT layer: 4H^2 + 4H (attention) + 2HI + I + H (FFN) + 4H (two LayerNorms)."""
    h, i, _ = _dims(config)
    return 4 * h * h + 4 * h + 2 * h * i + i + h + 4 * h


def embedding_params(config) -> int:
    h = config.hidden_size
    return (config.vocab_size + config.max_position_embeddings + config.type_vocab_size) * h + 2 * h


def pooler_params(config) -> int:
    return config.hidden_size * config.hidden_size + config.hidden_size


def head_params(config) -> int:
    return config.hidden_size * config.num_labels + config.num_labels


def total_params(config, head: str | None = None) -> int:
    """Every parameter of the classifier: BertForSequenceClassification with the "cls" head (333,581,314 for
    bert-large-cased with 2 labels), the same less the pooler with the "mean" head."""
    head = check_head(head or head_of_config(config))
    return (embedding_params(config) + config.num_hidden_layers * layer_params(config)
            + (pooler_params(config) if head == "cls" else 0) + head_params(config))


def closed_form_count(config, spafit: SpafitConfig | None = None, head: str | None = None) -> ParameterCount:
    """Trainable and total parameters after `apply_spafit(model, spafit)`; `None` means full fine-tuning.

    `head` defaults to the config's own; the "mean" head has no pooler, so `spafit.train_pooler` must be off.
    """
    head = check_head(head or head_of_config(config))
    total = total_params(config, head)
    if spafit is None:
        return ParameterCount(total, total)
    if spafit.train_pooler and head == "mean":
        raise ValueError("train_pooler=True, but the mean head has no pooler; set train_pooler=False")
    groups = layer_groups(config.num_hidden_layers, spafit.n1, spafit.n2)
    trained_layers = sum(g != FROZEN for g in groups)
    lora_layers = sum(g == LORA_AND_BIAS for g in groups)
    lora = lora_layers * lora_params_per_layer(config, spafit.targets, spafit.r)
    trainable = (trained_layers * bias_params_per_layer(config, spafit.bias_terms) + lora + head_params(config)
                 + (pooler_params(config) if spafit.train_pooler else 0))
    return ParameterCount(trainable, total + lora)
