"""Is the Hugging Face Hub needed, and can it be reached? Asked before any tokenizer, model or GLUE download.

The colab and paper profiles download their model and GLUE from the Hub. Without it, the libraries fail deep
inside a loader with a long traceback; `require_hub` fails first, in one line, and names the way out: the
offline `quick` profile (lesson 00).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

from .data import hub_offline, load_task_data
from . import models
from .tasks import get_task

WAY_OUT = "use the offline quick profile instead (--profile quick, or SPAFIT_PROFILE=quick)"


class HubUnreachableError(ConnectionError):
    """The profile needs the Hub and the Hub cannot be reached (an OSError, so the CLI prints one line)."""


def hub_endpoint() -> str:
    from huggingface_hub import constants

    return constants.ENDPOINT


def hub_reachable(timeout: float = 5.0) -> bool:
    """False under HF_HUB_OFFLINE=1, else whether the Hub's endpoint answers at all (any HTTP status counts)."""
    if hub_offline():
        return False
    try:
        urllib.request.urlopen(urllib.request.Request(hub_endpoint(), method="HEAD"), timeout=timeout)
    except urllib.error.HTTPError:
        return True  # an HTTP error is still an answer
    except OSError:
        return False
    return True


def why_unreachable() -> str:
    return "HF_HUB_OFFLINE=1 is set" if hub_offline() else f"{hub_endpoint()} does not answer"


def model_needs_hub(name: str) -> bool:
    """True unless `name` resolves to a local folder or is already in the Hugging Face cache."""
    from huggingface_hub import try_to_load_from_cache

    path = models.model_path(name)  # looked up at call time: one resolution for the package and its tests
    if Path(path).is_dir():
        return False
    return not isinstance(try_to_load_from_cache(path, "config.json"), str)


def require_hub(profile, task_name: str | None = None, model: bool = True, data: bool = True) -> None:
    """Fail with HubUnreachableError if the profile's model or task data needs a Hub that cannot be reached.

    Checks the model first (no download), then loads the task's data (cached by `datasets` for the real run),
    so the one-line error comes before any tokenizer or model is loaded.
    """
    task = get_task(task_name or profile.task)
    if model and model_needs_hub(profile.model_name) and not hub_reachable():
        raise HubUnreachableError(f"profile {profile.name!r} needs the Hugging Face Hub for the model "
                                  f"{profile.model_name!r}, but {why_unreachable()}: {WAY_OUT}")
    if not data or task.source != "glue":
        return
    try:
        load_task_data(task)
    except RuntimeError as error:
        if hub_reachable():
            raise
        # on the quick profile already, the way out is its own offline task, not the profile the user has
        way_out = ("the quick profile runs offline on its own task only: use --task polarity (its default)"
                   if profile.name == "quick" else WAY_OUT)
        raise HubUnreachableError(f"profile {profile.name!r} needs the Hugging Face Hub for GLUE task "
                                  f"{task.name!r}, but {why_unreachable()}: {way_out}") from error
