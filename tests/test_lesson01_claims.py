"""Lesson 01's claims, held against the multi-seed record it reads and, for the mechanism, one backward pass."""

import torch

from spafit_course.lessons.bitfit_runs import BIAS_FAMILIES
from spafit_course.runs.profiles import get_profile

PROFILE = get_profile("quick")


def test_key_bias_gradient_is_rounding_noise():
    """The lesson's one backward pass: key biases get gradients orders of magnitude below every other family."""
    from spafit_course.runs.data import load_polarity
    from spafit_course.runs.models import load_model_and_tokenizer
    from spafit_course.tuning.bitfit import apply_bitfit

    model, tokenizer = load_model_and_tokenizer(PROFILE.model_name, seed=PROFILE.seed)
    apply_bitfit(model)
    rows = load_polarity()["train"].select(range(16))
    batch = tokenizer(list(rows["sentence"]), padding=True, return_tensors="pt")
    model(**batch, labels=torch.tensor(list(rows["label"]))).loss.backward()
    size = {}
    for key, family in BIAS_FAMILIES.items():
        grads = [p.grad.abs().mean().item() for n, p in model.named_parameters()
                 if n.endswith(f"{key}.bias") and ".layer." in n]
        size[family] = sum(grads) / len(grads)
    assert size["key"] * 1e4 < min(v for family, v in size.items() if family != "key")


def test_key_biases_barely_move_on_every_seed(record):
    for seed, result in record["results"]["01"].items():
        change = result["bias_change"]
        others = [v for family, v in change.items() if family != "key"]
        assert change["key"] * 100 < min(others), seed
