"""Issue 27: an archive on many workers. ``--workers 2`` and a local Dask cluster give byte-identical tables to one
worker, a run killed mid-way resumes with nothing lost or doubled, manifests list scans, results travel exactly."""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from antseg.batch.backends import ordered, threads_per_worker
from antseg.errors import AntsegInputError
from antseg.io.manifest import read_manifest
from antseg.scan.codec import decode_result, encode_result
from antseg.scan.result import Measure, Repair, ScanResult
from antseg.scan.rows import result_row

TABLES = {"report": ["scans.csv", "eyes.csv"], "biometry": ["biometry.csv"],
          "predict": ["areas.csv", "spurs.csv", "quality.csv"]}  # fmt: skip


@pytest.fixture(scope="module")
def scans(split_phantom, tmp_path_factory) -> Path:
    """Five phantom scans and a manifest listing them in its own order."""
    root = tmp_path_factory.mktemp("archive")
    (root / "scans").mkdir()
    for f in sorted((split_phantom / "images").glob("*.png"))[:5]:
        shutil.copy(f, root / "scans" / f.name)
    names = sorted(p.name for p in (root / "scans").iterdir())
    (root / "list.csv").write_text("path,note\n" + "".join(f"scans/{n},x\n" for n in reversed(names)))
    return root


@pytest.fixture(scope="module")
def one_worker(tiny_run, tiny_spur_run, scans, tmp_path_factory) -> dict[str, Path]:
    """``report`` and ``predict`` of the manifest on one worker: the tables every other run must reproduce."""
    from antseg.report import make_report
    from antseg.scan.predict import predict_paths

    root = tmp_path_factory.mktemp("one")
    make_report([scans / "list.csv"], root / "report", tiny_run, tiny_spur_run[1], device="cpu")
    predict_paths(tiny_run, [scans / "list.csv"], root / "predict", device="cpu", spurs=tiny_spur_run[1])
    return {"report": root / "report", "predict": root / "predict"}


def _models(tiny_run, tiny_spur_run, command: str) -> list:
    if command == "predict":
        return [tiny_run, "--spurs", tiny_spur_run[1]]
    return ["--weights", tiny_run, "--spurs", tiny_spur_run[1]]


def _run(cli, command, models, inputs, out, *extra):
    args = [command, *models[:1], *inputs, *models[1:], "--out", out, "--device", "cpu", *extra]
    if command != "predict":
        args = [command, *inputs, *models, "--out", out, "--device", "cpu", *extra]
    res = cli(*args)
    assert res.code == 0, res.err + res.out
    return out


def _same_tables(a: Path, b: Path, command: str) -> None:
    for name in TABLES[command]:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_manifest_lists_scans_in_its_order_from_its_folder(scans):
    listed = read_manifest(scans / "list.csv")
    assert [p.name for p in listed] == sorted((p.name for p in (scans / "scans").iterdir()), reverse=True)
    assert all(p.parent == scans / "scans" for p in listed)
    (scans / "abs.csv").write_text(f"Path\n{listed[0].resolve()}\n")  # any case, absolute paths
    assert read_manifest(scans / "abs.csv") == [listed[0].resolve()]
    (scans / "dir.csv").write_text("path\nscans\n")
    with pytest.raises(AntsegInputError, match="row 2: scans is a folder"):
        read_manifest(scans / "dir.csv")


def test_threads_are_shared_out_without_oversubscription():
    assert [threads_per_worker(n, cores=8) for n in (1, 2, 3, 8, 16)] == [8, 4, 2, 1, 1]
    assert threads_per_worker(2, cores=2) == 1


def test_results_come_back_in_order_whatever_order_they_finish_in():
    delays = [0.2, 0.0, 0.1, 0.0, 0.05]
    with ThreadPoolExecutor(3) as pool:
        got = list(ordered(lambda i: pool.submit(lambda: time.sleep(delays[i]) or i), range(5), window=3))
    assert got == [0, 1, 2, 3, 4]


