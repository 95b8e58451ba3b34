"""Temporary output folders: a killed run's folder is removed by the next run, but only antseg's own
(name pattern *and* marker of a process that is gone); the user's folders are never touched."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from tests.conftest import SQUARE_CASE, make_labelme_tree

from antseg.data.importers import ImportOptions, run_importer
from antseg.errors import AntsegInputError
from antseg.io.atomic import MARKER, atomic_dir, clean_stale_temps, is_stale, write_marker


def _dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def _temp(parent, name, pid=None, marker=True):
    d = parent / name
    (d / "images").mkdir(parents=True)
    (d / "images" / "x.png").write_bytes(b"x" * 1000)
    if marker:
        write_marker(d)
        if pid is not None:
            info = json.loads((d / MARKER).read_text())
            (d / MARKER).write_text(json.dumps({**info, "pid": pid}))
    return d


def test_only_stale_marked_temp_folders_are_removed(tmp_path):
    dead = _temp(tmp_path, ".ds.tmp-killed", pid=_dead_pid())
    other_name = _temp(tmp_path, ".other.tmp-killed", pid=_dead_pid())
    alive = _temp(tmp_path, ".ds.tmp-running")  # this process: still running
    users = _temp(tmp_path, ".ds.tmp-mine", marker=False)  # matches the pattern, but no marker
    (tmp_path / ".ds.tmp-file").write_text("a file, not a folder")
    assert is_stale(dead) and not is_stale(alive) and not is_stale(users)
    assert sorted(p.name for p in clean_stale_temps(tmp_path)) == [".ds.tmp-killed", ".other.tmp-killed"]
    assert not dead.exists() and not other_name.exists()
    assert alive.is_dir() and users.is_dir() and (tmp_path / ".ds.tmp-file").is_file()


def test_an_empty_temp_folder_killed_before_its_marker_is_removed(tmp_path):
    """Killed between making the folder and writing the marker: the process id in the name says whose it was."""
    dead, gone = _dead_pid(), tmp_path / f".ds.tmp-{_dead_pid()}-abc"
    killed = tmp_path / f".ds.tmp-{dead}-x1y2"
    killed.mkdir()
    gone.mkdir()
    (gone / MARKER).write_text("")  # cut off mid-write
    running = tmp_path / f".ds.tmp-{os.getpid()}-q9"  # this process, still running
    running.mkdir()
    users = tmp_path / f".ds.tmp-{dead}-notes"  # the same pattern, but holding files: never the marker-less kind
    (users / "a.txt").parent.mkdir()
    (users / "a.txt").write_text("keep")
    assert sorted(p.name for p in clean_stale_temps(tmp_path)) == sorted([killed.name, gone.name])
    assert running.is_dir() and (users / "a.txt").is_file()


def test_import_after_a_killed_import_cleans_its_temp_folder(tmp_path):
    src = make_labelme_tree(tmp_path / "src", {"a": ("Normal", SQUARE_CASE)})
    killed = _temp(tmp_path, ".ds.tmp-k1ll3d", pid=_dead_pid())
    users = _temp(tmp_path, ".ds.tmp-notes", marker=False)
    run_importer("labelme", src, tmp_path / "ds", ImportOptions(workers=1))
    assert not killed.exists() and users.is_dir() and (tmp_path / "ds" / "cases.csv").is_file()
    assert not (tmp_path / "ds" / MARKER).exists()  # the marker never reaches the finished folder


def test_failed_block_leaves_nothing(tmp_path):
    with pytest.raises(AntsegInputError):
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "half.txt").write_text("half")
            raise AntsegInputError(None, "bad")
    assert sorted(p.name for p in tmp_path.iterdir()) == []
