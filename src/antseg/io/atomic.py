"""Write outputs to a temporary path and rename at the end, so a failure leaves nothing half-written.

A temporary folder is named ``.<name>.tmp-<pid>-<random>`` and holds a marker file (:data:`MARKER`) that records
the process that made it. A process killed outright (``kill -9``, a power cut) cannot remove its temporary
folder; the next :func:`atomic_dir` in the same parent folder does, but only folders that match the name pattern
*and* hold a marker whose process is gone (or that is older than :data:`STALE_AFTER_S`). A process killed in the
instant between making the folder and writing its marker leaves an empty folder: that one is recognised by the
process id in its name. A folder of the user's with files in it is never touched, whatever its name.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from antseg.errors import AntsegInputError
from antseg.io.output_folder import (
    check_output_folder,
    fix_mode,
    make_parents,
    output_lock,
    remove_empty,
    write_owner_marker,
)

MARKER = ".antseg-tmp"
#: A marked temporary folder this old is stale even when its process id is in use again (7 days).
STALE_AFTER_S = 7 * 24 * 3600


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def write_marker(folder: Path, marker: str = MARKER, **extra: object) -> None:
    """Mark ``folder`` as made by this antseg process (pid, host, time)."""
    info = {"antseg": marker, "pid": os.getpid(), "host": socket.gethostname(), "created": time.time(), **extra}
    (folder / marker).write_text(json.dumps(info) + "\n", encoding="utf-8")


def read_marker(folder: Path, marker: str = MARKER) -> dict | None:
    """The marker of ``folder``, or None when it has none (or an unreadable one)."""
    try:
        info = json.loads((folder / marker).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and info.get("antseg") == marker else None


#: The process id in a temporary folder's name (``.<name>.tmp-<pid>-<random>``).
_TEMP_PID = re.compile(r"\.tmp-(\d+)-[^/]*$")


def is_stale(folder: Path, marker: str = MARKER) -> bool:
    """True when ``folder`` holds antseg's marker and the process that made it is gone (or it is very old), or
    when it is empty (or holds only an unreadable marker), is named ``.<name>.tmp-<pid>-...``, and that process
    is gone (killed before its marker was written)."""
    info = read_marker(folder, marker)
    if info is None:
        m = _TEMP_PID.search(folder.name)
        empty = all(e.name == marker for e in folder.iterdir())  # nothing, or a marker cut off mid-write
        return bool(m) and empty and not _pid_alive(int(m[1]))
    try:
        pid, created = int(info["pid"]), float(info["created"])
    except (KeyError, TypeError, ValueError):
        return False
    if time.time() - created > STALE_AFTER_S:
        return True
    return info.get("host") == socket.gethostname() and not _pid_alive(pid)


def clean_stale_temps(parent: str | Path) -> list[Path]:
    """Remove the stale temporary folders antseg left in ``parent`` (``.<name>.tmp-*`` with a marker).

    Returns:
        the folders removed.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for e in entries:
        if not (e.name.startswith(".") and ".tmp-" in e.name) or not e.is_dir(follow_symlinks=False):
            continue
        path = Path(e.path)
        if is_stale(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def make_temp_dir(out: Path) -> Path:
    """A new marked temporary folder beside ``out`` (whose parent must exist), with the umask's permissions."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-{os.getpid()}-", dir=out.parent))
    fix_mode(tmp, folder=True)
    write_marker(tmp)
    return tmp


def replace_dir(src: Path, out: Path) -> None:
    """Move the finished folder ``src`` to ``out``, replacing an existing ``out``."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(src, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


#: Errors that can only come from writing: the disk is full, over quota or read-only, or the file too large.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG})


def is_write_error(exc: OSError, folder: Path) -> bool:
    """True when ``exc`` came from writing into ``folder`` (a full or read-only disk, or a file in it): the output
    is at fault, not an input."""
    if exc.errno in WRITE_ERRNOS:
        return True
    names = [n for n in (exc.filename, exc.filename2) if isinstance(n, str | os.PathLike)]
    return any(Path(os.path.abspath(n)).is_relative_to(folder) for n in names)


@contextlib.contextmanager
def atomic_dir(
    out: str | Path, overwrite: bool = False, clean: bool = True, inputs: Iterable[str | Path] = (),
    internal: bool = False,
) -> Iterator[Path]:  # fmt: skip
    """Yield a temporary folder beside ``out``; on success it replaces ``out``, on error it is removed.

    The checks of :func:`~antseg.io.output_folder.check_output_folder` run first (only antseg's own folders are
    replaced, never an input), the folder is locked against a second run for the whole block, and a failure
    removes the missing parents it created as well.

    Args:
        out: the final folder.
        overwrite: replace an existing non-empty ``out`` that antseg made; otherwise that is an input error.
        clean: first remove stale temporary folders of earlier, killed antseg runs in ``out``'s parent.
        inputs: the files and folders the run reads: ``out`` may not be, hold or (to replace it) lie inside one.
        internal: ``out`` lies inside a work folder antseg owns and locks already (no checks, lock or marker).
    """
    out = Path(os.path.abspath(Path(out).expanduser()))
    made = make_parents(out)
    try:
        with contextlib.ExitStack() as stack:
            if not internal:
                stack.enter_context(output_lock(out))
                check_output_folder(out, overwrite, inputs)
            if clean:
                clean_stale_temps(out.parent)
            tmp = make_temp_dir(out)
            try:
                yield tmp
                (tmp / MARKER).unlink(missing_ok=True)
                if not internal:
                    write_owner_marker(tmp)
            except BaseException as exc:
                shutil.rmtree(tmp, ignore_errors=True)
                if isinstance(exc, OSError) and is_write_error(exc, tmp):
                    raise AntsegInputError(out, f"could not be written ({exc.strerror or exc})") from None
                raise
            replace_dir(tmp, out)
    except BaseException:
        remove_empty(made)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder and an atomic rename."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        fix_mode(tmp, folder=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
