"""Lesson 02's practice checks: a LoRA layer's `__init__`, `forward` and `merge`, and LoRA in chosen layers.

Each check varies what a learner could hard-code (rank, an alpha that is not a multiple of r, dropout, dtype,
device, targets) and looks at every property the exercise asks for: values, gradients, trainability, the
hyperparameters passed on. Use them through `spafit_course.lessons.checks`.
"""

from __future__ import annotations

import inspect
import math

import numpy as np
import torch
from torch import nn

from ...runs.models import tiny_model
from ...tuning.lora import LoRALinear, inject_lora
from .answers import single_threaded
from .models import (adapters, check_gradients_reach, check_values_kept, compare_names, compare_tensors, diagnose,
                     logits, sample_inputs, short, snapshot, trainable_names)
from .tools import CheckFailed, learner_check

# (in, out, r, alpha): scaling 2.0, then 1.5, so alpha // r or a missing scaling shows
INIT_CASES = ((12, 10, 3, 6.0), (9, 14, 4, 6.0))


def reference_layer(r: int = 4, alpha: float = 6.0, dropout: float = 0.0, random_b: bool = True) -> LoRALinear:
    """The package's LoRA layer on a 12 -> 10 Linear; with `random_b`, B is nonzero like a trained adapter's."""
    layer = LoRALinear(nn.Linear(12, 10), r=r, alpha=alpha, dropout=dropout)
    if random_b:
        with torch.no_grad():
            nn.init.normal_(layer.lora_B)
    return layer


def _method(learner, name: str):
    """`learner.name` for a class, the learner itself for a plain function."""
    return getattr(learner, name) if inspect.isclass(learner) else learner


def _check_parameters(layer, base, r: int, label: str) -> None:
    """self.base is the Linear itself; A (r x in) and B (out x r) are trainable Parameters; W alone is frozen."""
    if getattr(layer, "base", None) is not base:
        raise CheckFailed(f"{label}: self.base should be the wrapped Linear itself", "the nn.Linear passed in",
                          type(getattr(layer, "base", None)).__name__)
    for attr, shape in (("lora_A", (r, base.in_features)), ("lora_B", (base.out_features, r))):
        p = getattr(layer, attr, None)
        if not isinstance(p, nn.Parameter):
            raise CheckFailed(f"{label}: self.{attr} should be an nn.Parameter", "nn.Parameter", type(p).__name__,
                              "a plain tensor is not trained: wrap it in nn.Parameter")
        if tuple(p.shape) != shape:
            raise CheckFailed(f"{label}: the shape of self.{attr}", shape, tuple(p.shape),
                              "A is r x in and B is out x r, so B @ A has W's shape (out x in)")
        if p.dtype != base.weight.dtype or p.device != base.weight.device:
            raise CheckFailed(f"{label}: dtype and device of self.{attr}",
                              f"{base.weight.dtype} on {base.weight.device} (like W)", f"{p.dtype} on {p.device}",
                              "create A and B with dtype=base.weight.dtype, device=base.weight.device")
    compare_names(f"{label}: the layer's trainable parameters", {"lora_A", "lora_B", "base.bias"},
                  trainable_names(layer))


@learner_check("W frozen (bias kept), A random (r x in), B zero (out x r), scaling alpha / r, A and B follow W's "
               "dtype/device")
@single_threaded
def check_lora_init(lora_class):
    """Exercise 2.1: `__init__` freezes W (not b), makes A (r x in, random) and B (out x r, zero), scaling alpha / r."""
    for n_in, n_out, r, alpha in INIT_CASES:
        label = f"in={n_in}, out={n_out}, r={r}, alpha={alpha:g}"
        base = nn.Linear(n_in, n_out)
        layer = lora_class(base, r=r, alpha=alpha)
        _check_parameters(layer, base, r, label)
        if layer.lora_B.abs().max().item() != 0:
            raise CheckFailed(f"{label}: B at initialisation", "max |B| = 0", f"max |B| = {layer.lora_B.abs().max():.4g}",
                              "B must start at zero, so a freshly wrapped layer computes what the original did")
        if layer.lora_A.abs().max().item() == 0:
            raise CheckFailed(f"{label}: A at initialisation", "A random (nonzero)", "A is all zeros",
                              "if A and B both start at zero, neither ever gets a gradient")
        rank = int(torch.linalg.matrix_rank(layer.lora_A.detach().double()))
        if rank < r:
            raise CheckFailed(f"{label}: A at initialisation", f"A random: its {r} rows independent (rank {r})",
                              f"rank {rank}" + (", every entry the same" if layer.lora_A.detach().unique().numel()
                                                == 1 else ""),
                              "a constant (or otherwise repeated) A gives every column of B the same gradient, so "
                              "the update never grows past rank 1: draw A at random (nn.init.kaiming_uniform_)")
        scaling = getattr(layer, "scaling", None)
        if not isinstance(scaling, (int, float)) or not math.isclose(scaling, alpha / r):
            # later keys win on a tie: case 1 passes alpha // r, so 1.0 in case 2 means integer division
            causes = {1: "the scaling is missing", alpha // r: "integer division: alpha // r instead of alpha / r",
                      r / alpha: "the ratio is upside down: alpha / r, not r / alpha"}
            raise CheckFailed(f"{label}: self.scaling", f"alpha / r = {alpha / r:g}", repr(scaling),
                              causes.get(scaling))
    for dtype, device in ((torch.float64, "cpu"), (torch.float32, "meta")):
        base = nn.Linear(6, 5, dtype=dtype, device=device)  # another dtype, another device: A and B follow W
        _check_parameters(lora_class(base, r=2, alpha=4.0), base, 2, f"a {dtype} Linear on {device}")


