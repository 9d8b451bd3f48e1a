"""What each method costs (lesson 07): the lesson's settings for `runs.bench.run_bench`, the same measurement
`spafit-course bench` makes, and the cost model's numbers for BERT-large at the paper's setting.

Time on a shared CPU is noise in absolute terms, so every cost is shown as a ratio to full fine-tuning; memory
is measured by hooks on the tensors themselves (`runs.costs`), which other work on the machine cannot disturb.
"""

from __future__ import annotations

import copy

from ..runs.bench import run_bench
from ..runs.bench_tables import MB, PART_NAMES, step_parts_total
from ..runs.cost_model import model_facts, predictions
from ..runs.costs import PARTS, disk_bytes
from ..runs.models import load_model
from ..runs.profiles import Profile, get_profile
from ..tuning.methods import prepare_model
from ..tuning.params import format_table

#: The methods lesson 07 compares (the head alone trains no layer, so it has no cost to compare).
LESSON_METHODS = ("full", "bitfit", "lora", "spafit")
#: The lesson's measurement: one batch of 16 x 64 random tokens, 2 interleaved rounds of 3 timed steps each.
LESSON_BENCH = {"batch_size": 16, "seq_length": 64, "steps": 3, "warmup": 1, "rounds": 2}
#: BERT-large at the paper's setting (docs/paper-profile.md): GLUE batches of 32 x 128 tokens, bf16 on a GPU.
PAPER_BATCH = {"batch_size": 32, "seq_length": 128}
GB = 2 ** 30


def measure_costs(profile: Profile, **changes) -> dict:
    """Step time, forward time, the memory split and the backward's reach of each method on the profile's model
    (`run_bench` in this process, `LESSON_BENCH` unless changed)."""
    settings = {**LESSON_BENCH, **changes}
    return run_bench(LESSON_METHODS, model=profile.model_name, n1=profile.spafit["n1"], n2=profile.spafit["n2"],
                     isolate=False, profile=profile.name, progress=None, **settings)


def paper_costs(batch_size: int = PAPER_BATCH["batch_size"], seq_length: int = PAPER_BATCH["seq_length"]) -> dict:
    """The cost model on bert-large-cased (meta device, nothing downloaded) with the paper profile's methods:
    SPAFIT N1=4, N2=9 and LoRA r=64 on query/key/value (reconstructed), activations in bf16 (2 bytes)."""
    paper = get_profile("paper")
    facts = model_facts({"model": paper.model_name})
    return predictions(LESSON_METHODS, facts, paper.spafit["n1"], paper.spafit["n2"], batch_size, seq_length,
                       activation_bytes=2, attention="fused", profile=paper)


def paper_table(costs: dict) -> str:
    """The paper setting's predictions: step and memory as ratios to full fine-tuning, sizes in GB and MB."""
    adds = {m: step_parts_total(c["parts"]) for m, c in costs.items()}
    table = [("method", "trainable", "step", "backward", "grads GB", "Adam GB", "activ. GB", "adds",
              "adapter MB")]
    for m, c in costs.items():
        p = c["parts"]
        table.append((m, f"{c['trainable']:,}", f"{c['step'] / costs['full']['step']:.2f}",
                      f"{c['backward_layers']} of {costs['full']['backward_layers']}", f"{p['gradients'] / GB:.2f}",
                      f"{p['optimizer_state'] / GB:.2f}",
                      f"{p['activations'] / GB:.2f}", f"{adds[m] / adds['full']:.2f}",
                      "whole model" if m == "full" else f"{c['trainable'] * 4 / MB:.1f}"))
    weights = costs["full"]["parts"]["weights"] / GB
    return (f"bert-large-cased, batch {PAPER_BATCH['batch_size']} x {PAPER_BATCH['seq_length']} tokens; weights "
            f"{weights:.2f} GB for every method (LoRA adds its matrices)\n"
            "step, adds (what a step adds to the weights): ratios to full fine-tuning\n\n"
            + format_table(table))


