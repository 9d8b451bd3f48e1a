"""One run per output folder (`spafit-course compare`, `sweep` and `bench`, lesson 05's commands): two runs into
one folder would leave results and adapters of both mixed, with nothing telling them apart.

A run holds the folder's lock file while it works; a second run into the same folder is refused, naming the
first. The lock records its holder's process id and host, so a lock left by a killed run (SIGKILL, a power cut)
is taken over by the next run on that machine instead of blocking the folder for good.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from pathlib import Path

from ..tuning.atomic import process_alive

LOCK_NAME = ".spafit-course.lock"
#: A lock file still empty after this long was left by a process killed between creating and writing it.
EMPTY_LOCK_SECONDS = 30


def _boot_id() -> str | None:
    """This boot of the machine (Linux), so that a lock from before a restart is stale whatever its process id."""
    with contextlib.suppress(OSError):
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    return None


class FolderBusyError(OSError):
    """Another run holds the output folder's lock."""


def _holder(path: Path) -> dict | None:
    """The lock's record, {} when it cannot be read yet (being written), None when it is gone."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return {}
    with contextlib.suppress(ValueError):
        holder = json.loads(text)
        if isinstance(holder, dict):
            return holder
    return {}


def _is_stale(path: Path, holder: dict) -> bool:
    """A lock whose holder is gone: a dead process of this host, or a record never written."""
    if not holder:
        with contextlib.suppress(OSError):
            return time.time() - path.stat().st_mtime > EMPTY_LOCK_SECONDS
        return False
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or not isinstance(pid, int):
        return False  # another machine's process cannot be checked from here
    if holder.get("boot") != _boot_id():
        return True  # the machine restarted since: its process id may belong to another process now
    return not process_alive(pid)


def _busy_message(folder: Path, path: Path, holder: dict, what: str) -> str:
    who = (f"process {holder.get('pid')} on {holder.get('host')} ({holder.get('command', 'spafit-course')}, since "
           f"{holder.get('started', 'an unknown time')})" if holder else "another process")
    return (f"{what} {folder} is in use by {who}; wait for that run to end or choose another folder (if it is "
            f"gone from another machine, delete {path})")


def acquire(folder, what: str = "the output folder") -> Path:
    """Take `folder`'s lock (the folder is created); returns the lock file. A live holder: FolderBusyError."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    record = {"pid": os.getpid(), "host": socket.gethostname(), "command": " ".join(sys.argv[:3]) or "python",
              "started": time.strftime("%Y-%m-%d %H:%M:%S"), "boot": _boot_id()}
    for _ in range(3):  # a stale lock is removed and the creation tried again; another run may win that race
        try:
            handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(path)
            if holder is None:
                continue  # released between the two calls
            if not _is_stale(path, holder):
                raise FolderBusyError(_busy_message(folder, path, holder, what)) from None
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            continue
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            json.dump(record, f)
        return path
    raise FolderBusyError(_busy_message(folder, path, _holder(path) or {}, what))


def release(path: Path) -> None:
    """Remove the lock if this process still holds it."""
    holder = _holder(Path(path))
    if holder and holder.get("pid") == os.getpid() and holder.get("host") == socket.gethostname():
        with contextlib.suppress(FileNotFoundError):
            Path(path).unlink()


@contextlib.contextmanager
def folder_lock(folder, what: str = "the output folder", enabled: bool = True):
    """Hold `folder`'s lock for the block (released however it ends); `enabled=False` (a process of a distributed
    launch that writes nothing) holds none."""
    if not enabled:
        yield None
        return
    path = acquire(folder, what)
    try:
        yield path
    finally:
        release(path)
