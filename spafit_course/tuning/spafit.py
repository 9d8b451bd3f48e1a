"""SPAFIT (lesson 04): Stratified Progressive Adaptation Fine-tuning, Arora & Wang 2024.

Two boundaries 0 <= N1 <= N2 <= L split the L layers (numbered 1..L from the input side) into three groups:

    group 1, layers 1..N1      frozen, like the embeddings
    group 2, layers N1+1..N2   bias terms only (BitFit)
    group 3, layers N2+1..L    LoRA on the target matrices, plus the same bias terms

The task head always trains. The baselines are settings of the same stratifier: N1 = N2 = L is a linear probe,
N1 = 0, N2 = L is full BitFit, N1 = N2 = 0 is LoRA+BitFit everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

from .architectures import get_layers, resolve_targets
from .freezing import check_bias_terms, check_pooler, freeze_all, unfreeze_biases, unfreeze_head
from .lora import check_fresh, check_lora_hyperparameters, inject_lora
from .validation import as_int, as_targets

FROZEN, BIAS_ONLY, LORA_AND_BIAS = 1, 2, 3
GROUP_NAMES = {FROZEN: "frozen", BIAS_ONLY: "bias only", LORA_AND_BIAS: "LoRA + bias"}


@dataclass
class SpafitConfig:
    """Everything `apply_spafit` needs; the defaults are the course's (lesson 04).

    n1, n2        the group boundaries, 0 <= n1 <= n2 <= L
    targets       the matrices LoRA adapts in group 3, from `architectures.TARGETS`
    r, alpha      LoRA rank and scale (the update is multiplied by alpha / r)
    dropout       dropout on LoRA's input, in [0, 1)
    bias_terms    which biases train in groups 2 and 3: "linear" (every Linear bias), "all" (plus LayerNorm),
                  or "none"
    train_pooler  whether BERT's pooler trains with the head (off: the paper's counts leave it frozen); only
                  a model with a pooler accepts True (a mean head, `heads.py`, has none)
    """

    n1: int
    n2: int
    targets: tuple = ("query", "value")
    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.0
    bias_terms: str = "linear"
    train_pooler: bool = False

    def __post_init__(self):
        self.validate()

    def validate(self) -> "SpafitConfig":
        """Check every field (again: a config can be edited after construction) and normalise its types.

        NumPy integers become ints and `targets` a tuple; anything else wrong raises a ValueError naming the
        field and its allowed values. Returns the config itself.
        """
        self.targets = as_targets(self.targets)
        self.r, self.alpha, self.dropout = check_lora_hyperparameters(self.r, self.alpha, self.dropout)
        check_bias_terms(self.bias_terms)
        if not isinstance(self.train_pooler, bool):
            raise ValueError(f"train_pooler must be True or False, got {self.train_pooler!r}")
        self.n1, self.n2 = as_int("n1", self.n1, minimum=0), as_int("n2", self.n2, minimum=0)
        if self.n1 > self.n2:
            raise ValueError(f"need 0 <= N1 <= N2 <= L, got N1={self.n1} > N2={self.n2}")
        return self

    def to_dict(self) -> dict:
        d = asdict(self)
        d["targets"] = list(self.targets)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "SpafitConfig":
        """The config `to_dict` wrote; unknown or missing fields raise a ValueError naming them."""
        if not isinstance(d, dict):
            raise ValueError(f"a SpafitConfig is stored as a dict, got {type(d).__name__}")
        fields = set(cls.__dataclass_fields__)
        unknown, missing = sorted(set(d) - fields), sorted({"n1", "n2"} - set(d))
        if unknown or missing:
            raise ValueError(f"SpafitConfig fields: unknown {unknown}, missing {missing}; known: {sorted(fields)}")
        return cls(**d)


def check_boundaries(num_layers: int, n1: int, n2: int) -> None:
    """Fail early, naming the allowed range, unless 0 <= n1 <= n2 <= num_layers (integers)."""
    n1, n2 = as_int("N1", n1), as_int("N2", n2)
    if not (0 <= n1 <= n2 <= num_layers):
        raise ValueError(f"need 0 <= N1 <= N2 <= L = {num_layers}, got N1={n1}, N2={n2}")


def layer_groups(num_layers: int, n1: int, n2: int) -> list[int]:
    """The group (1, 2 or 3) of each layer 1..L, as a list indexed from 0."""
    check_boundaries(num_layers, n1, n2)
    return [FROZEN if k <= n1 else BIAS_ONLY if k <= n2 else LORA_AND_BIAS for k in range(1, num_layers + 1)]


def scaled_boundaries(num_layers: int, n1: int = 4, n2: int = 9, paper_layers: int = 24) -> tuple[int, int]:
    """The paper's best boundaries (4, 9 of 24 layers) scaled to another depth, rounded to the nearest layer."""
    s1 = round(n1 * num_layers / paper_layers)
    s2 = max(s1, round(n2 * num_layers / paper_layers))
    return s1, s2


def apply_spafit(model: nn.Module, config: SpafitConfig) -> nn.Module:
    """Stratify the model in place into the three groups and return it (lesson 04).

    Everything is checked before the first parameter changes, so a bad config leaves the model untouched.
    """
    if not isinstance(config, SpafitConfig):
        raise TypeError(f"config must be a SpafitConfig, got {type(config).__name__}")
    config.validate()  # fields may have been edited since construction
    layers = get_layers(model)
    check_boundaries(len(layers), config.n1, config.n2)
    resolve_targets(model, config.targets)
    check_pooler(model, config.train_pooler)
    check_fresh(model)

    groups = layer_groups(len(layers), config.n1, config.n2)
    freeze_all(model)
    for layer, group in zip(layers, groups):
        if group != FROZEN:
            unfreeze_biases(layer, config.bias_terms)
    lora_layers = [i for i, g in enumerate(groups) if g == LORA_AND_BIAS]
    if lora_layers:
        inject_lora(model, config.targets, lora_layers, config.r, config.alpha, config.dropout)
    unfreeze_head(model, config.train_pooler)
    model.spafit_config = config
    return model
