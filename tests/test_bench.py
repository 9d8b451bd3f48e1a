"""`spafit-course bench`: the cost model by hand, and the benchmark end to end on a tiny BERT (no timing asserts)."""

import json
import math

import pytest

from spafit_course.cli import main
from spafit_course.runs.bench import run_bench
from spafit_course.runs.cost_model import (LayerCost, activation_values_per_token, memory_cost, method_shape,
                                           model_facts, predictions, ratios, step_cost)
from spafit_course.tuning.spafit import SpafitConfig


def test_step_cost_of_the_four_methods_by_hand():
    # 6 layers, forward 1 / activation backward 1 / weight gradient 1 per layer.
    assert step_cost(6, 0, 6, weights_train=True) == {"forward": 6, "activation_backward": 6, "weight_gradient": 6,
                                                      "total": 18}
    assert step_cost(6, 0, 6)["total"] == 12  # BitFit: no weight gradients of matrices
    assert step_cost(6, 2, 4) == {"forward": 6, "activation_backward": 4, "weight_gradient": 0, "total": 10}
    # LoRA on every layer at 10% of a layer: 6.6 forward, 6.6 activation backward, 0.6 weight gradients.
    lora = step_cost(6, 0, 0, lora_fraction=0.1)
    assert lora["forward"] == pytest.approx(6.6) and lora["activation_backward"] == pytest.approx(6.6)
    assert lora["weight_gradient"] == pytest.approx(0.6) and lora["total"] == pytest.approx(13.8)
    # SPAFIT 2/4 of 6 with LoRA on the top two layers: forward 6.2, backward 4.2, weight gradients 0.2.
    assert step_cost(6, 2, 4, lora_fraction=0.1)["total"] == pytest.approx(10.6)
    assert 10 / 18 == pytest.approx(0.5556, abs=1e-4)  # the ratio the command prints for SPAFIT 2/4 of 6


def test_step_cost_weights_and_embeddings():
    cost = LayerCost(forward=1.0, activation_backward=0.5, weight_gradient=2.0)
    # full, 4 layers, embeddings backward worth half a layer: 4 + 4*0.5 + (4 + 0.5)*2 = 15
    assert step_cost(4, 0, 4, weights_train=True, embeddings=0.5, cost=cost)["total"] == pytest.approx(15)
    # embeddings are only paid when their weights train
    assert step_cost(4, 1, 4, embeddings=0.5, cost=cost)["total"] == pytest.approx(4 + 3 * 0.5)


