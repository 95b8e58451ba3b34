"""What antseg may do to an output folder: the promises behind every ``--out`` and ``--overwrite``.

- **Only antseg's own folders are replaced.** Every finished output folder holds :data:`OWNER_MARKER`.
  ``--overwrite`` replaces a non-empty folder only when it carries that marker (or the journal of a resumable
  ``predict`` run); a folder of the user's is refused, whatever it holds.
- **Inputs are never touched.** An output folder that is an input, holds one, or (with ``--overwrite``) lies
  inside an input folder is refused before any work starts.
- **A symbolic link is not followed or renamed**: it is refused, so what it points to stays as it is.
- **One run per folder at a time**: :func:`output_lock` holds an exclusive lock beside the folder for the
  whole run, so a second run into the same folder fails at once instead of silently replacing the first.
- **Files and folders respect the umask** (:func:`fix_mode`): a colleague in the same group can read a report.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from antseg.errors import AntsegInputError

#: Written into every finished output folder: the proof that antseg made it (and may replace it).
OWNER_MARKER = ".antseg-output"
#: Older antseg output folders that predate :data:`OWNER_MARKER` but are recognisably antseg's.
LEGACY_OWNER_FILES = (".antseg-journal.jsonl",)

_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process umask (read without changing it for longer than the call)."""
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def fix_mode(path: str | Path, folder: bool) -> None:
    """Give ``path`` the permissions a plain ``mkdir``/``open`` would (0777 or 0666 minus the umask); Python's
    ``mkdtemp``/``mkstemp`` make private (0700/0600) entries."""
    os.chmod(path, (0o777 if folder else 0o666) & ~current_umask())


def write_owner_marker(folder: str | Path, **extra: object) -> None:
    """Mark ``folder`` as a finished antseg output (see the module docstring)."""
    from antseg import __version__

    info = {"antseg": OWNER_MARKER, "version": __version__, "created": time.time(), **extra}
    path = Path(folder) / OWNER_MARKER
    path.write_text(json.dumps(info) + "\n", encoding="utf-8")
    fix_mode(path, folder=False)


def read_owner_marker(folder: str | Path) -> dict | None:
    """The owner marker of ``folder`` (what :func:`write_owner_marker` wrote), or None."""
    try:
        info = json.loads((Path(folder) / OWNER_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) and info.get("antseg") == OWNER_MARKER else None


def made_by_antseg(folder: str | Path) -> bool:
    """True when ``folder`` is a finished antseg output folder (it holds antseg's owner marker)."""
    if read_owner_marker(folder) is not None:
        return True
    return any((Path(folder) / name).is_file() for name in LEGACY_OWNER_FILES)


def _resolved(path: str | Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser().resolve(strict=False)))


def check_output_target(out: str | Path, inputs: Iterable[str | Path] = ()) -> None:
    """``out`` is not a symbolic link, not a file, and neither is nor holds one of ``inputs``."""
    out = Path(out)
    if out.is_symlink():
        raise AntsegInputError(out, "is a symbolic link: give the folder itself as --out (antseg does not follow it)")
    if out.exists() and not out.is_dir():
        raise AntsegInputError(out, "exists and is not a folder")
    real = _resolved(out)
    for item in inputs:
        src = _resolved(item)
        if real == src:
            raise AntsegInputError(out, "is also an input of this run: choose another output folder")
        if src.is_relative_to(real):
            raise AntsegInputError(out, f"holds an input of this run ({item}): choose another output folder")


def check_not_current_folder(out: str | Path) -> None:
    """``out`` is not the folder the command runs in (``--out .``), nor one holding it: an output folder is
    replaced as a whole when the run ends, which would leave the shell in a deleted folder."""
    real = _resolved(out)
    if Path(os.getcwd()).resolve().is_relative_to(real):
        raise AntsegInputError(
            out, "is the current folder (or holds it): antseg writes a new folder as a whole, so give one, e.g. "
            "--out report"
        )  # fmt: skip


def check_output_folder(out: str | Path, overwrite: bool, inputs: Iterable[str | Path] = ()) -> None:
    """Refuse an output folder antseg must not write or replace (see the module docstring).

    Args:
        out: the folder the run will create (or replace).
        overwrite: the user asked to replace an existing non-empty ``out``.
        inputs: every file and folder the run reads (scans, datasets, model files).

    Raises:
        AntsegInputError: naming ``out`` and the reason, before anything is written.
    """
    out = Path(out)
    inputs = list(inputs)
    check_output_target(out, inputs)
    check_not_current_folder(out)
    real = _resolved(out)
    if not (out.is_dir() and any(out.iterdir())):
        return
    if not overwrite:
        raise AntsegInputError(out, "output folder exists and is not empty (use --overwrite)")
    for item in inputs:
        src = _resolved(item)
        if Path(item).is_dir() and real.is_relative_to(src):
            raise AntsegInputError(
                out, f"lies inside the input folder {item}: --overwrite never deletes anything inside an input"
            )
    if not made_by_antseg(out):
        raise AntsegInputError(
            out, "was not made by antseg, so --overwrite will not delete it: move it away or choose another --out"
        )


def make_parents(path: Path) -> list[Path]:
    """``mkdir -p`` of ``path``'s parent; returns the folders it created (deepest last), to undo on failure."""
    made: list[Path] = []
    parent = path.parent
    missing = []
    while not parent.exists():
        missing.append(parent)
        if parent.parent == parent:
            break
        parent = parent.parent
    for folder in reversed(missing):
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            remove_empty(made)
            raise AntsegInputError(folder, f"cannot be created ({exc.strerror or exc})") from None
        made.append(folder)
    return made


def remove_empty(folders: list[Path]) -> None:
    """Remove the folders :func:`make_parents` made (deepest first), where they are still empty."""
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


def lock_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.lock")


@contextlib.contextmanager
def output_lock(out: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out`` for the block; a second holder fails at once with a one-line error.

    The lock is ``.<name>.lock`` beside ``out`` (``flock``; released by the kernel if the process dies), removed
    on exit.
    """
    import fcntl

    out = Path(out)
    path = lock_path(out)
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise AntsegInputError(out.parent, f"cannot write here ({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode("ascii", "replace").strip()
            os.close(fd)
            raise AntsegInputError(
                out, f"another antseg run is writing this folder{f' (process {holder})' if holder else ''}: "
                "wait for it to finish or choose another --out"
            ) from None  # fmt: skip
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino  # not a lock file its last holder just removed
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def existing_paths(*items: str | Path | Iterable[str | Path] | None) -> list[Path]:
    """The items (paths, lists of paths, None) that name something on disk: a run's inputs for
    :func:`check_output_folder` (model names such as ``default`` drop out)."""
    found: list[Path] = []
    for item in items:
        if item is None:
            continue
        for p in [item] if isinstance(item, str | Path) else item:
            if p is not None and Path(p).exists():
                found.append(Path(p))
    return found
