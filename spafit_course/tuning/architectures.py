"""Where each encoder family keeps its layer stack and its weight matrices (lessons 00 and 04).

Every method in the course works layer by layer, so it needs two facts about a model: the list of its
transformer layers, and the path inside one layer to each matrix LoRA may target. This module holds those facts
for BERT, RoBERTa, ELECTRA, DeBERTa-v2 and DistilBERT, and refuses models where per-layer training is not
meaningful (ALBERT shares one set of weights across all its layers).
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

#: The course's names for the six weight matrices of a transformer layer, in the order they are applied.
TARGETS = ("query", "key", "value", "attention_output", "ffn_in", "ffn_out")

_BERT_LIKE = {
    "query": "attention.self.query",
    "key": "attention.self.key",
    "value": "attention.self.value",
    "attention_output": "attention.output.dense",
    "ffn_in": "intermediate.dense",
    "ffn_out": "output.dense",
}


@dataclass(frozen=True)
class Architecture:
    """The layer-stack path (relative to the base model) and the target matrix paths (relative to one layer)."""

    family: str
    layers_path: str
    target_paths: dict


ARCHITECTURES = {
    "bert": Architecture("bert", "encoder.layer", _BERT_LIKE),
    "roberta": Architecture("roberta", "encoder.layer", _BERT_LIKE),
    "electra": Architecture("electra", "encoder.layer", _BERT_LIKE),
    "deberta-v2": Architecture(
        "deberta-v2",
        "encoder.layer",
        {**_BERT_LIKE, "query": "attention.self.query_proj", "key": "attention.self.key_proj",
         "value": "attention.self.value_proj"},
    ),
    "distilbert": Architecture(
        "distilbert",
        "transformer.layer",
        {"query": "attention.q_lin", "key": "attention.k_lin", "value": "attention.v_lin",
         "attention_output": "attention.out_lin", "ffn_in": "ffn.lin1", "ffn_out": "ffn.lin2"},
    ),
}

_SHARED_WEIGHTS = {"albert": "ALBERT shares one set of layer weights across all its layers"}


class UnsupportedModelError(ValueError):
    """Raised when a model's layer stack cannot be found, or when its layers are not independent."""


def architecture_of(model: nn.Module) -> Architecture:
    """The `Architecture` of a Hugging Face encoder, or a clear error naming the supported families."""
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type is None:
        # A plain nn.Module (or a wrapper) gives no family to look up, so say that rather than "type None".
        raise UnsupportedModelError(
            f"cannot find the layer stack of this {type(model).__name__}: it is not a Hugging Face model "
            f"(no config.model_type); supported model types: {', '.join(sorted(ARCHITECTURES))}"
        )
    if model_type in _SHARED_WEIGHTS:
        raise UnsupportedModelError(
            f"SPAFIT does not apply to model type {model_type!r}: {_SHARED_WEIGHTS[model_type]}, "
            "so 'freeze layers 1..N1' and 'LoRA on layers N2+1..L' would touch the same weights."
        )
    if model_type not in ARCHITECTURES:
        raise UnsupportedModelError(
            f"cannot find the layer stack of model type {model_type!r}; "
            f"supported model types: {', '.join(sorted(ARCHITECTURES))}"
        )
    return ARCHITECTURES[model_type]


def base_model_of(model: nn.Module) -> nn.Module:
    """The encoder without its task head (`model.bert`, `model.distilbert`, ...), or the model itself."""
    return getattr(model, "base_model", model)


def get_layers(model: nn.Module) -> nn.ModuleList:
    """The model's transformer layers, input side first (layer 1 of the course is index 0 here)."""
    arch = architecture_of(model)
    try:
        layers = base_model_of(model).get_submodule(arch.layers_path)
    except AttributeError:
        raise UnsupportedModelError(
            f"cannot find the layer stack {arch.layers_path!r} in this {type(model).__name__} "
            f"(model type {arch.family!r})"
        ) from None
    if not isinstance(layers, nn.ModuleList) or len(layers) == 0:
        raise UnsupportedModelError(f"{arch.layers_path!r} of this {arch.family} model is not a list of layers")
    return layers


def num_layers(model: nn.Module) -> int:
    """L, the number of transformer layers."""
    return len(get_layers(model))


def resolve_targets(model: nn.Module, targets) -> dict:
    """Map the course's target names to this architecture's module paths; unknown names fail early."""
    get_layers(model)  # an unsupported model fails here, before any caller has frozen a parameter
    arch = architecture_of(model)
    if isinstance(targets, str):
        targets = (targets,)
    targets = tuple(targets)
    if not targets:
        raise ValueError(f"LoRA needs at least one target; choose from {', '.join(TARGETS)}")
    unknown = [t for t in targets if t not in arch.target_paths]
    if unknown:
        raise ValueError(f"unknown LoRA target(s) {unknown}; choose from {', '.join(TARGETS)}")
    return {t: arch.target_paths[t] for t in targets}


def head_parameter_names(model: nn.Module) -> list[str]:
    """Names of the task head's parameters: everything outside the base encoder (classifier, DeBERTa's pooler)."""
    prefix = getattr(model, "base_model_prefix", "")
    base = base_model_of(model)
    if base is model or not prefix:
        return []
    return [name for name, _ in model.named_parameters() if not name.startswith(prefix + ".")]


def pooler_of(model: nn.Module) -> nn.Module | None:
    """The base model's pooler (BERT's dense layer over [CLS]) if it has one."""
    return getattr(base_model_of(model), "pooler", None)
