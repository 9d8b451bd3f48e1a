"""What a lesson builds in front of the learner (cells tagged `lesson-code`) behaves like the package's version."""

import copy
import json
from pathlib import Path

import pytest
import torch
from torch import nn

import spafit_course as sc
from spafit_course.runs.models import tiny_model
from spafit_course.tuning.lora import lora_modules

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def lesson_namespace(stem: str) -> dict:
    """Exec the notebook's `lesson-code` cells, in order, in a fresh namespace."""
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in nb["cells"]
             if c["cell_type"] == "code" and "lesson-code" in c["metadata"].get("tags", [])]
    assert cells, f"{stem} has no cell tagged lesson-code"
    namespace = {"__name__": f"lesson_{stem}"}
    for source in cells:
        exec(compile(source, f"{stem}.ipynb", "exec"), namespace)
    return namespace


def trainable(model) -> set[str]:
    return {name for name, p in model.named_parameters() if p.requires_grad}


@pytest.fixture(scope="module")
def lesson01():
    return lesson_namespace("01_bitfit")


@pytest.fixture(scope="module")
def lesson02():
    return lesson_namespace("02_lora")


@pytest.fixture(scope="module")
def lesson04():
    return lesson_namespace("04_spafit")


@pytest.mark.parametrize("family", ["bert", "roberta", "electra"])
def test_lesson_bitfit_trains_what_apply_bitfit_trains(lesson01, family):
    ours = lesson01["bitfit"](tiny_model(family, num_layers=3))
    package = sc.apply_bitfit(tiny_model(family, num_layers=3))
    assert trainable(ours) == trainable(package)
    assert any(".layer.2." in n and n.endswith("bias") for n in trainable(ours))


@pytest.mark.parametrize("r, alpha, shape", [(1, 1.0, (7, 5)), (4, 8.0, (16, 12)), (8, 32.0, (10, 20))])
def test_lesson_lora_linear_matches_the_package(lesson02, r, alpha, shape):
    torch.manual_seed(r)
    base = nn.Linear(*shape)
    ours = lesson02["LoRALinear"](copy.deepcopy(base), r=r, alpha=alpha)
    package = sc.LoRALinear(copy.deepcopy(base), r=r, alpha=alpha)
    x = torch.randn(3, shape[0])
    # Zero-initialised B: both start as the base layer, exactly.
    assert torch.equal(ours(x), base(x))
    assert {n: p.shape for n, p in ours.named_parameters() if p.requires_grad} == {
        n: p.shape for n, p in package.named_parameters() if p.requires_grad}
    with torch.no_grad():
        package.lora_B.normal_()
        ours.lora_A.copy_(package.lora_A)
        ours.lora_B.copy_(package.lora_B)
    assert not torch.allclose(package(x), base(x))
    torch.testing.assert_close(ours(x), package(x))
    ours.merge()
    package.merge()
    torch.testing.assert_close(ours.base.weight, package.base.weight)
    torch.testing.assert_close(ours(x), package(x))


def test_lesson_group_assignment_matches_layer_groups(lesson04):
    assign = lesson04["assign_groups"]
    for layers in range(1, 9):
        for n1 in range(layers + 1):
            for n2 in range(n1, layers + 1):
                assert assign(layers, n1, n2) == sc.layer_groups(layers, n1, n2)
    for bad in [(6, 3, 2), (6, -1, 2), (6, 2, 7)]:
        with pytest.raises(ValueError) as ours:
            assign(*bad)
        with pytest.raises(ValueError) as package:
            sc.layer_groups(*bad)
        assert str(ours.value) == str(package.value)


@pytest.mark.parametrize("n1, n2, targets", [(0, 0, ("query", "value")), (1, 2, ("query", "value")),
                                             (2, 4, ("key", "ffn_in")), (4, 4, ("query",)), (0, 4, ("value",))])
def test_lesson_stratifier_matches_apply_spafit(lesson04, n1, n2, targets):
    ours = lesson04["stratify"](tiny_model("bert", num_layers=4), n1, n2, targets=targets, r=2, alpha=4)
    package = sc.apply_spafit(tiny_model("bert", num_layers=4),
                              sc.SpafitConfig(n1=n1, n2=n2, targets=targets, r=2, alpha=4))
    assert trainable(ours) == trainable(package)
    assert set(lora_modules(ours)) == set(lora_modules(package))