def disk_sizes(profile: Profile, methods=LESSON_METHODS) -> dict:
    """{method: bytes one fine-tuned copy costs on disk}: the whole model for full fine-tuning, else the adapter."""
    base = load_model(profile.model_name, 2, seed=profile.seed)
    return {m: disk_bytes(prepare_model(copy.deepcopy(base), m, profile), m) for m in methods}


def disk_table(sizes: dict, report: dict) -> str:
    trainable = {r["method"]: r["trainable"] for r in report["rows"]}
    table = [("method", "trainable", "on disk", "share of the model's")]
    for m, size in sizes.items():
        shown = f"{size / MB:.1f} MB" if size >= MB else f"{size / 1024:.0f} KB"
        table.append((m, f"{trainable[m]:,}", shown, f"{size / sizes['full']:.4f}"))
    return format_table(table)


COLOURS = {"weights": "#bbbbbb", "gradients": "#e4572e", "optimizer_state": "#f3a712", "activations": "#4e79a7"}


def plot_memory(report: dict, axes=None):
    """Left: each method's step memory, measured, stacked by part, with the cost model's total as a dash;
    right: the activations each layer keeps for the backward pass."""
    import matplotlib.pyplot as plt

    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(11, 3.6))
    left, right = axes
    rows = report["rows"]
    names = [r["method"] for r in rows]
    bottom = [0.0] * len(rows)
    for part in PARTS:
        heights = [r["parts"][part] / MB for r in rows]
        left.bar(names, heights, bottom=bottom, color=COLOURS[part], label=PART_NAMES[part])
        bottom = [b + h for b, h in zip(bottom, heights)]
    model = [step_parts_total(r["parts_model"], with_weights=True) / MB for r in rows]
    left.scatter(names, model, marker="_", s=900, color="black", label="cost model", zorder=3)
    left.set_ylabel("MB")
    left.set_title("memory of one training step")
    left.legend(fontsize=8)
    layers = range(1, report["num_layers"] + 1)
    width = 0.8 / len(rows)
    for k, r in enumerate(rows):
        right.bar([x + (k - (len(rows) - 1) / 2) * width for x in layers],
                  [b / MB for b in r["activations_by_layer"]], width=width, label=r["method"])
    right.set_xticks(list(layers))
    right.set_xlabel("layer (1 = next to the embeddings)")
    right.set_ylabel("MB kept for the backward")
    right.set_title("activations, layer by layer")
    right.legend(fontsize=8)
    return axes


# ---------------------------------------------------------------------------------------------------------------
# Lesson 07's practice: every setting's predicted cost, for choosing within a memory limit (exercise 7.3).


def candidate_settings(num_layers: int) -> list[tuple[str, str, int, int]]:
    """(label, method, N1, N2) of full fine-tuning, BitFit, LoRA and SPAFIT at every 0 <= N1 <= N2 <= L."""
    found = [("full", "full", 0, num_layers), ("bitfit", "bitfit", 0, num_layers), ("lora", "lora", 0, 0)]
    return found + [(f"spafit {n1}/{n2}", "spafit", n1, n2) for n1 in range(num_layers + 1)
                    for n2 in range(n1, num_layers + 1)]


def setting_costs(facts: dict, batch_size: int, seq_length: int, profile: Profile | None = None,
                  attention: str = "fused") -> dict:
    """{label: {"step": ratio to full fine-tuning's step, "parts": bytes by part, "trainable"}} of every
    candidate setting, from the cost model."""
    profile = profile or get_profile("quick")
    layers = facts["num_layers"]
    shape = {"batch_size": batch_size, "seq_length": seq_length, "attention": attention, "profile": profile}
    fixed = predictions(("full", "bitfit", "lora"), facts, 0, layers, **shape)
    costs = {}
    for label, method, n1, n2 in candidate_settings(layers):
        found = fixed[method] if method != "spafit" else predictions(("spafit",), facts, n1, n2, **shape)["spafit"]
        costs[label] = {"step": found["step"] / fixed["full"]["step"], "parts": dict(found["parts"]),
                        "trainable": found["trainable"]}
    return costs
