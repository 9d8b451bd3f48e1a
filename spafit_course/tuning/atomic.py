"""Writing files so that a failure never leaves half a file: every file the package writes goes through here.

A file is written under a temporary name in its own folder, flushed to disk and then moved onto its name with
`os.replace`, which is atomic on one file system: a reader sees the old file or the new one, never a mix, and a
write that fails (a full disk, an error while encoding, an interrupt) leaves the previous file whole. Several
files that belong together (an adapter's weights and its description) are all written first and moved into
place only once every one of them is complete, so a failed save leaves the previous set loadable.

A process killed outright (SIGKILL, a power cut) cannot remove its temporary files; their names carry the
writer's process id, and the next write of the same file removes those whose writer is gone.

`check_writable` refuses, before any work, a path that cannot become a file (a folder in its place, a file
where a folder should be, no permission), naming the file's role.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from pathlib import Path

#: A temporary file of an unknown writer (named before names carried the process id) is stale after this long.
STALE_SECONDS = 3600


def check_writable(path, role: str = "output file") -> Path:
    """Refuse, before any work, a `path` that cannot be written as a file; returns it as a Path.

    The error is a ValueError naming the role of the file (say, "the adapter's weights") and what is in the way.
    """
    if path is None or str(path) == "":
        raise ValueError(f"the path of {role} is empty; give a file path")
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"cannot write {role} {path}: a folder is in its place")
    existing = next((p for p in path.parents if p.exists()), Path("."))
    if not existing.is_dir():
        raise ValueError(f"cannot write {role} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK):  # the file itself is replaced, so its folder is what must be writable
        raise ValueError(f"cannot write {role} {path}: no write permission on {existing}")
    return path


def check_folder(path, what: str, files: dict[str, str]) -> Path:
    """Refuse, before any work, a folder that cannot hold `what`'s `files` ({file name: its role}); returns it.

    An empty path, a file where the folder goes, a folder where one of the files goes, or no permission each
    fail with a ValueError naming the path's role.
    """
    if path is None or str(path) == "":
        raise ValueError(f"the folder path of {what} is empty; give the folder to save it into")
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"cannot save {what} into {folder}: it is a file, and {what} is a folder")
    for name, role in files.items():
        check_writable(folder / name, role)
    return folder


def _temporary_name(path: Path) -> Path:
    """A new empty file next to `path`, ending like it (matplotlib picks its format from the ending), named
    .NAME.PID.RANDOM.tmpSUFFIX so that a later write can tell whether its writer still runs."""
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=f".tmp{path.suffix}",
                                    dir=path.parent)
    os.close(handle)
    return Path(name)


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one of another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return pid > 0
    return True


def stale_temporaries(path) -> list[Path]:
    """The temporary files of earlier writes of `path` whose writer is gone (killed before it could clean up)."""
    path = Path(path)
    pattern = re.compile(re.escape(f".{path.name}.") + r"(?:([0-9]+)\.)?[a-z0-9_]{8}"
                         + re.escape(f".tmp{path.suffix}"))
    found = []
    with contextlib.suppress(OSError):
        for candidate in path.parent.iterdir():
            match = pattern.fullmatch(candidate.name)
            if not match or not candidate.is_file():
                continue
            pid = match.group(1)
            if pid is not None and int(pid) != os.getpid() and not process_alive(int(pid)):
                found.append(candidate)
            elif pid is None and time.time() - candidate.stat().st_mtime > STALE_SECONDS:
                found.append(candidate)
    return sorted(found)


def _mode(path: Path) -> int:
    """The permissions `path` has, or else those a new file gets (mkstemp's own are owner-only)."""
    return path.stat().st_mode & 0o7777 if path.is_file() else 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        handle.flush()
        os.fsync(handle.fileno())


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


@contextlib.contextmanager
def atomic_files(*paths):
    """Yield a temporary path for each of `paths`; once the block ends without error, move them all into place.

    Write each file to its temporary path inside the block. If the block raises (or any write does), the
    temporary files are removed and every file at `paths` is left as it was. Folders are created as needed.
    """
    finals = [Path(p) for p in paths]
    for final in finals:
        final.parent.mkdir(parents=True, exist_ok=True)
        for leftover in stale_temporaries(final):
            _remove(leftover)
    temporary = []
    try:
        for final in finals:
            temporary.append(_temporary_name(final))
        yield temporary[0] if len(temporary) == 1 else tuple(temporary)
        for temp, final in zip(temporary, finals):
            _fsync(temp)
            os.chmod(temp, _mode(final))  # after writing: a writer may have replaced the temporary file
        for temp, final in zip(temporary, finals):  # all complete: now each move is a rename
            os.replace(temp, final)
    finally:
        for temp in temporary:
            if temp.exists():
                _remove(temp)


def write_text(path, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically; returns the path."""
    with atomic_files(path) as temp:
        temp.write_text(text, encoding="utf-8")
    return Path(path)


def save_figure(figure, path, **kwargs) -> Path:
    """`figure.savefig(path, **kwargs)` atomically; returns the path."""
    with atomic_files(path) as temp:
        figure.savefig(temp, format=Path(path).suffix.lstrip(".") or None, **kwargs)
    return Path(path)
