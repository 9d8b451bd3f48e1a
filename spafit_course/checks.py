"""Instant checks for the practice notebooks in exercises/ (lessons 01-04).

Each `check_*` function takes the learner's function, class or model, runs it on a tiny randomly initialised
model (`models.tiny_model`) in a second or two, and compares what comes back with the package's canonical
implementation. It prints one line starting with PASS, or FAIL followed by what was expected and what came
back, and returns True or False. An exception raised by the learner's code (NotImplementedError included)
is a FAIL that shows the error's message; it never stops the notebook.

`use_or_reference` lets later cells go on with the package's version when an exercise is not solved yet.
"""

from __future__ import annotations

import contextlib
import inspect
import io

import numpy as np
import torch
from torch import nn

from .architectures import get_layers, head_parameter_names, resolve_targets
from .bitfit import apply_bitfit
from .closed_form import closed_form_count
from .lora import LoRALinear, inject_lora
from .models import KNOWN_CONFIGS, tiny_config, tiny_model
from .spafit import SpafitConfig, apply_spafit, check_boundaries, layer_groups

ATTENTION_TARGETS = ("query", "key", "value", "attention_output")


class CheckFailed(Exception):
    """A learner's answer differs from the reference: what was checked, what was expected, what came back."""

    def __init__(self, what: str, expected, got):
        super().__init__(what)
        self.what, self.expected, self.got = what, expected, got


def _run(name: str, body, verbose: bool = True) -> bool:
    """Run one check body; print PASS/FAIL and return True/False. Learner exceptions become a FAIL."""
    try:
        with torch.random.fork_rng():
            torch.manual_seed(0)
            summary = body()
    except CheckFailed as failure:
        if verbose:
            print(f"FAIL {name}: {failure.what}\n  expected: {failure.expected}\n  got:      {failure.got}")
        return False
    except Exception as error:  # the learner's code raised: report it, keep the notebook running
        if verbose:
            message = str(error) or "(no message)"
            print(f"FAIL {name}: your code raised {type(error).__name__}: {message}")
        return False
    if verbose:
        print(f"PASS {name}: {summary}")
    return True


def use_or_reference(learner, reference, check):
    """The learner's function or class when it passes `check` (run silently), else `reference` (with a note).

    Later cells of a practice notebook call this so that an unsolved exercise does not break them.
    """
    if check(learner, verbose=False):
        return learner
    name = getattr(reference, "__qualname__", repr(reference))
    print(f"note: {getattr(learner, '__name__', 'your answer')} does not pass its check yet; "
          f"the cells below use the package's {name} instead")
    return reference


def _short(items, limit: int = 4) -> str:
    items = sorted(items)
    shown = ", ".join(items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}] ({len(items)} in all)" if items else "[]"


def trainable_names(model: nn.Module) -> set[str]:
    """Names of the parameters that will train."""
    return {name for name, p in model.named_parameters() if p.requires_grad}


def _compare_names(label: str, expected: set[str], got: set[str]) -> None:
    if expected != got:
        detail = []
        if got - expected:
            detail.append(f"should be frozen: {_short(got - expected)}")
        if expected - got:
            detail.append(f"should train: {_short(expected - got)}")
        raise CheckFailed(f"{label}: the trainable parameters differ ({'; '.join(detail)})",
                          f"{len(expected)} trainable tensors", f"{len(got)} trainable tensors")


def _adapters(model: nn.Module) -> dict[str, nn.Module]:
    """Every LoRA-wrapped module by path: anything with lora_A and lora_B (the package's class or the learner's)."""
    return {name: m for name, m in model.named_modules() if hasattr(m, "lora_A") and hasattr(m, "lora_B")}


def _sample_inputs(model: nn.Module, batch: int = 2, length: int = 7):
    ids = torch.randint(5, model.config.vocab_size, (batch, length))
    mask = torch.ones_like(ids)
    mask[0, length - 2:] = 0  # one padded sequence, so masking mistakes show
    return ids, mask


