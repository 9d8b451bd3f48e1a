"""Interrupting and racing (issue 26): Ctrl-C and SIGTERM stop a command in one line with the shell's status and
stop its workers, a killed writer's temporary files do not stay for good, one output folder holds one run, and a
RANK left in a plain shell does not silently write nothing."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from spafit_course import cli
from spafit_course.runs import experiments, locks
from spafit_course.runs.provenance import distributed_launch
from spafit_course.tuning.atomic import stale_temporaries, write_text

from cli_run import run as run_cli

ROOT = Path(__file__).resolve().parents[1]


def environment(**extra):
    return {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", **extra}


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


def wait_for(predicate, seconds: float = 60, what: str = "the condition"):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (ended, not yet reaped by its parent) counts as gone
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


# --- a long command stopped by a signal ----------------------------------------------------------------------------

# `compare` with its training replaced by a long wait: what is tested is the command's handling of the signal
LONG_COMPARE = textwrap.dedent("""
    import sys, time
    from spafit_course import cli
    from spafit_course.runs import experiments

    def slow(*args, **kwargs):
        print("training", flush=True)
        open("training", "w").close()
        time.sleep(120)

    experiments.compare_methods = slow
    sys.exit(cli.main(["compare", "--methods", "bitfit", "--output", sys.argv[1]]))
""")


@pytest.mark.parametrize("number, status, name", [(signal.SIGINT, 130, "Ctrl-C (SIGINT)"),
                                                   (signal.SIGTERM, 143, "SIGTERM")])
def test_a_signal_stops_a_command_in_one_line_with_the_shells_status(tmp_path, number, status, name):
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, "-c", LONG_COMPARE, str(out)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=environment(), cwd=tmp_path)
    try:
        wait_for(lambda: (tmp_path / "training").exists(), 600, "the command to start")  # on a busy machine
        assert (out / locks.LOCK_NAME).exists()
        process.send_signal(number)
        stdout, stderr = process.communicate(timeout=300)  # exiting takes long on a busy machine
    finally:
        process.kill()
    assert process.returncode == status, stderr
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines() == [f"spafit-course compare: stopped by {name}; files saved before are "
                                           "whole, nothing half-written is left"]
    assert "training" in stdout
    assert list(out.iterdir()) == []  # the folder's lock is released: nothing of the run is left


# --- worker processes ----------------------------------------------------------------------------------------------

# workers.py needs nothing but the standard library: loaded alone, its processes start without torch
POOL = textwrap.dedent(f"""
    import faulthandler, os, sys, time
    from pathlib import Path
    faulthandler.dump_traceback_later(75)  # should the parent ever hang, its threads' stacks go to stderr
    sys.path.insert(0, {str(ROOT / "spafit_course" / "runs")!r})
    from workers import worker_pool

    def work(folder):
        Path(folder, f"{{os.getpid()}}.pid").write_text("")
        time.sleep(120)

    if __name__ == "__main__":
        with worker_pool(2) as pool:
            list(pool.map(work, [sys.argv[1]] * 4))
