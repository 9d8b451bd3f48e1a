"""The distributed path is real: the same training code under torchrun with two CPU processes (gloo)."""

import json
import subprocess
import sys
from pathlib import Path


def test_torchrun_two_processes_agree(tmp_path):
    script = Path(__file__).with_name("distributed_run.py")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
           str(script), str(tmp_path)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for row in ranks:
        assert row["world_size"] == 2 and "gloo" in row["backend"]
        # 64 examples, batch 8 per process, 2 processes: 4 optimizer steps.
        assert row["steps"] == 4
    assert ranks[0]["all_metrics"] == ranks[1]["all_metrics"]
    assert ranks[0]["trainable"] == ranks[1]["trainable"]
