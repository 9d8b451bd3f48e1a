"""What the other parameter-efficient methods would train on a BERT-family classifier, from its dimensions alone
(the website's page "BitFit, LoRA and SPAFIT among the PEFT methods"; lessons 01, 02 and 04 count the course's
own three with `closed_form.py`).

Every count includes the task head (H * C + C), which every method trains. Symbols as in `closed_form.py`:
H hidden size, I FFN size, L layers, C labels. The settings are the defaults below, chosen to be comparable on
the course model, not the papers' tuned values:

    adapters  Houlsby et al. (2019): two bottleneck adapters a layer (after attention, after the FFN), each
              H -> m -> H with biases, plus the layer's two LayerNorms, which Houlsby et al. train too
    prefix    Li & Liang (2021): p trained key and value vectors in every layer (after the reparametrisation
              that helps training is folded away)
    prompt    Lester et al. (2021): p trained input embeddings, nothing inside the model
    ia3       Liu et al. (2022): a scaling vector for the keys (H), the values (H) and the FFN's inner
              activations (I) of every layer
    qlora     Dettmers et al. (2023): LoRA on every linear layer of every block (the base weights frozen and
              stored in 4 bits, which changes memory, not this count)
    ulmfit    Howard & Ruder (2018): gradual unfreezing; its first stage trains the top layer and the head, its
              last everything (`full`)
"""

from __future__ import annotations

from .closed_form import (bias_params_per_layer, head_params, layer_params, lora_params_per_layer, pooler_params,
                          total_params)
from .heads import check_head, head_of_config

ALL_LINEAR = ("query", "key", "value", "attention_output", "ffn_in", "ffn_out")


def adapter_params(config, bottleneck: int = 64) -> int:
    """Houlsby adapters: per layer 2 * (2 * H * m + m + H) for two adapters, plus 4 * H for two LayerNorms."""
    h = config.hidden_size
    return config.num_hidden_layers * (2 * (2 * h * bottleneck + bottleneck + h) + 4 * h)


def prefix_params(config, length: int = 20) -> int:
    """Prefix tuning: a key and a value vector per prefix position in each layer, 2 * L * p * H."""
    return 2 * config.num_hidden_layers * length * config.hidden_size


def prompt_params(config, length: int = 20) -> int:
    """Prompt tuning: p input embeddings, p * H."""
    return length * config.hidden_size


def ia3_params(config) -> int:
    """IA3: per layer a vector for the keys and the values (H each) and for the FFN's inner activations (I)."""
    return config.num_hidden_layers * (2 * config.hidden_size + config.intermediate_size)


def landscape_counts(config, r: int = 8, targets=("query", "value"), n1: int | None = None, n2: int | None = None,
                     bottleneck: int = 64, length: int = 20, head: str | None = None) -> dict[str, int]:
    """Trainable parameters of each method, head included, for a config: {"full": ..., "head": ..., ...}.

    `r` and `targets` are LoRA's and SPAFIT's (QLoRA's rank is `r` on every linear layer); `n1`, `n2` SPAFIT's
    boundaries (0 <= n1 <= n2 <= L; by default L // 3 and 2L // 3, the quick profile's 2 and 4 of 6 layers);
    `bottleneck` the adapters' width; `length` the prefix's and the prompt's.
    """
    layers = config.num_hidden_layers
    n1 = layers // 3 if n1 is None else n1
    n2 = 2 * layers // 3 if n2 is None else n2
    if not 0 <= n1 <= n2 <= layers:
        raise ValueError(f"need 0 <= n1 <= n2 <= {layers} (the model's layers); got n1={n1}, n2={n2}")
    if r < 1 or bottleneck < 1 or length < 1:
        raise ValueError(f"r, bottleneck and length must be at least 1; got r={r}, bottleneck={bottleneck}, "
                         f"length={length}")
    head = check_head(head or head_of_config(config))
    classifier = head_params(config)
    biases = bias_params_per_layer(config)
    lora = lora_params_per_layer(config, targets, r)
    return {
        "full": total_params(config, head),
        "head": classifier,
        "bitfit": layers * biases + classifier,
        "lora": layers * lora + classifier,
        "spafit": (layers - n1) * biases + (layers - n2) * lora + classifier,
        "adapters": adapter_params(config, bottleneck) + classifier,
        "prefix": prefix_params(config, length) + classifier,
        "prompt": prompt_params(config, length) + classifier,
        "ia3": ia3_params(config) + classifier,
        "qlora": layers * lora_params_per_layer(config, ALL_LINEAR, r) + classifier,
        # the top layer, the pooler where the head reads one (it sits between that layer and the classifier)
        "ulmfit_first_stage": layer_params(config) + (pooler_params(config) if head == "cls" else 0) + classifier,
    }
