"""The first cell of every lesson (lessons 00-05): quiet libraries, find the accelerator, name the profile.

On Colab the notebook's own first cell installs the package (`%pip install ...` guarded by
`"google.colab" in sys.modules`); everything after that is this one function, so every lesson starts the same way.
"""

from __future__ import annotations

import os
import sys

from ..runs.profiles import Profile, get_profile
from ..runs.tasks import get_task
from ..tuning.quiet import silence_libraries


def on_colab() -> bool:
    """True inside a Google Colab runtime."""
    return "google.colab" in sys.modules


def describe_device() -> str:
    """One line naming the accelerator the lessons will train on."""
    import torch

    if torch.cuda.is_available():
        return f"GPU: {torch.cuda.get_device_name()}"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "GPU: Apple MPS"
    return "no GPU: training runs on the CPU"


def lesson_device():
    """The torch device lessons put their models and batches on: the CUDA GPU, else Apple's MPS, else the CPU.

    Lessons 00 and 03 move the model with `model.to(device)` and each batch with `batch.to(device)`.
    """
    import torch

    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def eval_split(profile: Profile | str) -> str:
    """The evaluation split a lesson reports on, for a profile (its task) or a task name: `test` for the quick
    profile's polarity task, `validation` on GLUE (`validation_matched` for MNLI)."""
    return get_task(profile.task if isinstance(profile, Profile) else profile).eval_split


def choose_profile(profile: str | None = None) -> tuple[str, str]:
    """(profile name, why): the argument, else $SPAFIT_PROFILE, else `colab` on a CUDA GPU where the Hub
    answers, else `quick`."""
    if profile:
        return profile, "asked for"
    if os.environ.get("SPAFIT_PROFILE"):
        return os.environ["SPAFIT_PROFILE"], "from SPAFIT_PROFILE"
    import torch

    from ..runs.hub import hub_reachable

    if torch.cuda.is_available() and hub_reachable():
        return "colab", "a CUDA GPU and the Hugging Face Hub are here"
    return "quick", "the default: offline, any CPU"


def start_lesson(profile: str | None = None, seed: int | None = None, verbose: bool = True) -> Profile:
    """Silence library chatter, seed torch, report device and profile, and return the active profile.

    `profile` names one of `profiles.PROFILES`; by default `$SPAFIT_PROFILE`, else `colab` on a GPU runtime
    that reaches the Hub, else `quick` (see `choose_profile`). `start_lesson("quick")` overrides the choice.
    """
    name, why = choose_profile(profile)
    active = get_profile(name)  # an unknown name fails here, before anything else changes
    silence_libraries()
    import torch

    torch.manual_seed(active.seed if seed is None else seed)
    if verbose:
        print(f"running on {'Colab' if on_colab() else 'a local machine'}; {describe_device()}")
        print(f"profile {active.name!r} ({why}): {active.model_name} on {active.task} ({active.hardware})")
        if profile is None and active.name != "quick":
            print("to stay offline on the CPU profile instead, run: profile = start_lesson('quick')")
        elif profile is None and torch.cuda.is_available():
            print("on this GPU, profile = start_lesson('colab') trains bert-base-cased on GLUE (needs the Hub)")
    return active