@pytest.mark.parametrize("args, message", [
    ((6, 3, 2), "need 0 <= N1 <= N2 <= L = 6, got N1=3, N2=2"),
    ((6, 0, 7), "need 0 <= N1 <= N2 <= L = 6, got N1=0, N2=7"),
    ((0, 0, 0), "num_layers must be a positive integer, got 0"),
])
def test_step_cost_rejects_bad_boundaries(args, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        step_cost(*args)


def test_memory_model_by_hand():
    # H=384, I=1536: a frozen layer keeps 4H + 2H + I + H/2 = 4032 values per token; trained matrices add
    # 3H + I = 2688; a LoRA layer adds H = 384.
    assert activation_values_per_token(384, 1536) == 4032
    assert activation_values_per_token(384, 1536, weights_train=True) == 6720
    assert activation_values_per_token(384, 1536, lora=True) == 4416
    # H=4, I=16: frozen 42, LoRA 46 values per token. SPAFIT 2/4 of 6 over 10 tokens, 1000 trainable params:
    # state 1000 * 3 * 4 bytes; activations (2 * 42 + 2 * 46) * 10 * 4 bytes.
    m = memory_cost(1000, 6, 2, 4, tokens=10, hidden=4, intermediate=16)
    assert m == {"gradients": 4000, "optimizer_state": 8000, "gradients_and_optimizer": 12000, "activations": 7040,
                 "total": 19040}
    full = memory_cost(1000, 6, 0, 6, tokens=10, hidden=4, intermediate=16, weights_train=True)
    assert full["activations"] == 6 * (42 + 3 * 4 + 16) * 10 * 4


def test_ratios_and_method_shapes():
    assert ratios({"full": 2.0, "spafit": 1.0}) == {"full": 1.0, "spafit": 0.5}
    assert math.isnan(ratios({"spafit": 1.0})["spafit"])
    assert method_shape("full", 6, None) == {"n1": 0, "n2": 6, "weights_train": True}
    assert method_shape("spafit", 6, SpafitConfig(n1=2, n2=4)) == {"n1": 2, "n2": 4, "weights_train": False}
    with pytest.raises(ValueError, match="unknown method 'adapter'"):
        method_shape("adapter", 6, None)


def test_predictions_use_the_package_configs():
    facts = model_facts({"tiny": True, "tiny_layers": 6, "tiny_hidden": 64})
    pred = predictions(["full", "bitfit", "lora", "spafit"], facts, 2, 4, batch_size=4, seq_length=16)
    # LoRA r=8 on query and value: 2 * 8 * (64 + 64) extra multiply-adds per token against the layer's
    # 4 * 64^2 + 2 * 64 * 128 + 2 * 16 * 64.
    fraction = 2 * 8 * 128 / (4 * 64 * 64 + 2 * 64 * 128 + 2 * 16 * 64)
    assert pred["spafit"]["lora_fraction"] == pytest.approx(fraction)
    assert pred["spafit"]["step"] == pytest.approx(step_cost(6, 2, 4, lora_fraction=fraction)["total"])
    assert pred["full"]["step"] == 18 and pred["bitfit"]["step"] == 12
    assert pred["bitfit"]["lora_fraction"] == 0


def test_bench_in_process_on_tiny_bert():
    report = run_bench(["full", "spafit", "bitfit"], tiny=True, batch_size=4, seq_length=16, steps=1, warmup=0,
                       rounds=1, isolate=False, progress=None)
    rows = {r["method"]: r for r in report["rows"]}
    assert (report["n1"], report["n2"], report["num_layers"]) == (2, 4, 6)
    assert rows["full"]["step_ratio"] == 1.0 and rows["full"]["step_ratio_model"] == 1.0
    for m in ("spafit", "bitfit"):
        assert rows[m]["step_ratio"] == pytest.approx(rows[m]["step_seconds"] / rows["full"]["step_seconds"])
        assert rows[m]["forward_ratio"] == pytest.approx(rows[m]["forward_seconds"] / rows["full"]["forward_seconds"])
    assert rows["bitfit"]["step_ratio_model"] == pytest.approx(12 / 18)
    assert rows["spafit"]["trainable"] < rows["bitfit"]["trainable"] + 10_000 < rows["full"]["trainable"]


def test_bench_command_in_subprocesses_writes_json(tmp_path, capsys):
    assert main(["bench", "--tiny", "--methods", "full,spafit", "--batch-size", "2", "--seq-length", "8",
                 "--steps", "1", "--warmup", "0", "--rounds", "1", "--output", str(tmp_path),
                 "--json", str(tmp_path / "copy.json")]) == 0
    out = capsys.readouterr().out
    assert "[2/2]" in out and "spafit" in out
    report = json.loads((tmp_path / "bench.json").read_text())
    assert report == json.loads((tmp_path / "copy.json").read_text())
    assert report["isolated"] is True and [r["method"] for r in report["rows"]] == ["full", "spafit"]
    assert report["rows"][1]["step_ratio_model"] == pytest.approx(
        predictions(["full", "spafit"], model_facts({"tiny": True}), 2, 4, 2, 8)["spafit"]["step"] / 18)


def test_bench_rejects_bad_input(capsys):
    with pytest.raises(ValueError, match="must include full"):
        run_bench(["spafit"], tiny=True, progress=None)
    with pytest.raises(ValueError, match=r"need 0 <= N1 <= N2 <= L = 6, got N1=5, N2=3"):
        run_bench(["full"], tiny=True, n1=5, n2=3, progress=None)
    with pytest.raises(SystemExit) as leave:  # refused while parsing, naming the option
        main(["bench", "--tiny", "--steps", "0"])
    assert leave.value.code == 2
    assert "argument --steps: must be an integer >= 1, got 0" in capsys.readouterr().err
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):  # and by the library
        run_bench(["full"], tiny=True, steps=0, progress=None)
