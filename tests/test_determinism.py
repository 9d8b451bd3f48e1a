"""The same seed gives the same metrics and weights on CPU: a result in the course can be reproduced exactly."""

import pytest
import torch

from spafit_course.runs.experiments import prepared_data, run_method
from spafit_course.runs.models import tiny_model
from spafit_course.runs.profiles import get_profile

# The quick model's tokenizer has a 30,522-word vocabulary, so the tiny model needs the same.
PROFILE = get_profile("quick").with_overrides(train_size=64, eval_size=64)


def factory(num_labels):
    # Six layers, so the quick profile's SPAFIT (N1=2, N2=4) has all three groups.
    return tiny_model("bert", 6, 16, num_labels=num_labels, vocab_size=30522)


@pytest.fixture(scope="module")
def data():
    return prepared_data(PROFILE)


def test_same_seed_same_metrics_and_weights(data):
    first, second = (run_method(PROFILE, "spafit", data, progress=False, model_factory=factory) for _ in range(2))
    assert first["spafit_config"]["n1"] == 2 and first["spafit_config"]["n2"] == 4
    assert first["steps"] == second["steps"] == 2  # 64 examples, batch 32, one epoch
    assert len(data[2]["test"]) == 64
    assert first["all_metrics"] == second["all_metrics"]
    a, b = first["_model"].state_dict(), second["_model"].state_dict()
    assert a.keys() == b.keys()
    for name in a:
        assert torch.equal(a[name], b[name]), name
    # Training did change the LoRA matrices (B starts at zero), so the equality above means something.
    assert any(n.endswith("lora_B") and a[n].abs().sum() > 0 for n in a)
