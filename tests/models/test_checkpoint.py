"""The checkpoint format: foreign files, format versions (newer refused, version 1 still read), atomic writes,
and the version error through the CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import antseg
from antseg.errors import AntsegInputError
from antseg.io.images import write_png
from antseg.models import CheckpointMeta, create_model, load_model, read_checkpoint, save_checkpoint
from antseg.models.checkpoint import FORMAT, VERSION
from antseg.models.runs import segmentation_checkpoint


def _model():
    torch.manual_seed(0)
    return create_model("unet-lite", in_channels=1, classes=2, channels=(4, 8, 16), num_res_units=1).eval()


META = CheckpointMeta(structures=["lens", "nucleus"], input_size=[32, 64], spacing_mm=[0.01, 0.02], epoch=3)


@pytest.fixture
def saved(tmp_path):
    """A model and its checkpoint file (current version)."""
    m = _model()
    return m, save_checkpoint(tmp_path / "m.pt", m, META)


def _rewrite(src, dst, **changes):
    payload = torch.load(src, weights_only=True)
    payload.update(changes)
    torch.save(payload, dst)
    return dst


def test_checkpoint_loading_refuses_foreign_files(tmp_path):
    torch.save({"weights": torch.zeros(1)}, tmp_path / "x.pt")
    with pytest.raises(AntsegInputError, match="not an antseg checkpoint"):
        load_model(tmp_path / "x.pt")
    (tmp_path / "y.pt").write_bytes(b"garbage")
    with pytest.raises(AntsegInputError, match="not a readable"):
        load_model(tmp_path / "y.pt")
    with pytest.raises(AntsegInputError, match="no best.pt"):
        segmentation_checkpoint(tmp_path)
    with pytest.raises(AntsegInputError, match="is a folder"):
        load_model(tmp_path)


def test_current_files_are_written_with_the_current_version(saved):
    _, path = saved
    payload = torch.load(path, weights_only=True)
    assert payload["format"] == FORMAT and payload["version"] == VERSION == 2
    assert isinstance(payload["meta"], dict) and payload["meta"]["structures"] == ["lens", "nucleus"]
    ck = read_checkpoint(path)
    assert ck.version == VERSION and ck.path == path and ck.meta == META and ck.training is None


def test_newer_version_names_the_file_and_says_it_is_newer(saved, tmp_path):
    _, path = saved
    newer = _rewrite(path, tmp_path / "from-the-future.pt", version=99)
    with pytest.raises(AntsegInputError) as e:
        read_checkpoint(newer)
    assert e.value.path == str(newer)
    assert e.value.problem == (
        f"checkpoint format version 99 is newer than this antseg reads (this antseg {antseg.__version__} "
        "reads versions 1, 2)"
    )
    with pytest.raises(AntsegInputError, match="is newer than this antseg reads"):
        load_model(newer)


@pytest.mark.parametrize("version", [0, "2", None])
def test_unknown_versions_are_not_supported(saved, tmp_path, version):
    _, path = saved
    bad = _rewrite(path, tmp_path / "bad.pt", version=version)
    with pytest.raises(AntsegInputError, match=f"checkpoint format version {version!r} is not supported") as e:
        read_checkpoint(bad)
    assert e.value.path == str(bad)


def test_version_1_file_still_loads(saved, tmp_path):
    """A version-1 file: the same payload, ``"version": 1`` and the meta as a plain dict (here also with a key
    this release does not know, which is ignored)."""
    m, path = saved
    payload = torch.load(path, weights_only=True)
    v1 = {
        "format": FORMAT,
        "version": 1,
        "model": payload["model"],
        "state_dict": payload["state_dict"],
        "meta": {"task": "segmentation", "structures": ["lens", "nucleus"], "input_size": [32, 64],
                 "spacing_mm": [0.01, 0.02], "epoch": 3, "old_release_key": "ignored"},
    }  # fmt: skip
    torch.save(v1, tmp_path / "v1.pt")
    ck = read_checkpoint(tmp_path / "v1.pt")
    assert ck.version == 1 and ck.meta == META
    assert ck.meta.spacing == (0.01, 0.02) and ck.meta.input_hw == (32, 64)
    back, meta = load_model(tmp_path / "v1.pt")
    x = torch.randn(1, 1, 32, 64)
    with torch.no_grad():
        assert torch.equal(back(x), m(x))
    assert meta == META


def test_save_leaves_no_temporary_file(tmp_path):
    m = _model()
    save_checkpoint(tmp_path / "run" / "best.pt", m, META)
    save_checkpoint(tmp_path / "run" / "best.pt", m, META)  # replacing an existing file
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["best.pt"]


def test_failed_save_leaves_no_temporary_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    m = _model()
    path = save_checkpoint(tmp_path / "best.pt", m, META)
    before = path.read_bytes()

    def broken_save(obj, f, *args, **kwargs):
        with open(f, "wb") as fh:
            fh.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, m, META)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.pt"] and path.read_bytes() == before


def test_newer_checkpoint_through_the_cli_is_one_line_exit_2(saved, tmp_path, cli):
    _, path = saved
    newer = _rewrite(path, tmp_path / "newer.pt", version=99)
    write_png(tmp_path / "img.png", np.full((30, 40), 80, np.uint8))
    r = cli("predict", newer, tmp_path / "img.png", "--out", tmp_path / "o", "--device", "cpu")
    assert r.code == 2, r.out + r.err
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    assert "newer.pt" in r.err and "version 99 is newer" in r.err
    assert not (tmp_path / "o").exists()
