"""``--out`` and ``--overwrite`` never cost the user data: only antseg's own folders are replaced, never an input,
never through a symbolic link; one run per folder at a time; permissions follow the umask; a refusal leaves
nothing behind, not even the parents it would have created."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time

import pytest

from antseg.data.canonical import load_dataset
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_dir, atomic_write_text
from antseg.io.output_folder import (
    OWNER_MARKER,
    check_output_folder,
    made_by_antseg,
    output_lock,
    write_owner_marker,
)


def _precious(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "notes.txt").write_text("years of work")
    return folder / "notes.txt"


# -- the rules, on plain folders --------------------------------------------------------------------------------
def test_a_finished_output_is_marked_and_can_be_replaced(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out) as tmp:
        (tmp / "a.txt").write_text("1")
    assert made_by_antseg(out) and (out / OWNER_MARKER).is_file()
    with atomic_dir(out, overwrite=True) as tmp:
        (tmp / "b.txt").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [OWNER_MARKER, "b.txt"]


def test_overwrite_refuses_a_folder_antseg_did_not_make(tmp_path):
    notes = _precious(tmp_path / "mine")
    with pytest.raises(AntsegInputError, match="was not made by antseg"):
        with atomic_dir(tmp_path / "mine", overwrite=True):
            pass
    assert notes.read_text() == "years of work"


@pytest.mark.parametrize(
    "out, inputs, problem",
    [
        ("scans", ["scans"], "is also an input"),
        (".", ["scans"], "holds an input"),
        ("scans/sub", ["scans"], "lies inside the input folder"),
        ("data", ["data/ds/dataset.json"], "holds an input"),
    ],
)
def test_inputs_are_never_replaced(tmp_path, monkeypatch, out, inputs, problem):
    notes = _precious(tmp_path / "scans")
    (tmp_path / "scans" / "sub").mkdir()
    write_owner_marker(tmp_path / "scans" / "sub")  # even an antseg folder inside an input stays
    (tmp_path / "data" / "ds").mkdir(parents=True)
    (tmp_path / "data" / "ds" / "dataset.json").write_text("{}")
    write_owner_marker(tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(AntsegInputError, match=problem):
        with atomic_dir(tmp_path / out if out != "." else ".", overwrite=True, inputs=[tmp_path / i for i in inputs]):
            pass
    assert notes.read_text() == "years of work" and (tmp_path / "scans" / "sub" / OWNER_MARKER).is_file()


def test_a_new_output_inside_an_input_folder_may_be_created(tmp_path):
    _precious(tmp_path / "scans")
    with atomic_dir(tmp_path / "scans" / "report", inputs=[tmp_path / "scans"]) as tmp:
        (tmp / "r.txt").write_text("ok")
    assert (tmp_path / "scans" / "report" / "r.txt").is_file() and (tmp_path / "scans" / "notes.txt").is_file()


def test_a_symbolic_link_is_refused_and_its_target_kept(tmp_path):
    target = tmp_path / "target"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("1")
    (tmp_path / "link").symlink_to(target)
    with pytest.raises(AntsegInputError, match="symbolic link"):
        with atomic_dir(tmp_path / "link", overwrite=True):
            pass
    assert (tmp_path / "link").is_symlink() and (target / "a.txt").read_text() == "1"


def test_a_refusal_removes_the_parents_it_created(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "a" / "b" / "out"):
            raise RuntimeError("work failed")
    assert list(tmp_path.iterdir()) == []


def test_a_second_run_into_a_locked_folder_fails_at_once(tmp_path):
    out = tmp_path / "out"
    code = (
        "import sys, time; from antseg.io.output_folder import output_lock\n"
        f"with output_lock({str(out)!r}):\n    print('locked', flush=True); time.sleep(30)\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        busy = f"another antseg run is writing this folder \\(process {holder.pid}"
        with pytest.raises(AntsegInputError, match=busy):
            with atomic_dir(out):
                pass
        assert time.monotonic() - t0 < 5 and not out.exists()
    finally:
        holder.kill()
        holder.wait()
    with output_lock(out):  # the kernel released the dead holder's lock
        pass
    assert not any(p.name.endswith(".lock") for p in tmp_path.iterdir())


def test_outputs_respect_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_dir(tmp_path / "out") as tmp:
            (tmp / "sub").mkdir()
            atomic_write_text(tmp / "t.txt", "x")
        mode = stat.S_IMODE
        assert mode((tmp_path / "out").stat().st_mode) == 0o755
        assert mode((tmp_path / "out" / "t.txt").stat().st_mode) == 0o644
        assert mode((tmp_path / "out" / OWNER_MARKER).stat().st_mode) == 0o644
    finally:
        os.umask(old)


def test_check_names_the_folder_in_one_line(tmp_path):
    _precious(tmp_path / "x")
    with pytest.raises(AntsegInputError) as err:
        check_output_folder(tmp_path / "x", overwrite=False)
    assert str(tmp_path / "x") in str(err.value) and "\n" not in str(err.value)


# -- the probe's cases, end to end ------------------------------------------------------------------------------
@pytest.fixture
def scans(split_phantom, tmp_path):
    ds = load_dataset(split_phantom)
    folder = tmp_path / "scans"
    folder.mkdir()
    for case in ds.cases[:2]:
        shutil.copy(split_phantom / case.image, folder / f"{case.case_id}.png")
    (folder / "notes.txt").write_text("years of work")
    return folder


def _intact(folder, before):
    assert sorted(p.name for p in folder.iterdir()) == before
    assert (folder / "notes.txt").read_text() == "years of work"


@pytest.mark.parametrize(
    "command",
    [
        ["report", "{scans}", "--out", "{scans}", "--spacing", "0.025"],
        ["predict", "default", "{scans}", "--out", "{scans}"],
        ["biometry", "{scans}", "--out", "{scans}", "--spacing", "0.025"],
        ["report", "{scans}", "--out", "{tmp}", "--spacing", "0.025"],
        ["predict", "default", "{scans}", "--out", "{scans}/pred"],
    ],
    ids=["report-into-input", "predict-into-input", "biometry-into-input", "report-into-parent", "predict-inside"],
)
def test_overwrite_never_deletes_the_scans(command, scans, tmp_path, cli):
    (scans / "pred").mkdir()
    write_owner_marker(scans / "pred")  # an antseg output inside the input folder: still not deleted
    before = sorted(p.name for p in scans.iterdir())
    args = [a.format(scans=scans, tmp=tmp_path) for a in command]
    r = cli(*args, "--overwrite", "--device", "cpu")
    assert r.code == 2 and "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1, r.err
    _intact(scans, before)
    assert (scans / "pred" / OWNER_MARKER).is_file()


def test_evaluate_into_the_dataset_is_refused(asoct_copy, cli, tmp_path):
    from antseg.data.split import SplitConfig, split_dataset

    split_dataset(asoct_copy, SplitConfig())
    before = sorted(p.name for p in asoct_copy.iterdir())
    r = cli("evaluate", "default", asoct_copy, "--out", asoct_copy, "--overwrite", "--device", "cpu")
    assert r.code == 2 and "is also an input" in r.err
    assert sorted(p.name for p in asoct_copy.iterdir()) == before


def test_biometry_dataset_into_its_parent_keeps_siblings(asoct_copy, tmp_path, cli):
    sibling = _precious(tmp_path / "sibling")
    r = cli("biometry", "--dataset", asoct_copy, "--out", tmp_path, "--overwrite")
    assert r.code == 2 and "holds an input" in r.err
    assert sibling.read_text() == "years of work" and (asoct_copy / "dataset.json").is_file()


def test_report_overwrites_its_own_output_but_not_a_users_folder(scans, tmp_path, cli):
    args = ["report", scans, "--spacing", "0.025", "--device", "cpu"]
    assert cli(*args, "--out", tmp_path / "r").code == 0
    assert cli(*args, "--out", tmp_path / "r", "--overwrite").code == 0
    notes = _precious(tmp_path / "mine")
    r = cli(*args, "--out", tmp_path / "mine", "--overwrite")
    assert r.code == 2 and "was not made by antseg" in r.err and notes.read_text() == "years of work"


def test_train_into_the_dataset_or_a_users_folder_is_refused(split_phantom, tmp_path, cli):
    before = sorted(p.name for p in split_phantom.iterdir())
    for out in (split_phantom, _precious(tmp_path / "mine").parent):
        for kind in ("seg", "spur"):
            r = cli("train", kind, split_phantom, "--out", out, "--epochs", "1", "--device", "cpu")
            assert r.code == 2 and "Traceback" not in r.err, r.err
    assert sorted(p.name for p in split_phantom.iterdir()) == before
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["notes.txt"]


@pytest.mark.parametrize("errno_code", [28, 30], ids=["disk full", "read-only"])
def test_a_failed_write_names_the_output_and_leaves_nothing(tmp_path, errno_code):
    """A disk that fills up (or turns read-only) part-way: one line naming --out, no temporary folder left."""
    out = tmp_path / "a" / "out"
    with pytest.raises(AntsegInputError) as err:
        with atomic_dir(out) as tmp:
            (tmp / "half.csv").write_text("x")
            raise OSError(errno_code, os.strerror(errno_code))
    assert err.value.path == str(out) and "could not be written" in err.value.problem
    assert not (tmp_path / "a").exists()
    with pytest.raises(OSError):  # an error reading an input stays what it is
        with atomic_dir(out):
            raise FileNotFoundError(2, "No such file or directory", str(tmp_path / "scan.png"))


def test_out_dot_is_refused_and_the_current_folder_kept(tmp_path, monkeypatch):
    """``--out .``: the output folder is replaced as a whole when a run ends, which would leave the shell in a
    deleted folder; the current folder (or one holding it) is refused, even when it is empty."""
    from antseg.io.resumable import ResumableDir

    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    for out in (".", "..", str(here)):
        with pytest.raises(AntsegInputError, match="is the current folder"):
            with atomic_dir(out):
                pass
        with pytest.raises(AntsegInputError, match="is the current folder"):
            ResumableDir(out, {"kind": "test"})
    assert os.path.samefile(os.getcwd(), here) and not list(here.iterdir())
