"""Argument helpers shared by the `spafit-course` subcommands (cli.py and the modules that add a subcommand).

Every check here runs while the command line is parsed or before any model loads, so bad input ends in one
line on stderr naming the option and what it allows, with exit status 2, never after minutes of training.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from pathlib import Path

from ..runs.overrides import (MAX_BATCH, MAX_EPOCHS, MAX_EXAMPLES, MAX_POSITIONS, MAX_SEED, MIN_LENGTH, plain_decimal,
                              plain_int)
from ..runs.profiles import PROFILES, get_profile
from ..runs.tasks import TASKS
from ..tuning.atomic import check_writable
from ..tuning.methods import METHODS


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr (exit status 2), pointing to --help."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def int_type(minimum: int, maximum: int | None = None):
    """An argparse type: an integer in minimum..maximum, else an error naming that range."""
    allowed = f"an integer in {minimum}..{maximum}" if maximum is not None else f"an integer >= {minimum}"

    def parse(text: str) -> int:
        value = plain_int(text.strip())  # int() would also take "1_000" or full-width digits
        if value is None and re.fullmatch(r"-[0-9]+", text.strip()):
            value = -plain_int(text.strip()[1:])  # a negative number is named as the number it is
        if value is None:
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {text!r}")
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be {allowed}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse names the type in some messages
    return parse


def path_type(text: str) -> Path:
    """An argparse type: a non-empty path (an empty string would mean the current folder, silently)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must be a path, got an empty string")
    return Path(text)


path_type.__name__ = "path"


def epochs_type(text: str) -> float:
    """An argparse type: epochs as a plain decimal ("2", "0.5") > 0 and <= MAX_EPOCHS (no 1e-9, nan or "1_0")."""
    value = plain_decimal(text.strip())
    if value is None or not 0 < value <= MAX_EPOCHS:
        raise argparse.ArgumentTypeError(f"must be a number > 0 and <= {MAX_EPOCHS} in plain decimal digits "
                                         f"(like 0.5 or 2), got {text!r}")
    return value


def parse_methods(text: str) -> list[str]:
    """'bitfit,lora' -> ['bitfit', 'lora']; unknown names fail naming the choices."""
    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise argparse.ArgumentTypeError(f"unknown method(s) {unknown}; choose from {', '.join(METHODS)}")
    twice = sorted({m for m in methods if methods.count(m) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"names method(s) {twice} more than once: {text!r}")
    return methods


def add_profile_options(parser: argparse.ArgumentParser) -> None:
    """--profile, --task and the profile's sizes, each validated while parsing."""
    parser.add_argument("--profile", choices=list(PROFILES), default=None,
                        help="quick (offline CPU, default), colab (bert-base-cased, GLUE, one GPU) or paper "
                             "(bert-large-cased, full GLUE); default: $SPAFIT_PROFILE or quick")
    parser.add_argument("--task", choices=list(TASKS), default=None,
                        help="task to train on (default: the profile's; polarity is the only offline one)")
    parser.add_argument("--train-size", type=int_type(1, MAX_EXAMPLES), default=None,
                        help=f"training examples, 1..{MAX_EXAMPLES} (default: the profile's)")
    parser.add_argument("--eval-size", type=int_type(1, MAX_EXAMPLES), default=None,
                        help=f"evaluation examples per split, 1..{MAX_EXAMPLES} (default: the profile's, all)")
    parser.add_argument("--batch-size", type=int_type(1, MAX_BATCH), default=None,
                        help=f"sequences per batch, 1..{MAX_BATCH} (default: the profile's)")
    parser.add_argument("--max-length", type=int_type(MIN_LENGTH, MAX_POSITIONS), default=None,
                        help=f"tokens per sequence, {MIN_LENGTH}..{MAX_POSITIONS} (default: the profile's)")
    parser.add_argument("--epochs", type=epochs_type, default=None,
                        help=f"epochs, a number > 0 and <= {MAX_EPOCHS}, at least one step (default: the profile's)")
    parser.add_argument("--seed", type=int_type(0, MAX_SEED), default=None,
                        help=f"random seed, 0..{MAX_SEED} (default: the profile's, 42)")


def profile_from(args):
    """The profile named by --profile (or $SPAFIT_PROFILE) with the size options applied."""
    return get_profile(args.profile).with_overrides(
        train_size=args.train_size, eval_size=args.eval_size, batch_size=args.batch_size,
        max_length=args.max_length, epochs=args.epochs, seed=args.seed)


def check_output_folder(folder: Path, option: str = "--output") -> None:
    """Refuse, before any work, an output folder that is a file or cannot be created or written."""
    folder = Path(folder)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
    if existing == folder and not folder.is_dir():
        raise ValueError(f"{option} {folder} is a file; give a folder (it is created if missing)")
    if existing != folder and not existing.is_dir():
        raise ValueError(f"{option} {folder} cannot be created: {existing} is a file")
    if not os.access(existing, os.W_OK):
        raise ValueError(f"{option} {folder} cannot be written: no write permission on {existing}")


def check_output_file(path: Path, option: str) -> None:
    """Refuse, before any work, an output file that is a folder or whose folder cannot be written."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{option} {path} is a folder; give a file path")
    check_output_folder(path.parent, f"the folder of {option}")
    check_writable(path, f"{option}")


@contextlib.contextmanager
def naming_the_model(name: str):
    """Turn a loader's OSError (unknown name, no network, not cached) into one that names the model."""
    from ..runs.data import first_line
    from ..runs.models import KNOWN_CONFIGS
    from ..runs.profiles import QUICK_MODEL

    try:
        yield
    except OSError as error:
        offline = ", ".join([*KNOWN_CONFIGS, QUICK_MODEL])
        raise OSError(f"cannot load model {name!r} ({first_line(error)}); names that work offline: "
                      f"{offline}") from error


def report_error(command: str, error: BaseException) -> int:
    """Print an expected failure as one line on stderr and return the exit status 2."""
    from ..runs.data import first_line

    print(f"spafit-course {command}: error: {first_line(error) or type(error).__name__}", file=sys.stderr)
    return 2
