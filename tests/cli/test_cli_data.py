"""``antseg data``: a phantom in a source layout through import, split, validate and info; split configs."""

from __future__ import annotations

from antseg.data.canonical import load_dataset


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


def test_phantom_style_and_devices_flags(tmp_path, cli):
    r = cli("data", "phantom", "asoct", tmp_path / "ds", "--n", "2", "--style", "realistic", "--devices", "narrow")
    assert r.code == 0, r.err
    ds = load_dataset(tmp_path / "ds")
    assert [(c.width, c.height) for c in ds.cases] == [(1800, 998)] * 2
    assert ds.manifest.provenance["config"]["style"] == "realistic"
    r = cli("data", "phantom", "asoct", tmp_path / "x", "--style", "fancy")
    assert r.code == 2 and "unknown style" in r.err and "valid: classic, realistic" in r.err
    r = cli("data", "phantom", "asoct", tmp_path / "y", "--devices", "ss1000,oct9000")
    assert r.code == 2 and "unknown device(s) oct9000" in r.err
