"""Instant checks for the practice notebooks in exercises/ (lessons 00-07).

Each `check_*` function takes the learner's function, class or model, runs it on tiny randomly initialised
models (`models.tiny_model`) in a second or two, and compares every property the exercise asks for with the
package's canonical implementation, on inputs that vary what a learner could hard-code. It prints one line
starting with PASS, or FAIL followed by what was expected, what came back and, where one stands out, the likely
cause; it returns nothing, so a check cell shows its verdict once. An exception raised by the learner's code
(NotImplementedError included) is a FAIL that shows the error's message; it never stops the notebook.

`passes(check, answer)` gives the verdict as a bool without printing; `use_or_reference` lets later cells go on
with the package's version when an exercise is not solved yet. One module per lesson's practice notebook; a
check's PASS line can be rebuilt from the numbers it quotes (`check.summary`, `check.reading`), so the verdicts
stored in the solution notebooks are held to what the checks print today.
"""

from .bitfit import (check_bias_movement, check_key_bias_prediction, check_movement_reading, check_train_only_biases,
                     check_trained_logits, reference_bias_movement, reference_train_only_biases,
                     reference_trained_logits)
from .costs import (check_backward_layers, check_backward_prediction, check_boundary_reading, check_cost_reading,
                    check_count_prediction, check_settings_in_range, reference_backward_layers,
                    reference_settings_in_range)
from .forgetting import (check_cka_reading, check_forgetting, check_forgetting_prediction, check_question_correct,
                         check_stretch, reference_question_correct)
from .lora import check_inject_lora, check_lora_forward, check_lora_init, check_lora_linear, check_lora_merge
from .comparison import (check_choose_and_report, check_estimate_reading, check_optimism_claim,
                         check_selection_scores, reference_choose_and_report, reference_selection_scores)
from .control import check_control_prediction, check_control_reading
from .probes import (check_depth_claim, check_flip, check_flip_prediction, check_flip_reading, check_layer_features,
                     check_probe_curve, reference_layer_features, reference_probe_curve)
from .savings import (check_adam_prediction, check_adam_state, check_half_prediction, check_halving_n1,
                      check_layers_reached, check_step_reading, reference_adam_state_bytes)
from .cheapest import check_cheapest_prediction, check_cheapest_within, reference_cheapest_within
from .spafit import SPAFIT_CASES, check_spafit
from .answers import answer_check, try_run
from .readings import Option
from .rank import (ALPHA_SETTINGS, alpha_for, check_alpha_prediction, check_best_error, check_rank_prediction,
                   check_rank_reading, reference_alpha_errors, reference_best_error)
from .setup import (check_embedding_prediction, check_embedding_share, check_head_scores, check_readout_claim,
                    check_spread_prediction, reference_embedding_share, reference_head_scores)
from .models import trainable_names
from .tools import CheckFailed, captured, passes, use_or_reference

__all__ = ["check_bias_movement", "check_key_bias_prediction", "check_movement_reading", "check_train_only_biases",
           "check_trained_logits", "reference_bias_movement", "reference_train_only_biases",
           "reference_trained_logits", "check_backward_layers", "check_backward_prediction",
           "check_boundary_reading", "check_cost_reading", "check_count_prediction", "check_settings_in_range",
           "reference_backward_layers", "reference_settings_in_range", "check_cka_reading", "check_forgetting",
           "check_forgetting_prediction",
           "check_question_correct", "check_stretch", "reference_question_correct", "check_inject_lora",
           "check_lora_forward", "check_lora_init", "check_lora_linear", "check_lora_merge",
           "check_choose_and_report", "check_estimate_reading", "check_optimism_claim", "check_selection_scores",
           "reference_choose_and_report", "reference_selection_scores", "check_control_prediction",
           "check_control_reading", "check_depth_claim", "check_flip", "check_flip_prediction", "check_flip_reading",
           "check_layer_features", "check_probe_curve", "reference_layer_features", "reference_probe_curve",
           "check_adam_prediction", "check_adam_state", "check_cheapest_prediction", "check_cheapest_within",
           "check_half_prediction", "check_halving_n1", "check_layers_reached", "check_step_reading",
           "reference_adam_state_bytes", "reference_cheapest_within", "SPAFIT_CASES", "check_spafit", "Option", "answer_check", "try_run", "ALPHA_SETTINGS", "alpha_for",
           "check_alpha_prediction", "check_best_error", "check_rank_prediction", "check_rank_reading",
           "reference_alpha_errors", "reference_best_error", "check_embedding_prediction", "check_embedding_share",
           "check_head_scores", "check_readout_claim", "check_spread_prediction", "reference_embedding_share",
           "reference_head_scores", "CheckFailed", "captured", "passes", "trainable_names", "use_or_reference"]
