"""ONNX export of every registered architecture: one file with antseg metadata, checked against PyTorch."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

from antseg.export import export_onnx  # noqa: E402
from antseg.models import CheckpointMeta, create_model, list_models, save_checkpoint  # noqa: E402

#: Small versions of each registered model (same code paths, seconds to export).
SMALL = {
    "unet-lite": {"channels": (4, 8, 16), "num_res_units": 1},
    "unet": {"encoder": "resnet18", "decoder_channels": (16, 8, 8)},
    "pspnet": {"encoder": "resnet18"},
    "transresunet": {"encoder": "resnet18", "dim": 32, "layers": 1, "heads": 2, "decoder_channels": (32, 16, 8, 8)},
    "ensemble": {"member": "unet-lite", "members": 2, "member_args": {"channels": (4, 8, 16), "num_res_units": 1}},
}
#: PSPNet's adaptive pooling fixes the spatial size; the others export with a dynamic size.
FIXED_SIZE = {"pspnet"}


def test_every_registered_model_has_a_small_version():
    assert set(SMALL) == set(list_models())


@pytest.mark.slow  # about 15 s each; tests/inference/test_onnx.py exports a tiny unet-lite in the fast suite
@pytest.mark.parametrize("name", list(SMALL))
def test_export_registered_model(name, tmp_path):
    import onnx

    model = create_model(name, in_channels=3, classes=2, **SMALL[name])
    meta = CheckpointMeta(structures=["cornea", "pupil"], input_size=[64, 96], in_channels=3)
    ck = save_checkpoint(tmp_path / "m.pt", model, meta)
    res = export_onnx(ck, tmp_path / "m.onnx")
    assert res.dynamic_size == (name not in FIXED_SIZE)
    assert res.max_abs_diff < 1e-3, res.max_abs_diff
    assert not (tmp_path / "m.onnx.data").exists() and [p.name for p in tmp_path.iterdir()] == ["m.pt", "m.onnx"]
    doc = json.loads({p.key: p.value for p in onnx.load(str(res.path)).metadata_props}["antseg"])
    assert doc["meta"]["structures"] == ["cornea", "pupil"] and doc["meta"]["input_size"] == [64, 96]
    assert doc["model"]["name"] == name and doc["dynamic_size"] == res.dynamic_size


def test_input_size_off_the_stride_exports_at_a_fixed_size(tmp_path):
    model = create_model("unet-lite", in_channels=1, classes=1, channels=(4, 8), num_res_units=0)
    ck = save_checkpoint(tmp_path / "m.pt", model, CheckpointMeta(structures=["lens"], input_size=[45, 63]))
    res = export_onnx(ck, tmp_path / "m.onnx")
    assert not res.dynamic_size and res.checked_shapes == [(2, 1, 45, 63), (1, 1, 45, 63)]
    assert res.max_abs_diff < 1e-4
