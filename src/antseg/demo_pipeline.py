"""The end-to-end demo on the embedded default: phantom data through the real import pipeline."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from antseg.data.canonical import load_dataset
from antseg.data.importers import ImportOptions, run_importer
from antseg.data.labels import LabelPolicy
from antseg.data.phantom.layouts import SOURCE_REFERENCE_BIOMETRY, write_phantom
from antseg.data.phantom.writer import REFERENCE_BIOMETRY, AsoctPhantomConfig, SurgicalPhantomConfig
from antseg.data.split import SplitConfig, split_dataset
from antseg.data.validate import ValidationReport, validate_dataset
from antseg.errors import AntsegInputError

MARKER = ".antseg-demo"


@dataclass
class DemoConfig:
    """Demo settings: phantom sizes and where everything goes."""

    out: Path = Path("antseg-demo")
    n_asoct: int = 40
    size: tuple[int, ...] = (2130, 998)
    videos: int = 6
    frames_per_video: int = 5
    video_seconds: float = 2.0
    seed: int = 0
    train: bool = True  # train and evaluate the default segmentation model on the AS-OCT phantom
    model: str = "unet-lite"
    epochs: int = 60
    train_budget_s: float = 210.0
    spur: bool = True  # train and evaluate the two-stage scleral-spur model
    spur_epochs: int = 50
    spur_budget_s: float = 120.0
    spur_refine_steps: int = 1200
    cornea: bool = True  # train the light cornea model on the surgical phantom, then segment a phantom video
    cornea_budget_s: float = 75.0
    cornea_video_seconds: float = 4.0
    cornea_onnx: bool = True  # also export it to ONNX and run the video with ONNX Runtime (when installed)
    quick: bool = False  # every step with tiny data and budgets (a smoke test, about a minute on 2 cores)

    def resolved(self) -> DemoConfig:
        """The settings actually run: ``quick`` shrinks the data and the training budgets."""
        if not self.quick:
            return self
        return replace(
            self, n_asoct=min(self.n_asoct, 12), size=(426, 200), videos=2, frames_per_video=2, video_seconds=1.0,
            epochs=2, train_budget_s=20.0, spur_epochs=2, spur_budget_s=15.0, spur_refine_steps=20,
            cornea_budget_s=8.0, cornea_video_seconds=1.0, cornea_onnx=False,
        )  # fmt: skip


@dataclass
class DemoResult:
    asoct: Path
    surgical: Path
    reports: dict[str, ValidationReport] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    evaluation: dict | None = None
    spur_evaluation: dict | None = None
    biometry: dict | None = None
    cornea: dict | None = None


def _prepare(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise AntsegInputError(out, "exists, is not empty and was not made by antseg demo")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by antseg demo; safe to delete\n")


def run_demo(cfg: DemoConfig, log=print) -> DemoResult:
    """Phantom -> source formats (LabelMe, Supervisely) -> import -> validate -> split, timing each step."""
    cfg = cfg.resolved()
    out = Path(cfg.out)
    _prepare(out)
    t: dict[str, float] = {}

    def step(name: str, fn):
        t0 = time.perf_counter()
        r = fn()
        t[name] = time.perf_counter() - t0
        log(f"  {name:<34} {t[name]:6.1f} s")
        return r

    log(f"AS-OCT: {cfg.n_asoct} phantom scans of {cfg.size[0]}x{cfg.size[1]} px")
    pcfg = AsoctPhantomConfig(n=cfg.n_asoct, seed=cfg.seed, size=cfg.size)
    step(
        "phantom as LabelMe (jpg + json)",
        lambda: write_phantom(pcfg, out / "source-labelme", "labelme", image_format="jpg"),
    )
    spacing = tuple(pcfg.spacing)  # resolved by the generator
    step(
        "import labelme",
        lambda: run_importer("labelme", out / "source-labelme", out / "asoct", ImportOptions(spacing=spacing)),
    )
    asoct = load_dataset(out / "asoct")
    shutil.copyfile(out / "source-labelme" / SOURCE_REFERENCE_BIOMETRY, out / "asoct" / REFERENCE_BIOMETRY)
    asoct.manifest.reference_biometry = REFERENCE_BIOMETRY
    asoct.save()
    step("split 70/15/15 by patient", lambda: split_dataset(out / "asoct", SplitConfig()))
    reports = {"asoct": step("validate", lambda: validate_dataset(out / "asoct"))}

    log(f"Surgical: {cfg.videos} videos x {cfg.frames_per_video} frames, {cfg.video_seconds:g} s mp4 each")
    scfg = SurgicalPhantomConfig(
        videos=cfg.videos,
        frames_per_video=cfg.frames_per_video,
        seed=cfg.seed,
        video_seconds=cfg.video_seconds,
    )
    step("phantom (frames, Supervisely, mp4)", lambda: write_phantom(scfg, out / "phantom-surgical"))
    policy = LabelPolicy.from_cli(None, None, ["Cornea"])
    step(
        "import supervisely --keep Cornea",
        lambda: run_importer(
            "supervisely",
            out / "phantom-surgical" / "supervisely",
            out / "surgical",
            ImportOptions(policy=policy),
        ),
    )
    step("split 80/20 by video", lambda: split_dataset(out / "surgical", SplitConfig(ratios=(0.8, 0.2, 0.0))))
    reports["surgical"] = step("validate", lambda: validate_dataset(out / "surgical"))
    evaluation = None
    if cfg.train:
        from antseg.evaluation import evaluate_segmentation
        from antseg.training import TrainConfig, train_segmentation

        tcfg = TrainConfig(
            model=cfg.model,
            epochs=cfg.epochs,
            time_budget_s=cfg.train_budget_s,
            seed=cfg.seed,
            lr=2e-3 if cfg.model == "unet-lite" else 1e-3,
        )
        log(f"Segmentation: {cfg.model} on {out / 'asoct'} ({cfg.epochs} epochs, at most {cfg.train_budget_s:.0f} s)")
        step("train", lambda: train_segmentation(out / "asoct", out / "runs" / "seg", tcfg, log=lambda s: None))
        evaluation = step(
            "evaluate on the test split",
            lambda: evaluate_segmentation(out / "runs" / "seg", out / "asoct", out / "runs" / "seg" / "eval-test"),
        )
    spur_eval = bio = None
    if cfg.train and cfg.spur:
        from antseg.evaluation import evaluate_spurs
        from antseg.training import TrainConfig
        from antseg.training.spurs import SpurConfig, train_spurs

        scfg = TrainConfig(
            model="unet-lite", epochs=cfg.spur_epochs, time_budget_s=cfg.spur_budget_s, seed=cfg.seed, lr=2e-3
        )
        log(
            f"Scleral spurs: two-stage model ({cfg.spur_epochs} epochs, at most {cfg.spur_budget_s:.0f} s, "
            "then refinement)"
        )
        spur = SpurConfig(refine_steps=cfg.spur_refine_steps)
        step(
            "train spur model",
            lambda: train_spurs(out / "asoct", out / "runs" / "spur", scfg, spur, log=lambda s: None),
        )
        spur_eval = step(
            "evaluate spurs on the test split",
            lambda: evaluate_spurs(out / "runs" / "spur", out / "asoct", out / "runs" / "spur" / "eval-test"),
        )
        from antseg.scan.biometry import predicted_biometry

        bio = step(
            "biometry of the test scans",
            lambda: predicted_biometry(
                out / "runs" / "seg", out / "runs" / "spur", out / "asoct", out / "biometry-test"
            ),
        )
    cornea = _cornea_steps(cfg, out, step, log) if cfg.train and cfg.cornea else None
    return DemoResult(out / "asoct", out / "surgical", reports, t, evaluation, spur_eval, bio, cornea)


def _onnx_available() -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxscript", "onnxruntime"))


def _cornea_steps(cfg: DemoConfig, out: Path, step, log) -> dict:
    """Train the light cornea recipe on the surgical phantom, then segment a phantom video of an unseen eye end
    to end (decode, infer, write) and score every frame against its exact cornea polygon."""
    from antseg.evaluation.video import phantom_video, video_dice
    from antseg.inference.video_stream import VideoOptions, predict_video
    from antseg.training import train_segmentation
    from antseg.training.config import resolve_train_config

    run = out / "runs" / "cornea"
    tcfg = resolve_train_config(recipe="cornea-lite", time_budget_s=cfg.cornea_budget_s, seed=cfg.seed)
    log(f"Cornea: cornea-lite on {out / 'surgical'} (at most {cfg.cornea_budget_s:.0f} s), then a phantom video")
    res = step("train cornea-lite", lambda: train_segmentation(out / "surgical", run, tcfg, log=lambda s: None))
    models = [("PyTorch", run)]
    if cfg.cornea_onnx and _onnx_available():
        from antseg.export import export_onnx

        exp = step("export ONNX", lambda: export_onnx(run, run / "cornea.onnx"))
        models.insert(0, ("ONNX Runtime", exp.path))
    video = step(
        "phantom video (unseen eye)",
        lambda: phantom_video(out / "phantom-surgical" / "eval.mp4", 1000 + cfg.seed, cfg.cornea_video_seconds),
    )
    rows = []
    for name, weights in models:
        dest = out / "video" / ("onnx" if name == "ONNX Runtime" else "pytorch")
        run_video = partial(predict_video, weights, video.path, dest, VideoOptions())
        r = step(f"segment the video ({name})", run_video)
        rows.append({"backend": name, "frames": r.frames, "fps": r.fps, **video_dice(dest, video),
                     "stage_ms": r.stage_ms, "out": str(dest)})  # fmt: skip
    return {"val_dice": res.best_score, "epochs": res.epochs_done, "video": str(video.path), "runs": rows}
