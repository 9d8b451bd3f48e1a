"""The command-line tool `spafit-course`: one parser whose subcommands register themselves, one error layer.

Every subcommand runs on the quick profile (offline, CPU) unless told otherwise by --profile or
$SPAFIT_PROFILE. Run `spafit-course COMMAND --help` for the options of each.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from ..runs.workers import Terminated, exit_status, stop_signals
from . import bench, compare, count, export, lessons, predict, sweep
from .args import OneLineParser, report_error

#: One module per subcommand, each registering itself through its add_subcommand(subparsers) function.
SUBCOMMANDS = (compare, count, sweep, bench, predict, export, lessons)

#: Failures the user can fix (bad input, a missing file, no network): one line on stderr, exit status 2.
#: Anything else is a bug in the package and keeps its traceback.
EXPECTED_ERRORS = (ValueError, OSError)

DESCRIPTION = """Parameter-efficient fine-tuning of BERT encoders: full fine-tuning, BitFit, LoRA and SPAFIT.

SPAFIT splits the L layers with two boundaries 0 <= N1 <= N2 <= L: layers 1..N1 are frozen, N1+1..N2 train
their biases only, N2+1..L get LoRA plus biases; the classifier always trains."""

EXAMPLES = """examples:
  spafit-course compare                          every method and the control, quick profile (offline CPU)
  spafit-course compare --profile colab          bert-base-cased on GLUE SST-2 (needs the Hub and a GPU)
  spafit-course count --model bert-large-cased   parameter table, no download
  spafit-course count --paper                    the paper's settings, reconstructed
  spafit-course sweep                            N1 x N2 grid with heatmaps
  spafit-course bench --tiny                     step time and memory against the cost model, in seconds
  spafit-course export results/adapters/spafit my-peft-adapter   the adapter in peft's LoRA format
  spafit-course lessons --seeds 42,43,44         every lesson experiment over seeds, beside the majority rate
  torchrun --nproc_per_node 2 -m spafit_course.cli compare   the same on two processes/GPUs"""


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="spafit-course", description=DESCRIPTION, epilog=EXAMPLES,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    for module in SUBCOMMANDS:
        module.add_subcommand(sub)
    return parser


def main(argv=None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and getattr(args, "extra_positionals", None) and not any(e.startswith("-") for e in extra):
        getattr(args, args.extra_positionals).extend(extra)  # e.g. sentences after an option in predict
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.command_line = ["spafit-course", *(sys.argv[1:] if argv is None else argv)]  # for the results' provenance
    with warnings.catch_warnings(), stop_signals():
        warnings.showwarning = one_line_warning
        try:
            return args.func(args)
        except EXPECTED_ERRORS as error:
            return report_error(args.command, error)
        except (KeyboardInterrupt, Terminated) as stop:
            return report_stop(args.command, stop)


def report_stop(command: str, stop: BaseException) -> int:
    """Ctrl-C or SIGTERM: one line, no traceback, and the shell's status for that signal (130 or 143).

    By the time it gets here every `finally` has run: workers are stopped, temporary files removed, locks freed.
    """
    how = "SIGTERM" if isinstance(stop, Terminated) else "Ctrl-C (SIGINT)"
    close_progress_bars()  # so that the line below is the last one, not a bar redrawn after it
    print(f"spafit-course {command}: stopped by {how}; files saved before are whole, nothing half-written is left",
          file=sys.stderr, flush=True)
    return exit_status(stop)


def close_progress_bars() -> None:
    try:
        from tqdm import tqdm
    except ImportError:
        return
    for bar in list(getattr(tqdm, "_instances", ())):
        try:
            bar.close()
        except Exception:  # a bar of a library's half-torn-down state: leaving it is harmless
            pass


def one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr (not the file, line number and source line Python adds)."""
    print(f"spafit-course: warning: {message}", file=file or sys.stderr, flush=True)

