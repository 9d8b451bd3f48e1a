"""Loading a peft LoRA adapter into a course model (lesson 02's LoRALinear in place of peft's LoRA layer).

`load_peft_adapter` reads the two files peft's `save_pretrained` writes (`peft_format.py` writes them too),
checks all of it against the model, and only then wraps the targeted Linear layers in `LoRALinear` and copies
the tensors in. peft methods the course does not have (IA3, prefix tuning, DoRA, ...) are refused by name.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch
from torch import nn

from .adapter_format import CONFIG_NAME
from .architectures import get_layers, head_parameter_names
from .freezing import freeze_all
from .heads import head_of
from .lora import LoRALinear, check_lora_hyperparameters, lora_modules
from .peft_format import HEAD_METADATA, PEFT_CONFIG_NAME, PEFT_PREFIX, PEFT_WEIGHTS_NAME, peft_files

#: Entries of adapter_config.json that do not change what a loaded LoRA adapter computes, or that are read here.
_READ_OR_INERT = {"peft_type", "task_type", "base_model_name_or_path", "revision", "inference_mode", "auto_mapping",
                  "peft_version", "r", "lora_alpha", "lora_dropout", "target_modules", "layers_to_transform",
                  "layers_pattern", "exclude_modules", "bias", "modules_to_save", "init_lora_weights",
                  "loftq_config", "eva_config", "corda_config", "lora_ga_config", "megatron_config", "megatron_core",
                  "ensure_weight_tying"}
#: Initialisations that leave the base weights as they are (pissa, olora, corda and loftq change them).
_PLAIN_INITS = (True, False, "gaussian", "eva", "orthogonal")
_CLASSIFIER_NAMES = ["classifier", "score"]  # what peft adds to modules_to_save for task_type SEQ_CLS


def load_peft_adapter(model: nn.Module, folder) -> nn.Module:
    """Apply the peft LoRA adapter in `folder` to the fresh base `model`, in place, with the course's LoRALinear.

    Every check runs first (the files, the config's method and options, each tensor's name, shape and values,
    the task head), so a bad adapter raises one error naming the file and the entry and leaves the model as it
    was. What the adapter holds trains afterwards (LoRA's A and B, its biases, its head), the rest is frozen.
    Returns the model in eval mode, with the adapter's config as `model.peft_adapter_config`.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"load_peft_adapter needs a model (an nn.Module), got {type(model).__name__}")
    config = read_peft_config(folder)
    tensors, metadata = read_peft_tensors(folder)
    lora, params = plan_peft_load(model, config, tensors, metadata, folder)

    freeze_all(model)
    current = dict(model.named_parameters())
    with torch.no_grad():
        for name, tensor in params.items():  # before wrapping: a wrapped layer's bias moves to `<name>.base.bias`
            current[name].copy_(tensor)
            current[name].requires_grad_(True)
        for path, (a, b) in lora.items():
            parent, _, child = path.rpartition(".")
            layer = LoRALinear(model.get_submodule(path), config["r"], config["lora_alpha"], config["lora_dropout"])
            layer.lora_A.copy_(a)
            layer.lora_B.copy_(b)
            setattr(model.get_submodule(parent) if parent else model, child, layer)
    model.peft_adapter_config = config
    return model.eval()


def read_peft_config(folder) -> dict:
    """adapter_config.json of a plain LoRA adapter, or one error naming the file and the entry that is not."""
    if folder is None or str(folder) == "" or not Path(folder).is_dir():
        raise FileNotFoundError(f"no adapter folder at {folder}")
    config_file, _ = peft_files(folder)
    if not config_file.is_file():
        hint = (f"; it holds {CONFIG_NAME}, a spafit-course adapter: load it with load_adapter"
                if (Path(folder) / CONFIG_NAME).is_file() else "")
        raise FileNotFoundError(f"{folder} is not a peft adapter: it has no {PEFT_CONFIG_NAME} (peft's "
                                f"save_pretrained writes {PEFT_CONFIG_NAME} and {PEFT_WEIGHTS_NAME}){hint}")
    try:
        config = json.loads(config_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{config_file} is not valid JSON ({error})") from None
    if not isinstance(config, dict) or "peft_type" not in config:
        raise ValueError(f"{config_file} has no peft_type entry, so it is not a peft adapter config")
    if config["peft_type"] != "LORA":
        raise ValueError(f"{config_file}: peft_type {config['peft_type']!r} is a peft method the course does not "
                         "have; load_peft_adapter reads LoRA adapters (peft_type \"LORA\", lesson 02)")
    if config.get("task_type") not in (None, "SEQ_CLS"):
        raise ValueError(f"{config_file}: task_type {config['task_type']!r}; the course's models are sequence "
                         "classifiers (task_type \"SEQ_CLS\")")
    try:
        r, alpha, dropout = check_lora_hyperparameters(config.get("r"), config.get("lora_alpha"),
                                                       config.get("lora_dropout", 0.0))
    except ValueError as error:
        raise ValueError(f"{config_file}: r, lora_alpha or lora_dropout: {error}") from None
    config.update(r=r, lora_alpha=alpha, lora_dropout=dropout)
    if config.get("bias", "none") not in ("none", "all", "lora_only"):
        raise ValueError(f"{config_file}: bias must be \"none\", \"all\" or \"lora_only\", got {config['bias']!r}")
    if config.get("init_lora_weights", True) not in _PLAIN_INITS:
        raise ValueError(f"{config_file}: init_lora_weights {config['init_lora_weights']!r} changed the base "
                         "weights when the adapter was made, so it fits only that changed model; the course's "
                         f"LoRA starts from the unchanged base (allowed: {', '.join(map(str, _PLAIN_INITS))})")
    for field, value in config.items():
        if field not in _READ_OR_INERT and not _is_default(field, value):
            raise ValueError(f"{config_file}: {field} = {json.dumps(value)} makes a LoRA variant the course's "
                             "LoRALinear does not compute (it computes x W^T + b + lora_alpha/r * x A^T B^T)")
    if not config.get("target_modules"):
        raise ValueError(f"{config_file}: target_modules is missing; peft writes the modules it wrapped there")
    return config


def _is_default(field: str, value) -> bool:
    """Whether `value` is peft's default for this LoraConfig field (an entry unknown to peft: whether it is empty)."""
    from peft import LoraConfig

    known = {f.name: f for f in dataclasses.fields(LoraConfig)}
    if field not in known:
        return not value
    f = known[field]
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    return value == default or (not value and not default)


def read_peft_tensors(folder) -> tuple[dict[str, torch.Tensor], dict]:
    """adapter_model.safetensors' tensors and metadata, or an error naming the file."""
    from safetensors import safe_open

    _, weights = peft_files(folder)
    if not weights.is_file():
        other = " (it has adapter_model.bin: re-save it with save_pretrained(..., safe_serialization=True))" \
            if (Path(folder) / "adapter_model.bin").is_file() else ""
        raise FileNotFoundError(f"{folder} has no {PEFT_WEIGHTS_NAME}{other}")
    try:
        with safe_open(str(weights), "pt") as handle:
            return {key: handle.get_tensor(key) for key in handle.keys()}, handle.metadata() or {}
    except Exception as error:  # safetensors raises its own SafetensorError for truncated or garbled files
        raise ValueError(f"cannot read {weights}: {error} (the file is truncated or not a safetensors file)") from None


def plan_peft_load(model: nn.Module, config: dict, tensors: dict, metadata: dict, folder):
    """({module path: (A, B)}, {parameter name: tensor}) to apply, after checking each against the model."""
    _, weights = peft_files(folder)
    get_layers(model)  # an unsupported model fails here, naming the supported families
    if getattr(model, "spafit_config", None) is not None or lora_modules(model):
        raise ValueError("load_peft_adapter needs a fresh base model, but this one already has SPAFIT or LoRA")
    head = metadata.get(HEAD_METADATA)
    if head is not None and head != head_of(model):
        raise ValueError(f"{weights}: metadata {HEAD_METADATA} is {head!r}: the adapter's classifier reads that "
                         f"head (heads.py), but the model has the {head_of(model)!r} head; build the model with "
                         f"head={head!r}")
    lora, params = _sort_tensors(tensors, weights)
    problems = _check_lora(model, config, lora, weights) + _check_params(model, params, weights)
    broken = [key for key, t in tensors.items() if t.is_floating_point() and not torch.isfinite(t).all()]
    problems += [f"{key} holds NaN or infinite values" for key in broken[:3]]
    if problems:
        raise ValueError(f"{weights} does not fit this model: " + "; ".join(problems[:4]))
    return {path: (ab["A"], ab["B"]) for path, ab in lora.items()}, params


def _sort_tensors(tensors: dict, weights: Path) -> tuple[dict, dict]:
    """Split the file's keys into LoRA pairs by module and other parameters by their name in the base model."""
    lora, params = {}, {}
    # peft's own names first: a saved module's "modules_to_save" twin of a key must not replace it
    for key in sorted(tensors, key=lambda k: ".modules_to_save." in k):
        parts = key.removeprefix(PEFT_PREFIX).split(".")
        if "original_module" in parts:  # the frozen copy peft keeps beside a saved module
            continue
        parts = [p for p in parts if p not in ("modules_to_save", "base_layer")]
        if len(parts) > 2 and parts[-2] in ("lora_A", "lora_B") and parts[-1] == "weight":
            lora.setdefault(".".join(parts[:-2]), {})[parts[-2][-1]] = tensors[key]
        elif any(p.startswith("lora_") for p in parts):
            raise ValueError(f"{weights}: {key} is not plain LoRA on a Linear layer (the course's LoRALinear "
                             "has lora_A and lora_B only)")
        else:
            params.setdefault(".".join(parts), tensors[key])
    return lora, params


def _check_lora(model: nn.Module, config: dict, lora: dict, weights: Path) -> list[str]:
    problems = []
    targeted = _targeted(model, config)
    if set(lora) != targeted:
        only_file, only_config = sorted(set(lora) - targeted), sorted(targeted - set(lora))
        problems.append(f"its LoRA weights are for {len(lora)} modules, but target_modules in {PEFT_CONFIG_NAME} "
                        f"selects {len(targeted)} of this model (only in the file: {only_file[:2]}, only "
                        f"selected: {only_config[:2]})")
    r = config["r"]
    for path, ab in sorted(lora.items()):
        if set(ab) != {"A", "B"}:
            problems.append(f"{path} has lora_{''.join(ab)} without its partner")
            continue
        module = _submodule(model, path)
        if not isinstance(module, nn.Linear):
            what = "no such module" if module is None else f"a {type(module).__name__}"
            problems.append(f"LoRA for {path}: this model has {what} there (an adapter for another base model?)")
            continue
        for part, expected in (("A", (r, module.in_features)), ("B", (module.out_features, r))):
            if tuple(ab[part].shape) != expected:
                problems.append(f"{path}.lora_{part}.weight has shape {list(ab[part].shape)}, this model and r={r} "
                                f"need {list(expected)}")
    return problems


def _targeted(model: nn.Module, config: dict) -> set[str]:
    """The modules of `model` that peft would wrap under this config (peft's own matching)."""
    from peft import LoraConfig
    from peft.tuners.tuners_utils import check_target_module_exists

    saved = list(config.get("modules_to_save") or [])
    if config.get("task_type") == "SEQ_CLS":
        saved += _CLASSIFIER_NAMES
    try:
        matching = LoraConfig(target_modules=config["target_modules"], modules_to_save=saved,
                              layers_to_transform=config.get("layers_to_transform"),
                              layers_pattern=config.get("layers_pattern"),
                              exclude_modules=config.get("exclude_modules"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{PEFT_CONFIG_NAME}: peft refuses its target_modules or layers entries: {error}") from None
    return {name for name, _ in model.named_modules() if name and check_target_module_exists(matching, name)}


def _check_params(model: nn.Module, params: dict, weights: Path) -> list[str]:
    """Each non-LoRA tensor has a parameter of its shape, and the task head is in the file."""
    own = dict(model.named_parameters())
    head = head_parameter_names(model)
    problems = [f"{name}: this model has no such parameter (an adapter for another base model?)"
                for name in sorted(params) if name not in own][:2]
    for name in sorted(set(params) & set(own)):
        if tuple(params[name].shape) != tuple(own[name].shape):
            labels = name in head and params[name].shape[1:] == own[name].shape[1:]
            why = (f" (an adapter for another task head: {params[name].shape[0]} labels where this model has "
                   f"{own[name].shape[0]}; build the model with num_labels={params[name].shape[0]})"
                   if labels else " (an adapter for a base model of another size?)")
            problems.append(f"{name} has shape {list(params[name].shape)}, this model's {list(own[name].shape)}{why}")
    missing = [name for name in head if name not in params]
    if missing:
        problems.append(f"it has no weights for this model's task head {missing} (an adapter for another task head "
                        "would leave that head at random)")
    return problems


def _submodule(model: nn.Module, path: str) -> nn.Module | None:
    try:
        return model.get_submodule(path)
    except AttributeError:
        return None
