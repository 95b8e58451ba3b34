"""An output folder filled one item at a time, that survives a crash and resumes where it stopped.

Work goes to ``.<name>.partial`` beside the final folder, marked with :data:`PARTIAL_MARKER`. Each item is
written through :func:`~antseg.io.atomic.atomic_dir` (so an item folder is complete or absent), then one line
is appended to a journal (:data:`JOURNAL`, JSON lines) that says it is finished. ``finish`` renames the
folder to its final name, so the final folder appears complete or not at all, as for every other command.

A crash (``kill -9``, Ctrl-C, a power cut) keeps the partial folder: a later run with ``resume=True`` skips
the items in its journal and does the rest. A finished folder keeps its journal, so ``resume=True`` on it
adds new items and skips the ones it has. Memory stays flat: only the finished items' keys are held.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_dir, clean_stale_temps, read_marker, replace_dir, write_marker
from antseg.io.output_folder import (
    check_not_current_folder,
    check_output_folder,
    check_output_target,
    make_parents,
    output_lock,
    remove_empty,
    write_owner_marker,
)

PARTIAL_MARKER = ".antseg-partial"
JOURNAL = ".antseg-journal.jsonl"


def partial_path(out: Path) -> Path:
    return out.with_name(f".{out.name}.partial")


class ResumableDir:
    """The work folder of one resumable output (see the module docstring).

    Args:
        out: the final folder.
        header: what the items depend on (e.g. the model files); a resumed run must have the same.
        resume: continue an unfinished (or add to a finished) folder; an error when there is none.
        overwrite: start over, discarding an unfinished run and replacing a finished ``out`` (antseg's only).
        inputs: the files and folders the run reads (``out`` may not be, hold or lie inside one; see
            :func:`~antseg.io.output_folder.check_output_folder`).

    The folder is locked against a second run from here until :meth:`finish` or :meth:`abandon`.
    """

    def __init__(
        self, out: str | Path, header: dict, resume: bool = False, overwrite: bool = False,
        inputs: Iterable[str | Path] = (),
    ) -> None:  # fmt: skip
        self.out, self.header = Path(os.path.abspath(Path(out).expanduser())), dict(header)
        self.inputs = list(inputs)
        self.partial = partial_path(self.out)
        self.fresh = not resume
        self.reopened = False  # a finished folder moved back to work on
        self.done: set[str] = set()
        self.finished_now = 0
        if resume and overwrite:
            raise AntsegInputError(None, "--resume continues a run and --overwrite starts over: give one of them")
        self._made = make_parents(self.out)
        self._lock = contextlib.ExitStack()
        try:
            self._lock.enter_context(output_lock(self.out))
            check_output_target(self.out, self.inputs)
            check_not_current_folder(self.out)
            if resume:
                try:
                    self._open_for_resume()
                except AntsegInputError:
                    if self.reopened:
                        self.finish()  # a finished folder that cannot be added to goes back untouched
                    raise
            else:
                self._open_fresh(overwrite)
        except BaseException:
            self._release()
            if not self.partial.exists():
                remove_empty(self._made)
            raise

    def _release(self) -> None:
        self._lock.close()

    # -- opening ---------------------------------------------------------------------------------------
    def _open_fresh(self, overwrite: bool) -> None:
        if self.partial.is_dir():
            if read_marker(self.partial, PARTIAL_MARKER) is None:
                raise AntsegInputError(self.partial, "is in the way and was not made by antseg: move it away")
            if not overwrite:
                raise AntsegInputError(
                    self.out, f"an unfinished run is kept in {self.partial.name}: use --resume to continue it "
                    "or --overwrite to start over"
                )  # fmt: skip
            shutil.rmtree(self.partial)
        check_output_folder(self.out, overwrite, self.inputs)
        clean_stale_temps(self.out.parent)
        self.partial.mkdir(parents=True)
        write_marker(self.partial, PARTIAL_MARKER)
        self._journal_append({"header": self.header})

    def _open_for_resume(self) -> None:
        if not self.partial.is_dir() and (self.out / JOURNAL).is_file():
            os.replace(self.out, self.partial)  # add to a finished folder: it is unfinished again until done
            self.reopened = True
            write_marker(self.partial, PARTIAL_MARKER)
        if not (self.partial / JOURNAL).is_file() or read_marker(self.partial, PARTIAL_MARKER) is None:
            raise AntsegInputError(self.out, "nothing to resume here (run without --resume)")
        self._repair_journal()
        header = None
        for entry in self.entries(all_lines=True):
            if "header" in entry:
                header = entry["header"]
            elif "key" in entry and (self.partial / entry["key"]).exists():  # an item's folder (or file)
                self.done.add(entry["key"])
        if header != self.header:
            raise AntsegInputError(self.out, f"{_difference(header or {}, self.header)}: use --overwrite to start over")
        clean_stale_temps(self.partial)

    def _repair_journal(self) -> None:
        """Cut a last line left half-written by a crash, so appended lines start on a line of their own."""
        path = self.partial / JOURNAL
        data = path.read_bytes()
        end = data.rfind(b"\n") + 1
        if end != len(data):
            with open(path, "r+b") as fh:
                fh.truncate(end)

    # -- items -----------------------------------------------------------------------------------------
    def item(self, key: str):
        """A context manager yielding a temporary folder that becomes the item's folder ``<partial>/<key>``."""
        return atomic_dir(self.partial / key, overwrite=True, clean=False, internal=True)

    def record(self, key: str, data: dict) -> None:
        """Mark ``key`` finished (after its folder is in place), with the rows it adds to the run's tables."""
        self._journal_append({"key": key, **data})
        self.done.add(key)
        self.finished_now += 1

    def _journal_append(self, entry: dict) -> None:
        with open(self.partial / JOURNAL, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(entry) + "\n")

    def entries(self, all_lines: bool = False) -> Iterator[dict]:
        """The journal's item entries, the last one per key, in order (``all_lines``: every line as written)."""
        path = self.partial / JOURNAL
        last: dict[str, int] = {}
        if not all_lines:
            for i, entry in enumerate(self._lines(path)):
                if "key" in entry:
                    last[entry["key"]] = i
        for i, entry in enumerate(self._lines(path)):
            if all_lines or last.get(entry.get("key", "")) == i:
                yield entry

    @staticmethod
    def _lines(path: Path) -> Iterator[dict]:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict):
                    yield entry

    # -- ending ----------------------------------------------------------------------------------------
    def finish(self) -> Path:
        """Move the finished work folder to ``out`` (replacing it); the journal stays, hidden, for ``--resume``."""
        (self.partial / PARTIAL_MARKER).unlink(missing_ok=True)
        write_owner_marker(self.partial)
        replace_dir(self.partial, self.out)
        self._release()
        return self.out

    def abandon(self) -> bool:
        """After an error: undo a run that finished nothing (a fresh work folder is removed, a reopened finished
        folder goes back in place); True when an unfinished work folder is kept for ``--resume``."""
        if self.finished_now == 0 and self.fresh:
            shutil.rmtree(self.partial, ignore_errors=True)
            self._release()
            remove_empty(self._made)
            return False
        if self.finished_now == 0 and self.reopened:
            self.finish()
            return False
        self._release()
        return True


#: Header keys ending so hold a file's content fingerprint (:func:`antseg.io.digest.file_sha256`).
CONTENT_SUFFIX = "_sha256"


def _difference(earlier: dict, now: dict) -> str:
    """What differs between an earlier run's header and this one's, in words: the settings that changed, and a
    model file at the same path whose content changed (retrained since)."""
    diff = [k for k in now if earlier.get(k) != now[k]]
    content = [k for k in diff if k.endswith(CONTENT_SUFFIX)]
    others = [k for k in diff if k not in content]
    words = [f"the earlier run used another {', '.join(others)}"] if others else []
    for k in content:
        base = k[: -len(CONTENT_SUFFIX)]
        if base in others:
            continue
        if k not in earlier:
            words.append(f"the earlier run (an older antseg) did not record what its {base} file held")
        else:
            words.append(f"the {base} file {now.get(base)} has changed since the earlier run (same path, new content)")
    return "; ".join(words) or "the earlier run used another setup"
