"""Lettered choices and the readings whose right option follows from the learner's own numbers (practice
notebooks 00-06).

A `Reading` keeps apart what the check measures (done by the check, from the learner's values) and what it
prints for those numbers (`judge`, pure). Its texts are format templates, so a printed PASS line can be read back
into the numbers it quotes (`read_back`): a test holds every verdict stored in solutions/ to the text the current
code prints for its numbers, so that no stored verdict goes stale.
"""

from __future__ import annotations

import ast
import re
import string
from dataclasses import dataclass
from typing import Callable

from ..stats import bound
from .tools import CheckFailed, safe_repr


@dataclass(frozen=True)
class Option:
    """One lettered answer: what it says, and why it is right (the PASS line) or wrong (the FAIL's reasoning)."""
    text: str
    why: str


#: After the letter: nothing, or ")", "." or ":" and any words ("b) because ..."); "b or c" is two answers.
ONE_LETTER = re.compile(r"\s*\(?([a-zA-Z])(?:\s*|[).:]\s*(.*))", re.S)
#: Another option named in the words after the letter: "(c)", "c)", or "or c" / "and c" / ", c" / "/c".
ANOTHER = re.compile(r"\(([a-zA-Z])\)|(?<![\w'])([a-zA-Z])\)|^\s*(?:or|and|,|/|&)\s*\(?([a-zA-Z])\b", re.I)


def read_letter(answer, options: dict[str, Option], what: str) -> str:
    """The option a learner chose ("b", "(b)", "B" or "b) ..." all read as "b"); a missing or unknown one fails,
    and so does an answer that names two options ("b or c", "(b) or (c)")."""
    letters = ", ".join(f'"{k}"' for k in options)
    if answer is None:
        raise CheckFailed(f"{what}: no answer yet", f"one of {letters}", None,
                          f"replace None with your choice, e.g. {next(iter(options))!r}")
    match = ONE_LETTER.fullmatch(answer) if isinstance(answer, str) else None
    letter = match.group(1).lower() if match else None
    if match:
        named = {(m.group(1) or m.group(2) or m.group(3)).lower() for m in ANOTHER.finditer(match.group(2) or "")}
    else:  # "b or c", "b/c", "b, c": letters standing alone
        named = {m.lower() for m in re.findall(r"(?<![A-Za-z])[A-Za-z](?![A-Za-z])", answer)
                 } if isinstance(answer, str) else set()
    if len((named | {letter}) & set(options)) > 1:
        raise CheckFailed(f"{what}: one option only", f"one of {letters}", safe_repr(answer),
                          "choose the one option you think right: two letters cannot both be judged")
    if letter not in options:
        raise CheckFailed(f"{what}: not one of the options", f"one of {letters}", safe_repr(answer),
                          "answer with the letter of one option (a string such as \"b\")")
    return letter


def judge_choice(what: str, answer, options: dict[str, Option], right: str, measured: str | None = None) -> str:
    """PASS summary when `answer` is the `right` option; else CheckFailed explaining why the chosen one is wrong.

    Where the right option depends on the learner's own measurements, `measured` says what they were: it leads
    the reasoning of a FAIL and, with the right option's text, makes the PASS line (an option's `why` is written
    for when it is chosen wrongly, so it cannot be the PASS line then).
    """
    letter = read_letter(answer, options, what)
    if letter != right:
        why = f"{measured}; {options[letter].why}" if measured else options[letter].why
        raise CheckFailed(what, f"({right}) {options[right].text}", f"({letter}) {options[letter].text}", why)
    return f"({right}) {options[right].text}: {measured}" if measured else f"({right}) {options[right].why}"


class _Formatter(string.Formatter):
    """str.format, plus the spec "bound": an interval's end as `stats.bound` prints it (3 or 4 decimals)."""

    def format_field(self, value, format_spec):
        return bound(value) if format_spec == "bound" else super().format_field(value, format_spec)


FORMATTER = _Formatter()
NUMBER = r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?|[-+]?\.\d+|nan|[-+]?inf"


def _value(text: str, spec: str):
    if spec:
        number = float(text.replace(",", ""))
        return int(number) if spec.endswith("d") and spec != "bound" else number
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


@dataclass(frozen=True)
class Template:
    """A text with {name:spec} fields that can be filled (`format`) and read back from its output (`parse`)."""
    text: str

    def format(self, **values) -> str:
        return FORMATTER.format(self.text, **values)

    def parse(self, text: str) -> dict | None:
        """The values that `format` turned into `text` (numbers for fields with a spec, Python literals for the
        others), or None when `text` does not have this template's words."""
        pattern, specs = "", {}
        for literal, name, spec, _ in FORMATTER.parse(self.text):
            pattern += re.escape(literal)
            if name is None:
                continue
            if name in specs:
                pattern += f"(?P={name})"
            else:
                pattern += f"(?P<{name}>{NUMBER})" if spec else f"(?P<{name}>.+?)"
                specs[name] = spec
        found = re.fullmatch(pattern, text, re.S)
        return None if found is None else {name: _value(found.group(name), spec) for name, spec in specs.items()}


@dataclass(frozen=True)
class Reading:
    """A choice among `options` whose right letter `rule(**values)` gives from the learner's measured values.

    `measured` (a template) says what was measured: it leads a FAIL's reasoning and ends the PASS line
    "(x) option text: measured"; `passed` (a template) replaces that PASS line where the reading says more.
    With neither, the choice is fixed and its PASS line is the right option's reasoning.
    """
    what: str
    options: dict
    rule: Callable[..., str]
    measured: str | None = None
    passed: str | None = None

    def judge(self, answer, **values) -> str:
        """The PASS summary for `answer` given the measured `values`, or CheckFailed saying why it is wrong."""
        measured = Template(self.measured).format(**values) if self.measured else None
        summary = judge_choice(self.what, answer, self.options, self.rule(**values), measured)
        return Template(self.passed).format(**values) if self.passed else summary

    def read_back(self, summary: str) -> tuple[str, dict] | None:
        """(answer, values) for which `judge` prints `summary` as this reading's PASS line, else None."""
        if self.passed:
            values = Template(self.passed).parse(summary)
            return None if values is None else (self.rule(**values), values)
        for letter, option in self.options.items():
            prefix = f"({letter}) {option.text}: " if self.measured else f"({letter}) {option.why}"
            if not summary.startswith(prefix):
                continue
            values = Template(self.measured).parse(summary[len(prefix):]) if self.measured else (
                {} if summary == prefix else None)
            if values is not None:
                return letter, values
        return None


@dataclass(frozen=True)
class Statement:
    """A PASS line that states what the learner's values show (no letter): `passed` filled with the values,
    once `rule(**values)` has found nothing wrong (it raises CheckFailed otherwise)."""
    passed: str
    rule: Callable[..., None]

    def judge(self, answer, **values) -> str:
        self.rule(**values)
        return Template(self.passed).format(**values)

    def read_back(self, summary: str) -> tuple[None, dict] | None:
        values = Template(self.passed).parse(summary)
        return None if values is None else (None, values)
