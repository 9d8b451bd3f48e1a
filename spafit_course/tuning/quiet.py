"""One set-up call that keeps library chatter out of notebook outputs and command-line tables."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings


def silence_libraries() -> None:
    """Silence Hugging Face logging, hub progress bars and known harmless warnings (every notebook calls this)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import datasets
    import transformers

    transformers.logging.set_verbosity_error()
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    logging.getLogger("accelerate").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning, module="torch")


@contextlib.contextmanager
def quiet_hf():
    """Temporarily hide transformers' load report and weight-loading bar (`from_pretrained` prints both)."""
    import transformers

    before = transformers.logging.get_verbosity()
    bars_before = transformers.utils.logging.is_progress_bar_enabled()
    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        yield
    finally:
        transformers.logging.set_verbosity(before)
        if bars_before:
            transformers.utils.logging.enable_progress_bar()
