"""The machinery behind the practice notebooks' checks (`spafit_course.lessons.checks`, lessons 01-04).

A check is written as a function that raises `CheckFailed` at the first property the learner's answer gets
wrong and returns a one-line summary otherwise; `@learner_check` turns it into what a notebook calls: it prints
PASS or FAIL and returns nothing, so a check cell shows the verdict once. Tests and later cells read the verdict
with `passes` or `captured`.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
import textwrap

import torch
from torch import nn

from .state import notebook_state_kept


class CheckFailed(Exception):
    """A learner's answer differs from the reference: what was checked, what was expected, what came back.

    `hint` names the likely cause when the comparison alone does not (say, a merge off by alpha / r).
    """

    def __init__(self, what: str, expected, got, hint: str | None = None):
        super().__init__(what)
        self.what, self.expected, self.got, self.hint = what, expected, got, hint


def printable(value) -> str:
    """`str(value)`, or a description when the learner's object cannot be printed (its __str__ raises)."""
    try:
        return str(value)
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # anything a learner's __str__ does must not escape the check
        return f"(a {type(value).__name__} that cannot be printed: its __str__ raised {type(error).__name__})"


def safe_repr(value) -> str:
    """`repr(value)`, or a description when the learner's object cannot be shown."""
    try:
        return repr(value)
    except KeyboardInterrupt:
        raise
    except BaseException:  # as printable: nothing a learner's object does may escape
        return printable(value)


def shown_pair(expected, got) -> tuple[str, str]:
    """Expected and got as text; when they print alike (``True`` and ``numpy.True_``), with their types, so the FAIL
    says what differs."""
    expected_text, got_text = printable(expected), printable(got)
    if expected_text == got_text and type(expected) is not type(got):
        expected_text += f" (a {type(expected).__name__})"
        got_text += f" (a {type(got).__module__}.{type(got).__name__}, expected {type(expected).__name__})"
    return expected_text, got_text


def raised_text(error: BaseException) -> str:
    """What the learner's code raised, in one line, whatever its message does when printed."""
    kind = type(error).__name__
    if isinstance(error, SystemExit):
        return (f"called sys.exit({printable(error.code)}), which would stop the notebook; return a value "
                "instead")
    message = printable(error) or "(no message)"
    return f"raised {kind}: {message}"


def verdict(name: str, body, learner) -> tuple[bool, str]:
    """(passed, the PASS/FAIL text) of one check body on the learner's answer; learner errors become a FAIL.

    Nothing the learner's code does escapes as an exception but a KeyboardInterrupt (the notebook's stop
    button): an exception, `sys.exit`, an exception or a result that cannot be printed each become a FAIL.
    """
    try:
        with notebook_state_kept():  # the checks seed themselves, and leave no trace of what the learner's code did
            torch.manual_seed(0)
            summary = body(learner)
    except CheckFailed as failure:
        expected, got = shown_pair(failure.expected, failure.got)
        text = f"FAIL {name}: {printable(failure.what)}\n  expected: {expected}\n  got:      {got}"
        return False, wrap(text + (f"\n  likely cause: {printable(failure.hint)}" if failure.hint else ""))
    except KeyboardInterrupt:
        raise
    except BaseException as error:  # the learner's code raised or exited: report it, keep running
        return False, wrap(f"FAIL {name}: your code {raised_text(error)}")
    return True, wrap(f"PASS {name}: {summary}")


#: A verdict's widest line: it fits a notebook's output area without scrolling sideways or wrapping there.
WIDTH = 100


def wrap(text: str, width: int = WIDTH) -> str:
    """Each line of a verdict wrapped between words (never inside one) to `width` characters; a continuation is
    indented under its line's text ("  expected: " and the like), so that it reads as part of that line."""
    lines = []
    for line in text.splitlines():
        label = re.match(r"\s+[a-z][a-z ]*:\s+", line)
        indent = " " * (label.end() if label else 2)
        lines.append(textwrap.fill(line, width=width, subsequent_indent=indent, break_long_words=False,
                                   break_on_hyphens=False))
    return "\n".join(lines)


def learner_check(body):
    """Make `body(learner) -> summary` a notebook check: `check(learner)` prints PASS/FAIL, returns None.

    `verbose=False` prints nothing (kept for notebooks written before); `check.verdict(learner)` gives
    (passed, text) without printing.
    """
    name = body.__name__

    @functools.wraps(body)
    def check(learner, verbose: bool = True) -> None:
        passed, text = check.verdict(learner)
        if verbose:
            print(text)

    check.verdict = lambda learner: verdict(name, body, learner)
    return check


def passes(check, learner) -> bool:
    """Whether `learner` passes `check`, printing nothing."""
    return check.verdict(learner)[0]


def captured(check, learner) -> tuple[bool, str]:
    """(passed, printed text) of a check: for tests and for instructors trying wrong answers."""
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):  # anything the learner's code prints comes first, as in a notebook
        passed, text = check.verdict(learner)
    return passed, buffer.getvalue() + text + "\n"


def as_list(got):
    """A learner's sequence answer as a plain list (a tuple, a NumPy array or a tensor are right answers too);
    NumPy and torch scalars become Python numbers. Anything else comes back as it is, for the FAIL to show."""
    import numpy as np

    if isinstance(got, (np.ndarray, torch.Tensor)):
        got = got.tolist()
    if isinstance(got, (list, tuple)):
        return [v.item() if isinstance(v, (np.generic, torch.Tensor)) and getattr(v, "ndim", 0) == 0 else v
                for v in got]
    return got


