"""Profiles from the environment, the profile start_lesson picks, and the lesson helpers."""

import pytest

from spafit_course.lessons import setup
from spafit_course.runs.profiles import PROFILES, env_overrides, get_profile


def test_environment_shrinks_any_profile(monkeypatch):
    monkeypatch.setenv("SPAFIT_TRAIN_SIZE", "128")
    monkeypatch.setenv("SPAFIT_EPOCHS", "0.5")
    colab = get_profile("colab")
    assert (colab.train_size, colab.epochs, colab.batch_size) == (128, 0.5, PROFILES["colab"].batch_size)


@pytest.mark.parametrize("variable, value", [("SPAFIT_EVAL_SIZE", "0"), ("SPAFIT_BATCH_SIZE", "eight"),
                                             ("SPAFIT_EPOCHS", "-1")])
def test_bad_environment_values_fail_naming_the_variable(variable, value):
    with pytest.raises(ValueError, match=f"{variable}='{value}' must be (an integer|a number) "):
        env_overrides({variable: value})


def test_paper_lora_baseline_matches_count_paper():
    from spafit_course.runs.counting import paper_configs

    paper = get_profile("paper")
    lora = paper_configs()["LoRA r=64 q/k/v (all layers)"]
    assert (paper.lora["r"], tuple(paper.lora["targets"])) == (lora.r, lora.targets)
    assert paper.lora == {k: v for k, v in paper.spafit.items() if k in paper.lora}


@pytest.mark.parametrize("cuda, reachable, env, expected", [
    (True, True, None, "colab"), (True, False, None, "quick"), (False, True, None, "quick"),
    (True, True, "paper", "paper")])
def test_start_lesson_picks_colab_on_a_gpu_that_reaches_the_hub(monkeypatch, capsys, cuda, reachable, env,
                                                                 expected):
    import torch

    from spafit_course.runs import hub

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda *a: "Tesla T4")
    monkeypatch.setattr(hub, "hub_reachable", lambda *a, **k: reachable)
    if env:
        monkeypatch.setenv("SPAFIT_PROFILE", env)
    else:
        monkeypatch.delenv("SPAFIT_PROFILE", raising=False)
    assert setup.start_lesson().name == expected
    out = capsys.readouterr().out
    if expected == "colab":
        assert "a CUDA GPU and the Hugging Face Hub are here" in out
        assert "profile = start_lesson('quick')" in out
    assert setup.start_lesson("quick", verbose=False).name == "quick"  # the one-line override


def test_lesson_helpers():
    assert setup.eval_split(get_profile("quick")) == "test"
    assert setup.eval_split("mnli") == "validation_matched"
    assert setup.eval_split(get_profile("colab")) == "validation"
    assert setup.lesson_device().type == "cpu"  # no GPU in the test environment
    with pytest.raises(ValueError, match="unknown task 'glue'"):
        setup.eval_split("glue")