def _logits(model, ids, mask):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits


# ---------------------------------------------------------------- lesson 01: BitFit


def attention_bias_names(model: nn.Module) -> set[str]:
    """The query/key/value/attention-output biases of every layer plus the task head (exercise 1.1's answer)."""
    wanted = {id(layer.get_submodule(path).bias) for layer in get_layers(model)
              for path in resolve_targets(model, ATTENTION_TARGETS).values()}
    wanted |= {id(p) for name, p in model.named_parameters() if name in set(head_parameter_names(model))}
    return {name for name, p in model.named_parameters() if id(p) in wanted}


def check_attention_biases(model: nn.Module, verbose: bool = True) -> bool:
    """Exercise 1.1: only the attention biases of every layer (query, key, value, output) and the head train."""
    def body():
        if not isinstance(model, nn.Module):
            raise CheckFailed("expected the model itself", "an nn.Module", type(model).__name__)
        _compare_names("attention-bias BitFit", attention_bias_names(model), trainable_names(model))
        return f"{len(attention_bias_names(model))} tensors train: the 4 attention biases per layer and the head"
    return _run("check_attention_biases", body, verbose)


def check_bitfit(bitfit_fn, verbose: bool = True) -> bool:
    """Exercise 1.2: `bitfit_fn(model, bias_terms)` trains what `apply_bitfit` trains, for each bias choice."""
    def body():
        for family in ("bert", "distilbert"):
            for bias_terms in ("linear", "all"):
                model = tiny_model(family, num_layers=2, hidden=16)
                bitfit_fn(model, bias_terms)
                expected = trainable_names(apply_bitfit(tiny_model(family, num_layers=2, hidden=16), bias_terms))
                _compare_names(f"{family}, bias_terms={bias_terms!r}", expected, trainable_names(model))
        return "same trainable parameters as apply_bitfit for bias_terms 'linear' and 'all' (BERT and DistilBERT)"
    return _run("check_bitfit", body, verbose)


def _bert_configs():
    from transformers import BertConfig

    return {"tiny BERT": tiny_config("bert", num_layers=3, hidden=32),
            "bert-base-cased": BertConfig(**KNOWN_CONFIGS["bert-base-cased"], num_labels=2),
            "bert-large-cased": BertConfig(**KNOWN_CONFIGS["bert-large-cased"], num_labels=2)}


def check_bitfit_count(count_fn, verbose: bool = True) -> bool:
    """Exercise 1.3: `count_fn(config, bias_terms)` gives BitFit's trainable parameters from dimensions alone."""
    def body():
        for label, config in _bert_configs().items():
            for bias_terms in ("linear", "all"):
                layers = config.num_hidden_layers
                expected = closed_form_count(config, SpafitConfig(n1=0, n2=layers, bias_terms=bias_terms)).trainable
                got = count_fn(config, bias_terms)
                if got != expected:
                    raise CheckFailed(f"BitFit count of {label}, bias_terms={bias_terms!r}", f"{expected:,}",
                                      f"{got:,}" if isinstance(got, int) else repr(got))
        return "BitFit counts match the closed form for tiny BERT, bert-base-cased and bert-large-cased"
    return _run("check_bitfit_count", body, verbose)


# ---------------------------------------------------------------- lesson 02: LoRA


def _reference_layer(r: int = 3, alpha: float = 6.0, random_b: bool = True) -> LoRALinear:
    layer = LoRALinear(nn.Linear(12, 10), r=r, alpha=alpha)
    if random_b:
        with torch.no_grad():
            nn.init.normal_(layer.lora_B)  # a trained adapter: B is no longer zero
    return layer


def _method(learner, name: str):
    """`learner.name` for a class, the learner itself for a plain function."""
    return getattr(learner, name) if inspect.isclass(learner) else learner


