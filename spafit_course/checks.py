"""Instant checks for the practice notebooks in exercises/ (lessons 01-04).

Each `check_*` function takes the learner's function, class or model, runs it on tiny randomly initialised
models (`models.tiny_model`) in a second or two, and compares every property the exercise asks for with the
package's canonical implementation, on inputs that vary what a learner could hard-code. It prints one line
starting with PASS, or FAIL followed by what was expected, what came back and, where one stands out, the likely
cause; it returns nothing, so a check cell shows its verdict once. An exception raised by the learner's code
(NotImplementedError included) is a FAIL that shows the error's message; it never stops the notebook.

`passes(check, answer)` gives the verdict as a bool without printing; `use_or_reference` lets later cells go on
with the package's version when an exercise is not solved yet. Lesson 02's checks live in `checks_lora`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .architectures import get_layers, head_parameter_names, resolve_targets
from .bitfit import apply_bitfit
from .check_tools import (CheckFailed, adapters, captured, check_gradients_reach, compare_names, compare_tensors,
                          diagnose, learner_check, logits, passes, sample_inputs, short, trainable_names)
from .checks_lora import (check_inject_lora, check_lora_forward, check_lora_init, check_lora_linear,
                          check_lora_merge)
from .closed_form import bias_params_per_layer, closed_form_count, head_params, lora_params_per_layer
from .models import KNOWN_CONFIGS, tiny_config, tiny_model
from .spafit import SpafitConfig, apply_spafit, check_boundaries, layer_groups

ATTENTION_TARGETS = ("query", "key", "value", "attention_output")

__all__ = ["CheckFailed", "captured", "passes", "use_or_reference", "trainable_names", "check_attention_biases",
           "check_bitfit", "check_bitfit_count", "check_lora_init", "check_lora_forward", "check_lora_merge",
           "check_lora_linear", "check_inject_lora", "check_layer_features", "check_probe_accuracies",
           "check_choose_boundaries", "check_layer_groups", "check_spafit", "check_spafit_count"]


def use_or_reference(learner, reference, check):
    """The learner's function or class when it passes `check` (run silently), else `reference` (with a note).

    Later cells of a practice notebook call this so that an unsolved exercise does not break them.
    """
    if passes(check, learner):
        return learner
    name = getattr(reference, "__qualname__", repr(reference))
    print(f"note: {getattr(learner, '__name__', 'your answer')} does not pass its check yet; "
          f"the cells below use the package's {name} instead")
    return reference


# ---------------------------------------------------------------- lesson 01: BitFit


def attention_bias_names(model: nn.Module) -> set[str]:
    """The query/key/value/attention-output biases of every layer plus the task head (exercise 1.1's answer)."""
    wanted = {id(layer.get_submodule(path).bias) for layer in get_layers(model)
              for path in resolve_targets(model, ATTENTION_TARGETS).values()}
    wanted |= {id(p) for name, p in model.named_parameters() if name in set(head_parameter_names(model))}
    return {name for name, p in model.named_parameters() if id(p) in wanted}


@learner_check
def check_attention_biases(model):
    """Exercise 1.1: only the attention biases of every layer (query, key, value, output) and the head train."""
    if not isinstance(model, nn.Module):
        raise CheckFailed("expected the model itself", "an nn.Module", type(model).__name__)
    expected = attention_bias_names(model)
    compare_names("attention-bias BitFit", expected, trainable_names(model))
    return f"{len(expected)} tensors train: the 4 attention biases per layer and the head"


@learner_check
def check_bitfit(bitfit_fn):
    """Exercise 1.2: `bitfit_fn(model, bias_terms)` trains what `apply_bitfit` trains, for each bias choice."""
    for family, labels in (("bert", 2), ("distilbert", 3)):
        for bias_terms in ("linear", "all"):
            model = tiny_model(family, num_layers=2, hidden=16, num_labels=labels)
            bitfit_fn(model, bias_terms)
            reference = apply_bitfit(tiny_model(family, num_layers=2, hidden=16, num_labels=labels), bias_terms)
            compare_names(f"{family}, bias_terms={bias_terms!r}", trainable_names(reference), trainable_names(model))
    return "same trainable parameters as apply_bitfit for bias_terms 'linear' and 'all' (BERT and DistilBERT)"


def _bert_configs():
    """The configurations the count checks try: a tiny BERT, and BERT base and large (3 and 2 labels)."""
    from transformers import BertConfig

    return {"tiny BERT": tiny_config("bert", num_layers=3, hidden=32),
            "bert-base-cased, 3 labels": BertConfig(**KNOWN_CONFIGS["bert-base-cased"], num_labels=3),
            "bert-large-cased": BertConfig(**KNOWN_CONFIGS["bert-large-cased"], num_labels=2)}


def _count_parts(config, spafit: SpafitConfig) -> str:
    """The closed form's total split into its parts, so a learner sees which part of a wrong count is off."""
    groups = layer_groups(config.num_hidden_layers, spafit.n1, spafit.n2)
    biases = bias_params_per_layer(config, spafit.bias_terms)
    lora = lora_params_per_layer(config, spafit.targets, spafit.r)
    lora_part = f" + LoRA {groups.count(3)} layers x {lora:,}" if groups.count(3) else ""
    return (f"{closed_form_count(config, spafit).trainable:,} = biases {sum(g != 1 for g in groups)} layers x "
            f"{biases:,}{lora_part} + head {head_params(config):,}")


def _count_hint(config, expected: int, got) -> str | None:
    """The usual slip behind a wrong parameter count, when the difference gives it away."""
    if not isinstance(got, (int, np.integer)):
        return "return the count as an int"
    head, two_labels = head_params(config), config.hidden_size * 2 + 2
    if got == expected - head:
        return "the classifier (H*C + C) trains too"
    if config.num_labels != 2 and got == expected - head + two_labels:
        return "C is config.num_labels: the number of labels is not always 2"
    return None


def _check_count(label: str, config, spafit: SpafitConfig, got) -> None:
    expected = closed_form_count(config, spafit).trainable
    if got != expected:
        shown = f"{got:,}" if isinstance(got, (int, np.integer)) else repr(got)
        raise CheckFailed(label, _count_parts(config, spafit), shown, _count_hint(config, expected, got))


@learner_check
def check_bitfit_count(count_fn):
    """Exercise 1.3: `count_fn(config, bias_terms)` gives BitFit's trainable parameters from dimensions alone."""
    for label, config in _bert_configs().items():
        for bias_terms in ("linear", "all"):
            bitfit = SpafitConfig(n1=0, n2=config.num_hidden_layers, bias_terms=bias_terms)
            _check_count(f"BitFit count of {label}, bias_terms={bias_terms!r}", config, bitfit,
                         count_fn(config, bias_terms))
    return "BitFit counts match the closed form for tiny BERT, bert-base-cased and bert-large-cased"


# ---------------------------------------------------------------- lesson 03: where knowledge lives


def reference_layer_features(model: nn.Module, input_ids, attention_mask) -> torch.Tensor:
    """Mean of each layer's token vectors over the real (unpadded) tokens: shape (L + 1, batch, hidden).

    Row 0 is the embeddings' output, row k the output of layer k (lesson 03's probes read these).
    """
    with torch.no_grad():
        hidden = model(input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True).hidden_states
    mask = attention_mask.unsqueeze(-1).to(hidden[0].dtype)
    return torch.stack([(h * mask).sum(1) / mask.sum(1) for h in hidden])


@learner_check
def check_layer_features(features_fn):
    """Exercise 3.1: `features_fn(model, input_ids, attention_mask)` mean-pools every layer over real tokens."""
    for family, layers, batch in (("bert", 3, 3), ("distilbert", 2, 4)):
        model = tiny_model(family, num_layers=layers, hidden=16)
        ids, mask = sample_inputs(model, batch=batch)
        mask[-1, 3:] = 0  # a second padded sequence, of another length
        expected = reference_layer_features(model, ids, mask)
        with torch.no_grad():
            got = features_fn(model, ids, mask)
        got = torch.as_tensor(got) if isinstance(got, np.ndarray) else got
        with torch.no_grad():
            hidden = model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states
        causes = {"padding is averaged in: weight the tokens by attention_mask": torch.stack([h.mean(1) for h in hidden]),
                  "only the [CLS] token is used: average over every real token": torch.stack([h[:, 0] for h in hidden]),
                  "the embeddings' row is missing: hidden_states has L + 1 entries": expected[1:]}
        compare_tensors(f"features of a {layers}-layer {family}, batch of {batch} with padding (embeddings + "
                        f"{layers} layers)", expected, got, diagnose(got, causes))
    return "shape (L + 1, batch, hidden), padding left out of the mean"


def reference_probe_accuracies(features, labels, n_train: int) -> list[float]:
    """For each layer: a logistic-regression probe fit on the first `n_train` examples, accuracy on the rest."""
    from sklearn.linear_model import LogisticRegression

    features, labels = np.asarray(features), np.asarray(labels)
    scores = []
    for layer in features:
        probe = LogisticRegression(max_iter=1000).fit(layer[:n_train], labels[:n_train])
        scores.append(float(probe.score(layer[n_train:], labels[n_train:])))
    return scores


def _probe_data(seed: int, examples: int, classes: int, strengths):
    """`len(strengths)` 'layers' of 8-dim features for `examples` examples; each layer's class signal as given."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, examples)
    centres = rng.normal(size=(classes, 8))
    noise = rng.normal(size=(len(strengths), examples, 8))
    return noise + np.asarray(strengths)[:, None, None] * centres[labels][None], labels


# seed, examples, n_train, classes, signal per layer: two and three classes, the best layer not always the last
PROBE_CASES = [(0, 120, 80, 2, (0.0, 0.15, 0.4, 0.8, 1.2)), (1, 150, 99, 3, (0.1, 0.9, 0.5, 0.3))]


@learner_check
def check_probe_accuracies(probe_fn):
    """Exercise 3.2: `probe_fn(features, labels, n_train)` gives one held-out probe accuracy per layer."""
    for seed, examples, n_train, classes, strengths in PROBE_CASES:
        features, labels = _probe_data(seed, examples, classes, strengths)
        expected = reference_probe_accuracies(features, labels, n_train)
        got = probe_fn(features, labels, n_train)
        got_list = [float(v) for v in got] if hasattr(got, "__len__") else got
        label = f"{classes} classes, fit on the first {n_train} of {examples}, score on the other {examples - n_train}"
        if not isinstance(got_list, list) or len(got_list) != len(expected):
            raise CheckFailed(f"{label}: one accuracy per row of features (embeddings + layers)",
                              f"{len(expected)} accuracies", repr(got),
                              "row 0 of features is the embeddings: it gets a probe too")
        # within half an example: a probe fit on one example more or fewer is a different answer
        if not np.allclose(got_list, expected, atol=0.5 / (examples - n_train), rtol=0):
            raise CheckFailed(f"{label}: held-out accuracies", [round(v, 3) for v in expected],
                              [round(v, 3) for v in got_list],
                              "fit LogisticRegression(max_iter=1000) on features[:n_train] exactly and score on "
                              "the rest (not on the training rows)")
    return "held-out accuracies match a LogisticRegression probe per layer (2 and 3 classes)"


def reference_choose_boundaries(accuracies, low: float = 1 / 3, high: float = 2 / 3) -> tuple[int, int]:
    """Lesson 03's rule: N1, N2 from probe accuracies a[0] (embeddings), a[1..L].

    With progress p[k] = (a[k] - a[0]) / (max(a) - a[0]): layers before the first one reaching `low` are frozen
    (N1 of them), layers before the first one reaching `high` train biases (up to N2), the rest get LoRA.
    No rise at all means nothing to adapt: N1 = N2 = L.
    """
    a = [float(v) for v in accuracies]
    return _boundaries(a, low, high, top=max(a))


def _boundaries(a: list[float], low: float, high: float, top: float) -> tuple[int, int]:
    layers, rise = len(a) - 1, top - a[0]
    if rise <= 0:
        return layers, layers
    progress = [(v - a[0]) / rise for v in a]
    n1 = next((k for k in range(1, layers + 1) if progress[k] >= low), layers + 1) - 1
    n2 = next((k for k in range(1, layers + 1) if progress[k] >= high), layers + 1) - 1
    return n1, max(n1, n2)


# accuracies (embeddings first) and the thresholds: flat, steep, falling after a peak, custom thresholds
BOUNDARY_CASES = [([0.60, 0.61, 0.66, 0.74, 0.80, 0.82, 0.83], None), ([0.55, 0.70, 0.72, 0.90, 0.91], None),
                  ([0.70, 0.69, 0.70, 0.71, 0.75, 0.79, 0.80, 0.80, 0.86, 0.88, 0.89, 0.90, 0.90], None),
                  ([0.50, 0.50, 0.50], None), ([0.52, 0.90, 0.91, 0.91], None),
                  ([0.50, 0.58, 0.66, 0.80, 0.74, 0.70, 0.62], None),
                  ([0.60, 0.63, 0.66, 0.72, 0.78, 0.84, 0.90], (0.5, 0.9))]


@learner_check
def check_choose_boundaries(choose_fn):
    """Exercise 3.3: `choose_fn(accuracies, low, high)` applies lesson 03's rule to pick (N1, N2)."""
    for accuracies, thresholds in BOUNDARY_CASES:
        kwargs = dict(zip(("low", "high"), thresholds or ()))
        expected = reference_choose_boundaries(accuracies, **kwargs)
        got = choose_fn(list(accuracies), **kwargs)
        shown = tuple(got) if isinstance(got, (tuple, list)) else got
        if shown != expected:
            rise_to_last = _boundaries(accuracies, *(thresholds or (1 / 3, 2 / 3)), top=accuracies[-1])
            hint = ("the rise is max(a) - a[0], up to the best layer, not to the last one" if shown == rise_to_last
                    else "use the low and high passed in, not fixed thresholds" if thresholds else None)
            raise CheckFailed(f"(N1, N2) for accuracies {accuracies}" + (f", low={thresholds[0]}, high={thresholds[1]}"
                                                                           if thresholds else ""),
                              expected, shown, hint)
        check_boundaries(len(accuracies) - 1, *shown)
    return f"(N1, N2) right on {len(BOUNDARY_CASES)} accuracy curves: flat, steep, peaked, custom thresholds"


# ---------------------------------------------------------------- lesson 04: SPAFIT


@learner_check
def check_layer_groups(groups_fn):
    """Exercise 4.1: `groups_fn(num_layers, n1, n2)` gives each layer's group like `layer_groups`."""
    for layers in range(1, 7):
        for n1 in range(layers + 1):
            for n2 in range(n1, layers + 1):
                expected, got = layer_groups(layers, n1, n2), groups_fn(layers, n1, n2)
                got = list(got) if isinstance(got, (list, tuple)) else got
                if got != expected:
                    shifted = [1 if k < n1 else 2 if k < n2 else 3 for k in range(1, layers + 1)]
                    hint = ("layers are numbered 1..L: layer k is frozen when k <= N1" if got == shifted else
                            "index 0 holds layer 1, the input side" if got == expected[::-1] else None)
                    raise CheckFailed(f"groups of layers 1..{layers} with N1={n1}, N2={n2}", expected, got, hint)
    return "every (L, N1, N2) with L <= 6 gives the same groups as layer_groups"


# every target and bias choice, r and alpha off their defaults, dropout, the pooler, each end of the range
SPAFIT_CASES = [("bert", SpafitConfig(1, 3, targets=("query", "value"), r=3, alpha=4.0, dropout=0.1)),
                ("bert", SpafitConfig(0, 4)),
                ("bert", SpafitConfig(2, 2, targets=("key", "ffn_out"), bias_terms="all", train_pooler=True)),
                ("distilbert", SpafitConfig(0, 0, targets=("query", "key", "value", "attention_output", "ffn_in"),
                                            r=4, bias_terms="none")),
                ("bert", SpafitConfig(4, 4))]


def _lora_settings(module) -> tuple:
    """(r, scaling, dropout) of a LoRA-wrapped module, whatever class wraps it."""
    return (module.lora_A.shape[0], round(float(getattr(module, "scaling", 0.0)), 6),
            float(getattr(getattr(module, "dropout", None), "p", 0.0)))


@learner_check
def check_spafit(spafit_fn):
    """Exercise 4.2: `spafit_fn(model, config)` trains and wraps what `apply_spafit(model, config)` does."""
    for family, config in SPAFIT_CASES:
        label = (f"{family}, N1={config.n1}, N2={config.n2}, targets={config.targets}, r={config.r}, "
                 f"alpha={config.alpha:g}, dropout={config.dropout:g}, bias_terms={config.bias_terms!r}, "
                 f"train_pooler={config.train_pooler}")
        model = tiny_model(family, num_layers=4, hidden=16)
        ids, mask = sample_inputs(model)
        before = logits(model, ids, mask)
        spafit_fn(model, SpafitConfig(**config.to_dict()))
        reference = apply_spafit(tiny_model(family, num_layers=4, hidden=16), SpafitConfig(**config.to_dict()))
        expected, got = adapters(reference), adapters(model)
        if set(expected) != set(got):
            raise CheckFailed(f"{label}: the LoRA-wrapped modules", short(expected), short(got),
                              "LoRA goes into group 3 only: layers N2+1..L, 0-based indices N2..L-1")
        for path, module in got.items():
            if _lora_settings(module) != _lora_settings(expected[path]):
                raise CheckFailed(f"{label}: {path}'s (r, scaling, dropout)", _lora_settings(expected[path]),
                                  _lora_settings(module), "pass config.r, config.alpha and config.dropout on to "
                                                          "inject_lora (its defaults are r=8, alpha=16, no dropout)")
        compare_names(label, trainable_names(reference), trainable_names(model))
        compare_tensors(f"{label}: logits right after stratifying", before, logits(model, ids, mask),
                        "stratifying only changes what trains: LoRA's B starts at zero")
        check_gradients_reach(label, model, ids, mask)
    return (f"same LoRA layers, settings, trainable parameters, output and gradients as apply_spafit on "
            f"{len(SPAFIT_CASES)} configurations")


# r and targets vary, each bias choice, boundaries at both ends (the pooler stays frozen, as exercise 4.3 says)
SPAFIT_COUNT_CASES = [SpafitConfig(4, 9, targets=("query", "key", "value"), r=64),
                      SpafitConfig(1, 2, targets=("query", "value", "ffn_in"), r=8, bias_terms="all"),
                      SpafitConfig(0, 0, targets=("attention_output", "ffn_out"), r=4, bias_terms="none"),
                      SpafitConfig(2, 3, r=6)]


@learner_check
def check_spafit_count(count_fn):
    """Exercise 4.3: `count_fn(config, spafit)` gives SPAFIT's trainable parameters like `closed_form_count`."""
    for label, config in _bert_configs().items():
        for spafit in SPAFIT_COUNT_CASES:
            if spafit.n2 > config.num_hidden_layers:
                continue
            _check_count(f"{label}, N1={spafit.n1}, N2={spafit.n2}, r={spafit.r}, targets={spafit.targets}, "
                         f"bias_terms={spafit.bias_terms!r}", config, spafit,
                         count_fn(config, SpafitConfig(**spafit.to_dict())))
    return "counts match closed_form_count (bert-large-cased at N1=4, N2=9, r=64 on q/k/v: 6,084,610)"
