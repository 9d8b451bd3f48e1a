"""The course's adapters as standard peft LoRA adapters (lesson 02's LoRA, lesson 04's SPAFIT, handed to peft users).

peft cannot register a method of its own, but every model the course adapts is a plain LoRA adapter in peft's
terms, so `save_peft_adapter` writes the two files peft's `save_pretrained` writes:

    adapter_config.json          a LoraConfig: r, lora_alpha, lora_dropout; target_modules, a regular expression
                                 naming exactly the LoRA-wrapped matrices (SPAFIT's group 3); bias "all" when biases
                                 trained, else "none"; modules_to_save, the task head (and the pooler if it trained)
    adapter_model.safetensors    those tensors under peft's names (base_model.model.<module>.lora_A.weight, ...)

so `PeftModel.from_pretrained(AutoModelForSequenceClassification.from_pretrained(base), folder)` computes what the
course's model computes, without this package. BitFit and the head-only control have no LoRA: their config names
peft's "dummy-target-modules", its own value for a LoRA adapter that wraps no module, and the file holds only
biases and head. `peft_loading.load_peft_adapter` reads such a folder back into a course model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import torch
from torch import nn

from .architectures import get_layers, head_parameter_names, pooler_of
from .atomic import atomic_files, check_folder
from .heads import head_of
from .lora import lora_modules

PEFT_CONFIG_NAME = "adapter_config.json"
PEFT_WEIGHTS_NAME = "adapter_model.safetensors"
#: peft saves every tensor under the name it has inside PeftModel, which wraps the model twice.
PEFT_PREFIX = "base_model.model."
#: peft.utils.constants.DUMMY_TARGET_MODULES: the target_modules of a LoRA adapter that wraps no module.
NO_TARGETS = "dummy-target-modules"
#: An entry of the safetensors metadata (which peft ignores): the head the adapter was trained with (heads.py).
HEAD_METADATA = "spafit_course.head"
#: peft's LoRA layer keeps the wrapped Linear as `base_layer`; the course's LoRALinear calls it `base`.
_OUR_TO_PEFT = {"base": "base_layer", "lora_A": "lora_A.weight", "lora_B": "lora_B.weight"}


def peft_files(path) -> tuple[Path, Path]:
    """The config and weights files of the peft adapter folder `path` (no check that they exist)."""
    folder = Path(path)
    return folder / PEFT_CONFIG_NAME, folder / PEFT_WEIGHTS_NAME


def check_peft_folder(path) -> Path:
    """Refuse, before any work, a folder `save_peft_adapter` could not write into (each error names the path's role)."""
    return check_folder(path, "a peft adapter", {PEFT_CONFIG_NAME: "the peft adapter's config",
                                                 PEFT_WEIGHTS_NAME: "the peft adapter's weights"})


def save_peft_adapter(model: nn.Module, folder, base_model_name: str | None = None) -> Path:
    """Write a model adapted by SPAFIT, LoRA or BitFit as a standard peft LoRA adapter into `folder`.

    What trained (requires_grad) is saved, plus the task head, which a fresh base model would otherwise
    initialise at random; `base_model_name` goes into the config's base_model_name_or_path (default: the name
    the model was loaded from). Everything is checked before the first byte is written, and a failed save
    leaves an adapter already in the folder whole. Returns the folder.
    """
    from safetensors.torch import save_file

    config, tensors = peft_adapter(model, base_model_name)
    folder = check_peft_folder(folder)
    config_file, weights = peft_files(folder)
    with atomic_files(weights, config_file) as (new_weights, new_config):
        save_file(tensors, str(new_weights), metadata={"format": "pt", HEAD_METADATA: head_of(model)})
        new_config.write_text(json.dumps(config, indent=2) + "\n")
    return folder


def peft_adapter(model: nn.Module, base_model_name: str | None = None) -> tuple[dict, dict[str, torch.Tensor]]:
    """(adapter_config.json's entries, the tensors by their peft names) for `model`; the checks of the save."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"save_peft_adapter needs a model (an nn.Module), got {type(model).__name__}")
    get_layers(model)  # an unsupported model fails here, naming the supported families
    loras = lora_modules(model)
    if getattr(model, "adapter_merged", False) or any(m.merged for m in loras.values()):
        raise ValueError("this model's LoRA is merged into its weights, so B @ A would count twice in peft; "
                         "unmerge_lora(model) first (merge_adapter cannot be undone: export before merging)")
    trained = {name for name, p in model.named_parameters() if p.requires_grad}
    if not trained:
        raise ValueError("no parameter of this model trains (requires_grad), so there is no adapter to export")
    saved_modules = _saved_modules(model, trained)
    tensors, misplaced = {}, []
    for name, p in model.named_parameters():
        owner = next((m for m in saved_modules if name.startswith(m + ".")), None)
        if owner is None and name not in trained:
            continue
        key = name if owner else _peft_name(name, loras)
        if key is None:
            misplaced.append(name)
        else:
            tensors[PEFT_PREFIX + key] = p.detach().to("cpu").contiguous()
    if misplaced:
        raise ValueError(f"these parameters trained, but a LoRA adapter has no place for them: {misplaced[:4]}"
                         f"{' ...' if len(misplaced) > 4 else ''}; only LoRA matrices, biases and the task head "
                         "export (full fine-tuning is no adapter: save the model with model.save_pretrained)")
    broken = [key.removeprefix(PEFT_PREFIX) for key, t in tensors.items() if not torch.isfinite(t).all()]
    if broken:
        raise ValueError(f"cannot export NaN or infinite values: {broken[:4]} (the training diverged)")
    r, alpha, dropout = _lora_settings(loras)
    biases = any(k.endswith(".bias") and not any(k.startswith(PEFT_PREFIX + m + ".") for m in saved_modules)
                 for k in tensors)
    config = {
        "peft_type": "LORA", "task_type": "SEQ_CLS",
        "base_model_name_or_path": base_model_name or getattr(model, "name_or_path", None) or None,
        "revision": None, "inference_mode": True,
        "r": r, "lora_alpha": alpha, "lora_dropout": dropout,
        "target_modules": _target_pattern(model, sorted(loras)) if loras else NO_TARGETS,
        "layers_to_transform": None, "layers_pattern": None, "rank_pattern": {}, "alpha_pattern": {},
        "bias": "all" if biases else "none", "modules_to_save": saved_modules,
        "fan_in_fan_out": False, "use_rslora": False, "use_dora": False, "init_lora_weights": True,
    }
    return config, tensors


def _saved_modules(model: nn.Module, trained: set) -> list[str]:
    """The modules peft saves whole (modules_to_save): the task head always, the pooler when it trained."""
    head = sorted({name.split(".")[0] for name in head_parameter_names(model)})
    pooler = pooler_of(model)
    if pooler is not None:
        path = next(name for name, m in model.named_modules() if m is pooler)
        if any(name.startswith(path + ".") for name in trained):
            head.append(path)
    return head


def _peft_name(name: str, loras: dict) -> str | None:
    """peft's name of a trained parameter: a LoRA matrix or a bias; None for anything a LoRA adapter cannot hold."""
    for path in loras:
        if name.startswith(path + "."):
            inner = name[len(path) + 1:]
            part, _, rest = inner.partition(".")
            if inner == "base.weight":  # the frozen W itself trained: that is not LoRA
                return None
            return f"{path}.{_OUR_TO_PEFT[part]}{'.' + rest if rest else ''}"
    return name if name.endswith(".bias") else None


def _lora_settings(loras: dict) -> tuple[int, float, float]:
    """The one r, alpha and dropout of every LoRA layer (the course's defaults when there is none)."""
    settings = {(m.r, m.alpha, getattr(m.dropout, "p", 0.0)) for m in loras.values()} or {(8, 16.0, 0.0)}
    if len(settings) > 1:
        raise ValueError(f"the LoRA layers differ in (r, alpha, dropout): {sorted(settings)}; a peft LoRA adapter "
                         "written here has one setting for all")
    r, alpha, dropout = settings.pop()
    return r, int(alpha) if float(alpha).is_integer() else alpha, float(dropout)


def _target_pattern(model: nn.Module, names: list[str]) -> str:
    """A regular expression that peft matches in full against exactly the LoRA-wrapped module names.

    Written as "<layers>.(i|j).(matrix|matrix)" when every chosen layer has the same matrices (SPAFIT's group 3).
    A list of names would not do: peft matches list entries as suffixes, and BERT's ffn_out ("output.dense")
    is a suffix of its attention_output ("attention.output.dense").
    """
    stack = get_layers(model)
    prefix = next(name for name, m in model.named_modules() if m is stack) + "."
    by_matrix = {}
    for name in names:
        layer, _, matrix = name.removeprefix(prefix).partition(".")
        if not name.startswith(prefix) or not layer.isdigit():
            return "(" + "|".join(re.escape(n) for n in names) + ")"
        by_matrix.setdefault(matrix, set()).add(int(layer))
    layer_sets = {tuple(sorted(v)) for v in by_matrix.values()}
    if len(layer_sets) > 1:
        return "(" + "|".join(re.escape(n) for n in names) + ")"
    layers = "|".join(str(i) for i in layer_sets.pop())
    matrices = "|".join(re.escape(m) for m in sorted(by_matrix))
    return rf"{re.escape(prefix)}({layers})\.({matrices})"
