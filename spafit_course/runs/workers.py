"""Stopping cleanly (the commands behind lessons 00-06): Ctrl-C and SIGTERM end a run, and its worker processes
with it, without a traceback; a worker never outlives the process that started it.

`stop_signals()` makes SIGTERM raise `Terminated` in the main thread, as Ctrl-C raises KeyboardInterrupt, so
every `finally` (temporary files, locks, workers) runs for both; a second signal while stopping ends the
process at once. `worker_pool(jobs)` is a process pool whose workers ignore Ctrl-C (their parent decides), are
terminated when their parent stops for any reason, and end themselves when it dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading

#: Exit statuses of a command stopped by a signal, as a shell reports them: 128 + the signal's number.
EXIT_SIGINT, EXIT_SIGTERM = 128 + signal.SIGINT, 128 + signal.SIGTERM


class Terminated(BaseException):
    """SIGTERM arrived (a BaseException, like KeyboardInterrupt, so that no `except Exception` swallows it)."""


def _on_signal(number, frame):
    # a second signal while the first one's clean-up runs: stop at once (the default action of that signal)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise KeyboardInterrupt if number == signal.SIGINT else Terminated()


@contextlib.contextmanager
def stop_signals():
    """Within the block SIGINT raises KeyboardInterrupt and SIGTERM raises `Terminated`, once each; restored after.

    Outside the main thread (where Python cannot set handlers) the block changes nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    for number in previous:
        signal.signal(number, _on_signal)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


def exit_status(error: BaseException) -> int:
    """130 for Ctrl-C, 143 for SIGTERM."""
    return EXIT_SIGTERM if isinstance(error, Terminated) else EXIT_SIGINT


# --- worker processes --------------------------------------------------------------------------------------------

def _die_with_parent(parent: int) -> None:
    """In a worker: end when `parent` ends. Linux sends SIGTERM at once (prctl); elsewhere a thread looks every
    second (a worker adopted by another process has another parent id)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the line above ran
        os._exit(EXIT_SIGTERM)

    def watch():
        import time

        while os.getppid() == parent:
            time.sleep(1)
        os._exit(EXIT_SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_start(parent: int, initializer=None, initargs=()) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the parent decides
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent(parent)
    if initializer is not None:
        initializer(*initargs)


def _stop_workers(pool) -> None:
    """Cancel what has not started and end every worker now (a running task cannot be cancelled otherwise)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # the pool's own, by process id
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        with contextlib.suppress(Exception):
            process.terminate()
    for process in processes:
        with contextlib.suppress(Exception):
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)


@contextlib.contextmanager
def worker_pool(jobs: int, initializer=None, initargs=()):
    """A `ProcessPoolExecutor` of `jobs` spawned processes that stop with this one.

    If the block ends with any exception (Ctrl-C and SIGTERM included) the pending tasks are cancelled and the
    workers terminated before it propagates, instead of the pool waiting for every queued task; a worker whose
    parent dies (SIGKILL included) ends itself.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_start,
                               initargs=(os.getpid(), initializer, tuple(initargs)))
    try:
        yield pool
    except BaseException:
        _stop_workers(pool)
        raise
    pool.shutdown(wait=True)
