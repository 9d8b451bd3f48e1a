"""What SPAFIT buys in time and memory (lesson 07, `spafit-course bench`).

Full fine-tuning, BitFit, LoRA and SPAFIT are timed on the same model, batch and sequence length (random token
batches, fixed seed): the median train step (forward, backward, optimizer step, after warm-up), the median
forward pass, and the peak memory a training step adds on top of the loaded model. The first warm-up step is
watched by `costs.measure_step`, which splits its memory into weights, gradients, optimizer state and
activations and finds the layers its backward pass runs through. Each number is shown as a ratio to full
fine-tuning, next to the ratio a simple cost model predicts (`cost_model.py`).

On a CPU every measurement runs in a fresh subprocess, so one method's peak memory cannot leak into the next;
methods are interleaved over several rounds and medians reported, because other work on the machine adds noise.
"""

from __future__ import annotations

import gc
import json
import os
import statistics
import subprocess
import sys
import time

from ..tuning.methods import METHODS, check_method
from .cost_model import attention_kind, default_boundaries, model_facts, predictions, ratios
from .costs import PARTS, measure_step


# ----------------------------------------------------------------------------------------------------------------
# Measuring one method (in a fresh subprocess on CPU).


def build_model(spec: dict):
    """The bench's model: tiny random BERT, a random-init config of a named model, or the pretrained model."""
    import torch

    from ..tuning.heads import build_classifier
    from .models import load_model, model_config, tiny_model
    from ..tuning.quiet import quiet_hf

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

    spec: method, model / tiny / random_init, profile (whose methods; default quick), n1, n2, batch_size,
    seq_length, steps, warmup, device, seed, threads.
    """
    import psutil
    import torch

    from ..tuning.methods import prepare_model
    from ..tuning.params import count_parameters
    from .profiles import get_profile

    method = spec["method"]
    device = torch.device(spec["device"])
    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    torch.manual_seed(spec["seed"])
    model = build_model(spec)
    profile = get_profile(spec.get("profile") or "quick")
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
    # The first warm-up step is watched by hooks (the split of its memory, the layers its backward reaches);
    # with no warm-up asked for, it is one step more, untimed.
    parts = measure_step(model, batch, optimizer, autocast)
    untimed = max(spec["warmup"], 1) - 1
    step_seconds, step_cpu_seconds = [], []
    for i in range(untimed + spec["steps"]):
        sync()
        start, cpu_start = time.perf_counter(), time.process_time()
        train_step()
        sync()
        if i >= untimed:
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
            "peak_bytes": max(peak, 0), "parts": parts,
            "memory_source": memory_source, "device": torch.cuda.get_device_name() if cuda else "cpu",
            "threads": torch.get_num_threads()}


def _run_child(spec: dict) -> dict:
    """`measure_method(spec)` in a fresh Python process (CPU memory peaks stay separate)."""
    code = "import json, sys; from spafit_course.runs.bench import measure_method; " \
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


def run_bench(methods=METHODS, model: str | None = None, tiny: bool = False, random_init: bool = False,
              batch_size: int = 32, seq_length: int = 64, steps: int = 5, warmup: int = 2, rounds: int = 3,
              device: str = "auto", n1: int | None = None, n2: int | None = None, seed: int = 0,
              threads: int | None = None, isolate: bool | None = None, profile: str | None = None,
              progress=print) -> dict:
    """Measure every method `rounds` times, interleaved, and compare with the cost model; returns the report.

    `isolate` runs each measurement in a fresh subprocess (default: on CPU, where peak memory is per process);
    `profile` names the profile whose LoRA and SPAFIT settings the methods use (default quick).
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
            "threads": threads, "profile": get_profile(profile or "quick").name}
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
    # On a GPU the step runs under bf16 autocast, so activations take 2 bytes a value; on a CPU, attention with
    # dropout takes PyTorch's unfused path, which keeps the attention probabilities.
    predicted = predictions(methods, facts, n1, n2, batch_size, seq_length, 2 if device == "cuda" else 4,
                            attention_kind(device, facts["attention_dropout"]), get_profile(spec["profile"]))

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
            # the same batch and model in every round, so the split and the backward's reach are the same too
            "parts": {k: runs[m][0]["parts"][k] for k in PARTS}, "parts_model": predicted[m]["parts"],
            "activations_by_layer": runs[m][0]["parts"]["activations_by_layer"],
            "weight_copies": runs[m][0]["parts"]["weight_copies"],
            "backward_layers": runs[m][0]["parts"]["backward_layers"],
            "backward_layers_model": predicted[m]["backward_layers"],
        })
    first = runs[methods[0]][0]
    return {
        "model": "tiny random BERT" if tiny else model + (" (random init)" if random_init else ""),
        "profile": spec["profile"], "num_layers": layers, "n1": n1, "n2": n2, "batch_size": batch_size,
        "seq_length": seq_length,
        "steps": steps, "warmup": warmup, "rounds": rounds, "device": first["device"],
        "threads": first["threads"], "cpu_count": os.cpu_count(), "isolated": isolate,
        "memory_source": first["memory_source"],
        "memory_measures": "peak memory a training step adds on top of the loaded, prepared model",
        "rows": rows,
    }
