"""The machinery behind the practice notebooks' checks (`spafit_course.lessons.checks`, lessons 01-04).

A check is written as a function that raises `CheckFailed` at the first property the learner's answer gets
wrong; `@learner_check(summary)` turns it into what a notebook calls: it prints PASS with the summary or FAIL and
returns nothing, so a check cell shows the verdict once. Tests and later cells read the verdict with `passes` or
`captured`. A FAIL says "your code raised" only when the learner's own code raised; an answer the check cannot
read is a FAIL that says so.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import re
import sysconfig
import textwrap
from pathlib import Path

import torch

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


def error_text(error: BaseException) -> str:
    """"Kind: message" of an error, whatever its message does when printed."""
    return f"{type(error).__name__}: {printable(error) or '(no message)'}"


def raised_text(error: BaseException) -> str:
    """What the learner's code raised, in one line."""
    if isinstance(error, SystemExit):
        return (f"called sys.exit({printable(error.code)}), which would stop the notebook; return a value "
                "instead")
    return f"raised {error_text(error)}"


#: Where code that is not the learner's lives: this package, the standard library and installed packages.
NOT_LEARNERS = tuple({os.path.join(Path(__file__).resolve().parents[2], "")} | {
    os.path.join(Path(p).resolve(), "") for key in ("stdlib", "platstdlib", "purelib", "platlib")
    if (p := sysconfig.get_paths().get(key))})


def learner_raised(error: BaseException) -> bool:
    """Whether the learner's own code is on the error's way: a frame of a file outside this package and the
    installed libraries (a notebook cell, a learner's module), however deep in library code the error rose."""
    trace = error.__traceback__
    while trace is not None:
        filename = trace.tb_frame.f_code.co_filename
        if not filename.startswith("<frozen") and not str(Path(filename).resolve()).startswith(NOT_LEARNERS):
            return True
        trace = trace.tb_next
    return False


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
        if learner_raised(error) or isinstance(error, SystemExit):
            return False, wrap(f"FAIL {name}: your code {raised_text(error)}")
        return False, wrap(f"FAIL {name}: the check could not use what it was given ({error_text(error)}); "
                           "pass what the exercise asks for, of the kind its text names")
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


def learner_check(summary: str):
    """Make `body(learner)` a notebook check that prints `summary` when it passes: `check(learner)` prints
    PASS/FAIL and returns None; `verbose=False` prints nothing (kept for notebooks written before);
    `check.verdict(learner)` gives (passed, text) without printing. `check.summary` is the PASS line's text, so a
    stored verdict can be compared with what the check prints today without running it."""

    def make(body):
        name = body.__name__

        def run(learner):
            body(learner)
            return summary

        @functools.wraps(body)
        def check(learner, verbose: bool = True) -> None:
            passed, text = check.verdict(learner)
            if verbose:
                print(text)

        check.verdict = lambda learner: verdict(name, run, learner)
        check.summary = summary
        return check

    return make


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
