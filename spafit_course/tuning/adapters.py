"""Saving, loading and merging adapters (lesson 05 and `spafit-course compare --save-adapters | predict`).

An adapter is what a parameter-efficient method trained, and nothing else: the LoRA matrices, the biases and
the task head. It is a folder of two files,

    spafit_adapter.safetensors   the trained tensors, by their names in the adapted model
    spafit_adapter.json          how to rebuild the model: base model name, SpafitConfig, task, label count,
                                 the head ("cls" or "mean", heads.py), model type, hidden size, layer count,
                                 package version, tensor names and shapes, the weights file's SHA-256

so a few hundred kilobytes turn the shared base model into the fine-tuned one. `load_adapter` applies SPAFIT
with the saved config to a fresh base model with the saved head and loads the tensors; `merge_adapter` folds LoRA into the weights
for inference. Full fine-tuning has no adapter (every weight trained): `save_adapter` refuses it and points to
`model.save_pretrained`, which writes the whole model with its config.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import torch
from torch import nn

# the format's names are re-exported: callers import them from here
from .adapter_format import (CONFIG_NAME, FORMAT, FORMAT_VERSION, WEIGHTS_NAME, adapter_files,  # noqa: F401
                             adapter_head, adapter_size_bytes, base_model_facts, check_adapter_folder,
                             check_adapter_info)
from .architectures import num_layers
from .atomic import atomic_files
from .lora import lora_modules
from .quiet import quiet_hf
from .spafit import SpafitConfig, apply_spafit


# --- saving ----------------------------------------------------------------------------------------------------

def save_adapter(model: nn.Module, path, base_model_name: str | None = None, task: str | None = None,
                 max_length: int | None = None, label_names=None, metadata: dict | None = None) -> Path:
    """Write what trained (requires_grad parameters) and how to rebuild the model into the folder `path`.

    The model must have been prepared by `apply_spafit` (which `methods.prepare_model` uses for BitFit, LoRA
    and SPAFIT), since the saved `SpafitConfig` is how `load_adapter` rebuilds it. `base_model_name` is what
    `load_adapter` and `spafit-course predict` load when given no model; `max_length` and `label_names` are
    kept for prediction; `metadata` is any extra JSON-able record. Returns the folder.
    """
    from safetensors.torch import save_file

    from .. import __version__

    config = getattr(model, "spafit_config", None)
    if not isinstance(config, SpafitConfig):
        raise ValueError(
            "this model has no spafit_config, so it was not prepared by apply_spafit (full fine-tuning, or "
            "apply_bitfit/apply_lora by hand): there is no adapter to save. Prepare the model with "
            "apply_spafit or methods.prepare_model, or save the whole model with model.save_pretrained(path)."
        )
    config.validate()  # it may have been edited since apply_spafit
    if getattr(model, "adapter_merged", False):
        raise ValueError("this model's LoRA is merged into its weights (merge_adapter), so the LoRA matrices are "
                         "gone; save the adapter before merging, or save the merged model with save_pretrained")
    if config.n2 < num_layers(model) and not lora_modules(model):
        raise ValueError(f"spafit_config puts layers {config.n2 + 1}..{num_layers(model)} in the LoRA group, but "
                         "the model has no LoRA layers; save the adapter from the model apply_spafit returned")
    tensors = {name: p.detach().to("cpu").contiguous() for name, p in model.named_parameters() if p.requires_grad}
    if not tensors:
        raise ValueError("no parameter of this model trains (requires_grad), so the adapter would be empty")

    folder = check_adapter_folder(path)
    weights, config_file = adapter_files(folder)
    info = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "package_version": __version__,
        "base_model_name": base_model_name, "task": task, "architecture": type(model).__name__,
        **base_model_facts(model),
        "max_length": max_length, "label_names": list(label_names) if label_names is not None else None,
        "spafit_config": config.to_dict(),
        "tensors": {name: list(t.shape) for name, t in tensors.items()},
        "metadata": metadata or {},
    }
    check_adapter_info(info, f"cannot save adapter {folder}")
    twin = _fresh_twin(model)
    if twin is not None:  # the dry run load_adapter will make, so an adapter that saves also loads
        check_tensors_fit(tensors, _spafit_shapes(twin, config), folder)
    # both files are complete before either replaces the previous adapter's, so a failed save leaves it loadable;
    # the description names its weights by their digest, so a reader that meets the new weights beside the old
    # description (a save in progress, or files of two saves) refuses the pair instead of mixing them
    with atomic_files(weights, config_file) as (new_weights, new_config):
        save_file(tensors, str(new_weights), metadata={"format": "pt"})
        info["weights_sha256"] = hashlib.sha256(new_weights.read_bytes()).hexdigest()
        new_config.write_text(json.dumps(info, indent=2) + "\n")
    return folder


# --- reading and checking, before any model changes ------------------------------------------------------------

def read_adapter_config(path) -> dict:
    """The adapter's JSON config, or a clear error: missing folder or files, unreadable JSON, foreign format."""
    if path is None or str(path) == "":
        raise FileNotFoundError("the adapter path is empty; give the adapter's folder")
    weights, config_file = adapter_files(path)
    if not Path(path).is_dir():
        raise FileNotFoundError(f"no adapter folder at {path}")
    for f in (config_file, weights):
        if not f.is_file():
            raise FileNotFoundError(f"adapter {path} has no {f.name}; an adapter folder holds {CONFIG_NAME} and "
                                    f"{WEIGHTS_NAME}, as save_adapter writes them")
    try:
        info = json.loads(config_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{config_file} is not valid JSON ({error})") from None
    if not isinstance(info, dict) or info.get("format") != FORMAT:
        raise ValueError(f"{config_file} is not a {FORMAT} config (no \"format\": \"{FORMAT}\" entry)")
    check_adapter_info(info, config_file)
    return info


def read_adapter_tensors(path, info: dict | None = None) -> dict[str, torch.Tensor]:
    """The saved tensors, checked against the config: its digest of the file (when it records one), its list of
    names and shapes, and finite floating-point values."""
    from safetensors.torch import load

    weights, config_file = adapter_files(path)
    info = info if info is not None else read_adapter_config(path)
    data = weights.read_bytes()  # read once: the digest and the tensors are of the same bytes
    try:
        tensors = dict(sorted(load(data).items()))  # by name, as load_file gives them
    except Exception as error:  # safetensors raises its own SafetensorError for truncated or garbled files
        raise ValueError(f"cannot read {weights}: {error} (the file is truncated or not a safetensors file; "
                         "save the adapter again)") from None
    digest = info.get("weights_sha256")
    if digest is not None and hashlib.sha256(data).hexdigest() != digest:
        raise ValueError(f"{weights} is not the file {config_file.name} describes (weights_sha256 differs): the "
                         "adapter is being saved, or the folder mixes files of two saves; load it once the save "
                         "is done, or save it again")
    listed = {name: list(shape) for name, shape in info["tensors"].items()}
    found = {name: list(t.shape) for name, t in tensors.items()}
    if listed != found:
        diff = sorted(set(listed) ^ set(found)) or sorted(n for n in listed if listed[n] != found[n])
        raise ValueError(f"{weights} does not match the tensor list in {config_file.name} (differing: {diff[:5]})")
    for name, tensor in tensors.items():
        if not tensor.is_floating_point():
            raise ValueError(f"{weights}: tensor {name} has dtype {tensor.dtype}; an adapter holds floating-point "
                             "weights")
        bad = int((~torch.isfinite(tensor)).sum())
        if bad:
            raise ValueError(f"{weights}: tensor {name} holds {bad} NaN or infinite value(s) of {tensor.numel()}; "
                             "the training diverged or the file was damaged, so it would predict nonsense")
    return tensors


def check_base_model(model: nn.Module, info: dict, path) -> None:
    """The given base model must be fresh and of the same model type, hidden size, depth and label count."""
    if getattr(model, "spafit_config", None) is not None or lora_modules(model):
        raise ValueError("load_adapter needs a fresh base model, but this one already has SPAFIT or LoRA applied")
    facts = base_model_facts(model)
    # adapters saved before vocab_size and the head were recorded lack them: compare what the file has, and
    # read a missing head as "cls", the only one there was
    info = {**info, "head": adapter_head(info)}
    wrong = [f"{key} {info[key]!r} (the given model has {facts[key]!r})"
             for key in facts if key in info and facts[key] != info[key]]
    if wrong:
        raise ValueError(f"adapter {path} was trained on another base model: it expects " + ", ".join(wrong))


def adapted_shapes(model: nn.Module, config: SpafitConfig) -> dict[str, tuple[tuple, bool]]:
    """Name -> (shape, trains?) of every parameter `model` would have after `apply_spafit(model, config)`.

    A dry run on a twin, so the model itself is not touched: built on the meta device from the model's config
    (no memory) when that twin has the same parameters, else a deep copy.
    """
    twin = _fresh_twin(model)
    if twin is None or _shapes(twin) != _shapes(model):
        twin = copy.deepcopy(model)
    return _spafit_shapes(twin, config)


def _fresh_twin(model: nn.Module) -> nn.Module | None:
    """A fresh copy of the model's architecture on the meta device, or None if its config cannot build one."""
    try:
        with torch.device("meta"), quiet_hf():
            return type(model)(copy.deepcopy(model.config))
    except Exception:  # a model class that cannot be built from its config alone: callers fall back
        return None


def _shapes(model: nn.Module) -> dict:
    return {n: p.shape for n, p in model.named_parameters()}


def _spafit_shapes(twin: nn.Module, config: SpafitConfig) -> dict[str, tuple[tuple, bool]]:
    apply_spafit(twin, config)
    return {name: (tuple(p.shape), p.requires_grad) for name, p in twin.named_parameters()}


def check_tensors_fit(tensors: dict, expected: dict, path) -> None:
    """Every saved tensor has a place of the same shape, and every parameter that trains is saved."""
    unknown = sorted(n for n in tensors if n not in expected)
    if unknown:
        raise ValueError(f"adapter {path} has tensors the adapted model lacks: {unknown[:5]}")
    wrong = [f"{n}: {list(t.shape)} in the file, {list(expected[n][0])} in the model"
             for n, t in tensors.items() if tuple(t.shape) != expected[n][0]]
    if wrong:
        raise ValueError(f"adapter {path} has mismatched shapes: " + "; ".join(wrong[:5]))
    frozen = sorted(n for n in tensors if not expected[n][1])
    if frozen:
        raise ValueError(f"adapter {path}: tensor(s) {frozen[:3]} are frozen weights of the base model, not part of "
                         "what its spafit_config trains; loading would overwrite the base model with them")
    missing = sorted(n for n, (_, trains) in expected.items() if trains and n not in tensors)
    if missing:
        raise ValueError(f"adapter {path} lacks trained parameters of the adapted model: {missing[:5]}")


# --- loading and merging ---------------------------------------------------------------------------------------

def load_adapter(base_model, path) -> nn.Module:
    """Rebuild the adapted model: `apply_spafit` with the saved config onto a fresh base, then the tensors.

    `base_model` is a model object, changed in place and returned (`runs.models.load_adapted` starts from a model
    name instead).
    Everything is checked first (files, format, base model facts, names and shapes in a dry run), so a bad
    adapter raises with the path and the reason and leaves a given model untouched. Returns the model in eval
    mode, with the adapter's config as `model.adapter_info`.
    """
    info = read_adapter_config(path)
    tensors = read_adapter_tensors(path, info)
    config = SpafitConfig.from_dict(info["spafit_config"])  # read_adapter_config checked it
    if not isinstance(base_model, nn.Module):
        raise TypeError(f"base_model must be a model, got {type(base_model).__name__}; to start from a model "
                        "name use spafit_course.runs.models.load_adapted(name, path)")
    check_base_model(base_model, info, path)
    check_tensors_fit(tensors, adapted_shapes(base_model, config), path)

    apply_spafit(base_model, config)
    base_model.load_state_dict(tensors, strict=False)  # strict=False: the frozen base weights are not in the file
    base_model.adapter_info = info
    return base_model.eval()


def merge_adapter(model: nn.Module) -> nn.Module:
    """Fold LoRA into the base weights for inference, in place (lesson 02's merge, made permanent).

    Each `LoRALinear` is merged (W += alpha/r * B @ A) and then replaced by its own base `nn.Linear`, so the
    result is a plain transformers model with no extra matrix products, which `save_pretrained` can write and
    any code can run. The logits stay the same. It cannot be unmerged: keep the adapter to train further.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"merge_adapter needs a model (an nn.Module), got {type(model).__name__}")
    for name, module in lora_modules(model).items():
        module.merge()
        parent_name, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent_name) if parent_name else model, child, module.base)
    model.adapter_merged = True
    return model