def test_a_result_travels_exactly():
    res = ScanResult(
        "a.png", np.zeros((4, 4), np.uint8), ["lens"], np.zeros((1, 4, 4), np.uint8),
        {"left_scleral_spur": {"x": np.float32(1.25), "y": 2.0, "visible": np.bool_(True), "confidence": 0.1 + 0.2}},
        {"acd_mm": Measure(1 / 3, "check", ["why"], 0.01), "lv_mm": Measure(math.nan, "not measured", ["gone"])},
        ["a warning"], [Repair("lens", "filled holes", 3, 0.001)], True, (0.0075, 0.0075), {"segment": 0.5},
    )  # fmt: skip
    import json

    back = decode_result(json.loads(json.dumps(encode_result(res))))
    a, b = result_row(res, image="a.png"), result_row(back, image="a.png")
    assert a.keys() == b.keys()
    assert all(x == y or (x != x and y != y) for x, y in zip(a.values(), b.values(), strict=True))


@pytest.mark.parametrize("command", ["report", "predict"])  # biometry runs report's task
def test_two_workers_give_the_tables_of_one(tiny_run, tiny_spur_run, scans, one_worker, tmp_path, cli, command):
    models = _models(tiny_run, tiny_spur_run, command)
    one = one_worker[command]
    two = _run(cli, command, models, [scans / "list.csv"], tmp_path / "two", "--workers", "2")
    _same_tables(one, two, command)
    first = (one / TABLES[command][0]).read_text().splitlines()[1]
    assert sorted((scans / "scans").iterdir())[-1].name in first  # the manifest's order, not the folder's


def test_a_local_dask_cluster_gives_the_report_of_one_worker(tiny_run, tiny_spur_run, scans, one_worker, tmp_path):
    pytest.importorskip("distributed")
    from antseg.batch.dask_backend import local_cluster
    from antseg.report import make_report

    with local_cluster(workers=2) as address:
        res = make_report([scans / "list.csv"], tmp_path / "cluster", tiny_run, tiny_spur_run[1], device="cpu",
                          cluster=address)  # fmt: skip
    assert res["run"].backend == "dask" and res["run"].done == 5 and res["n_eyes"] == 5
    _same_tables(one_worker["report"], tmp_path / "cluster", "report")


def test_a_killed_run_resumes_with_nothing_lost_or_doubled(tiny_run, tiny_spur_run, scans, one_worker, tmp_path, cli):
    models = _models(tiny_run, tiny_spur_run, "report")
    out = tmp_path / "killed"
    journal = out.with_name(f".{out.name}.partial") / ".antseg-journal.jsonl"
    args = ["report", scans / "list.csv", *models, "--out", out, "--device", "cpu", "--workers", "2"]
    proc = subprocess.Popen([sys.executable, "-m", "antseg", *map(str, args)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if journal.is_file() and journal.read_text().count('"key"') >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the command and its workers, as a scheduler's kill would
    proc.wait()
    assert not out.exists() and journal.is_file(), "the run ended before it could be killed"
    done_before = journal.read_text().count('"key"')
    assert 2 <= done_before < 5
    res = cli("report", scans / "list.csv", *models, "--out", out, "--device", "cpu", "--workers", "2", "--resume")
    assert res.code == 0, res.err
    _same_tables(one_worker["report"], out, "report")
    keys = [ln for ln in (out / ".antseg-journal.jsonl").read_text().splitlines() if '"key"' in ln]
    assert len(keys) == 5 and len(list((out / "overlays").iterdir())) == 5


def test_a_bad_scan_mid_run_keeps_the_finished_ones_for_resume(tiny_run, tiny_spur_run, scans, tmp_path, cli):
    bad = tmp_path / "in"
    shutil.copytree(scans / "scans", bad)
    last = sorted(bad.iterdir())[-1]
    last.write_bytes(last.read_bytes()[:100])
    models = _models(tiny_run, tiny_spur_run, "report")
    out = tmp_path / "r"
    res = cli("report", bad, *models, "--out", out, "--device", "cpu")
    assert res.code == 2 and "4 finished scans are kept" in res.err and last.name in res.err
    shutil.copy(scans / "scans" / last.name, last)
    res = cli("report", bad, *models, "--out", out, "--device", "cpu", "--resume")
    assert res.code == 0, res.err
    assert len((out / "scans.csv").read_text().splitlines()) == 6