@learner_check("matches LoRALinear.forward for 2-D and 3-D inputs, in gradients, with dropout, and after merging")
@single_threaded
def check_lora_forward(lora_forward):
    """Exercise 2.2: `forward(self, x)` adds scaling * dropout(x) A^T B^T to the base output, nothing once merged."""
    forward = _method(lora_forward, "forward")
    layer = reference_layer()
    for shape in ((5, 12), (2, 4, 12)):
        x = torch.randn(*shape)
        with torch.no_grad():
            expected, got = LoRALinear.forward(layer, x), forward(layer, x)
            update = x @ layer.lora_A.T @ layer.lora_B.T
            causes = {"the update is not multiplied by scaling = alpha / r": layer.base(x) + update,
                      "the update is missing": layer.base(x),
                      "the base bias is missing (use self.base(x))": expected - layer.base.bias}
        compare_tensors(f"output for an input of shape {shape} (r=4, alpha=6, B != 0)", expected, got,
                        diagnose(got, causes))
    _check_forward_gradients(forward)
    _check_forward_dropout(forward)
    with torch.no_grad():
        x = torch.randn(5, 12)
        before = LoRALinear.forward(layer, x)
        layer.merge()
        compare_tensors("output after merge()", before, forward(layer, x),
                        "once merged, the update is inside W: adding it again counts it twice (check self.merged)")


def _check_forward_gradients(forward) -> None:
    """The same gradients as the reference reach A, B and the input."""
    layer, grads = reference_layer(), []
    x0 = torch.randn(3, 12)
    for fn in (LoRALinear.forward, forward):
        layer.zero_grad(set_to_none=True)
        x = x0.clone().requires_grad_(True)
        out = fn(layer, x)
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            raise CheckFailed("the output must carry a gradient back to A and B", "requires_grad=True",
                              "no gradient at all", "the update was computed under torch.no_grad() or detached")
        out.square().sum().backward()
        grads.append({"A": layer.lora_A.grad, "B": layer.lora_B.grad, "the input x": x.grad})
    for name, expected in grads[0].items():
        got = grads[1][name]
        if got is None:
            raise CheckFailed(f"gradient reaching {name}", "a gradient", "None",
                              "the update was detached (.detach(), .data or torch.no_grad()) inside forward")
        compare_tensors(f"gradient reaching {name}", expected, got)


def _check_forward_dropout(forward) -> None:
    """With dropout 0.5: the same mask as the reference in training, none in evaluation."""
    layer = reference_layer(dropout=0.5)
    x = torch.randn(4, 12)
    for mode in ("train", "eval"):
        getattr(layer, mode)()
        outputs = []
        with torch.no_grad():
            for fn in (LoRALinear.forward, forward):
                torch.manual_seed(5)
                outputs.append(fn(layer, x))
        compare_tensors(f"output with dropout=0.5 in {mode} mode", *outputs,
                        "dropout applies to the update's input only: scaling * self.dropout(x) @ A.T @ B.T")


@learner_check("W gains (alpha / r) B A exactly once and stays frozen; A, B and the output are unchanged")
@single_threaded
def check_lora_merge(lora_merge):
    """Exercise 2.3: `merge(self)` adds scaling * B @ A to W once, sets `merged`, and keeps the output the same."""
    merge = _method(lora_merge, "merge")
    layer = reference_layer()
    w0, a0, b0 = (t.detach().clone() for t in (layer.base.weight, layer.lora_A, layer.lora_B))
    x = torch.randn(5, 12)
    with torch.no_grad():
        before = LoRALinear.forward(layer, x)
        merge(layer)
        update = layer.lora_B @ layer.lora_A
        expected = w0 + layer.scaling * update
        causes = {"the update was added without the scaling alpha / r": w0 + update, "W did not change": w0,
                  "the update was added twice": w0 + 2 * layer.scaling * update,
                  "the update was subtracted": w0 - layer.scaling * update}
        compare_tensors("W after one merge (W + (alpha / r) B A)", expected, layer.base.weight,
                        diagnose(layer.base.weight, causes))
    if not (isinstance(layer.merged, (bool, np.bool_)) and layer.merged):  # a NumPy True is a right answer too
        raise CheckFailed("self.merged after merge()", True, layer.merged,
                          "without the flag, forward adds the update a second time")
    if layer.base.weight.requires_grad:
        raise CheckFailed("W after merge() must stay frozen", "requires_grad=False", "requires_grad=True",
                          "W was replaced by a new nn.Parameter: add to it in place (self.base.weight += ...)")
    compare_tensors("A after merge() (merging must not change the factors)", a0, layer.lora_A)
    compare_tensors("B after merge()", b0, layer.lora_B)
    with torch.no_grad():
        compare_tensors("output after merge()", before, LoRALinear.forward(layer, x))
        merge(layer)
    compare_tensors("W after merging twice (the second call must change nothing)", expected, layer.base.weight,
                    "check self.merged before adding the update")


