"""spafit_course: the helper package of the SPAFIT course (BitFit, LoRA and SPAFIT on BERT encoders).

The lessons in notebooks/ build each method in front of the learner; this package holds the one canonical
implementation of each, which the command-line tool `spafit-course` and the tests use too.
"""

from .adapters import load_adapter, merge_adapter, save_adapter
from .architectures import TARGETS, UnsupportedModelError, get_layers, num_layers
from .bitfit import apply_bitfit
from .closed_form import closed_form_count
from .lora import LoRALinear, apply_lora, inject_lora, merge_lora, unmerge_lora
from .methods import METHODS, method_config, prepare_model
from .metrics import task_metrics
from .params import count_by_group, count_by_part, count_parameters, parameter_table
from .profiles import PROFILES, get_profile
from .spafit import SpafitConfig, apply_spafit, layer_groups
from .tasks import TASKS, get_task

__version__ = "0.1.0"