def check_lora_init(lora_class, verbose: bool = True) -> bool:
    """Exercise 2.1: the learner's `__init__` freezes W, makes A (r x in) and B (out x r, zero), scaling alpha / r."""
    def body():
        base = nn.Linear(12, 10)
        layer = lora_class(base, r=3, alpha=6.0)
        if getattr(layer, "base", None) is not base:
            raise CheckFailed("self.base should be the wrapped Linear itself", "the nn.Linear passed in",
                              type(getattr(layer, "base", None)).__name__)
        if base.weight.requires_grad:
            raise CheckFailed("the base weight W must be frozen", "requires_grad=False", "requires_grad=True")
        for attr, shape in (("lora_A", (3, 12)), ("lora_B", (10, 3))):
            p = getattr(layer, attr, None)
            if not isinstance(p, nn.Parameter):
                raise CheckFailed(f"self.{attr} should be an nn.Parameter", "nn.Parameter", type(p).__name__)
            if tuple(p.shape) != shape or not p.requires_grad:
                raise CheckFailed(f"self.{attr} for in=12, out=10, r=3", f"shape {shape}, trainable",
                                  f"shape {tuple(p.shape)}, requires_grad={p.requires_grad}")
        if layer.lora_B.abs().max().item() != 0:
            raise CheckFailed("B must start at zero, so a freshly wrapped layer computes what the original did",
                              "max |B| = 0", f"max |B| = {layer.lora_B.abs().max().item():.4g}")
        if layer.lora_A.abs().max().item() == 0:
            raise CheckFailed("A must start random (if A and B are both zero, B never gets a gradient)",
                              "A != 0", "A is all zeros")
        if getattr(layer, "scaling", None) != 2.0:
            raise CheckFailed("self.scaling for r=3, alpha=6", "alpha / r = 2.0", repr(getattr(layer, "scaling", None)))
        return "W frozen, A random (r x in), B zero (out x r), scaling = alpha / r"
    return _run("check_lora_init", body, verbose)


def check_lora_forward(lora_forward, verbose: bool = True) -> bool:
    """Exercise 2.2: `forward(self, x)` adds scaling * x A^T B^T to the base output, and nothing once merged."""
    def body():
        forward = _method(lora_forward, "forward")
        layer = _reference_layer()
        for shape in ((5, 12), (2, 4, 12)):
            x = torch.randn(*shape)
            with torch.no_grad():
                expected, got = LoRALinear.forward(layer, x), forward(layer, x)
            _compare_tensors(f"output for an input of shape {shape} (r=3, alpha=6, B != 0)", expected, got)
        with torch.no_grad():
            x = torch.randn(5, 12)
            before = LoRALinear.forward(layer, x)
            layer.merge()
            _compare_tensors("output after merge() (the update is inside W now: do not add it twice)", before,
                             forward(layer, x))
        return "matches LoRALinear.forward, for 2-D and 3-D inputs, and after merging"
    return _run("check_lora_forward", body, verbose)


def _compare_tensors(what: str, expected: torch.Tensor, got) -> None:
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(what, f"a tensor of shape {tuple(expected.shape)}", type(got).__name__)
    if got.shape != expected.shape:
        raise CheckFailed(what, f"shape {tuple(expected.shape)}", f"shape {tuple(got.shape)}")
    if not torch.allclose(got, expected, atol=1e-5, rtol=1e-4):
        err = (got - expected).abs().max().item()
        raise CheckFailed(f"{what}: values differ (max error {err:.3g})",
                          _preview(expected), _preview(got))


def _preview(t: torch.Tensor) -> str:
    values = ", ".join(f"{v:.4f}" for v in t.flatten()[:4].tolist())
    return f"[{values}, ...]"


