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
    done = run(str(tmp_path), "--dry-run")  # options and the folder in any order
    assert done.returncode == 0, done.stderr[-2000:]
    bench = json.loads((tmp_path / "bench.json").read_text())
    compare = json.loads((tmp_path / "compare.json").read_text())["rows"]
    assert [r["method"] for r in compare] == ["head", "full", "bitfit", "lora", "spafit"]
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


# arguments, the one line stderr must hold; each refused with status 2 before anything runs
BAD_ARGUMENTS = [
    (["--fast"], "gpu_check: unknown option --fast; use --warm, --dry-run or none (usage: scripts/gpu_check.sh "
                 "[--warm | --dry-run] [OUTPUT_FOLDER])"),
    (["{tmp}/a", "{tmp}/b"], "gpu_check: one OUTPUT_FOLDER only, got '{tmp}/a' and '{tmp}/b'"),
    (["--dry-run", "{tmp}/a", "--bogus"], "gpu_check: unknown option --bogus"),
    (["{tmp}/a", "--warm"], "gpu_check: --warm only fills the cache and writes no results; drop '{tmp}/a'"),
    (["--warm", "--dry-run"], "gpu_check: --warm and --dry-run exclude each other; give one of them"),
    (["--dry-run", "--dry-run"], "gpu_check: --warm and --dry-run exclude each other"),
    ([""], "gpu_check: the OUTPUT_FOLDER is an empty string"),
    (["--dry-run", "{tmp}/a-file"], "gpu_check: OUTPUT_FOLDER {tmp}/a-file is a file; give a folder"),
    (["--", "{tmp}/a", "{tmp}/b"], "gpu_check: one OUTPUT_FOLDER only, got: {tmp}/a {tmp}/b"),
]


@pytest.mark.parametrize("args, message", BAD_ARGUMENTS, ids=[" ".join(a) or "''" for a, _ in BAD_ARGUMENTS])
def test_bad_arguments_are_one_line_with_status_2(tmp_path, args, message):
    (tmp_path / "a-file").write_text("not a folder")
    done = run(*[a.format(tmp=tmp_path) for a in args])
    assert done.returncode == 2 and done.stdout == "", done.stdout
    assert len(done.stderr.strip().splitlines()) == 1 and message.format(tmp=tmp_path) in done.stderr, done.stderr
    assert not (tmp_path / "a").exists()


def test_help_prints_the_usage():
    done = run("--help")
    assert done.returncode == 0 and done.stdout.startswith("usage: scripts/gpu_check.sh [--warm | --dry-run]")


def test_a_python_without_the_package_is_named(tmp_path):
    bare = tmp_path / "python"  # this interpreter without its site-packages: no spafit_course, no torch
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    bare.chmod(0o755)
    done = subprocess.run(["bash", str(SCRIPT), "--dry-run", str(tmp_path / "out")], capture_output=True, text=True,
                          env={**os.environ, "PYTHON": str(bare)}, cwd=tmp_path, timeout=60)
    assert done.returncode == 1 and "not cached" not in done.stderr
    assert done.stderr == (f"gpu_check: {bare} cannot import spafit_course (ModuleNotFoundError: No module named "
                           "'spafit_course'); install the package into it (make setup) or set PYTHON to the "
                           "interpreter that has it\n")
    missing = run("--dry-run", PYTHON=str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and missing.stderr == (f"gpu_check: no Python interpreter '{tmp_path}/nowhere'; "
                                                          "set PYTHON to the one that has spafit_course installed\n")
