"""What SPAFIT should cost, as a model (lesson 07, `spafit-course bench`): pure functions of the depth, the SPAFIT
boundaries and a few sizes, whose ratios to full fine-tuning the bench and lesson 07 print beside the measured ones.

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
    """Predicted cost of one training step of a stratified model (lesson 07), split into its three parts.

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


ATTENTION_KINDS = ("fused", "math")


def activation_values_per_token(hidden: int, intermediate: int, weights_train: bool = False,
                                lora: bool = False, attention: str = "fused", heads: int = 0,
                                seq_length: int = 0) -> float:
    """Values one layer keeps for its backward, per token (PyTorch's autograd; lesson 07 measures them).

    `attention="fused"` (scaled-dot-product attention on a GPU): query, key, value and the attention output (4H,
    for the attention backward), the inputs of both LayerNorms (2H), the FFN's GELU input (I) and two dropout
    masks (bytes: H/4 each, in units of 4-byte values). `attention="math"` (PyTorch's fallback on a CPU when
    attention dropout is on): query, key and value (3H), the attention probabilities, their dropout mask and the
    dropped probabilities (3 x heads x seq_length), the LayerNorm inputs (2H), the GELU input (I) and two dropout
    masks stored as floats (2H). Either way a layer whose matrices train also keeps each matrix's input, which a
    frozen matrix does not need: the attention input, the attention output's input, the FFN input and the GELU
    output (3H + I); a LoRA layer keeps the input of its adapted matrices (H).
    """
    if attention not in ATTENTION_KINDS:
        raise ValueError(f"attention must be one of {', '.join(ATTENTION_KINDS)}, got {attention!r}")
    if attention == "fused":
        values = 4 * hidden + 2 * hidden + intermediate + 2 * hidden / 4
    elif heads <= 0 or seq_length <= 0:
        raise ValueError(f"attention='math' needs heads and seq_length > 0, got {heads}, {seq_length}")
    else:
        values = 3 * hidden + 3 * heads * seq_length + 2 * hidden + intermediate + 2 * hidden
    if weights_train:
        values += 3 * hidden + intermediate
    elif lora:
        values += hidden
    return values


def attention_kind(device: str, attention_dropout: float, training: bool = True) -> str:
    """Which attention `activation_values_per_token` should assume: PyTorch fuses attention on a GPU, and on a
    CPU unless dropout is on in training, where it falls back to the math path that keeps the probabilities."""
    return "math" if device != "cuda" and training and attention_dropout > 0 else "fused"


def memory_cost(trainable: int, num_layers: int, n1: int, n2: int, tokens: int, hidden: int, intermediate: int,
                weights_train: bool = False, bytes_per_value: int = 4, optimizer_states: int = 2,
                activation_bytes: int | None = None, attention: str = "fused", heads: int = 0,
                seq_length: int = 0) -> dict:
    """Predicted memory (bytes) a training step adds to the loaded model (lesson 07).

    Gradients and AdamW's two moment estimates for every trainable parameter, plus the activations kept for the
    backward of layers n1+1..L (`activation_values_per_token`, with `attention`, `heads` and `seq_length`):
    layers n2+1..L carry LoRA unless `weights_train` (full fine-tuning, every layer keeps its matrices' inputs).
    Parameters, gradients and optimizer state take `bytes_per_value` each; activations `activation_bytes`
    (default the same; 2 under bf16 autocast).
    Returns {"gradients", "optimizer_state", "gradients_and_optimizer", "activations", "total"}.
    """
    if not 0 <= n1 <= n2 <= num_layers:
        raise ValueError(f"need 0 <= N1 <= N2 <= L = {num_layers}, got N1={n1}, N2={n2}")
    shape = {"attention": attention, "heads": heads, "seq_length": seq_length}
    gradients = trainable * bytes_per_value
    optimizer = trainable * optimizer_states * bytes_per_value
    if weights_train:
        per_token = (num_layers - n1) * activation_values_per_token(hidden, intermediate, True, **shape)
    else:
        per_token = ((n2 - n1) * activation_values_per_token(hidden, intermediate, **shape)
                     + (num_layers - n2) * activation_values_per_token(hidden, intermediate, lora=True, **shape))
    activations = per_token * tokens * (activation_bytes or bytes_per_value)
    return {"gradients": gradients, "optimizer_state": optimizer, "gradients_and_optimizer": gradients + optimizer,
            "activations": activations, "total": gradients + optimizer + activations}


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
            "attention_dropout": getattr(config, "attention_probs_dropout_prob", 0.0) or 0.0,
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
                activation_bytes: int = 4, attention: str = "fused", profile=None) -> dict:
    """{method: {"step", "forward", "memory", "trainable", "parts", ...}} from the cost model, on the meta device.

    The methods are the `profile`'s (default quick: its LoRA rank and targets), SPAFIT at (n1, n2); "parts" is
    the memory of a training step split into "weights", "gradients", "optimizer_state" and "activations" (bytes),
    and "memory" what a step adds to the loaded model (all but the weights).
    """
    from ..tuning.methods import method_config
    from .profiles import get_profile

    layers = facts["num_layers"]
    profile = profile or get_profile("quick")
    profile = profile.with_overrides(spafit={**profile.spafit, "n1": n1, "n2": n2})
    configs = {m: method_config(m, layers, profile) for m in methods}
    counts = _counts(facts["config"], configs)
    out = {}
    for m, config in configs.items():
        shape = method_shape(m, layers, config)
        fraction = lora_fraction(facts, config, seq_length)
        step = step_cost(layers, shape["n1"], shape["n2"], shape["weights_train"], fraction)
        memory = memory_cost(counts[m].trainable, layers, shape["n1"], shape["n2"], batch_size * seq_length,
                             facts["hidden"], facts["intermediate"], shape["weights_train"],
                             activation_bytes=activation_bytes, attention=attention, heads=facts["heads"],
                             seq_length=seq_length)
        parts = {"weights": counts[m].total * 4, "gradients": memory["gradients"],
                 "optimizer_state": memory["optimizer_state"], "activations": memory["activations"]}
        out[m] = {"step": step["total"], "forward": step["forward"], "memory": memory["total"], "parts": parts,
                  "backward_layers": layers - shape["n1"], "trainable": counts[m].trainable,
                  "total": counts[m].total, "n1": shape["n1"], "n2": shape["n2"], "lora_fraction": fraction}
    return out


def _counts(config, configs: dict) -> dict:
    """Parameter counts per method: BERT's closed form (microseconds; tests hold it to the real models), else a
    meta-device model per method."""
    from ..tuning.closed_form import closed_form_count
    from .counting import method_counts

    if config.model_type == "bert":
        return {m: closed_form_count(config, c) for m, c in configs.items()}
    return method_counts(config, configs)