def as_number(got):
    """A learner's number (a NumPy or 0-d tensor scalar is one too) as a Python number; else as it is."""
    import numpy as np

    if isinstance(got, (np.generic, np.ndarray, torch.Tensor)) and getattr(got, "ndim", 1) == 0:
        return got.item()
    return got


def short(items, limit: int = 4) -> str:
    items = sorted(items)
    shown = ", ".join(items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}] ({len(items)} in all)" if items else "[]"


def trainable_names(model: nn.Module) -> set[str]:
    """Names of the parameters that will train."""
    return {name for name, p in model.named_parameters() if p.requires_grad}


def compare_names(label: str, expected: set[str], got: set[str]) -> None:
    """Fail naming the parameters that train but should not, and those that should but do not."""
    if expected == got:
        return
    extra, missing = got - expected, expected - got
    detail = ([f"should be frozen: {short(extra)}"] if extra else []) + ([f"should train: {short(missing)}"]
                                                                        if missing else [])
    raise CheckFailed(f"{label}: the trainable parameters differ ({'; '.join(detail)})",
                      f"{len(expected)} trainable tensors", f"{len(got)} trainable tensors", names_hint(extra, missing))


def names_hint(extra: set[str], missing: set[str]) -> str | None:
    """The usual reason behind a difference in trainable parameters, when one stands out."""
    if any(n.endswith("base.weight") for n in extra):
        return "a LoRA-wrapped base weight trains: W must stay frozen, only A and B (and biases) learn"
    if any(n.endswith("base.bias") for n in missing):
        return "a wrapped layer's bias was frozen: LoRA freezes W only, the bias keeps its own setting"
    if any("pooler" in n for n in extra | missing):
        return "the pooler trains only when train_pooler says so (unfreeze_head(model, train_pooler))"
    if missing and all("classifier" in n or "pre_classifier" in n for n in missing):
        return "the classifier always trains (unfreeze_head)"
    if any("lora_" in n for n in extra | missing):
        return "LoRA sits in the wrong layers or on the wrong matrices"
    if any("LayerNorm" in n or "layer_norm" in n for n in extra | missing):
        return "LayerNorm: only its bias counts, and only for bias_terms='all'"
    if any(n.endswith("weight") for n in extra):
        return "a weight matrix trains where only biases should"
    return None


def compare_tensors(what: str, expected: torch.Tensor, got, hint: str | None = None) -> None:
    """Fail unless `got` is a tensor of the expected shape and values (to float tolerance)."""
    if not isinstance(got, torch.Tensor):
        raise CheckFailed(what, f"a tensor of shape {tuple(expected.shape)}", type(got).__name__)
    if got.shape != expected.shape:
        raise CheckFailed(what, f"shape {tuple(expected.shape)}", f"shape {tuple(got.shape)}")
    got = got.detach().to(expected.dtype)
    if not torch.allclose(got, expected.detach(), atol=1e-5, rtol=1e-4):
        err = (got - expected).abs().max().item()
        raise CheckFailed(f"{what}: values differ (max error {err:.3g})", preview(expected), preview(got), hint)


def diagnose(got, candidates: dict) -> str | None:
    """The description of the first candidate tensor that `got` equals: a named, likely mistake."""
    if not isinstance(got, torch.Tensor):
        return None
    for cause, tensor in candidates.items():
        if got.shape == tensor.shape and torch.allclose(got.detach().to(tensor.dtype), tensor, atol=1e-5, rtol=1e-4):
            return cause
    return None


def preview(t: torch.Tensor) -> str:
    values = ", ".join(f"{v:.4f}" for v in t.detach().flatten()[:4].tolist())
    return f"[{values}, ...]"


def adapters(model: nn.Module) -> dict[str, nn.Module]:
    """Every LoRA-wrapped module by path: anything with lora_A and lora_B (the package's class or the learner's)."""
    return {name: m for name, m in model.named_modules() if hasattr(m, "lora_A") and hasattr(m, "lora_B")}


def sample_inputs(model: nn.Module, batch: int = 2, length: int = 7):
    ids = torch.randint(5, model.config.vocab_size, (batch, length))
    mask = torch.ones_like(ids)
    mask[0, length - 2:] = 0  # one padded sequence, so masking mistakes show
    return ids, mask


def logits(model, ids, mask):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask).logits


def check_gradients_reach(label: str, model: nn.Module, ids, mask) -> None:
    """Backpropagate once: every trainable parameter gets a gradient, and every LoRA B a nonzero one."""
    model.zero_grad(set_to_none=True)
    model(input_ids=ids, attention_mask=mask).logits.square().sum().backward()
    none = sorted(n for n, p in model.named_parameters() if p.requires_grad and p.grad is None)
    if none:
        raise CheckFailed(f"{label}: parameters marked trainable get no gradient", "a gradient for each",
                          f"none for {short(none)}", "the forward pass bypasses them (detached, or not in the path)")
    dead = sorted(n for n, m in adapters(model).items() if m.lora_B.grad is None or not m.lora_B.grad.any())
    if dead:
        raise CheckFailed(f"{label}: LoRA B gets no gradient", "a nonzero gradient on every B", f"zero on {short(dead)}",
                          "the wrapped layer's update is not part of the forward pass")


def use_or_reference(learner, reference, check):
    """The learner's function or class when it passes `check` (run silently), else `reference` (with a note).

    Later cells of a practice notebook call this so that an unsolved exercise does not break them.
    """
    if passes(check, learner):
        return learner
    name = getattr(reference, "__qualname__", repr(reference))
    try:
        yours = printable(getattr(learner, "__name__", "your answer"))
    except Exception:  # a learner's object whose attribute lookup raises
        yours = "your answer"
    print(f"note: {yours} does not pass its check yet; from here on this notebook uses {name} instead")
    return reference
