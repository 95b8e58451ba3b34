"""CLI: every command has help; end-to-end runs on tiny phantoms; bad input exits 2 with one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from antseg.data.canonical import load_dataset

COMMANDS = [
    [],
    ["data"],
    ["data", "import"],
    ["data", "export"],
    ["data", "validate"],
    ["data", "split"],
    ["data", "info"],
    ["data", "phantom"],
    ["data", "phantom", "asoct"],
    ["data", "phantom", "surgical"],
    ["demo"],
]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(c) or "antseg")
def test_help(cli, cmd):
    r = cli(*cmd, "--help")
    assert r.code == 0 and "Usage" in r.out


def test_version(cli):
    r = cli("--version")
    assert r.code == 0 and r.out.startswith("antseg ")


def test_phantom_export_import_split_end_to_end(tmp_path, cli):
    r = cli(
        "data",
        "phantom",
        "asoct",
        tmp_path / "lm",
        "--n",
        "8",
        "--size",
        "640x300",
        "--format",
        "labelme",
        "--image-format",
        "jpg",
    )
    assert r.code == 0, r.err
    assert (tmp_path / "lm" / "PACG" / "Annotated Images").is_dir() and (
        tmp_path / "lm" / "reference_biometry.csv"
    ).is_file()
    r = cli("data", "import", "labelme", tmp_path / "lm", tmp_path / "ds", "--spacing", "0.025")
    assert r.code == 0, r.err
    r = cli("data", "split", tmp_path / "ds", "--ratios", "0.5,0.25,0.25", "--seed", "2")
    assert r.code == 0 and "train" in r.out
    assert cli("data", "validate", tmp_path / "ds").code == 0
    r = cli("data", "info", tmp_path / "ds")
    assert r.code == 0 and "8 cases" in r.out
    ds = load_dataset(tmp_path / "ds")
    assert ds.manifest.spacing_mm == (0.025, 0.025) and {c.split for c in ds} == {"train", "val", "test"}


def test_split_config_file_and_override(tmp_path, cli, asoct_copy):
    cfg = tmp_path / "split.yaml"
    cfg.write_text("ratios: [0.5, 0.5, 0.0]\nseed: 5\n")
    assert cli("data", "split", asoct_copy, "--config", cfg, "--seed", "6").code == 0
    ds = load_dataset(asoct_copy)
    assert ds.manifest.provenance["split"]["seed"] == 6 and "test" not in {c.split for c in ds}
    cfg.write_text("ratio: [1]\n")
    r = cli("data", "split", asoct_copy, "--config", cfg)
    assert r.code == 2 and "unknown option(s): ratio" in r.err


@pytest.mark.parametrize(
    "args, message",
    [
        (["data", "phantom", "asoct", "{tmp}/x", "--size", "big"], "WIDTHxHEIGHT"),
        (["data", "phantom", "asoct", "{tmp}/x", "--groups", "normal,weird"], "unknown group"),
        (["data", "phantom", "asoct", "{tmp}/x", "--hidden-spurs", "1.5"], "hidden_spurs must be a fraction"),
        (["data", "split", "{tmp}", "--ratios", "0.5,0.5"], "needs 3 values"),
        (["data", "export", "nosuch", "{tmp}", "{tmp}/o"], "valid: labelme, masks, supervisely"),
    ],
)
def test_bad_arguments_exit_2(tmp_path, cli, args, message):
    r = cli(*[a.format(tmp=tmp_path) for a in args])
    assert r.code == 2 and message in r.err and "Traceback" not in r.err


def test_console_script_reports_bad_input_without_traceback(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "antseg", "data", "validate", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "not a dataset folder" in r.stderr


@pytest.mark.slow
def test_demo_runs(tmp_path, cli):
    r = cli("demo", "--out", tmp_path / "demo", "--n", "8", "--no-train")
    assert r.code == 0, r.err
    assert "demo finished" in r.out and (tmp_path / "demo" / "demo_config.yaml").is_file()
    r = cli("demo", "--out", tmp_path / "demo", "--n", "8", "--no-train")  # re-running replaces its own folder
    assert r.code == 0


def test_demo_small_config(tmp_path, cli):
    cfg = tmp_path / "demo.yaml"
    cfg.write_text(
        f"out: {tmp_path / 'd'}\nn_asoct: 8\nsize: [640, 300]\nvideos: 2\nframes_per_video: 2\nvideo_seconds: 0.2\n"
        "epochs: 2\nspur_epochs: 1\nspur_refine_steps: 5\n"
    )
    r = cli("demo", "--config", cfg)
    assert r.code == 0, r.err
    assert "demo finished" in r.out and "valid" in r.out and "| **Right Iris** |" in r.out
    assert (tmp_path / "d" / "runs" / "seg" / "best.pt").is_file() and (
        tmp_path / "d" / "runs" / "spur" / "spur.pt"
    ).is_file()
    assert "| Left |" in r.out  # the spur table
    assert "| acd_mm |" in r.out and (tmp_path / "d" / "biometry-test" / "agreement.csv").is_file()
    ds = load_dataset(tmp_path / "d" / "asoct")
    assert len(ds) == 8 and ds.manifest.reference_biometry == "biometry.csv"
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.txt").write_text("x")
    r = cli("demo", "--out", tmp_path / "other")
    assert r.code == 2 and "not made by antseg demo" in r.err and (tmp_path / "other" / "precious.txt").exists()
