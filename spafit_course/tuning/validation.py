"""Checking the numbers and names users pass in (lessons 02 and 04), before any model changes.

Each function returns the value in its plain Python form (a NumPy integer becomes an `int`) or raises a
`ValueError` that names the argument and the allowed range: a wrong type is bad input like a wrong value, so
it is never left to surface later as a bare `TypeError`.
"""

from __future__ import annotations

import math
import numbers
import operator

from .architectures import TARGETS

#: Largest LoRA alpha accepted: far above any used in practice, far below where alpha / r overflows float32.
MAX_ALPHA = 1e6


def as_int(name: str, value, minimum: int | None = None, maximum: int | None = None,
           allowed: str | None = None) -> int:
    """`value` as an int within [minimum, maximum]; bools and floats are refused, NumPy integers accepted.

    `allowed` replaces the range in the error message ("an integer >= 0" by default).
    """
    allowed = allowed or f"an integer {_range_text(minimum, maximum)}".rstrip()
    # bool is an int subclass, but layers=[True] or r=True is a slip, never a count
    number = None if isinstance(value, bool) else _index_or_none(value)
    if number is None or (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return number


def _index_or_none(value):
    try:
        return operator.index(value)
    except TypeError:
        return None


def _range_text(minimum, maximum) -> str:
    if minimum is not None and maximum is not None:
        return f"in {minimum}..{maximum}"
    if minimum is not None:
        return f">= {minimum}"
    return f"<= {maximum}" if maximum is not None else ""


def as_number(name: str, value, allowed: str, ok) -> float:
    """`value` as a finite float for which `ok(value)` holds; `allowed` describes the range in the error."""
    # bool and str are refused even though float() takes them: alpha="16" is a slip to report, not to guess at
    valid = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not valid or not math.isfinite(float(value)) or not ok(float(value)):
        raise ValueError(f"{name} must be {allowed} (a finite number), got {value!r}")
    return float(value)


def as_targets(targets) -> tuple[str, ...]:
    """LoRA target names as a tuple: one name or a list of distinct names from `TARGETS`."""
    if isinstance(targets, str):
        targets = (targets,)
    if targets is None or not hasattr(targets, "__iter__"):
        raise ValueError(f"LoRA targets must be a name or a list of names from {', '.join(TARGETS)}, "
                         f"got {targets!r}")
    targets = tuple(targets)
    unknown = [t for t in targets if t not in TARGETS]
    if unknown or not targets:
        raise ValueError(f"unknown LoRA target(s) {unknown or '(none given)'}; choose from {', '.join(TARGETS)}")
    repeated = sorted({t for t in targets if targets.count(t) > 1})
    if repeated:
        raise ValueError(f"LoRA target(s) {repeated} given more than once; each matrix gets one adapter")
    return targets


def as_layer_indices(layers, num_layers: int) -> list[int]:
    """0-based layer indices (None: every layer), each in 0..num_layers-1 and given once."""
    if layers is None:
        return list(range(num_layers))
    if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
        raise ValueError(f"layers must be a list of 0-based layer indices in 0..{num_layers - 1} (or None for "
                         f"all), got {layers!r}")
    layers = list(layers)
    bad = [i for i in layers if isinstance(i, bool) or _index_or_none(i) is None]
    if bad:
        raise ValueError(f"layer indices must be integers in 0..{num_layers - 1}, got {bad}")
    indices = [operator.index(i) for i in layers]
    outside = [i for i in indices if not 0 <= i < num_layers]
    if outside:
        raise ValueError(f"layer indices {outside} out of range; this model has layers 0..{num_layers - 1}")
    repeated = sorted({i for i in indices if indices.count(i) > 1})
    if repeated:
        raise ValueError(f"layer indices {repeated} given more than once")
    return indices