LORA_LAYER_CHECKS = (check_lora_init, check_lora_forward, check_lora_merge)


def check_lora_linear(lora_class, verbose: bool = True) -> None:
    """Exercises 2.1-2.3 together: the learner's LoRA class passes the init, forward and merge checks."""
    for check in LORA_LAYER_CHECKS:
        check(lora_class, verbose)


def _lora_linear_verdict(lora_class) -> tuple[bool, str]:
    results = [check.verdict(lora_class) for check in LORA_LAYER_CHECKS]
    return all(ok for ok, _ in results), "\n".join(text for _, text in results)


check_lora_linear.verdict = _lora_linear_verdict

def _placement_hint(expected: set[str], got: set[str]) -> str:
    """Whether the wrapped modules differ in their layers or in their matrices."""
    def split(paths):  # "bert.encoder.layer.3.attention.self.query" -> ({"3"}, {"attention.self.query"})
        parts = [p.split(".layer.", 1)[-1].split(".", 1) for p in paths]
        return {p[0] for p in parts}, {p[-1] for p in parts}

    (layers_e, matrices_e), (layers_g, matrices_g) = split(expected), split(got)
    if layers_e == layers_g:
        return "wrap the targets passed in, in every chosen layer"
    if matrices_e == matrices_g:
        return "the chosen layers are 0-based indices into get_layers(model), and only those are wrapped"
    return "wrap each of the targets passed in, in each chosen layer (0-based indices)"


# family, 0-based layers, targets, r, alpha: every target appears, and alpha is not always a multiple of r
INJECT_CASES = [("bert", [1, 3], ("query", "value"), 2, 4.0), ("bert", [0], ("key", "ffn_out"), 3, 4.0),
                ("distilbert", [2], ("value", "attention_output", "ffn_in"), 4, 6.0)]


@learner_check("wraps the same modules as inject_lora, with the right r and alpha; flags, output and gradients "
               "right")
@single_threaded
def check_inject_lora(inject_fn):
    """Exercise 2.4: `inject_fn(model, layers, targets, r, alpha)` wraps what `inject_lora` wraps (0-based layers)."""
    for family, layers, targets, r, alpha in INJECT_CASES:
        label = f"{family}, layers={layers}, targets={targets}, r={r}, alpha={alpha:g}"
        model = tiny_model(family, num_layers=4, hidden=16)
        weights = snapshot(model)
        ids, mask = sample_inputs(model)
        before = logits(model, ids, mask)
        inject_fn(model, list(layers), targets, r, alpha)
        reference = tiny_model(family, num_layers=4, hidden=16)
        inject_lora(reference, targets, layers, r=r, alpha=alpha)
        expected, got = adapters(reference), adapters(model)
        if set(expected) != set(got):
            raise CheckFailed(f"{label}: the wrapped modules", short(expected), short(got),
                              _placement_hint(set(expected), set(got)))
        for path, module in got.items():
            settings = (module.lora_A.shape[0], getattr(module, "scaling", None))
            if settings[0] != r or not math.isclose(settings[1] or 0, alpha / r):
                raise CheckFailed(f"{label}: {path}'s (r, scaling)", (r, alpha / r), settings,
                                  "pass r and alpha on to LoRALinear (its defaults are r=8, alpha=16)")
            if not torch.equal(module.base.weight, weights[f"{path}.weight"]):
                raise CheckFailed(f"{label}: {path}.base", "the layer's own Linear, weights unchanged",
                                  "a different Linear", "wrap the existing module: LoRALinear(old_module, ...)")
        compare_names(label, trainable_names(reference), trainable_names(model))
        check_values_kept(label, weights, model, "injecting LoRA wraps modules and adds A and B: every weight and "
                                                 "bias already there keeps its value")
        compare_tensors(f"{label}: logits right after injecting", before, logits(model, ids, mask),
                        "B must start at zero, so injecting LoRA changes nothing until training")
        check_gradients_reach(label, model, ids, mask)

