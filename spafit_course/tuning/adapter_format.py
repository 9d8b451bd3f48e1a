"""The adapter format (lesson 05): its two file names, what its JSON records about the base model, and the
checks that a description is whole, before any tensor is read or any model changes (`adapters.py` saves and
loads)."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from .architectures import num_layers
from .atomic import check_folder
from .heads import HEADS, head_of
from .limits import MAX_POSITIONS, MIN_LENGTH
from .spafit import SpafitConfig

WEIGHTS_NAME = "spafit_adapter.safetensors"
CONFIG_NAME = "spafit_adapter.json"
FORMAT = "spafit-course adapter"
FORMAT_VERSION = 2  # 2 records the head; a file without one (version 1) was saved from a "cls" head
KNOWN_VERSIONS = (1, 2)


def base_model_facts(model: nn.Module) -> dict:
    """The facts an adapter must agree with: model type, hidden size, layer count, label count, vocabulary, head."""
    config = model.config
    return {"model_type": config.model_type, "hidden_size": config.hidden_size,
            "num_layers": num_layers(model), "num_labels": config.num_labels,
            "vocab_size": getattr(config, "vocab_size", None), "head": head_of(model)}


def adapter_head(info: dict) -> str:
    """The head an adapter was trained with; adapters saved before heads were recorded had BERT's "cls" head."""
    return info.get("head") or "cls"


def check_adapter_info(info: dict, where) -> None:
    """Every entry of an adapter's JSON has the type and range `load_adapter` and `predict` rely on.

    `save_adapter` runs the same check before writing, so it never writes what loading would refuse.
    """
    def fail(what):
        raise ValueError(f"{where}: {what}")

    version = info.get("format_version")
    if not (_positive_int(version) and version in KNOWN_VERSIONS):
        fail(f"format_version {version!r} is not one this package reads ({', '.join(map(str, KNOWN_VERSIONS))}); "
             "save the adapter again with this version of spafit-course")
    missing = [k for k in ("spafit_config", "tensors", "model_type", "hidden_size", "num_layers", "num_labels")
               if k not in info]
    if missing:
        fail(f"lacks the entries {missing}")
    for key in ("hidden_size", "num_layers", "num_labels", "vocab_size"):
        value = info.get(key)
        if (key == "vocab_size" and value is None) or _positive_int(value):
            continue
        fail(f"{key} must be a positive integer{' or null' if key == 'vocab_size' else ''}, got {value!r}")
    length = info.get("max_length")
    if length is not None and not (_positive_int(length) and MIN_LENGTH <= length <= MAX_POSITIONS):
        fail(f"max_length must be an integer in {MIN_LENGTH}..{MAX_POSITIONS} or null, got {length!r}")
    for key in ("model_type", "base_model_name", "task"):
        if not (isinstance(info.get(key), str) or (key != "model_type" and info.get(key) is None)):
            fail(f"{key} must be a string, got {info.get(key)!r}")
    tensors = info["tensors"]
    if not isinstance(tensors, dict) or not tensors or not all(
            isinstance(shape, list) and all(_count(n) for n in shape)
            for shape in tensors.values()):
        fail("tensors must map each tensor name to its shape, a list of integers (and name at least one)")
    _check_head(info, version, fail)
    names = info.get("label_names")
    if names is not None and (not isinstance(names, list) or len(names) != info["num_labels"]
                              or not all(isinstance(n, str) for n in names)):
        fail(f"label_names must be null or a list of {info['num_labels']} strings (one per label), got {names!r}")
    digest = info.get("weights_sha256")
    if digest is not None and not (isinstance(digest, str) and len(digest) == 64):
        fail(f"weights_sha256 must be a SHA-256 hex digest or absent, got {digest!r}")
    try:
        config = SpafitConfig.from_dict(info["spafit_config"])
    except (TypeError, ValueError) as error:
        fail(f"bad spafit_config: {error}")
    if adapter_head(info) == "mean" and config.train_pooler:
        fail("head \"mean\" has no pooler, but spafit_config trains one (train_pooler true): one of the two was "
             "edited; save the adapter again")


def _check_head(info: dict, version: int, fail) -> None:
    """Version 2 names its head; version 1 predates heads and was always BERT's "cls" head."""
    head = info.get("head")
    if version >= 2 and head is None:
        fail(f"lacks the entry \"head\" that format_version {version} records ({' or '.join(HEADS)})")
    if head is not None and head not in HEADS:
        fail(f"head must be one of {', '.join(HEADS)}, got {head!r}")
    if version == 1 and head not in (None, "cls"):
        fail(f"head {head!r} in a format_version 1 file, which predates other heads than \"cls\"")
    pooled = [name for name in info["tensors"] if ".pooler." in name]
    if head == "mean" and pooled:
        fail(f"head \"mean\" has no pooler, but the tensors include {pooled[:2]}")


def _positive_int(value) -> bool:
    return _count(value) and value > 0


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def adapter_files(path) -> tuple[Path, Path]:
    """The weights and config files of the adapter folder `path` (no check that they exist)."""
    folder = Path(path)
    return folder / WEIGHTS_NAME, folder / CONFIG_NAME


def check_adapter_folder(path) -> Path:
    """Refuse, before any work, a folder `save_adapter` could not write into (each error names the path's role)."""
    return check_folder(path, "an adapter", {WEIGHTS_NAME: "the adapter's weights",
                                             CONFIG_NAME: "the adapter's description"})


def adapter_size_bytes(path) -> int:
    """Bytes on disk of the adapter at `path`: its safetensors file plus its JSON config."""
    files = [f for f in adapter_files(path) if f.is_file()]
    if not files:
        raise FileNotFoundError(f"no adapter at {path}: expected {WEIGHTS_NAME} and {CONFIG_NAME} in that folder")
    return sum(f.stat().st_size for f in files)
