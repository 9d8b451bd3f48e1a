"""The bench's report as text (lesson 07, `spafit-course bench`): each measurement as a ratio to full
fine-tuning beside the cost model's, in tables that fit 90 columns, except the command's full table."""

from __future__ import annotations

from ..tuning.params import format_table
from .costs import PARTS

MB = 2 ** 20
PART_NAMES = {"weights": "weights", "gradients": "gradients", "optimizer_state": "optimizer", "activations":
              "activations"}


def bench_table(report: dict) -> str:
    """The command's table: measured values, their ratio to full fine-tuning, and the cost model's ratio."""
    table = [("method", "trainable", "step s", "ratio", "model", "cpu ratio", "forward s", "ratio", "model",
              "peak MB", "ratio", "model")]
    for r in report["rows"]:
        table.append((r["method"], f"{r['trainable']:,}", f"{r['step_seconds']:.3f}", f"{r['step_ratio']:.2f}",
                      f"{r['step_ratio_model']:.2f}", f"{r['step_cpu_ratio']:.2f}", f"{r['forward_seconds']:.3f}",
                      f"{r['forward_ratio']:.2f}", f"{r['forward_ratio_model']:.2f}", f"{r['peak_mb']:.0f}",
                      f"{r['memory_ratio']:.2f}", f"{r['memory_ratio_model']:.2f}"))
    head = (f"{setting_line(report)}; medians of {report['rounds']} round(s) x {report['steps']} steps after "
            f"{report['warmup']} warm-up\n"
            "ratio: to full fine-tuning; model: the cost model's prediction; cpu ratio: the step's process CPU "
            "time (less disturbed by other work on the machine); peak MB: "
            f"{report['memory_measures']} ({report['memory_source']})\n\n")
    return head + format_table(table)


def setting_line(report: dict) -> str:
    return (f"{report['model']}, {report['num_layers']} layers, SPAFIT N1={report['n1']} N2={report['n2']}; "
            f"batch {report['batch_size']} x {report['seq_length']} tokens on {report['device']} "
            f"({report['threads']} threads)")


def step_parts_total(parts: dict, with_weights: bool = False) -> float:
    """What a training step adds to the loaded model (gradients, optimizer state, activations), or with the
    weights too: the four parts of lesson 07."""
    return sum(parts[k] for k in PARTS if with_weights or k != "weights")


def memory_ratios(report: dict, source: str = "parts") -> dict:
    """{method: what a step adds / full fine-tuning's}, from the measured split ("parts") or the model's."""
    added = {r["method"]: step_parts_total(r[source]) for r in report["rows"]}
    return {m: v / added["full"] for m, v in added.items()}


def memory_table(report: dict) -> str:
    """The memory of one training step split into its four parts, in MB, measured and as the cost model
    predicts; "step adds" is all but the weights, and its ratio is to full fine-tuning."""
    measured, model = memory_ratios(report), memory_ratios(report, "parts_model")
    table = [("method", "", *PART_NAMES.values(), "step adds", "ratio")]
    for r in report["rows"]:
        for label, parts, ratio in (("measured", r["parts"], measured), ("model", r["parts_model"], model)):
            table.append((r["method"] if label == "measured" else "", label,
                          *(f"{parts[k] / MB:.1f}" for k in PARTS), f"{step_parts_total(parts) / MB:.1f}",
                          f"{ratio[r['method']]:.2f}"))
    return format_table(table)


def span(layers: list[int]) -> str:
    """'3 to 6' for [3, 4, 5, 6], 'none' for [], '1, 3' where there is a gap."""
    if not layers:
        return "none"
    if layers == list(range(layers[0], layers[-1] + 1)):
        return f"{layers[0]} to {layers[-1]}" if len(layers) > 1 else str(layers[0])
    return ", ".join(map(str, layers))


def backward_table(report: dict) -> str:
    """Per method: the layers the gradient reached (autograd hooks), their count, and the cost model's L - N1."""
    table = [("method", "backward runs through layers", "count", "model (L - N1)")]
    for r in report["rows"]:
        table.append((r["method"], span(r["backward_layers"]), f"{len(r['backward_layers'])} of "
                      f"{report['num_layers']}", str(r["backward_layers_model"])))
    return format_table(table)


def time_table(report: dict) -> str:
    """Step and forward time as ratios to full fine-tuning (wall and process CPU time) beside the model's."""
    table = [("method", "trainable", "step", "CPU time", "model", "forward", "model")]
    for r in report["rows"]:
        table.append((r["method"], f"{r['trainable']:,}", f"{r['step_ratio']:.2f}", f"{r['step_cpu_ratio']:.2f}",
                      f"{r['step_ratio_model']:.2f}", f"{r['forward_ratio']:.2f}", f"{r['forward_ratio_model']:.2f}"))
    return format_table(table)
