"""A check leaves no trace (the practice notebooks of lessons 00-06): what the learner's code changes in torch's,
NumPy's and Python's global state while a check runs is put back when the check returns, however it ends."""

from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def notebook_state_kept():
    """Whatever the learner's code does to torch's global state inside a check, the notebook gets it back as it
    was: grad mode, default dtype and device, anomaly detection, deterministic algorithms, thread count, and the
    random state of torch (every device), NumPy and Python's `random`."""
    import random

    import numpy as np

    grad, dtype, threads = torch.is_grad_enabled(), torch.get_default_dtype(), torch.get_num_threads()
    anomaly, deterministic = torch.is_anomaly_enabled(), torch.are_deterministic_algorithms_enabled()
    device = torch.get_default_device() if hasattr(torch, "get_default_device") else None
    numpy_state, python_state = np.random.get_state(), random.getstate()
    try:
        with torch.random.fork_rng():
            yield
    finally:
        torch.set_grad_enabled(grad)
        torch.set_default_dtype(dtype)
        if device is not None:
            torch.set_default_device(device)
        torch.set_num_threads(threads)
        torch.autograd.set_detect_anomaly(anomaly)
        torch.use_deterministic_algorithms(deterministic)
        np.random.set_state(numpy_state)
        random.setstate(python_state)
