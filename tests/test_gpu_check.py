"""scripts/gpu_check.sh: its CPU dry run passes end to end, and it refuses clearly before timing anything."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "gpu_check.sh"


def run(*args, **env):
    environ = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", **env}
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, env=environ, timeout=300)


def test_dry_run_leaves_bench_and_compare_results(tmp_path):
    done = run("--dry-run", str(tmp_path))
    assert done.returncode == 0, done.stderr[-2000:]
    bench = json.loads((tmp_path / "bench.json").read_text())
    compare = json.loads((tmp_path / "compare.json").read_text())
    assert [r["method"] for r in compare] == ["full", "bitfit", "lora", "spafit"]
    assert all(r["steps"] == 2 and r["device"] == "cpu" for r in compare)  # 16 examples, batch 8
    assert "full" in json.dumps(bench) and "spafit" in json.dumps(bench)
    assert {p.name for p in tmp_path.iterdir()} >= {"device.txt", "bench.txt", "compare.txt", "compare.csv",
                                                     "compare.png"}
    assert done.stdout.index("== 0/2 fetch") < done.stdout.index("== 1/2 bench") < done.stdout.index("== 2/2")


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_without_a_gpu_it_says_so(tmp_path):
    done = run(str(tmp_path))
    assert done.returncode == 1 and "torch sees no CUDA device" in done.stderr and "--dry-run" in done.stderr


def test_a_cold_cache_without_network_fails_before_timing(tmp_path):
    done = run("--dry-run", str(tmp_path / "out"), SPAFIT_CACHE=str(tmp_path / "empty"), PIP_NO_INDEX="1")
    assert done.returncode == 1
    assert "run scripts/gpu_check.sh --warm once with network access" in done.stderr
    assert "== 1/2" not in done.stdout


def test_unknown_option_names_the_valid_ones():
    done = run("--fast")
    assert done.returncode == 2 and "use --warm, --dry-run or none" in done.stderr