""")


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL],
                         ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_the_workers_of_a_pool_stop_with_their_parent(tmp_path, number):
    script = tmp_path / "pool.py"
    script.write_text(POOL)
    pids = tmp_path / "pids"
    pids.mkdir()
    # its own session, so that the signal reaches the parent alone, as a `kill PID` does; Ctrl-C's default action
    # restored, since a child inherits an ignored SIGINT (a test worker may ignore it) and Python then never raises
    # KeyboardInterrupt: the pool script, unlike the commands, installs no handler of its own
    process = subprocess.Popen([sys.executable, str(script), str(pids)], env=environment(), cwd=tmp_path,
                               stderr=subprocess.PIPE, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.default_int_handler))
    try:
        wait_for(lambda: len(list(pids.iterdir())) == 2, 600, "two workers to start")
        workers = [int(p.stem) for p in pids.iterdir()]
        process.send_signal(number)
        try:
            process.wait(timeout=90)  # far less than the queued tasks (4 x 120 s); a busy machine is slow to stop
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"the parent did not stop within 90 s; its stacks:\n{process.communicate()[1].decode()}")
        wait_for(lambda: not any(alive(pid) for pid in workers), 60, f"the workers {workers} to end")
    finally:
        process.kill()
        for path in pids.iterdir():
            try:
                os.kill(int(path.stem), signal.SIGKILL)
            except ProcessLookupError:
                pass


# --- temporary files of a killed writer ----------------------------------------------------------------------------

def test_a_killed_writers_temporary_files_go_at_the_next_write(tmp_path):
    target = tmp_path / "compare.json"
    dead = tmp_path / f".compare.json.{dead_pid()}.abcd1234.tmp.json"
    running = tmp_path / f".compare.json.{os.getppid()}.efgh5678.tmp.json"  # a live writer's: kept
    old_unknown = tmp_path / ".compare.json.ijkl9012.tmp.json"  # named before names held the process id
    young_unknown = tmp_path / ".compare.json.mnop3456.tmp.json"
    other = tmp_path / ".other.json.1.qrst7890.tmp.json"  # another file's: not this write's business
    for path in (dead, running, old_unknown, young_unknown, other):
        path.write_text("half")
    os.utime(old_unknown, (time.time() - 7200, time.time() - 7200))
    assert stale_temporaries(target) == sorted([dead, old_unknown])
    write_text(target, "{}")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in (target, running, young_unknown, other))


def test_a_temporary_file_is_named_with_its_writers_process_id(tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def spy(source, destination):
        seen.append(Path(source).name)
        return real(source, destination)

    monkeypatch.setattr(os, "replace", spy)
    write_text(tmp_path / "a.txt", "x")
    assert seen and seen[0].startswith(f".a.txt.{os.getpid()}.") and seen[0].endswith(".tmp.txt")


# --- one run per output folder -------------------------------------------------------------------------------------

def hold_lock(folder: Path, pid: int, **fields):
    folder.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "host": socket.gethostname(), "command": "spafit-course compare", "started": "earlier",
              "boot": locks._boot_id(), **fields}
    (folder / locks.LOCK_NAME).write_text(json.dumps(record))


@pytest.fixture
def sleeper():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    yield process.pid
    process.kill()
    process.wait()


def test_a_folder_held_by_a_live_run_is_refused_naming_it(tmp_path, sleeper):
    hold_lock(tmp_path, sleeper)
    with pytest.raises(locks.FolderBusyError, match=f"is in use by process {sleeper} on {socket.gethostname()}"):
        locks.acquire(tmp_path)
    assert json.loads((tmp_path / locks.LOCK_NAME).read_text())["pid"] == sleeper  # still the holder's


@pytest.mark.parametrize("fields", [dict(pid="dead"), dict(boot="a boot before the last restart")],
                         ids=["dead process", "other boot"])
def test_a_lock_left_by_a_dead_run_is_taken_over(tmp_path, sleeper, fields):
    hold_lock(tmp_path, dead_pid() if fields.get("pid") == "dead" else sleeper,
              **{k: v for k, v in fields.items() if k != "pid"})
    path = locks.acquire(tmp_path)
    assert json.loads(path.read_text())["pid"] == os.getpid()
    locks.release(path)
    assert not path.exists()


def test_a_lock_of_another_machine_is_refused_saying_how_to_clear_it(tmp_path):
    hold_lock(tmp_path, 1, host="another-machine")
    with pytest.raises(locks.FolderBusyError, match=f"delete {tmp_path / locks.LOCK_NAME}"):
        locks.acquire(tmp_path)


def test_an_empty_lock_is_busy_while_young_and_stale_when_old(tmp_path):
    (tmp_path / locks.LOCK_NAME).write_text("")
    with pytest.raises(locks.FolderBusyError, match="in use by another process"):
        locks.acquire(tmp_path)
    old = time.time() - 2 * locks.EMPTY_LOCK_SECONDS
    os.utime(tmp_path / locks.LOCK_NAME, (old, old))
    locks.release(locks.acquire(tmp_path))


@pytest.fixture
def nothing_trains(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(experiments, "compare_methods", refuse)


@pytest.mark.parametrize("command", [["compare", "--methods", "bitfit"], ["sweep"], ["bench", "--tiny"]])
def test_a_second_run_into_a_busy_folder_is_one_line_before_any_work(command, tmp_path, sleeper, capsys,
                                                                     monkeypatch, nothing_trains):
    monkeypatch.setattr(cli.sweep, "run_sweep", lambda *a, **k: pytest.fail("the sweep started"))
    monkeypatch.setattr(cli.bench, "run_bench", lambda *a, **k: pytest.fail("the bench started"))
    hold_lock(tmp_path, sleeper)
    status, _, err = run_cli([*command, "--output", str(tmp_path)], capsys)
    assert status == 2 and len(err.strip().splitlines()) == 1, err
    assert f"the --output folder {tmp_path} is in use by process {sleeper}" in err


# --- RANK without a distributed launch -----------------------------------------------------------------------------

def test_a_rank_left_in_a_plain_shell_is_named_and_this_process_writes():
    with pytest.warns(UserWarning, match="RANK=1 is set but WORLD_SIZE is unset: this is not a distributed launch"):
        assert distributed_launch({"RANK": "1"}) is None
    with pytest.warns(UserWarning, match="WORLD_SIZE is 1"):
        assert distributed_launch({"RANK": "3", "WORLD_SIZE": "1"}) is None
    assert distributed_launch({"RANK": "1", "WORLD_SIZE": "2"}) == {"world_size": 2, "rank": 1}


@pytest.mark.parametrize("environ, message", [
    ({"RANK": "x"}, "RANK='x' must be a whole number"),
    ({"RANK": "0", "WORLD_SIZE": "two"}, "WORLD_SIZE='two' must be a whole number"),
    ({"RANK": "2", "WORLD_SIZE": "2"}, r"WORLD_SIZE=2 needs RANK in 0..1 \(torchrun sets both\), got RANK=2"),
    ({"WORLD_SIZE": "4"}, "got RANK=unset"),
])
def test_a_malformed_launch_is_refused(environ, message):
    with pytest.raises(ValueError, match=message):
        distributed_launch(environ)


def test_compare_with_a_stray_rank_writes_its_results_and_says_why(tmp_path, capsys, monkeypatch):
    from spafit_course.runs.models import tiny_model

    for variable, value in {"SPAFIT_TRAIN_SIZE": "8", "SPAFIT_EVAL_SIZE": "8", "SPAFIT_BATCH_SIZE": "8",
                            "SPAFIT_MAX_LENGTH": "16", "RANK": "1"}.items():
        monkeypatch.setenv(variable, value)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    real = experiments.compare_methods
    monkeypatch.setattr(experiments, "compare_methods", lambda profile, methods, task, **kwargs: real(
        profile, methods, task, progress=False, model_factory=lambda n: tiny_model("bert", num_layers=2,
                                                                                   num_labels=n, vocab_size=30522)))
    status, out, err = run_cli(["compare", "--methods", "bitfit", "--output", str(tmp_path)], capsys)
    assert status == 0, err
    assert "warning: RANK=1 is set but WORLD_SIZE is unset" in err
    assert {p.name for p in tmp_path.iterdir()} == {"compare.json", "compare.csv", "compare.png"}


def test_a_half_written_practice_pool_is_computed_again(tmp_path, monkeypatch):
    import numpy as np

    from spafit_course.lessons import practice

    monkeypatch.setenv("SPAFIT_RUN_MEMO", str(tmp_path))
    monkeypatch.setattr(practice, "_POOLS", {})
    sizes = {"train": 4, "test": 3}
    first = practice.snippet_pool(sizes=sizes)
    [saved] = tmp_path.glob("practice_pool-*.npz")
    whole = saved.read_bytes()
    saved.write_bytes(whole[: len(whole) // 2])  # what a kill or a full disk left before writes were atomic
    monkeypatch.setattr(practice, "_POOLS", {})
    again = practice.snippet_pool(sizes=sizes)
    assert all(np.array_equal(first[s][p], again[s][p]) for s in sizes for p in ("mean", "cls", "labels"))
    assert saved.stat().st_size == len(whole) and [p.name for p in tmp_path.iterdir()] == [saved.name]
