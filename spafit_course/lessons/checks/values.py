"""What the checks of values accept (practice notebooks 00-06): finite numbers in their range, one accuracy per
seed, 0/1 answers per item, lists that pair up, (N1, N2) pairs; each in whatever container a right answer comes
(a list, a tuple, a NumPy array, a tensor; a set where order does not matter). Anything else is a FAIL that says
what was expected and what came back, never an error from inside the check."""

from __future__ import annotations

import numpy as np

from ...runs.overrides import is_int, is_number
from .tools import CheckFailed, as_list, as_number, safe_repr


def require(result, what: str):
    """Fail with a clear message when an experiment's result is missing (its function raised or never ran)."""
    if result is None:
        raise CheckFailed(f"no {what} to check yet", f"the {what} your experiment cell computed", None,
                          "run the experiment cell above; while your function raises, its result is None")
    return result


def shown(value, limit: int = 80) -> str:
    """"a list: [0.7, ...]": a value's type and the start of its repr, for a FAIL's "got"."""
    return f"a {type(value).__name__}: {safe_repr(value)[:limit]}"


def span(low: float | None, high: float | None) -> str:
    """" between 0 and 1", " of at least 0", or nothing: the range a FAIL names."""
    return (f" between {low:g} and {high:g}" if low is not None and high is not None else
            f" of at least {low:g}" if low is not None else f" of at most {high:g}" if high is not None else "")


def number_of(got, what: str, low: float | None = None, high: float | None = None, hint: str | None = None,
              slack: float = 0.0) -> float:
    """A finite number (NumPy and 0-d tensors too) within [low, high] (give or take `slack`, for float rounding),
    or a FAIL naming the range."""
    value = as_number(got)
    span_text = span(low, high)
    if not is_number(value):
        raise CheckFailed(f"{what}: a finite number", f"a number{span_text}", shown(got), hint)
    if (low is not None and value < low - slack) or (high is not None and value > high + slack):
        raise CheckFailed(f"{what}: out of range", f"a number{span_text}", f"{value:g}", hint)
    return float(value)


def numbers_of(values, what: str, low: float | None = None, high: float | None = None, at_least: int = 2,
               unit: str = "seed") -> list[float]:
    """A list of finite numbers within [low, high], at least `at_least` of them (one per `unit`)."""
    got = as_list(values)
    if not isinstance(got, list) or not all(is_number(as_number(v)) for v in got):
        raise CheckFailed(f"{what}: one finite number per {unit}",
                          "a list of numbers (a tuple or NumPy array works too)", shown(values))
    got = [float(as_number(v)) for v in got]
    if len(got) < at_least:
        count = {2: "two", 3: "three"}.get(at_least, str(at_least))
        raise CheckFailed(f"{what}: at least {count} finite numbers, one per {unit}", f"{count} or more numbers", got)
    outside = [v for v in got if (low is not None and v < low) or (high is not None and v > high)]
    if outside:
        hint = ("an accuracy is a fraction between 0 and 1, not a percentage" if high == 1 and max(outside) > 1
                else None)
        raise CheckFailed(f"{what}: every value{span(low, high)}", f"numbers{span(low, high)}",
                          f"{len(outside)} outside, e.g. {outside[0]:g}", hint)
    return got


def accuracies_of(values, what: str, unit: str = "seed") -> list[float]:
    """One accuracy (a fraction between 0 and 1) per seed or sample."""
    return numbers_of(values, what, 0.0, 1.0, unit=unit)


def answers_of(values, what: str) -> np.ndarray:
    """One 0/1 answer per item (True/False count as 1/0), as an int array, or a FAIL."""
    got = as_list(values)
    flat = got if isinstance(got, list) else None
    if flat is None or not flat or not all(v in (0, 1) and (isinstance(v, bool) or is_number(v)) for v in flat):
        raise CheckFailed(f"{what}: one answer per question, 1 if right and 0 if wrong",
                          "a list of 0/1 (or True/False), one per question", shown(values),
                          "the answers themselves (probe.predict(...) == labels), not their mean or a table")
    return np.asarray([int(v) for v in flat])


def pair_up(a, b, what: str, unit: str = "seed", distinct: bool = True) -> None:
    """Two lists measured on the same seeds (or items), in the same order: the same length and, with `distinct`
    (where two equal lists cannot come from an honest run), not the same list."""
    if len(a) != len(b):
        raise CheckFailed(f"{what}: the two lists pair up {unit} by {unit}", "lists of the same length",
                          f"{len(a)} and {len(b)} values", f"measure both on the same {unit}s, in the same order")
    if distinct and np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float)):
        raise CheckFailed(f"{what}: two different measurements", "two lists that differ somewhere",
                          "the same values twice", "the same list was passed for both: pass each one once")


def pairs_of(values, what: str, hint: str | None = None) -> list[tuple[int, int]]:
    """A collection of (N1, N2)-like pairs of integers (lists, tuples, an array or a set of them), or a FAIL."""
    got = as_list(sorted(values, key=repr)) if isinstance(values, (set, frozenset)) else as_list(values)
    pairs = [as_list(p) for p in got] if isinstance(got, list) else None
    if pairs is None or not all(isinstance(p, list) and len(p) == 2 and all(is_int(as_number(v)) for v in p)
                                for p in pairs):
        raise CheckFailed(f"{what}: a list of pairs of integers", "[(N1, N2), ...] (tuples, lists, a NumPy array "
                          "or a set of them)", shown(values), hint)
    return [tuple(int(as_number(v)) for v in p) for p in pairs]
