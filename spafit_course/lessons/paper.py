"""What the SPAFIT paper states about its own setting and results (lessons 04 and 05).

Arora & Wang (2024), arXiv 2405.00201. Only facts the paper states are here; the settings it leaves out (LoRA
targets, rank, alpha, training hyperparameters) are the `paper` profile's reconstructions, documented apart.
"""

from __future__ import annotations

PAPER_URL = "https://arxiv.org/abs/2405.00201"

STATED = {
    "model": "bert-large-cased",
    "layers": 24,
    "benchmark": "GLUE, nine tasks",
    "best N1, N2": (4, 9),
    "SPAFIT trains": "5.65M to 7.49M",
    "share of the model": "1.65% to 2.24%",
    "full fine-tuning trains": "333.58M",
    "on par with full fine-tuning": "7 of 9 tasks",
    "SPAFIT does best on": "MRPC, STS-B",
    "hard for every PEFT method": "CoLA, SST-2 (single-sentence)",
    "against LoRA": "fewer parameters, as good or better on most tasks",
}

LIMITATIONS = (
    "weaker than full fine-tuning on the single-sentence tasks (CoLA, SST-2)",
    "the best boundaries N1 and N2 depend on the task and must be searched for",
    "little theory for why layers should be treated differently; the evidence comes from earlier probing work",
)

OPEN_QUESTIONS = (
    "which stratification is best for other architectures, model sizes and tasks",
    "whether SPAFIT carries over to harder, generative tasks such as summarisation",
    "why different layers need different amounts of adaptation",
    "whether stratifying beats spreading the same trainable budget evenly over all layers (no such ablation)",
)


def stated_facts_text() -> str:
    """The paper's stated facts, one per line (lesson 04 prints them beside this course's results)."""
    width = max(len(k) for k in STATED)
    return "\n".join(f"{k:<{width}}  {v if not isinstance(v, tuple) else ', '.join(map(str, v))}"
                     for k, v in STATED.items())
