"""A weights file never runs code: every loader antseg has, fed a pickle whose payload writes a file, refuses it
and the file is never written. Genuine files of each format still load; ``--trust-weights`` is the only way
round Ultralytics' safe mode, and it says so."""

from __future__ import annotations

import builtins
import importlib.util
from pathlib import Path

import pytest
import torch
from tests.cli.refusal import Bad, assert_refused, run_main

from antseg.errors import AntsegInputError

HAS_ULTRALYTICS = importlib.util.find_spec("ultralytics") is not None
needs_yolo = pytest.mark.skipif(not HAS_ULTRALYTICS, reason="needs the yolo extra")


class Payload:
    """Unpickling this calls ``exec`` on code that writes ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (builtins.exec, (f"open({str(self.marker)!r}, 'w').write('pwned')",))


def plant(path: Path, marker: Path, wrap=lambda p: {"model": p}) -> Path:
    """A ``torch.save`` file whose unpickling would write ``marker``."""
    torch.save(wrap(Payload(marker)), path)
    return path


def _antseg_checkpoint(path):
    from antseg.models import read_checkpoint

    read_checkpoint(path)


def _encoder_weights(path):
    from antseg.models.encoder_weights import load_encoder_weights

    load_encoder_weights(torch.nn.Linear(2, 2), str(path))


def _medsam_state_dict(path):
    from antseg.engines.medsam_model import read_state_dict

    read_state_dict(path)


def _nnunet_checkpoint(path):
    pytest.importorskip("nnunetv2")
    from antseg.engines.nnunet import _load_checkpoint

    _load_checkpoint(path)


LOADERS = {
    "antseg checkpoint": _antseg_checkpoint,
    "encoder weights": _encoder_weights,
    "medsam weights": _medsam_state_dict,
    "nnunet checkpoint": _nnunet_checkpoint,
}


@pytest.mark.parametrize("loader", LOADERS.values(), ids=list(LOADERS))
def test_every_loader_refuses_a_payload(loader, tmp_path):
    marker = tmp_path / "PWNED"
    path = plant(tmp_path / "evil.pt", marker)
    with pytest.raises(Exception):  # noqa: B017 - each loader has its own error; what matters is what did not run
        loader(path)
    assert not marker.exists(), "loading a weights file ran its code"


@needs_yolo
def test_yolo_weights_payload_is_refused_in_one_line(tmp_path):
    from antseg.engines import EngineConfig, get_engine

    marker = tmp_path / "PWNED"
    path = plant(tmp_path / "evil.pt", marker)
    with pytest.raises(AntsegInputError) as err:
        get_engine("yolo11-pose").check_weights(path, EngineConfig())
    msg = str(err.value)
    assert "evil.pt" in msg and "builtins.exec" in msg and "--trust-weights" in msg and "\n" not in msg
    assert not marker.exists()


@needs_yolo
@pytest.mark.parametrize("as_model", [False, True], ids=["weights", "model"])
def test_yolo_build_refuses_a_payload_as_weights_or_model(tmp_path, as_model):
    from antseg.engines.ultralytics_env import ultralytics_env
    from antseg.engines.yolo_pose import build_model

    marker = tmp_path / "PWNED"
    path = plant(tmp_path / "evil.pt", marker)
    with ultralytics_env(tmp_path / "cfg"), pytest.raises(AntsegInputError, match="--trust-weights"):
        build_model(str(path), None) if as_model else build_model("yolo11n-pose.yaml", path)
    assert not marker.exists()


@needs_yolo
def test_yolo_run_folder_with_a_payload_is_refused(tmp_path):
    """A trained run copied from elsewhere is no safer than a weights file: its ``best.pt`` loads safely too."""
    import json

    from antseg.engines import get_engine

    marker = tmp_path / "PWNED"
    run = tmp_path / "run"
    (run / "train" / "weights").mkdir(parents=True)
    plant(run / "train" / "weights" / "best.pt", marker)
    meta = {"landmarks": ["left_scleral_spur", "right_scleral_spur"], "weights": "train/weights/best.pt"}
    (run / "yolo.json").write_text(json.dumps({**meta, "imgsz": 64, "conf": 0.25, "kpt_conf": 0.5}))
    with pytest.raises(AntsegInputError, match="refused"):
        get_engine("yolo11-pose").load(run, "cpu")
    assert not marker.exists()


@needs_yolo
def test_genuine_ultralytics_checkpoint_loads_in_safe_mode(tmp_path):
    """What Ultralytics' trainer saves (model classes, tensors, plain settings) passes the safe mode."""
    from antseg.engines import EngineConfig, get_engine
    from antseg.engines.ultralytics_env import ultralytics_env
    from antseg.engines.yolo_pose import build_model

    with ultralytics_env(tmp_path / "cfg"):
        from ultralytics import YOLO

        net = YOLO("yolo11n-pose.yaml", task="pose")
        ckpt = {"epoch": 3, "model": None, "ema": net.model.half(), "train_args": {"imgsz": 64}}
        torch.save(ckpt, tmp_path / "ok.pt")
        loaded = build_model(str(tmp_path / "ok.pt"), None)
    assert type(loaded.model).__name__ == "PoseModel"
    get_engine("yolo11-pose").check_weights(tmp_path / "ok.pt", EngineConfig())


@needs_yolo
def test_trust_flag_turns_the_safe_mode_off_only_inside_the_block(tmp_path):
    import os

    from antseg.engines.ultralytics_env import ultralytics_env

    before = os.environ.get("ULTRALYTICS_SAFE_LOAD")
    with ultralytics_env(tmp_path / "a"):
        import ultralytics.nn.tasks as tasks

        assert tasks.SAFE_LOAD is True and os.environ["ULTRALYTICS_SAFE_LOAD"] == "true"
    with ultralytics_env(tmp_path / "b", trust_weights=True):
        assert tasks.SAFE_LOAD is False
        assert os.environ["ULTRALYTICS_SAFE_LOAD"] == "false"
    assert os.environ.get("ULTRALYTICS_SAFE_LOAD") == before


@needs_yolo
def test_benchmark_refuses_a_planted_yolo_payload_before_any_work(split_phantom, tmp_path, capfd):
    """The probe's case: ``benchmark DS --models none --spurs yolo11-pose --weights yolo11-pose=FILE.pt``."""
    marker = tmp_path / "PWNED"
    evil = plant(tmp_path / "evil.pt", marker)
    out = tmp_path / "bench"
    args = ["benchmark", split_phantom, "--out", out, "--models", "none", "--spurs", "yolo11-pose",
            "--weights", f"yolo11-pose={evil}", "--budget", "5"]  # fmt: skip
    assert_refused(run_main(capfd, args), Bad(args, out, "evil.pt", also=["--trust-weights"]))
    assert not marker.exists()
