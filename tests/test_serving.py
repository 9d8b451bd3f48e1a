"""One base model serving several adapters (tuning/serving.py, lesson 07): each adapter, swapped in, gives exactly
the logits it gives loaded alone on a fresh base; bad adapters are refused when added and change nothing."""

import pytest
import torch

from spafit_course import merge_adapter
from spafit_course.runs.models import tiny_model
from spafit_course.tuning.adapters import load_adapter, save_adapter
from spafit_course.tuning.serving import AdapterServer
from spafit_course.tuning.spafit import SpafitConfig, apply_spafit

CONFIG = SpafitConfig(n1=1, n2=2, r=4)


def base(num_labels=2, hidden=32):
    return tiny_model("bert", num_layers=4, hidden=hidden, num_labels=num_labels, seed=0)


def trained_adapter(folder, num_labels, seed, config=CONFIG, hidden=32):
    """An adapter whose every trained tensor moved (a stand-in for training: LoRA's B is no longer zero)."""
    model = apply_spafit(base(num_labels, hidden), config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad:
                p.add_(0.2 * torch.randn(p.shape, generator=generator))
    return save_adapter(model, folder, task=f"task {seed}")


@pytest.fixture(scope="module")
def adapters(tmp_path_factory):
    root = tmp_path_factory.mktemp("adapters")
    return {name: trained_adapter(root / name, labels, seed)
            for name, labels, seed in (("a", 2, 1), ("b", 3, 2), ("c", 2, 3))}


def inputs():
    ids = torch.randint(5, 1000, (3, 9), generator=torch.Generator().manual_seed(0))
    mask = torch.ones_like(ids)
    mask[0, 6:] = 0
    return {"input_ids": ids, "attention_mask": mask}


def test_each_adapter_served_gives_exactly_its_own_logits(adapters):
    server = AdapterServer(base())
    for name, folder in adapters.items():
        server.add(name, folder)
    batch = inputs()
    with torch.no_grad():
        alone = {name: load_adapter(base(3 if name == "b" else 2), folder)(**batch).logits
                 for name, folder in adapters.items()}
        for order in (["a", "b", "c"], ["c", "a", "b", "a"]):  # any order of swaps, heads of 2 and 3 labels
            for name in order:
                served = server.use(name)(**batch).logits
                assert server.active == name and served.shape == alone[name].shape
                assert torch.equal(served, alone[name]), name
    assert not torch.equal(alone["a"], alone["c"])  # the adapters differ, so the swap did something
    held = server.adapter_bytes()
    assert held["b"] > held["a"] == held["c"] > 0  # the 3-label head is larger


def test_merged_logits_match_the_unmerged_model(adapters):
    unmerged = load_adapter(base(), adapters["a"])
    import copy

    merged = merge_adapter(copy.deepcopy(unmerged))
    with torch.no_grad():
        gap = (merged(**inputs()).logits - unmerged(**inputs()).logits).abs().max().item()
    assert 0 < gap < 1e-5 or gap == 0


def test_bad_adapters_are_refused_and_change_nothing(adapters, tmp_path):
    server = AdapterServer(base())
    server.add("a", adapters["a"])
    state = {k: v.clone() for k, v in server.model.state_dict().items()}
    other_layout = trained_adapter(tmp_path / "other", 2, 4, config=SpafitConfig(n1=0, n2=2, r=4))
    with pytest.raises(ValueError, match="the adapters here share"):
        server.add("other", other_layout)
    wider = trained_adapter(tmp_path / "wider", 2, 5, hidden=48)
    with pytest.raises(ValueError, match="another base model"):
        server.add("wider", wider)
    with pytest.raises(ValueError, match="already here"):
        server.add("a", adapters["c"])
    with pytest.raises(FileNotFoundError, match="no adapter folder"):
        server.add("missing", tmp_path / "nowhere")
    with pytest.raises(KeyError, match="no adapter named 'z'; choose from a"):
        server.use("z")
    assert list(server.adapters) == ["a"]
    assert all(torch.equal(state[k], v) for k, v in server.model.state_dict().items())


def test_the_first_adapter_needs_a_fresh_base_of_the_same_shape(adapters):
    with pytest.raises(ValueError, match="needs a fresh base model"):
        AdapterServer(apply_spafit(base(), CONFIG)).add("a", adapters["a"])
    with pytest.raises(ValueError, match="trained on another base model"):
        AdapterServer(base(hidden=48)).add("a", adapters["a"])
    with pytest.raises(TypeError, match="needs a base model"):
        AdapterServer("bert")