def check_lora_merge(lora_merge, verbose: bool = True) -> bool:
    """Exercise 2.3: `merge(self)` adds scaling * B @ A to W once, sets `merged`, and keeps the output the same."""
    def body():
        merge = _method(lora_merge, "merge")
        layer = _reference_layer()
        w0 = layer.base.weight.detach().clone()
        x = torch.randn(5, 12)
        with torch.no_grad():
            before = LoRALinear.forward(layer, x)
            merge(layer)
            expected = w0 + layer.scaling * layer.lora_B @ layer.lora_A
            _compare_tensors("W after one merge (W + (alpha / r) B A)", expected, layer.base.weight)
            if layer.merged is not True:
                raise CheckFailed("self.merged after merge()", True, layer.merged)
            _compare_tensors("output after merge()", before, LoRALinear.forward(layer, x))
            merge(layer)
            _compare_tensors("W after merging twice (the second call must change nothing)", expected,
                             layer.base.weight)
        return "W gains (alpha / r) B A exactly once; the output is unchanged"
    return _run("check_lora_merge", body, verbose)


def check_lora_linear(lora_class, verbose: bool = True) -> bool:
    """Exercises 2.1-2.3 together: the learner's LoRA class passes the init, forward and merge checks."""
    results = [check(lora_class, verbose) for check in (check_lora_init, check_lora_forward, check_lora_merge)]
    return all(results)


def check_inject_lora(inject_fn, verbose: bool = True) -> bool:
    """Exercise 2.4: `inject_fn(model, layers, targets, r, alpha)` wraps what `inject_lora` wraps (0-based layers)."""
    cases = [("bert", [1, 3], ("query", "value"), 2, 4.0), ("bert", [0], ("key", "ffn_in"), 4, 4.0),
             ("distilbert", [2], ("value", "attention_output"), 2, 8.0)]

    def body():
        for family, layers, targets, r, alpha in cases:
            label = f"{family}, layers={layers}, targets={targets}, r={r}, alpha={alpha}"
            model = tiny_model(family, num_layers=4, hidden=16)
            ids, mask = _sample_inputs(model)
            before = _logits(model, ids, mask)
            inject_fn(model, layers, targets, r, alpha)
            reference = tiny_model(family, num_layers=4, hidden=16)
            inject_lora(reference, targets, layers, r=r, alpha=alpha)
            expected, got = _adapters(reference), _adapters(model)
            if set(expected) != set(got):
                raise CheckFailed(f"{label}: the wrapped modules", _short(expected), _short(got))
            for path, module in got.items():
                settings = (module.lora_A.shape[0], getattr(module, "scaling", None))
                if settings != (r, alpha / r):
                    raise CheckFailed(f"{label}: {path}'s (r, scaling)", (r, alpha / r), settings)
            _compare_tensors(f"{label}: logits right after injecting (B = 0 changes nothing)", before,
                             _logits(model, ids, mask))
        return "wraps the same modules as inject_lora, with the right r and alpha, output unchanged"
    return _run("check_inject_lora", body, verbose)


# ---------------------------------------------------------------- lesson 03: where knowledge lives


def reference_layer_features(model: nn.Module, input_ids, attention_mask) -> torch.Tensor:
    """Mean of each layer's token vectors over the real (unpadded) tokens: shape (L + 1, batch, hidden).

    Row 0 is the embeddings' output, row k the output of layer k (lesson 03's probes read these).
    """
    with torch.no_grad():
        hidden = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
    mask = attention_mask.unsqueeze(-1).to(hidden[0].dtype)
    return torch.stack([(h * mask).sum(1) / mask.sum(1) for h in hidden])


def check_layer_features(features_fn, verbose: bool = True) -> bool:
    """Exercise 3.1: `features_fn(model, input_ids, attention_mask)` mean-pools every layer over real tokens."""
    def body():
        model = tiny_model("bert", num_layers=3, hidden=16)
        ids, mask = _sample_inputs(model, batch=3)
        expected = reference_layer_features(model, ids, mask)
        with torch.no_grad():
            got = features_fn(model, ids, mask)
        _compare_tensors("features of a 3-layer model, batch of 3 with padding (embeddings + 3 layers)",
                         expected, torch.as_tensor(got) if isinstance(got, np.ndarray) else got)
        return "shape (L + 1, batch, hidden), padding left out of the mean"
    return _run("check_layer_features", body, verbose)


