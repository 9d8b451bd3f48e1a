"""Parameter counts of a BERT-family classifier from its dimensions alone (lessons 01, 02 and 04).

A learner can check every count the model reports with pencil and paper; tests hold these formulas and the
real models to the same numbers. Symbols: H hidden size, I FFN size, L layers, V vocabulary, P positions,
T token types, C labels, r LoRA rank.
"""

from __future__ import annotations

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


def total_params(config) -> int:
    """Every parameter of BertForSequenceClassification (333,581,314 for bert-large-cased with 2 labels)."""
    return (embedding_params(config) + config.num_hidden_layers * layer_params(config) + pooler_params(config)
            + head_params(config))


def closed_form_count(config, spafit: SpafitConfig | None = None) -> ParameterCount:
    """Trainable and total parameters after `apply_spafit(model, spafit)`; `None` means full fine-tuning."""
    total = total_params(config)
    if spafit is None:
        return ParameterCount(total, total)
    groups = layer_groups(config.num_hidden_layers, spafit.n1, spafit.n2)
    trained_layers = sum(g != FROZEN for g in groups)
    lora_layers = sum(g == LORA_AND_BIAS for g in groups)
    lora = lora_layers * lora_params_per_layer(config, spafit.targets, spafit.r)
    trainable = (trained_layers * bias_params_per_layer(config, spafit.bias_terms) + lora + head_params(config)
                 + (pooler_params(config) if spafit.train_pooler else 0))
    return ParameterCount(trainable, total + lora)
