"""Every lesson experiment by the lesson that shows it (what `spafit-course lessons` runs over seeds, and what
`--record-seeds` stores for the lessons to read)."""

from __future__ import annotations

from .bitfit_runs import bitfit_and_full
from .comparison_runs import boundary_sweep
from .layer_runs import layer_probes, top_k_layers
from .lora_runs import lora_ranks
from .forgetting_runs import budget_ablation, forgetting
from .spafit_runs import four_methods

#: Every lesson experiment, by the lesson that shows it.
EXPERIMENTS = {"01": bitfit_and_full, "02": lora_ranks, "03-probes": layer_probes, "03-top-k": top_k_layers,
               "04": four_methods, "05": boundary_sweep}
#: Lesson 06's experiments, by section.
FORGETTING_EXPERIMENTS = {"06-forgetting": forgetting, "06-ablation": budget_ablation}
#: What the multi-seed record holds: every experiment of lessons 01-06.
RECORDED_EXPERIMENTS = {**EXPERIMENTS, **FORGETTING_EXPERIMENTS}
