"""Checks leave no trace (issue 26): whatever a learner's code changes in torch's, NumPy's and Python's global state
inside a check, the notebook has it back as it was when the check returns, passed, failed or raised."""

import random

import numpy as np
import pytest
import torch

from spafit_course import LoRALinear
from spafit_course.lessons import checks
from spafit_course.lessons.checks.tools import CheckFailed, learner_check, passes


def state():
    return {"grad": torch.is_grad_enabled(), "dtype": torch.get_default_dtype(), "threads": torch.get_num_threads(),
            "anomaly": torch.is_anomaly_enabled(), "deterministic": torch.are_deterministic_algorithms_enabled(),
            "device": str(torch.get_default_device()), "torch": torch.get_rng_state(),
            "numpy": np.random.get_state()[1].copy(), "python": random.getstate()}


def same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if isinstance(a[key], (torch.Tensor, np.ndarray)):
            assert (a[key] == b[key]).all(), key
        else:
            assert a[key] == b[key], key


def meddle():
    """Everything a learner's code might change for good."""
    torch.set_grad_enabled(False)
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1 if torch.get_num_threads() > 1 else 2)
    torch.autograd.set_detect_anomaly(True)
    torch.use_deterministic_algorithms(True)
    torch.manual_seed(999)
    np.random.seed(999)
    random.seed(999)


@learner_check("it is right")
def check_anything(learner):
    result = learner()
    if result != "right":
        raise CheckFailed("the answer", "right", result)


@pytest.mark.parametrize("ending", ["pass", "fail", "raise", "exit"])
def test_a_check_restores_what_the_learners_code_changed(ending):
    torch.manual_seed(5)
    np.random.seed(5)
    random.seed(5)
    before = state()

    def learner():
        meddle()
        if ending == "raise":
            raise RuntimeError("oops")
        if ending == "exit":
            raise SystemExit(3)
        return "right" if ending == "pass" else "wrong"

    try:
        assert passes(check_anything, learner) is (ending == "pass")
        same(state(), before)
        assert torch.zeros(1).dtype == torch.float32 and torch.ones(1, requires_grad=True).mul(2).requires_grad
    finally:  # this test itself must leave no trace, whatever failed
        torch.set_grad_enabled(True)
        torch.set_default_dtype(torch.float32)
        torch.autograd.set_detect_anomaly(False)
        torch.use_deterministic_algorithms(False)


def test_a_real_check_with_a_meddling_answer_leaves_the_notebook_as_it_was():
    before = state()

    def forward(self, x):  # an answer that also turns gradients off, changes the precision...
        meddle()
        return LoRALinear.forward(self, x)

    try:
        passes(checks.check_lora_forward, forward)  # pass or fail: what matters is what it leaves behind
        same(state(), before)
    finally:
        torch.set_grad_enabled(True)
        torch.set_default_dtype(torch.float32)
        torch.autograd.set_detect_anomaly(False)
        torch.use_deterministic_algorithms(False)


def test_a_stop_button_inside_a_check_still_restores_the_state():
    before = state()

    def learner():
        meddle()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        passes(check_anything, learner)
    same(state(), before)
