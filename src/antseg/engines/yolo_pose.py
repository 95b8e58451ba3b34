"""Ultralytics YOLO11-pose as a landmark engine (name ``yolo11-pose``, extra ``antseg[yolo]``): the reference
project's scleral-spur baseline, trained and run in-process, offline.

``train``: export the dataset with antseg's ``yolo-pose`` exporter (two keypoints, ``flip_idx: [1, 0]``,
visibility 0 for an absent spur) into ``<run>/data``, write ``<run>/data.yaml`` with the exporter's OKS sigmas
as ``kpt_oks_sigmas`` (read by Ultralytics' pose loss, assigner and validator), build the model from a YAML
(``yolo11n-pose.yaml``, shipped inside the package: no download) or from user-supplied weights (loaded in
Ultralytics' safe mode: a file holding anything but model classes and tensors is refused unless
``EngineConfig.trust_weights``, the CLI's ``--trust-weights``), and train on
the train split (val: validation and best-epoch selection). Everything Ultralytics writes stays in the run
folder; see :mod:`antseg.engines.ultralytics_env` for how it is kept offline.
``load``: the best weights in an in-process predictor; the top detection's keypoints, already in original
pixels, become antseg's spur table (absent when the keypoint's confidence is below ``kpt_conf`` or when no
detection passes ``conf``).

Options (``EngineConfig.options``): ``model`` (a model YAML, default ``yolo11n-pose.yaml``; the scale letter
n/s/m/l/x picks the size), ``weights`` (a ``.pt`` file on disk: initial weights), ``imgsz`` (640), ``batch``
(16), ``workers`` (0 on CPU, 8 on CUDA), ``conf`` (0.25: detection threshold), ``kpt_conf`` (0.5: keypoint
visibility threshold), and any Ultralytics train setting (``mosaic``, ``lr0``, ``patience``, ...).
Ultralytics is AGPL-3.0: it is imported only inside these methods, never by antseg's core.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from antseg import checks
from antseg.config import load_options
from antseg.engines.base import Engine, EngineConfig, EngineOutput, EnginePredictor
from antseg.engines.registry import register_engine
from antseg.engines.ultralytics_env import refused_weights, ultralytics_env
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_write_text


@dataclass
class YoloPoseOptions:
    """antseg's own YOLO11-pose settings (``--option yolo11-pose.KEY=VALUE``), checked as they are made; any other
    key is an Ultralytics train setting, passed through.

    Attributes:
        model: the model YAML (or a ``.pt`` to build from).
        weights: initial weights file (nothing is downloaded).
        imgsz: network input side in pixels.
        batch: batch size.
        workers: data-loader processes (default: 0 on the CPU, 8 on a GPU).
        conf: box confidence threshold at inference.
        kpt_conf: a keypoint below this visibility is absent.
    """

    model: str = "yolo11n-pose.yaml"
    weights: str | None = None
    imgsz: int = 640
    batch: int = 16
    workers: int | None = None
    conf: float = 0.25
    kpt_conf: float = 0.5

    def __post_init__(self) -> None:
        self.imgsz = checks.integer(self.imgsz, "--option yolo11-pose.imgsz", minimum=32, maximum=checks.MAX_SIDE)
        self.batch = checks.count(self.batch, "--option yolo11-pose.batch")
        if self.workers is not None:
            self.workers = checks.integer(self.workers, "--option yolo11-pose.workers", minimum=0)
        for key in ("conf", "kpt_conf"):
            setattr(self, key, checks.fraction(getattr(self, key), f"--option yolo11-pose.{key}"))


#: Train settings antseg sets itself (from EngineConfig or the run folder); the rest pass through.
RESERVED = {"data", "project", "name", "exist_ok", "device", "epochs", "time", "seed", "model", "plots", "amp", "mode"}
META = "yolo.json"
CONFIG_DIR = "ultralytics"


def ultralytics_device(device: str) -> str:
    """antseg device (``auto``, ``cpu``, ``cuda``, ``cuda:k``), resolved by antseg's one resolver
    (:func:`antseg.checks.resolve_device`), spelled as Ultralytics spells it (``cpu``, ``0``, ``k``)."""
    dev = checks.resolve_device(device)
    return "cpu" if dev.type == "cpu" else str(dev.index or 0)


def _options(cfg: EngineConfig) -> tuple[YoloPoseOptions, dict[str, Any]]:
    """(antseg's options, pass-through Ultralytics train settings); unknown keys are an input error."""
    from ultralytics.cfg import DEFAULT_CFG_DICT

    own = {f.name for f in fields(YoloPoseOptions)}
    extra = {k: v for k, v in cfg.options.items() if k not in own}
    bad = sorted(k for k in extra if k not in DEFAULT_CFG_DICT or k in RESERVED)
    for k, v in extra.items():  # CLI values arrive as YAML scalars ("1e-3" stays text)
        default = DEFAULT_CFG_DICT.get(k)
        if isinstance(v, str) and isinstance(default, int | float) and not isinstance(default, bool):
            try:
                extra[k] = type(default)(float(v)) if isinstance(default, int) else float(v)
            except ValueError:
                bad.append(k)
    if bad:
        raise AntsegInputError(
            None, f"unknown yolo11-pose option(s) {', '.join(bad)}; valid: {', '.join(sorted(own))} "
            "and Ultralytics train settings (except those the benchmark sets: epochs, time, device, seed, data)",
        )  # fmt: skip
    opts = load_options(YoloPoseOptions, {k: v for k, v in cfg.options.items() if k in own}, "yolo11-pose")
    return opts, extra


def weights_file(value: str | Path | None) -> Path | None:
    """A user-supplied weights file that must be on disk (antseg never downloads one)."""
    if value in (None, ""):
        return None
    path = Path(str(value)).expanduser()
    if not path.is_file():
        raise AntsegInputError(
            path, "weights file not found (nothing is downloaded: fetch it yourself and pass its path)"
        )
    return path.resolve()


def build_model(model: str, weights: Path | None):
    """An Ultralytics pose model: from weights only (``*.pt``), or from a YAML, then loading ``weights``.

    Call inside :func:`ultralytics_env`: weights files load in Ultralytics' safe mode unless the user trusts them.
    """
    from ultralytics import YOLO

    if str(model).endswith(".pt"):
        path = weights_file(model)
        return load_weights(path, lambda: YOLO(str(path), task="pose"))
    try:
        net = YOLO(str(model), task="pose")
    except FileNotFoundError:
        raise AntsegInputError(model, "no such model YAML in Ultralytics or on disk (e.g. yolo11n-pose.yaml)") from None
    return load_weights(weights, lambda: net.load(str(weights))) if weights is not None else net


def load_weights(path: Path, load: Callable[[], Any]) -> Any:
    """``load()`` (an Ultralytics call that reads ``path``), with a safe-mode refusal as a one-line input error."""
    try:
        return load()
    except TypeError as exc:
        refusal = refused_weights(path, exc)
        if refusal is None:
            raise
        raise refusal from None


def write_data_yaml(dataset: str | Path, folder: Path) -> Path:
    """Export the train/val cases as Ultralytics pose data into ``folder``; returns the data YAML to train on."""
    from antseg.data.exporters import run_exporter

    data = folder / "data"
    if data.exists():
        shutil.rmtree(data)
    run_exporter("yolo-pose", dataset, data, image_format="keep")
    doc = yaml.safe_load((data / "data.yaml").read_text(encoding="utf-8"))
    if "train" not in doc:
        raise AntsegInputError(dataset, "yolo11-pose needs cases in the 'train' split")
    for split in [s for s in doc if s not in ("train", "val") and (data / "images" / s).is_dir()]:
        shutil.rmtree(data / "images" / split)  # the scored split is never seen by training
        shutil.rmtree(data / "labels" / split, ignore_errors=True)
        doc.pop(split)
    doc["val"] = doc.get("val", doc["train"])
    doc["path"] = str(data.resolve())
    doc["kpt_oks_sigmas"] = list(doc["kpt_sigmas"])  # the exporter's sigmas: OKS = 0.5 at a 20 px error
    out = folder / "data.yaml"
    atomic_write_text(out, yaml.safe_dump(doc, sort_keys=False))
    return out


def landmarks_from_keypoints(
    names: list[str], xy: np.ndarray, kpt_conf: np.ndarray | None, box_conf: np.ndarray, min_conf: float
) -> tuple[dict[str, tuple[float, float] | None], dict[str, float]]:
    """The top detection's keypoints as antseg landmarks.

    Args:
        names: landmark names in keypoint order.
        xy: (n, K, 2) keypoints of the n detections, original pixels.
        kpt_conf: (n, K) keypoint confidences (None: all visible).
        box_conf: (n,) detection confidences.
        min_conf: keypoints below this confidence are absent.
    Returns:
        (name -> (x, y) or None, name -> keypoint confidence); every landmark absent (confidence 0) when n = 0.
    """
    if len(box_conf) == 0:
        return {n: None for n in names}, {n: 0.0 for n in names}
    best = int(np.argmax(box_conf))
    conf = np.ones(len(names)) if kpt_conf is None else np.asarray(kpt_conf[best], float)
    marks = {
        n: (float(xy[best, k, 0]), float(xy[best, k, 1])) if conf[k] >= min_conf else None for k, n in enumerate(names)
    }
    return marks, {n: float(conf[k]) for k, n in enumerate(names)}


def landmarks_from_result(
    res, names: list[str], min_conf: float
) -> tuple[dict[str, tuple[float, float] | None], dict[str, float]]:
    """An Ultralytics pose ``Results`` (keypoints in original pixels) -> :func:`landmarks_from_keypoints`."""
    kp, boxes = res.keypoints, res.boxes
    if kp is None or boxes is None or len(boxes) == 0:
        return landmarks_from_keypoints(names, np.zeros((0, len(names), 2)), None, np.zeros(0), min_conf)
    kconf = kp.conf.cpu().numpy() if kp.conf is not None else None
    return landmarks_from_keypoints(names, kp.xy.cpu().numpy(), kconf, boxes.conf.cpu().numpy(), min_conf)


@register_engine("yolo11-pose")
class YoloPoseEngine(Engine):
    """YOLO11-pose: one detection per scan (the anterior segment) with the two scleral spurs as keypoints."""

    tasks = ("landmarks",)
    extra = "yolo"
    package = "ultralytics"

    def __init__(self) -> None:
        self.check_available()

    def check_options(self, cfg: EngineConfig) -> None:
        """Known keys (antseg's and Ultralytics' train settings, read in a throw-away config folder) and antseg's
        own values in range."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="antseg-yolo-check-") as tmp, ultralytics_env(tmp):
            _options(cfg)

    def train(
        self, dataset: str | Path, run: str | Path, cfg: EngineConfig, log: Callable[[str], None] = print
    ) -> None:
        """Export, build and train; writes ``<run>/yolo.json`` and ``<run>/DONE``.

        Raises:
            MissingExtraError: ultralytics is not installed.
            AntsegInputError: unknown options, a weights file or model YAML not found, a bad device.
        """
        self.check_available()
        t0 = time.monotonic()
        run = Path(run).resolve()
        run.mkdir(parents=True, exist_ok=True)
        (run / "DONE").unlink(missing_ok=True)
        device = ultralytics_device(cfg.device)
        with ultralytics_env(run / CONFIG_DIR, trust_weights=cfg.trust_weights):
            opts, extra = _options(cfg)
            weights = weights_file(opts.weights)
            data = write_data_yaml(dataset, run)
            names = yaml.safe_load(data.read_text(encoding="utf-8"))["kpt_names"]
            model = build_model(opts.model, weights)
            cap = cfg.epochs

            def cap_epochs(trainer) -> None:  # with a time budget Ultralytics re-plans epochs: keep the cap
                if cap is not None and trainer.epoch + 1 >= cap:
                    trainer.stop = True

            model.add_callback("on_fit_epoch_end", cap_epochs)
            args = {
                "data": str(data), "epochs": cfg.epochs or 100, "imgsz": opts.imgsz,
                "batch": opts.batch, "device": device, "workers": 0 if device == "cpu" else 8,
                "amp": device != "cpu", "plots": False, "project": str(run), "name": "train", "exist_ok": True,
                "seed": cfg.seed, "deterministic": True, "verbose": False,
            }  # fmt: skip
            if opts.workers is not None:
                args["workers"] = opts.workers
            if cfg.budget_s > 0:
                args["time"] = cfg.budget_s / 3600.0
            log(f"yolo11-pose: training {opts.model}" + (f" from {weights}" if weights else " (no weights)"))
            model.train(**args, **extra)
            trainer = model.trainer
            best = Path(trainer.best if Path(trainer.best).is_file() else trainer.last)
            sigma = getattr(trainer.validator, "sigma", None)
        meta = {
            "landmarks": names, "weights": str(best.relative_to(run)), "imgsz": opts.imgsz,
            "conf": float(opts.conf), "kpt_conf": float(opts.kpt_conf), "model": opts.model,
            "init_weights": str(weights) if weights else None, "epochs_done": int(trainer.epoch) + 1,
            "oks_sigmas": None if sigma is None else [float(s) for s in np.ravel(sigma)],
            "train_seconds": round(time.monotonic() - t0, 1), "device": device, "ultralytics": _version(),
        }  # fmt: skip
        atomic_write_text(run / META, json.dumps(meta, indent=2) + "\n")
        atomic_write_text(run / "DONE", "")
        log(f"yolo11-pose: trained {meta['epochs_done']} epoch(s) in {meta['train_seconds']} s -> {best}")

    def load(self, run: str | Path, device: str = "auto") -> EnginePredictor:
        self.check_available()
        return YoloPosePredictor(Path(run), device)

    def check_weights(self, path: str | Path, cfg: EngineConfig) -> None:
        """The file exists and, unless ``cfg.trust_weights``, loads in Ultralytics' safe mode (nothing runs)."""
        super().check_weights(path, cfg)
        if cfg.trust_weights:
            return
        import tempfile

        path = Path(str(path)).expanduser()
        with tempfile.TemporaryDirectory(prefix="antseg-yolo-") as tmp, ultralytics_env(Path(tmp)):
            from ultralytics.nn.tasks import torch_safe_load

            load_weights(path, lambda: torch_safe_load(str(path), safe_only=True))


def _version() -> str:
    from importlib.metadata import version

    return version("ultralytics")


class YoloPosePredictor(EnginePredictor):
    """A trained YOLO11-pose run, in-process: one (H, W[, 3]) image -> the two spurs in original pixels."""

    structures: list[str] = []
    in_channels = 3

    def __init__(self, run: Path, device: str) -> None:
        try:
            self.meta = json.loads((run / META).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise AntsegInputError(run, f"not a trained yolo11-pose run ({type(exc).__name__})") from None
        weights = run / self.meta["weights"]
        if not weights.is_file():
            raise AntsegInputError(weights, "missing (training did not finish)")
        self.run = run
        self.device = ultralytics_device(device)
        self.landmarks = list(self.meta["landmarks"])
        with ultralytics_env(run / CONFIG_DIR):
            from ultralytics import YOLO

            self.model = load_weights(weights, lambda: YOLO(str(weights), task="pose"))
        self.n_parameters = sum(p.numel() for p in self.model.model.parameters())

    def predict(self, image: np.ndarray) -> EngineOutput:
        """(H, W) grey or (H, W, 3) RGB uint8 -> landmarks name -> (x, y) px or None, with keypoint confidences."""
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=2)
        if image.ndim != 3 or image.shape[2] != 3:
            raise AntsegInputError(None, f"image must be (H, W) or (H, W, 3), got {image.shape}")
        bgr = np.ascontiguousarray(image[..., ::-1])  # Ultralytics reads numpy images as BGR
        with ultralytics_env(self.run / CONFIG_DIR):
            res = self.model.predict(
                bgr, imgsz=self.meta["imgsz"], conf=self.meta["conf"], device=self.device, max_det=1, verbose=False
            )[0]
        marks, conf = landmarks_from_result(res, self.landmarks, self.meta["kpt_conf"])
        return EngineOutput(landmarks=marks, confidence=conf)
