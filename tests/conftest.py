"""Shared fixtures: small phantoms and tiny trained models (made once per session), an in-process CLI runner.

The trained fixtures (``tiny_run``, ``tiny_spur_run``) are session-scoped here because tests of training,
inference, evaluation and biometry all use them: each is trained once per test session, whatever the folder.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from antseg.cli import main  # noqa: E402
from antseg.data.phantom.writer import (  # noqa: E402
    AsoctPhantomConfig,
    SurgicalPhantomConfig,
    generate_asoct_dataset,
    generate_surgical_dataset,
)
from antseg.data.split import SplitConfig, split_dataset  # noqa: E402
from antseg.io.images import write_png  # noqa: E402

SMALL = (640, 300)  # 16 mm x 7.5 mm at 0.025 mm/px: every structure fits, tests stay fast


@pytest.fixture(scope="session")
def asoct_phantom(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ph") / "asoct"
    return generate_asoct_dataset(out, AsoctPhantomConfig(n=12, size=SMALL, eyes_per_patient=2))


@pytest.fixture(scope="session")
def surgical_phantom(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ph") / "surgical"
    cfg = SurgicalPhantomConfig(videos=3, frames_per_video=2, size=(256, 192), video_seconds=0.4, fps=10)
    return generate_surgical_dataset(out, cfg)


#: A U-Net small enough to train in seconds on the 640x300 phantom (two CPU threads).
TINY_SEG = dict(
    model="unet-lite",
    model_args={"channels": (8, 16, 32), "num_res_units": 1},
    input_size=(64, 128),
    batch_size=4,
    lr=3e-3,
    threads=2,
)


@pytest.fixture(scope="session")
def split_phantom(asoct_phantom, tmp_path_factory) -> Path:
    """A copy of the AS-OCT phantom split 60/20/20 by patient (read-only for tests)."""
    dst = tmp_path_factory.mktemp("tr") / "ds"
    shutil.copytree(asoct_phantom, dst)
    split_dataset(dst, SplitConfig(ratios=(0.6, 0.2, 0.2)))
    return dst


@pytest.fixture(scope="session")
def tiny_run(split_phantom, tmp_path_factory) -> Path:
    """A segmentation run folder (best.pt, last.pt, ...) trained 4 epochs on ``split_phantom``."""
    from antseg.training import TrainConfig, train_segmentation

    run = tmp_path_factory.mktemp("run") / "r"
    train_segmentation(split_phantom, run, TrainConfig(epochs=4, **TINY_SEG), log=lambda s: None)
    return run


@pytest.fixture(scope="session")
def tiny_spur_run(asoct_phantom, tmp_path_factory) -> tuple[Path, Path]:
    """(dataset, spur run folder): a split phantom copy whose first case has no left spur, and a two-stage
    spur model trained on it (2 epochs, 20 refinement steps)."""
    from antseg.data.canonical import load_dataset
    from antseg.training import TrainConfig
    from antseg.training.spurs import SpurConfig, train_spurs

    root = tmp_path_factory.mktemp("spur")
    ds = root / "ds"
    shutil.copytree(asoct_phantom, ds)
    d = load_dataset(ds)
    d.cases[0].landmarks["left_scleral_spur"] = None  # an absent spur is learned as absent
    d.save()
    split_dataset(ds, SplitConfig(ratios=(0.6, 0.2, 0.2)))
    cfg = TrainConfig(model="unet-lite", model_args={"channels": (8, 16, 32), "num_res_units": 1}, input_size=(64, 128),
                      epochs=2, lr=3e-3, threads=2)  # fmt: skip
    train_spurs(
        ds, root / "run", cfg, SpurConfig(refine_steps=20, refine_batch=4, crop=48, refine_jitter=8), log=lambda s: None
    )
    return ds, root / "run"


@pytest.fixture
def asoct_copy(asoct_phantom, tmp_path) -> Path:
    dst = tmp_path / "asoct"
    shutil.copytree(asoct_phantom, dst)
    return dst


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys):
    """Run ``antseg ARGS...`` in-process; returns exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        cap = capsys.readouterr()
        return CliResult(code, cap.out, cap.err)

    return run


def labelme_doc(shapes: list[dict], image_path: str | None, w: int, h: int, image_data: str | None = None) -> dict:
    return {
        "version": "5.4.1",
        "flags": {},
        "shapes": shapes,
        "imagePath": image_path,
        "imageData": image_data,
        "imageHeight": h,
        "imageWidth": w,
    }


def poly(label: str, pts: list[list[float]]) -> dict:
    return {"label": label, "points": pts, "shape_type": "polygon", "group_id": None, "flags": {}}


def point(label: str, x: float, y: float) -> dict:
    return {"label": label, "points": [[x, y]], "shape_type": "point", "group_id": None, "flags": {}}


def make_labelme_tree(root: Path, cases: dict[str, tuple[str, list[dict]]], w: int = 40, h: int = 30) -> Path:
    """``<root>/<Group>/Original Images/<name>.png`` + ``Annotated Images/<name>.json`` per case."""
    rng = np.random.default_rng(0)
    for name, (group, shapes) in cases.items():
        img_dir, ann_dir = root / group / "Original Images", root / group / "Annotated Images"
        img_dir.mkdir(parents=True, exist_ok=True)
        ann_dir.mkdir(parents=True, exist_ok=True)
        write_png(img_dir / f"{name}.png", rng.integers(0, 255, (h, w), dtype=np.uint8))
        doc = labelme_doc(shapes, f"../Original Images/{name}.png", w, h)
        (ann_dir / f"{name}.json").write_text(json.dumps(doc))
    return root


#: A hand-made AS-OCT annotation with exact answers on a 40 x 30 image.
SQUARE_CASE = [
    poly("anterior_chamber", [[5, 5], [14, 5], [14, 14], [5, 14]]),  # 10 x 10 = 100 px
    poly("lens", [[20, 10], [35, 10], [35, 25], [20, 25]]),  # 16 x 16 = 256 px
    poly("nucleus", [[24, 14], [31, 14], [31, 21], [24, 21]]),  # 8 x 8 = 64 px, inside the lens
    poly("left_iris", [[1, 20], [10, 20], [10, 22], [1, 22]]),  # 10 x 3 = 30 px
    poly("right_iris", [[30, 2], [38, 2], [38, 4], [30, 4]]),  # 9 x 3 = 27 px
    point("left_scleral_spur", 3.5, 18.25),
    point("right_scleral_spur", 36.0, 6.0),
]


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """``shared/reference`` beside the checkout (present on developer machines and in CI)."""
    here = Path(__file__).resolve().parents[1]
    return here.parent / "shared" / "reference"
