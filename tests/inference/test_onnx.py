"""ONNX Runtime inference: an exported model gives PyTorch's logits, masks and whole-video outputs."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from tests.inference.videos import tiny_cornea, write_index_video  # noqa: E402

from antseg.errors import AntsegInputError  # noqa: E402
from antseg.export import export_onnx  # noqa: E402
from antseg.inference.backends import TorchBackend, open_backend, prepare_frame  # noqa: E402
from antseg.inference.onnx_predictor import OnnxBackend, load_predictor  # noqa: E402
from antseg.inference.video_stream import VideoOptions, predict_video  # noqa: E402


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    d = tmp_path_factory.mktemp("onnx")
    ck = tiny_cornea(d / "cornea.pt")
    return ck, export_onnx(ck, d / "cornea.onnx")


def _rows(out):
    with open(out / "frames.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_onnx_backend_agrees_with_pytorch(exported):
    ck, res = exported
    assert res.dynamic_size and res.max_abs_diff < 1e-4
    onnx, torch_ = open_backend(res.path, "cpu"), open_backend(ck, "cpu")
    assert isinstance(onnx, OnnxBackend) and isinstance(torch_, TorchBackend)
    assert onnx.meta.structures == ["cornea"] and onnx.meta.input_hw == (48, 64)
    assert onnx.export_info["size_multiple"] == 2 and onnx.export_info["max_abs_diff"] == res.max_abs_diff
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 255, (3, 120, 160, 3), dtype=np.uint8)
    batch = np.zeros((3, 3, 48, 64), np.float32)
    for i, f in enumerate(frames):
        prepare_frame(f, onnx.meta, batch[i])
    assert np.abs(onnx(batch) - torch_(batch)).max() < 1e-4
    x = rng.standard_normal((2, 3, 96, 128)).astype(np.float32)  # dynamic batch and size
    assert np.abs(onnx(x) - torch_(x)).max() < 1e-4


def test_onnx_image_predictor_matches_pytorch(exported):
    ck, res = exported
    img = np.random.default_rng(1).integers(0, 255, (90, 130, 3), dtype=np.uint8)
    a, b = load_predictor(res.path, "cpu").predict(img), load_predictor(ck, "cpu").predict(img)
    assert np.abs(a.probs - b.probs).max() < 1e-4 and (a.masks != b.masks).mean() < 1e-3


def test_whole_video_with_onnx_matches_pytorch(exported, tmp_path, cli):
    ck, res = exported
    v = write_index_video(tmp_path / "v.mp4", 12, size=(160, 120))
    r = cli("predict", res.path, v, "--out", tmp_path / "onnx", "--device", "cpu", "--every", "2")
    assert r.code == 0, r.err
    predict_video(ck, v, tmp_path / "pt", VideoOptions(every=2), device="cpu")
    a, b = _rows(tmp_path / "onnx"), _rows(tmp_path / "pt")
    assert [x["frame"] for x in a] == [x["frame"] for x in b] == [str(k) for k in range(0, 12, 2)]
    for x, y in zip(a, b, strict=True):
        assert x["cornea_present"] == y["cornea_present"]
        if x["cornea_area_px"]:
            assert abs(float(x["cornea_area_px"]) - float(y["cornea_area_px"])) <= 2
    assert json.loads((tmp_path / "onnx" / "summary.json").read_text())["backend"] == "onnxruntime"


def test_export_cli_and_refusals(exported, tmp_path, cli):
    ck, res = exported
    r = cli("export", "onnx", ck, tmp_path / "m.onnx")
    assert r.code == 0 and "max abs logit difference" in r.out, r.err
    r = cli("export", "onnx", ck, tmp_path / "m.onnx")
    assert r.code == 2 and "exists" in r.err
    r = cli("export", "onnx", ck, tmp_path / "m.pt")
    assert r.code == 2 and ".onnx" in r.err
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises(AntsegInputError, match="not a readable ONNX model"):
        OnnxBackend(tmp_path / "bad.onnx")


def test_missing_extra_names_the_install(monkeypatch, tmp_path):
    import builtins

    real = builtins.__import__

    def no_onnx(name, *a, **k):
        if name.split(".")[0] in ("onnxruntime", "onnxscript"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_onnx)
    with pytest.raises(AntsegInputError, match=r"pip install 'antseg\[onnx\]'"):
        export_onnx(tmp_path / "x.pt", tmp_path / "x.onnx")
    with pytest.raises(AntsegInputError, match=r"pip install 'antseg\[onnx\]'"):
        OnnxBackend(tmp_path / "x.onnx")
