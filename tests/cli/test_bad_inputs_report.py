"""Bad input to ``antseg report`` (and what it shares with ``predict``, ``biometry`` and ``evaluate``: input names,
narrow-angle thresholds, ``--meta``/``--reference`` tables, models of the wrong modality, ``--device``, an output
folder that cannot be written), table by table: exit 2, one line naming the file or flag, no traceback, nothing
written (see :func:`tests.cli.refusal.assert_refused`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import pytest
from tests.cli.refusal import Bad, assert_refused, read_only_folder, run_main
from tests.inference.videos import tiny_cornea


@pytest.fixture
def run_cli(capfd):
    return lambda args: run_main(capfd, args)


#: name -> the bytes of a hand-made table (``{d}/NAME`` in the tables below).
TABLES: dict[str, bytes] = {
    "meta_binary.csv": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "meta_undecodable.csv": b"image,patient_id\nx.png,P\x81\x8d\n",
    "meta_quote.csv": b'image,patient_id,eye\n"x.png,P1,R\n',
    "meta_short.csv": b"image,patient_id,eye\nx.png,P1\n",
    "meta_twice.csv": b"image,patient_id,eye\nx.png,P1,R\nx.png,P2,L\n",
    "meta_eye.csv": b"image,patient_id,eye\nx.png,P1,both\n",
    "meta_nokey.csv": b"scan,patient_id\nx.png,P1\n",
    "meta_empty.csv": b"",
    "ref_text.csv": b"image,acd_mm\nx.png,deep\n",
    "ref_huge.csv": b"image,acd_mm\nx.png,1e308\n",
    "ref_nomeasure.csv": b"image,ACD\nx.png,2.9\n",
    "ref_binary.csv": b"\x00\x01\x02\x03",
    "manifest_missing.csv": b"path\none/x.png\nnope.png\n",
    "manifest_twice.csv": b"path\none/x.png\n./one/x.png\n",
    "manifest_nopath.csv": b"name\nx\n",
    "manifest_empty.csv": b"path\n",
}


@pytest.fixture(scope="module")
def d(split_phantom, tmp_path_factory) -> Path:
    """Scans named to collide, the tables above, a surgical-video model."""
    root = tmp_path_factory.mktemp("report-inputs")
    scans = sorted((split_phantom / "images").glob("*.png"))
    for folder, src in (("one", scans[0]), ("two", scans[1])):
        (root / folder).mkdir()
        shutil.copy(src, root / folder / "x.png")
    (root / "ab").mkdir()
    shutil.copy(scans[2], root / "ab" / "a.png")
    cv2.imwrite(str(root / "ab" / "a.jpg"), cv2.imread(str(scans[3])))
    for name, data in TABLES.items():
        (root / name).write_bytes(data)
    (root / "meta_folder.csv").mkdir()
    tiny_cornea(root / "cornea.pt")
    return root


REPORT: dict[str, tuple[list[str], str, list[str]]] = {
    # item 4: scans are told apart by name
    "one name in two folders": (["{d}/one", "{d}/two"], "two/x.png", ["same name as", "one/x.png"]),
    "a.png and a.jpg": (["{d}/ab"], "ab/a.png", ["same name as", "ab/a.jpg"]),
    "one file twice": (["{d}/one/x.png", "{d}/one/x.png"], "x.png", ["given twice"]),
    "a folder and a file in it": (["{d}/one", "{d}/one/x.png"], "one/x.png", ["given twice"]),
    # item 7: one check of the narrow-angle thresholds
    "narrow TISA500 inf": (["{d}/one", "--narrow-tisa500", "inf"], "--narrow-tisa500", ["finite"]),
    "narrow AOD500 NaN": (["{d}/one", "--narrow-aod500", "nan"], "--narrow-aod500", ["finite"]),
    "narrow AOD500 negative": (["{d}/one", "--narrow-aod500", "-1"], "--narrow-aod500", [">= 0"]),
    "narrow AOD500 above every angle": (["{d}/one", "--narrow-aod500", "3"], "--narrow-aod500", ["<= 2"]),
    # items 8 and 13: --meta and --reference tables
    "meta missing": (["{d}/one", "--meta", "{d}/nope.csv"], "nope.csv", ["not found"]),
    "meta a folder": (["{d}/one", "--meta", "{d}/meta_folder.csv"], "meta_folder.csv", ["is a folder"]),
    "meta binary": (["{d}/one", "--meta", "{d}/meta_binary.csv"], "meta_binary.csv", ["binary data"]),
    "meta neither UTF-8 nor Latin-1": (
        ["{d}/one", "--meta", "{d}/meta_undecodable.csv"],
        "meta_undecodable.csv",
        ["not a text CSV"],
    ),  # fmt: skip
    "meta broken quote": (["{d}/one", "--meta", "{d}/meta_quote.csv"], "meta_quote.csv", ["never closed"]),
    "meta short row": (["{d}/one", "--meta", "{d}/meta_short.csv"], "meta_short.csv", ["row 2 has 2 cells"]),
    "meta rows that disagree": (["{d}/one", "--meta", "{d}/meta_twice.csv"], "meta_twice.csv", ["listed twice"]),
    "meta unknown eye": (["{d}/one", "--meta", "{d}/meta_eye.csv"], "meta_eye.csv", ["'both' is not an eye"]),
    "meta without a key column": (["{d}/one", "--meta", "{d}/meta_nokey.csv"], "meta_nokey.csv", ["'image'"]),
    "meta empty": (["{d}/one", "--meta", "{d}/meta_empty.csv"], "meta_empty.csv", ["empty"]),
    "reference text in a number column": (
        ["{d}/one", "--reference", "{d}/ref_text.csv"],
        "ref_text.csv",
        ["acd_mm must be a number, got 'deep'"],
    ),  # fmt: skip
    "reference 1e308": (["{d}/one", "--reference", "{d}/ref_huge.csv"], "ref_huge.csv", ["<= 100"]),
    "reference without a measure": (
        ["{d}/one", "--reference", "{d}/ref_nomeasure.csv"],
        "ref_nomeasure.csv",
        ["none of the measure columns"],
    ),  # fmt: skip
    "reference binary": (["{d}/one", "--reference", "{d}/ref_binary.csv"], "ref_binary.csv", ["binary data"]),
    "reference missing": (["{d}/one", "--reference", "{d}/nope.csv"], "nope.csv", ["not found"]),
    # item 10: a surgical-video model
    "surgical model": (
        ["{d}/one", "--weights", "{d}/cornea.pt"],
        "cornea.pt",
        ["surgical-video model", "needs an AS-OCT model"],
    ),  # fmt: skip
    # item 13: one device parser
    "device gpu": (["{d}/one", "--device", "gpu"], "--device", ["'gpu'"]),
    "device gpu9": (["{d}/one", "--device", "gpu9"], "--device", ["'gpu9'"]),
    # issue 27: workers, a cluster, manifests
    "workers 0": (["{d}/one", "--workers", "0"], "--workers", ["from 1"]),
    "workers -1": (["{d}/one", "--workers", "-1"], "--workers", ["from 1"]),
    "workers and a cluster": (["{d}/one", "--workers", "2", "--cluster", "tcp://x:9"], "--cluster", ["not both"]),
    "cluster that does not answer": (["{d}/one", "--cluster", "tcp://127.0.0.1:9"], "--cluster", ["tcp://127.0.0.1:9"]),
    "cluster address that is not one": (["{d}/one", "--cluster", "nowhere://x"], "--cluster", ["nowhere://x"]),
    "manifest with a missing scan": (
        ["{d}/manifest_missing.csv"],
        "manifest_missing.csv",
        ["row 3", "nope.png does not exist"],
    ),  # fmt: skip
    "manifest listing a scan twice": (
        ["{d}/manifest_twice.csv"],
        "manifest_twice.csv",
        ["row 3", "listed twice (also row 2)"],
    ),  # fmt: skip
    "manifest without a path column": (["{d}/manifest_nopath.csv"], "manifest_nopath.csv", ["'path' column"]),
    "manifest without scans": (["{d}/manifest_empty.csv"], "manifest_empty.csv", ["lists no scans"]),
}


@pytest.mark.parametrize("case", list(REPORT))
def test_report_bad_input(tiny_run, tiny_spur_run, d, tmp_path, run_cli, case, monkeypatch):
    monkeypatch.setattr("antseg.batch.dask_backend.CONNECT_TIMEOUT_S", 1)
    extra, names, also = REPORT[case]
    out = tmp_path / "out"
    args = ["report", "--out", out, "--weights", tiny_run, "--spurs", tiny_spur_run[1], "--device", "cpu",
            *[a.format(d=d) for a in extra]]  # fmt: skip
    assert_refused(run_cli(args), Bad(args, out, names, also))


def test_report_and_predict_into_a_folder_that_cannot_be_written(tiny_run, tiny_spur_run, d, tmp_path, run_cli):
    """Item 13: ``--out`` on a read-only file system, for report, predict (images, a whole video, one frame)."""
    from tests.cli.test_bad_inputs_models import make_video

    ro = read_only_folder(tmp_path)
    video = make_video(tmp_path / "v.mp4")
    cornea = d / "cornea.pt"
    for args in (
        ["report", d / "one", "--weights", tiny_run, "--spurs", tiny_spur_run[1], "--device", "cpu"],
        ["predict", tiny_run, d / "one", "--device", "cpu"],
        ["predict", cornea, video, "--device", "cpu"],
        ["predict", cornea, video, "--timestamp", "0.5", "--device", "cpu"],
    ):
        out = ro / "antseg-out"
        full = [*args, "--out", out]
        assert_refused(run_cli(full), Bad(full, out, str(ro)))


@pytest.mark.parametrize(
    "how",
    ["whole video", "one frame"],
)
def test_predict_refuses_an_asoct_model_on_video(tiny_run, tmp_path, run_cli, how):
    """Item 10, the reverse: an AS-OCT model on surgical video."""
    from tests.cli.test_bad_inputs_models import make_video

    video = make_video(tmp_path / "v.mp4")
    out = tmp_path / "out"
    args = ["predict", tiny_run, video, "--out", out, "--device", "cpu"]
    args += ["--timestamp", "0.5"] if how == "one frame" else []
    assert_refused(run_cli(args), Bad(args, out, "best.pt", ["an AS-OCT model", "needs a surgical-video model"]))


def test_biometry_and_evaluate_refuse_a_model_of_the_other_modality(
    tiny_run, tiny_spur_run, split_phantom, surgical_phantom, d, tmp_path, run_cli
):
    out = tmp_path / "out"
    for args, names in (
        (["biometry", "--dataset", split_phantom, "--weights", d / "cornea.pt", "--spurs", tiny_spur_run[1]],
         "cornea.pt"),
        (["biometry", d / "one" / "x.png", "--weights", d / "cornea.pt", "--spurs", tiny_spur_run[1]], "cornea.pt"),
        (["evaluate", d / "cornea.pt", split_phantom], "cornea.pt"),
        (["evaluate", tiny_run, surgical_phantom], "best.pt"),
    ):  # fmt: skip
        full = [*args, "--out", out, "--device", "cpu"]
        assert_refused(run_cli(full), Bad(full, out, names, ["model"]))


def test_a_model_that_does_not_record_its_modality_is_accepted(tmp_path):
    from antseg.models.checkpoint import CheckpointMeta, require_modality

    require_modality(CheckpointMeta(modality=""), tmp_path / "old.pt", "asoct", "report")
    require_modality(CheckpointMeta(modality="asoct"), tmp_path / "m.pt", "asoct", "report")
    with pytest.raises(Exception, match="m.pt: is an AS-OCT model: video segmentation needs a surgical-video model"):
        require_modality(CheckpointMeta(modality="asoct"), tmp_path / "m.pt", "surgical", "video segmentation")


def test_report_reads_spreadsheet_tables_and_warns_when_rows_do_not_match(tiny_run, tiny_spur_run, d, tmp_path,
                                                                         run_cli):  # fmt: skip
    """Item 8, read correctly: a Latin-1 ``;`` table with a byte-order-mark-free header in other case, eyes as OD
    and left, a decimal comma; a row that matches no scan and a scan without a row are warnings, not errors."""
    import json

    scans = tmp_path / "scans"
    scans.mkdir()
    for name, src in (("s1.png", d / "one" / "x.png"), ("s2.png", d / "two" / "x.png"), ("s3.png", d / "ab" / "a.png")):
        shutil.copy(src, scans / name)
    meta = tmp_path / "meta.csv"
    meta.write_bytes("Image;Patient ID;Eye\ns1.png;Müller;OD\ns2.png;Müller;od\ns3.png;Müller;left\n"
                     "s9.png;Other;R\n".encode("latin-1"))  # fmt: skip
    ref = tmp_path / "ref.csv"
    ref.write_text("case_id;acd_mm\ns1;2,5\ns2;NA\n")
    out = tmp_path / "rep"
    code, stdout, err = run_cli(["report", scans, "--out", out, "--weights", tiny_run, "--spurs", tiny_spur_run[1],
                                 "--device", "cpu", "--meta", meta, "--reference", ref])  # fmt: skip
    assert code == 0, err
    assert "warning:" in stdout and "1 rows match no scan (s9.png)" in stdout and "1 of 3 scans have no row" in stdout
    summary = json.loads((out / "report.json").read_text())
    assert [(e["eye"], e["scans"]) for e in summary["eyes"]] == [
        ("Müller R", ["s1.png", "s2.png"]), ("Müller L", ["s3.png"])
    ]  # fmt: skip
    assert summary["warnings"] == [
        f"--meta {meta}: 1 rows match no scan (s9.png)", f"--reference {ref}: 1 of 3 scans have no row (s3.png)"
    ]  # fmt: skip