def reference_probe_accuracies(features, labels, n_train: int) -> list[float]:
    """For each layer: a logistic-regression probe fit on the first `n_train` examples, accuracy on the rest."""
    from sklearn.linear_model import LogisticRegression

    features, labels = np.asarray(features), np.asarray(labels)
    scores = []
    for layer in features:
        probe = LogisticRegression(max_iter=1000).fit(layer[:n_train], labels[:n_train])
        scores.append(float(probe.score(layer[n_train:], labels[n_train:])))
    return scores


def _probe_data(seed: int = 0):
    """Five 'layers' of 8-dim features for 120 examples, the label signal growing with depth."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, 120)
    noise = rng.normal(size=(5, 120, 8))
    direction = rng.normal(size=8)
    signal = np.array([0.0, 0.15, 0.4, 0.8, 1.2])[:, None, None] * (2 * labels - 1)[None, :, None] * direction
    return noise + signal, labels


def check_probe_accuracies(probe_fn, verbose: bool = True) -> bool:
    """Exercise 3.2: `probe_fn(features, labels, n_train)` gives one held-out probe accuracy per layer."""
    def body():
        features, labels = _probe_data()
        expected = reference_probe_accuracies(features, labels, 80)
        got = probe_fn(features, labels, 80)
        got_list = [float(v) for v in got] if hasattr(got, "__len__") else got
        if not isinstance(got_list, list) or len(got_list) != len(expected):
            raise CheckFailed("one accuracy per row of features (embeddings + 4 layers)",
                              f"{len(expected)} accuracies", repr(got))
        if not np.allclose(got_list, expected, atol=0.03):
            raise CheckFailed("held-out accuracies (fit on the first 80, score on the other 40)",
                              [round(v, 3) for v in expected], [round(v, 3) for v in got_list])
        return "held-out accuracies match a LogisticRegression probe per layer"
    return _run("check_probe_accuracies", body, verbose)


def reference_choose_boundaries(accuracies, low: float = 1 / 3, high: float = 2 / 3) -> tuple[int, int]:
    """Lesson 03's rule: N1, N2 from probe accuracies a[0] (embeddings), a[1..L].

    With progress p[k] = (a[k] - a[0]) / (max(a) - a[0]): layers before the first one reaching `low` are frozen
    (N1 of them), layers before the first one reaching `high` train biases (up to N2), the rest get LoRA.
    No rise at all means nothing to adapt: N1 = N2 = L.
    """
    a = [float(v) for v in accuracies]
    layers, rise = len(a) - 1, max(a) - a[0]
    if rise <= 0:
        return layers, layers
    progress = [(v - a[0]) / rise for v in a]
    n1 = next(k for k in range(1, layers + 1) if progress[k] >= low) - 1
    n2 = next(k for k in range(1, layers + 1) if progress[k] >= high) - 1
    return n1, max(n1, n2)


def check_choose_boundaries(choose_fn, verbose: bool = True) -> bool:
    """Exercise 3.3: `choose_fn(accuracies)` applies lesson 03's rule to pick (N1, N2)."""
    cases = [[0.60, 0.61, 0.66, 0.74, 0.80, 0.82, 0.83], [0.55, 0.70, 0.72, 0.90, 0.91],
             [0.70, 0.69, 0.70, 0.71, 0.75, 0.79, 0.80, 0.80, 0.86, 0.88, 0.89, 0.90, 0.90],
             [0.50, 0.50, 0.50], [0.52, 0.90, 0.91, 0.91]]

    def body():
        for accuracies in cases:
            expected = reference_choose_boundaries(accuracies)
            got = choose_fn(list(accuracies))
            if tuple(got) != expected:
                raise CheckFailed(f"(N1, N2) for accuracies {accuracies}", expected, tuple(got))
            check_boundaries(len(accuracies) - 1, *got)
        return f"(N1, N2) right on {len(cases)} accuracy curves, flat and steep ones included"
    return _run("check_choose_boundaries", body, verbose)


