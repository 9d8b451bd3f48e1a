"""What a training step holds, where its backward pass runs, and what an adapter weighs, measured (lesson 07,
`spafit-course bench`).

`StepProbe` watches one training step through PyTorch's own hooks, so nothing is estimated:

- saved-tensor hooks (`torch.autograd.graph.saved_tensors_hooks`) see every tensor autograd keeps for the backward
  pass; their storages, each counted once and credited to the layer that saved it, are the activations;
- a hook on each layer's output (`Tensor.register_hook`) fires when the gradient reaches that layer, so the layers
  it fired for are the layers the backward pass runs through.

Weights, gradients and optimizer state are read off the tensors themselves after the step. The cost model's
predictions of the same quantities are in `cost_model.py`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

import torch

from ..tuning.architectures import get_layers

#: The memory of a training step, in the order lesson 07 shows it.
PARTS = ("weights", "gradients", "optimizer_state", "activations")


def tensor_bytes(tensors) -> int:
    """Bytes of the given tensors' elements (None entries skipped)."""
    return sum(t.numel() * t.element_size() for t in tensors if t is not None)


class StepProbe:
    """Hooks on one model for one forward and backward pass (lesson 07): saved activations per layer, and the
    layers the gradient reached. Use as `with StepProbe(model) as probe: loss = model(...).loss`, then
    `loss.backward()`; read `probe.activation_bytes()` and `probe.reached`.

    A saved tensor that shares storage with a parameter is a weight, not an activation, and is not counted; under
    autocast, the half-precision copies of the weights that autograd keeps are counted apart, as weight copies.
    """

    def __init__(self, model):
        self.layers = get_layers(model)
        self._parameters = {p.untyped_storage().data_ptr() for p in model.parameters()}
        self._weight_shapes = {tuple(p.shape) for p in model.parameters() if p.dim() == 2}
        self._dtype = next(model.parameters()).dtype
        self.saved: dict[int, tuple[int, int]] = {}  # storage -> (layer, 1-based, 0 outside layers; bytes)
        self.weight_copies = 0
        self.reached: set[int] = set()
        self._current = 0
        self._handles, self._saving = [], None

    def __enter__(self):
        for index, layer in enumerate(self.layers, 1):
            self._handles.append(layer.register_forward_pre_hook(self._enter_layer(index)))
            self._handles.append(layer.register_forward_hook(self._leave_layer(index)))
        self._saving = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda saved: saved)
        self._saving.__enter__()
        return self

    def __exit__(self, *exc):
        self._saving.__exit__(*exc)
        for handle in self._handles:
            handle.remove()
        self._handles = []
        return False

    def _enter_layer(self, index):
        def hook(module, args):
            self._current = index
        return hook

    def _leave_layer(self, index):
        def hook(module, args, output):
            self._current = 0
            hidden = output[0] if isinstance(output, tuple) else output
            if torch.is_tensor(hidden) and hidden.requires_grad:
                hidden.register_hook(lambda grad: self.reached.add(index))
        return hook

    def _pack(self, tensor):
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        if key in self._parameters or key in self.saved:
            return tensor
        if tensor.dtype != self._dtype and tensor.dim() == 2 and tuple(tensor.shape) in self._weight_shapes:
            self.weight_copies += storage.nbytes()  # autocast's half-precision copy of a weight matrix
            self.saved[key] = (-1, 0)
        else:
            self.saved[key] = (self._current, storage.nbytes())
        return tensor

    def activation_bytes(self) -> list[int]:
        """Bytes saved for the backward pass: [outside the layers (embeddings, head), layer 1, ..., layer L]."""
        found = [0] * (len(self.layers) + 1)
        for layer, size in self.saved.values():
            if layer >= 0:
                found[layer] += size
        return found


def measure_step(model, batch: dict, optimizer, autocast=None) -> dict:
    """One training step (forward, backward, optimizer step) under a `StepProbe` (lesson 07): the bytes of each
    part of its memory, and how far back its backward pass ran.

    Returns {"weights", "gradients", "optimizer_state", "activations"} in bytes, "activations_by_layer" (layer 1
    first), "activations_outside_layers", "weight_copies" (autocast's), and "backward_layers", the 1-based layers
    the gradient reached. The optimizer must hold the model's trainable parameters; the step changes them.
    """
    trainable = [p for p in model.parameters() if p.requires_grad]
    if not trainable:
        raise ValueError("no parameter of this model trains (requires_grad), so there is no training step")
    with StepProbe(model) as probe:
        with autocast if autocast is not None else torch.autocast("cpu", enabled=False):
            loss = model(**batch).loss
    loss.backward()
    gradients = tensor_bytes(p.grad for p in model.parameters())
    optimizer.step()
    state = tensor_bytes(value for per_parameter in optimizer.state.values() for value in per_parameter.values()
                         if torch.is_tensor(value))
    optimizer.zero_grad(set_to_none=True)
    saved = probe.activation_bytes()
    return {"weights": tensor_bytes(model.parameters()), "gradients": gradients, "optimizer_state": state,
            "activations": sum(saved), "activations_by_layer": saved[1:], "activations_outside_layers": saved[0],
            "weight_copies": probe.weight_copies, "backward_layers": sorted(probe.reached)}


def layers_reached(model, batch: dict) -> list[int]:
    """The 1-based layers a backward pass from the loss runs through (lesson 07); the model is not changed."""
    with StepProbe(model) as probe:
        loss = model(**batch).loss
    if loss.requires_grad:
        loss.backward()
        model.zero_grad(set_to_none=True)
    return sorted(probe.reached)


# ---------------------------------------------------------------------------------------------------------------
# Storage and serving.


def folder_bytes(folder) -> int:
    """Bytes of every file under `folder`."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file())


def disk_bytes(model, method: str) -> int:
    """What one fine-tuned copy of `model` costs on disk (lesson 07): the whole model for full fine-tuning
    (`save_pretrained`), else the adapter `save_adapter` writes."""
    from ..tuning.adapters import save_adapter
    from ..tuning.quiet import quiet_hf

    with tempfile.TemporaryDirectory() as folder:
        if method == "full":
            with quiet_hf():  # no "Writing model shards" bar in a lesson's output
                model.save_pretrained(folder)
        else:
            save_adapter(model, Path(folder) / "adapter")
        return folder_bytes(folder)


@torch.no_grad()
def forward_seconds(models: dict, batch: dict, rounds: int = 3, repeats: int = 3, warmup: int = 1) -> dict:
    """{name: median seconds of one forward pass} of several models on the same batch, interleaved in `rounds`
    so that other work on the machine disturbs them alike (lesson 07: merged against unmerged LoRA)."""
    if rounds <= 0 or repeats <= 0:
        raise ValueError(f"rounds and repeats must be positive, got {rounds}, {repeats}")
    inputs = {k: v for k, v in batch.items() if k != "labels"}
    for model in models.values():
        model.eval()
        for _ in range(warmup):
            model(**inputs)
    times = {name: [] for name in models}
    for r in range(rounds):
        names = list(models)[r % len(models):] + list(models)[:r % len(models)]
        for name in names:
            for _ in range(repeats):
                start = time.perf_counter()
                models[name](**inputs)
                times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}
