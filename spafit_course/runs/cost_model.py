"""What SPAFIT should cost, as a model (lesson 05, `spafit-course bench`): pure functions of the depth, the SPAFIT
boundaries and a few sizes, whose ratios to full fine-tuning the bench prints beside the measured ones.

The forward pass runs through every layer; the backward pass runs from layer N1+1 up; weight gradients and
optimizer state exist only for what trains.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tuning.methods import check_method


@dataclass(frozen=True)
class LayerCost:
    """Cost of one transformer layer for one batch, in FLOP-like units (forward = 1).

    Backward costs about twice the forward: one half computes the gradient with respect to the layer's input
    (needed to reach any trainable parameter below), the other the gradient with respect to its weight matrices
    (needed only where those matrices train).
    """

    forward: float = 1.0
    activation_backward: float = 1.0
    weight_gradient: float = 1.0


def step_cost(num_layers: int, n1: int, n2: int, weights_train: bool = False, lora_fraction: float = 0.0,
              embeddings: float = 0.0, cost: LayerCost = LayerCost()) -> dict:
    """Predicted cost of one training step of a stratified model (lesson 05), split into its three parts.

    Layers 1..n1 are frozen, n1+1..n2 train biases, n2+1..L carry LoRA (each LoRA layer costs `lora_fraction`
    of a layer extra in every part); `weights_train` means every layer's matrices train (full fine-tuning,
    given as n1=0, n2=L). Every layer runs forward; only layers n1+1..L need the activation backward, because
    nothing below them trains; weight gradients are paid only where matrices (or LoRA factors) train.
    `embeddings` is the embeddings' backward cost in layer units, paid only when their weights train.

    Returns {"forward", "activation_backward", "weight_gradient", "total"}.
    """
    if not (isinstance(num_layers, int) and num_layers > 0):
        raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
    if not 0 <= n1 <= n2 <= num_layers:
        raise ValueError(f"need 0 <= N1 <= N2 <= L = {num_layers}, got N1={n1}, N2={n2}")
    if lora_fraction < 0 or embeddings < 0:
        raise ValueError(f"lora_fraction and embeddings must be >= 0, got {lora_fraction}, {embeddings}")
    lora_layers = num_layers - n2
    extra = lora_layers * lora_fraction
    forward = (num_layers + extra) * cost.forward
    activation = (num_layers - n1 + extra) * cost.activation_backward
    weights = ((num_layers + embeddings) if weights_train else 0.0) + extra
    parts = {"forward": forward, "activation_backward": activation, "weight_gradient": weights * cost.weight_gradient}
    parts["total"] = sum(parts.values())
    return parts


def activation_values_per_token(hidden: int, intermediate: int, weights_train: bool = False,
                                lora: bool = False) -> float:
    """Values one layer keeps for its backward, per token (fused attention, PyTorch's autograd).

    Any layer that needs a backward keeps query, key, value and the attention output (4H, for the attention
    backward), the inputs of both LayerNorms (2H), the FFN's GELU input (I) and two dropout masks (bytes: H/4
    each, in units of 4-byte values). A layer whose matrices train also keeps each matrix's input, which a
    frozen matrix does not need: the attention input, the attention output's input, the FFN input and the GELU
    output (3H + I). A LoRA layer keeps the input of its adapted matrices (H).
    """
    values = 4 * hidden + 2 * hidden + intermediate + 2 * hidden / 4
    if weights_train:
        values += 3 * hidden + intermediate
    elif lora:
        values += hidden
    return values


def memory_cost(trainable: int, num_layers: int, n1: int, n2: int, tokens: int, hidden: int, intermediate: int,
                weights_train: bool = False, bytes_per_value: int = 4, optimizer_states: int = 2,
                activation_bytes: int | None = None) -> dict:
    """Predicted memory (bytes) a training step adds to the loaded model (lesson 05).

    Gradients and AdamW's two moment estimates for every trainable parameter, plus the activations kept for the
    backward of layers n1+1..L (`activation_values_per_token`): layers n2+1..L carry LoRA unless
    `weights_train` (full fine-tuning, every layer keeps its matrices' inputs). Parameters, gradients and
    optimizer state take `bytes_per_value` each; activations `activation_bytes` (default the same; 2 under
    bf16 autocast).
    Returns {"gradients_and_optimizer", "activations", "total"}.
    """
    if not 0 <= n1 <= n2 <= num_layers:
        raise ValueError(f"need 0 <= N1 <= N2 <= L = {num_layers}, got N1={n1}, N2={n2}")
    state = trainable * (1 + optimizer_states) * bytes_per_value
    if weights_train:
        per_token = (num_layers - n1) * activation_values_per_token(hidden, intermediate, weights_train=True)
    else:
        per_token = ((n2 - n1) * activation_values_per_token(hidden, intermediate)
                     + (num_layers - n2) * activation_values_per_token(hidden, intermediate, lora=True))
    activations = per_token * tokens * (activation_bytes or bytes_per_value)
    return {"gradients_and_optimizer": state, "activations": activations, "total": state + activations}


def method_shape(method: str, num_layers: int, config) -> dict:
    """The (n1, n2, weights_train) the cost model sees for a method, from its SpafitConfig (None: full)."""
    check_method(method)
    if config is None:
        return {"n1": 0, "n2": num_layers, "weights_train": True}
    return {"n1": config.n1, "n2": config.n2, "weights_train": False}


def ratios(values: dict, reference: str = "full") -> dict:
    """Each value divided by the reference method's value (NaN where the reference is missing or zero)."""
    base = values.get(reference)
    return {k: (v / base if base else float("nan")) for k, v in values.items()}


def model_facts(spec: dict) -> dict:
    """Depth and sizes of the bench's model, read on the meta device (no weights loaded)."""
    from ..tuning.architectures import num_layers
    from .models import meta_model, model_config, tiny_config

    config = (tiny_config("bert", spec.get("tiny_layers", 6), spec.get("tiny_hidden", 64)) if spec.get("tiny")
              else model_config(spec["model"], 2))
    model = meta_model(config)
    return {"num_layers": num_layers(model), "hidden": config.hidden_size,
            "intermediate": config.intermediate_size, "heads": config.num_attention_heads,
            "model_type": config.model_type, "config": config}


def lora_fraction(facts: dict, config, seq_length: int) -> float:
    """Extra multiply-adds of one LoRA layer relative to the layer's own, per token (r(in+out) per target)."""
    from ..tuning.closed_form import lora_params_per_layer

    if config is None or config.n2 >= facts["num_layers"]:
        return 0.0
    h, i = facts["hidden"], facts["intermediate"]
    layer = 4 * h * h + 2 * h * i + 2 * seq_length * h  # the six matrices plus QK^T and attention-times-V
    return lora_params_per_layer(facts["config"], config.targets, config.r) / layer


def default_boundaries(num_layers: int) -> tuple[int, int]:
    """The quick profile's SPAFIT boundaries (2, 4 of 6 layers), scaled to another depth."""
    from .profiles import get_profile
    from ..tuning.spafit import scaled_boundaries

    s = get_profile("quick").spafit
    return scaled_boundaries(num_layers, s["n1"], s["n2"], paper_layers=6)


def predictions(methods, facts: dict, n1: int, n2: int, batch_size: int, seq_length: int,
                activation_bytes: int = 4) -> dict:
    """{method: {"step", "forward", "memory", "trainable"}} from the cost model, on the meta device."""
    from .counting import method_counts
    from ..tuning.methods import method_config
    from .profiles import get_profile

    layers = facts["num_layers"]
    profile = get_profile("quick")
    profile = profile.with_overrides(spafit={**profile.spafit, "n1": n1, "n2": n2})
    configs = {m: method_config(m, layers, profile) for m in methods}
    counts = method_counts(facts["config"], configs)
    out = {}
    for m, config in configs.items():
        shape = method_shape(m, layers, config)
        fraction = lora_fraction(facts, config, seq_length)
        step = step_cost(layers, shape["n1"], shape["n2"], shape["weights_train"], fraction)
        memory = memory_cost(counts[m].trainable, layers, shape["n1"], shape["n2"], batch_size * seq_length,
                             facts["hidden"], facts["intermediate"], shape["weights_train"],
                             activation_bytes=activation_bytes)
        out[m] = {"step": step["total"], "forward": step["forward"], "memory": memory["total"],
                  "trainable": counts[m].trainable, "n1": shape["n1"], "n2": shape["n2"], "lora_fraction": fraction}
    return out