# ---------------------------------------------------------------- lesson 04: SPAFIT


def check_layer_groups(groups_fn, verbose: bool = True) -> bool:
    """Exercise 4.1: `groups_fn(num_layers, n1, n2)` gives each layer's group like `layer_groups`."""
    def body():
        for layers in range(1, 7):
            for n1 in range(layers + 1):
                for n2 in range(n1, layers + 1):
                    expected = layer_groups(layers, n1, n2)
                    got = groups_fn(layers, n1, n2)
                    if list(got) != expected:
                        raise CheckFailed(f"groups of layers 1..{layers} with N1={n1}, N2={n2}", expected,
                                          list(got))
        return "every (L, N1, N2) with L <= 6 gives the same groups as layer_groups"
    return _run("check_layer_groups", body, verbose)


def check_spafit(spafit_fn, verbose: bool = True) -> bool:
    """Exercise 4.2: `spafit_fn(model, config)` trains and wraps what `apply_spafit(model, config)` does."""
    cases = [("bert", SpafitConfig(1, 3, targets=("query", "value"), r=2, alpha=4.0)),
             ("bert", SpafitConfig(0, 4)), ("bert", SpafitConfig(2, 2, targets=("key",), bias_terms="all")),
             ("distilbert", SpafitConfig(0, 0, targets=("query", "key", "value"), r=4)),
             ("bert", SpafitConfig(4, 4))]

    def body():
        for family, config in cases:
            label = f"{family}, N1={config.n1}, N2={config.n2}, targets={config.targets}, bias_terms={config.bias_terms!r}"
            model = tiny_model(family, num_layers=4, hidden=16)
            spafit_fn(model, config)
            reference = apply_spafit(tiny_model(family, num_layers=4, hidden=16), config)
            expected, got = _adapters(reference), _adapters(model)
            if set(expected) != set(got):
                raise CheckFailed(f"{label}: the LoRA-wrapped modules", _short(expected), _short(got))
            _compare_names(label, trainable_names(reference), trainable_names(model))
        return "same LoRA layers and trainable parameters as apply_spafit on 5 configurations"
    return _run("check_spafit", body, verbose)


def check_spafit_count(count_fn, verbose: bool = True) -> bool:
    """Exercise 4.3: `count_fn(config, spafit)` gives SPAFIT's trainable parameters like `closed_form_count`."""
    spafits = [SpafitConfig(4, 9, targets=("query", "key", "value"), r=64),
               SpafitConfig(1, 2, targets=("query", "value", "ffn_in"), r=8, bias_terms="all"),
               SpafitConfig(0, 0, targets=("attention_output", "ffn_out"), r=4, bias_terms="none"),
               SpafitConfig(2, 3)]

    def body():
        for label, config in _bert_configs().items():
            for spafit in spafits:
                if spafit.n2 > config.num_hidden_layers:
                    continue
                expected = closed_form_count(config, spafit).trainable
                got = count_fn(config, spafit)
                if got != expected:
                    raise CheckFailed(
                        f"{label}, N1={spafit.n1}, N2={spafit.n2}, r={spafit.r}, targets={spafit.targets}, "
                        f"bias_terms={spafit.bias_terms!r}", f"{expected:,}",
                        f"{got:,}" if isinstance(got, int) else repr(got))
        return "counts match closed_form_count (bert-large-cased at N1=4, N2=9, r=64 on q/k/v: 6,084,610)"
    return _run("check_spafit_count", body, verbose)


def captured(check, learner) -> tuple[bool, str]:
    """Run a check and return (result, printed text): for tests and for instructors trying wrong answers."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        result = check(learner)
    return result, buffer.getvalue()
