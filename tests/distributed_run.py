"""Run under `torchrun --nproc_per_node 2`: train a tiny SPAFIT model and write this rank's result."""

import json
import os
import sys

from spafit_course.runs.experiments import compare_methods, public
from spafit_course.runs.models import tiny_model
from spafit_course.runs.profiles import get_profile
from spafit_course.tuning.quiet import silence_libraries

silence_libraries()
profile = get_profile("quick").with_overrides(train_size=64, eval_size=50, batch_size=8)
rows = compare_methods(profile, ("spafit",), progress=False,
                       model_factory=lambda n: tiny_model("bert", 2, 32, num_labels=n, vocab_size=30522))
import torch.distributed as dist

row = public(rows[0])
row["world_size"] = dist.get_world_size() if dist.is_initialized() else 1
# "cpu:gloo" where the process group was set up device-agnostic, "gloo" otherwise.
row["backend"] = str(dist.get_backend_config()) if dist.is_initialized() else None
with open(os.path.join(sys.argv[1], f"rank{os.environ.get('RANK', '0')}.json"), "w") as f:
    json.dump(row, f)
