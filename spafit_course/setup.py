"""The first cell of every lesson (lessons 00-05): quiet libraries, find the accelerator, name the profile.

On Colab the notebook's own first cell installs the package (`%pip install ...` guarded by
`"google.colab" in sys.modules`); everything after that is this one function, so every lesson starts the same way.
"""

from __future__ import annotations

import sys

from .profiles import Profile, get_profile
from .quiet import silence_libraries


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


def start_lesson(profile: str | None = None, seed: int | None = None, verbose: bool = True) -> Profile:
    """Silence library chatter, seed torch, report device and profile, and return the active profile.

    `profile` names one of `profiles.PROFILES`; by default `$SPAFIT_PROFILE`, else `quick`.
    """
    active = get_profile(profile)  # an unknown name fails here, before anything else changes
    silence_libraries()
    import torch

    torch.manual_seed(active.seed if seed is None else seed)
    if verbose:
        print(f"running on {'Colab' if on_colab() else 'a local machine'}; {describe_device()}")
        print(f"profile {active.name!r}: {active.model_name} on {active.task} ({active.hardware})")
        if active.name == "quick" and on_colab():
            print("tip: on a GPU runtime, set SPAFIT_PROFILE=colab (bert-base-cased on GLUE) and restart")
    return active
