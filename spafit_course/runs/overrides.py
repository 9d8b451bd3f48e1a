"""What a profile's fields may hold: every change to a profile (`Profile.with_overrides`, the SPAFIT_* variables,
the command line's size options) is checked here before it is used, so a bad value fails at once naming the
field and what it allows, never minutes later inside a tokenizer or a training loop.
"""

from __future__ import annotations

import math
import re
from dataclasses import fields

from ..tuning.limits import MAX_POSITIONS, MIN_LENGTH  # noqa: F401  (re-exported: callers import them from here)

#: The largest seed torch and NumPy take.
MAX_SEED = 2 ** 32 - 1

#: Upper bounds far above any real run (GLUE's largest training set, MNLI, has 393k examples) and low enough that
#: a slip of the keyboard (an extra zero, or twenty) is refused at once instead of planning a run of years.
MAX_EXAMPLES, MAX_BATCH, MAX_EPOCHS = 10_000_000, 4096, 100


def is_int(value) -> bool:
    """A whole number of an integer type (Python or NumPy), not a bool."""
    import numbers

    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value) -> bool:
    """A finite real number (Python or NumPy), not a bool or a string."""
    import numbers

    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _int_in(low: int, high: int | None = None):
    allowed = f"an integer in {low}..{high}" if high is not None else "a positive integer" if low == 1 else \
        f"an integer >= {low}"
    return (lambda v: is_int(v) and v >= low and (high is None or v <= high)), allowed


def _epochs():
    return (lambda v: is_number(v) and 0 < v <= MAX_EPOCHS), f"a number > 0 and <= {MAX_EPOCHS}"


def _text():
    return (lambda v: isinstance(v, str) and v.strip() != ""), "a non-empty string"


#: field -> (test, what it allows); fields not listed here are not checked (a field added later, say).
FIELD_RULES = {
    "name": _text(), "model_name": _text(), "hardware": _text(),
    "train_size": _int_in(1, MAX_EXAMPLES), "eval_size": _int_in(1, MAX_EXAMPLES), "batch_size": _int_in(1, MAX_BATCH),
    "max_length": _int_in(MIN_LENGTH, MAX_POSITIONS), "epochs": _epochs(),
    "seed": _int_in(0, MAX_SEED),
    "train_pooler": ((lambda v: isinstance(v, bool)), "True or False"),
    "warmup_ratio": ((lambda v: is_number(v) and 0 <= v < 1), "a number in [0, 1)"),
}


def check_seed(seed, what: str = "seed") -> int:
    """A seed as a Python int, or a ValueError naming the allowed range (0..2**32-1, whole numbers)."""
    test, allowed = FIELD_RULES["seed"]
    if not test(seed):
        raise ValueError(f"{what} must be {allowed} (a whole number), got {seed!r}")
    return int(seed)


def checked_changes(profile, changes: dict) -> dict:
    """`changes` for `Profile.with_overrides` with None values dropped, each checked against its field's rule."""
    known = {f.name for f in fields(profile)}
    unknown = sorted(set(changes) - known)
    if unknown:
        raise ValueError(f"a profile has no field(s) {unknown}; its fields are {', '.join(sorted(known))}")
    changes = {name: value for name, value in changes.items() if value is not None}
    for name, value in changes.items():
        if name in FIELD_RULES:
            test, allowed = FIELD_RULES[name]
            if not test(value):
                raise ValueError(f"profile field {name} must be {allowed}, got {value!r}")
            if is_int(value):
                changes[name] = int(value)  # a NumPy integer becomes a plain one (JSON, memo keys)
        elif name == "task":
            from .tasks import get_task

            changes[name] = get_task(value).name
        elif name == "learning_rates":
            changes[name] = _learning_rates(profile.learning_rates, value)
        elif name in ("lora", "spafit"):
            changes[name] = _settings(name, getattr(profile, name), value)
    return changes


def _learning_rates(current: dict, table) -> dict:
    """A whole table of learning rates: one finite number > 0 for each method the profile has."""
    if not isinstance(table, dict):
        raise ValueError(f"profile field learning_rates must be a dict of method -> learning rate, got {table!r}")
    missing, unknown = sorted(set(current) - set(table)), sorted(set(table) - set(current))
    if missing or unknown:
        raise ValueError(f"profile field learning_rates must give a rate for each of {', '.join(current)} and no "
                         f"other; " + "; ".join(([f"missing {missing}"] if missing else [])
                                                + ([f"unknown {unknown}"] if unknown else [])))
    bad = {m: r for m, r in table.items() if not (is_number(r) and r > 0)}
    if bad:
        raise ValueError(f"profile field learning_rates must hold finite numbers > 0, got {bad}")
    return {m: float(r) for m, r in table.items()}


def _settings(name: str, current: dict, settings) -> dict:
    """The LoRA or SPAFIT settings, with the same keys as the profile's (a partial table would fail later)."""
    from ..tuning.spafit import SpafitConfig

    if not isinstance(settings, dict) or set(settings) != set(current):
        raise ValueError(f"profile field {name} must be a dict with exactly the keys {', '.join(current)}, got "
                         f"{settings!r}")
    try:
        SpafitConfig(**{"n1": 0, "n2": 0, **settings})  # the same checks as every SPAFIT and LoRA setting
    except (TypeError, ValueError) as error:
        raise ValueError(f"profile field {name}: {error}") from None
    return dict(settings)


def plain_int(text: str) -> int | None:
    """The integer a string of plain ASCII digits writes, else None.

    Python's int() also reads "16_0" (as 160), " 16", "+16" and full-width or other scripts' digits; a size read
    from the environment is refused unless it is written the one plain way.
    """
    return int(text) if re.fullmatch(r"[0-9]+", text) else None


def plain_decimal(text: str) -> float | None:
    """The number a plain decimal ("2", "0.5") writes, else None (no exponent, sign, "_", inf or nan)."""
    return float(text) if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) else None


def env_value(variable: str, text: str, field: str):
    """The value of a SPAFIT_* size variable for `field`, or a ValueError naming the variable and the rule."""
    test, allowed = FIELD_RULES[field]
    value = plain_decimal(text) if field == "epochs" else plain_int(text)
    if value is None or not test(value):
        form = "plain decimal digits, like 0.5 or 2" if field == "epochs" else "plain decimal digits, like 64"
        raise ValueError(f"{variable}={text!r} must be {allowed}, written in {form}; unset it to use the "
                         f"profile's {field}")
    return value


def check_steps(epochs: float, examples: int, batch_size: int, where: str = "the profile") -> None:
    """Refuse an epoch count that gives less than one optimizer step on `examples` in batches of `batch_size`
    (the Trainer would round it up to one step and the run would not be what its epochs say)."""
    per_epoch = math.ceil(examples / batch_size)
    if epochs * per_epoch < 1:
        raise ValueError(f"{where}: epochs={epochs:g} on {examples} training examples in batches of {batch_size} "
                         f"({per_epoch} step(s) per epoch) is less than one step; use epochs >= {1 / per_epoch:.3g}")
