"""spafit_course: the helper package of the SPAFIT course (BitFit, LoRA and SPAFIT on BERT encoders).

Four parts, each importing only the parts listed before it:

- `spafit_course.tuning`: the tuning library (freezing, BitFit, LoRA, the SPAFIT stratifier, counts, adapters in
  the course's format and in peft's); torch and transformers only. What this top level exports is its public API.
- `spafit_course.runs`: profiles, tasks, data, models, metrics, training, compare, sweep, bench, predict, probes.
- `spafit_course.lessons`: the lessons' experiments, checks, explorer, figures and set-up.
- `spafit_course.cli`: the command-line tool `spafit-course`.

The lessons in notebooks/ build each method in front of the learner; the package holds the one canonical
implementation of each, which the command-line tool and the tests use too.
"""

from .tuning.adapters import load_adapter, merge_adapter, save_adapter
from .tuning.architectures import TARGETS, UnsupportedModelError, get_layers, num_layers
from .tuning.bitfit import apply_bitfit
from .tuning.closed_form import closed_form_count
from .tuning.lora import LoRALinear, apply_lora, inject_lora, merge_lora, unmerge_lora
from .tuning.methods import METHODS, method_config, prepare_model
from .tuning.params import count_by_group, count_by_part, count_parameters, parameter_table
from .tuning.peft_format import save_peft_adapter
from .tuning.peft_loading import load_peft_adapter
from .tuning.spafit import SpafitConfig, apply_spafit, layer_groups

__version__ = "0.1.0"

__all__ = ["SpafitConfig", "apply_spafit", "layer_groups", "apply_bitfit", "LoRALinear", "inject_lora", "apply_lora",
           "merge_lora", "unmerge_lora", "count_parameters", "count_by_group", "count_by_part", "parameter_table",
           "closed_form_count", "save_adapter", "load_adapter", "merge_adapter", "save_peft_adapter",
           "load_peft_adapter", "METHODS", "method_config", "prepare_model", "TARGETS", "UnsupportedModelError",
           "get_layers", "num_layers"]
