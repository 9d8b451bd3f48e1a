"""What the SPAFIT paper states about its own setting and results (lessons 04 and 05), kept apart from what this
course suggests.

Arora & Wang (2024), arXiv 2405.00201. `STATED`, `LIMITATIONS` and `OPEN_QUESTIONS` hold only what the paper says,
each with where it says it (`WHERE`, `stated_facts_text`). The settings it leaves out (LoRA targets, rank, alpha,
training hyperparameters) are the `paper` profile's reconstructions, documented in docs/paper-profile.md.
`COURSE_SUGGESTIONS` are this course's own proposals, not the paper's.
"""

from __future__ import annotations

PAPER_URL = "https://arxiv.org/abs/2405.00201"

#: Facts the paper states, by name (lesson 04 reads "model", "layers", "SPAFIT trains", "share of the model").
STATED = {
    "model": "bert-large-cased",
    "layers": 24,
    "benchmark": "GLUE, nine tasks",
    "best N1, N2": (4, 9),
    "SPAFIT trains": "5.65M to 7.49M",
    "share of the model": "1.65% to 2.24%",
    "full fine-tuning trains": "333.58M",
    "on par with full fine-tuning": "7 of 9 tasks",
    "against LoRA": "fewer parameters, as good or better on most tasks",
    "against other PEFT methods": "outperforms them (it names LoRA, BitFit)",
}

#: Where the paper states each fact of `STATED`.
WHERE = {
    "model": "experiments",
    "layers": "experiments",
    "benchmark": "abstract",
    "best N1, N2": "results",
    "SPAFIT trains": "results",
    "share of the model": "results",
    "full fine-tuning trains": "results",
    "on par with full fine-tuning": "results",
    "against LoRA": "section 4",
    "against other PEFT methods": "abstract",
}

#: The limitations the paper states (its results and its discussion).
LIMITATIONS = (
    "weaker than full fine-tuning on the single-sentence tasks (CoLA, SST-2)",
    "the best boundaries N1 and N2 depend on the model, the data and the task, and must be found by experiment",
    "little earlier work associates particular layers with particular kinds of linguistic knowledge",
)

#: The questions the paper leaves open (its discussion of future work).
OPEN_QUESTIONS = (
    "which stratification is best for other architectures, model sizes and tasks",
    "whether SPAFIT carries over to harder, generative tasks such as summarisation",
    "whether layers hold distinct kinds of linguistic knowledge, and why they need different adaptation",
)

#: This course's own proposals (not the paper's), and the lesson that runs each.
COURSE_SUGGESTIONS = (
    ("give the same trainable budget to every layer evenly: does SPAFIT's placement matter?", "lesson 06"),
    ("choose the boundaries on a validation split, score the choice once on a test split", "lesson 05"),
    ("put every method beside a head-only control trained on the same data", "lessons 01-06"),
)


def stated_facts_text() -> str:
    """The paper's stated facts, one per line, each with where the paper states it."""
    width = max(len(k) for k in STATED)
    values = {k: v if not isinstance(v, tuple) else ", ".join(map(str, v)) for k, v in STATED.items()}
    value_width = max(len(str(v)) for v in values.values())
    return "\n".join(f"{k:<{width}}  {str(v):<{value_width}}  ({WHERE[k]})" for k, v in values.items())
