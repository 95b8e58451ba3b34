"""The work of ``predict``, ``biometry`` and ``report`` on one scan, as a task any backend can run
(:mod:`antseg.batch`): in this process, in a local worker process or on a cluster's worker.

A task carries a :class:`PipelineSpec` (what each worker loads once) and returns a
:class:`~antseg.batch.runner.Done`: the files drawn for the scan, encoded, and the numbers as plain JSON
(:mod:`antseg.scan.codec`). Paths are made absolute before they travel: a cluster's worker runs in another folder.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from antseg.batch.runner import Done, encode_image
from antseg.inference.outputs import area_rows, overlay
from antseg.io.images import read_image
from antseg.io.scan_meta import resolve_spacing, scan_metadata
from antseg.scan.codec import encode_result
from antseg.scan.config import ScanConfig
from antseg.scan.rows import draw, spur_values


def absolute(path: str | Path | None) -> str | None:
    """A model argument as a worker elsewhere must get it: a path made absolute, a name (``default``) kept."""
    if path is None:
        return None
    p = Path(path).expanduser()
    return os.path.abspath(p) if p.exists() else str(path)


@dataclass(frozen=True)
class PipelineSpec:
    """The models a worker loads once: a :class:`~antseg.scan.ScanPipeline` (``asoct``), or the segmentation
    model alone (images of another kind, such as surgical frames)."""

    weights: str | None
    spurs: str | None
    config: ScanConfig
    device: str = "auto"
    use: str = "AS-OCT measurement"
    asoct: bool = True

    @classmethod
    def of(cls, weights, spurs, config: ScanConfig, device: str = "auto", use: str = "AS-OCT measurement",
           asoct: bool = True) -> PipelineSpec:  # fmt: skip
        return cls(absolute(weights), absolute(spurs), config, device, use, asoct)

    def build(self) -> Any:
        from antseg.inference.onnx_predictor import load_predictor
        from antseg.scan.pipeline import ScanPipeline

        if not self.asoct:
            return load_predictor(self.weights, self.device)
        return ScanPipeline(self.weights, self.spurs, self.config, self.device, use=self.use)


@dataclass(frozen=True)
class ScanItem:
    """One scan to process: its file, the spacing to measure it with (None: the model's) and notes about that."""

    path: str
    spacing: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()

    @property
    def stem(self) -> str:
        return Path(self.path).stem

    @property
    def name(self) -> str:
        return Path(self.path).name


@dataclass(frozen=True)
class PredictTask:
    """``predict`` on one image: masks and an overlay in ``<stem>/``, and its rows of ``areas.csv``,
    ``spurs.csv`` and ``quality.csv`` (AS-OCT) or ``areas.csv`` (another model)."""

    spec: PipelineSpec
    given: tuple[float, float] | None = None  # --spacing

    def run(self, model: Any, item: ScanItem) -> Done:
        return _predict_scan(model, item, self.given) if self.spec.asoct else _predict_image(model, item)


def _predict_scan(pipe, item: ScanItem, given) -> Done:
    f = Path(item.path)
    spacing = resolve_spacing(scan_metadata(f), given, pipe.spacing)[0]
    res = pipe.run(read_image(f), name=f.name, spacing=spacing)
    files = _mask_files(res.masks, res.structures)
    files["overlay.png"] = encode_image(overlay(res.image, res.masks, res.structures, spurs=res.spurs))
    areas = area_rows(f.name, res.masks, res.structures, spacing) if res.structures else []
    spur_rows = [{"image": f.name, "landmark": n, **spur_values(v)} for n, v in res.spurs.items()]
    quality = [{"image": f.name, "in_domain": "yes" if res.in_domain else "no", "warnings": "; ".join(res.warnings),
                "repairs": "; ".join(r.text() for r in res.repairs)}]  # fmt: skip
    return Done(f.stem, files, {"areas": areas, "spurs": spur_rows, "quality": quality})


def _predict_image(pred, item: ScanItem) -> Done:
    f = Path(item.path)
    img = read_image(f, grayscale=pred.grayscale)
    masks = pred.predict(img).masks
    files = _mask_files(masks, pred.structures)
    files["overlay.png"] = encode_image(overlay(img, masks, pred.structures))
    spacing = resolve_spacing(scan_metadata(f), None, pred.spacing)[0]
    return Done(f.stem, files, {"areas": area_rows(f.name, masks, pred.structures, spacing)})


def _mask_files(masks, names: list[str]) -> dict[str, bytes]:
    return {f"{name}.png": encode_image(masks[k].astype("uint8") * 255) for k, name in enumerate(names)}


@dataclass
class MeasureTask:
    """``biometry`` and ``report`` on one scan: the drawn measures as ``overlays/<stem>.<fmt>`` and the result's
    numbers (:func:`~antseg.scan.codec.encode_result`), from which the tables are made.

    Attributes:
        fmt: ``.png`` (biometry) or ``.jpg`` (report).
        keep: in this process only, called with (file, result) while the result still has its pixels (``report
            --dicom-out`` writes each scan's DICOM SEG and SR there); a task with one cannot travel.
    """

    spec: PipelineSpec
    fmt: str = ".png"
    keep: Callable[[Path, Any], None] | None = None

    def __getstate__(self) -> dict:
        if self.keep is not None:
            raise RuntimeError("a task with a keep callback runs in the process that owns it")
        return self.__dict__

    def key(self, item: ScanItem) -> str:
        return f"overlays/{item.stem}{self.fmt}"

    def run(self, pipe, item: ScanItem) -> Done:
        f = Path(item.path)
        res = pipe.run(read_image(f), name=f.name, spacing=item.spacing or pipe.spacing)
        res.warnings += list(item.notes)
        if self.keep is not None:
            self.keep(f, res)
        t1 = time.perf_counter()
        data = encode_image(draw(res), self.fmt)
        record = {"result": encode_result(res), "overlay_s": time.perf_counter() - t1}
        return Done(self.key(item), {f.name: data}, record, folder=False)


def scan_items(scans: list) -> list[ScanItem]:
    """:class:`ScanItem` of each :class:`~antseg.scan.inputs.ScanInput`, paths made absolute."""
    return [ScanItem(os.path.abspath(s.path), s.spacing, tuple(s.notes)) for s in scans]


def model_header(kind: str, pipe, config: ScanConfig) -> dict:
    """What every scan's result of a resumable run depends on: the models (by path and by content) and the
    pipeline's settings. A run resumed with another of these is refused (:class:`~antseg.io.resumable.ResumableDir`)."""
    from antseg.config import config_to_dict
    from antseg.io.digest import file_sha256

    seg = None if pipe.seg is None else pipe.seg.checkpoint.path
    spur = None if pipe.spur is None else pipe.spur.checkpoint_path
    return {
        "kind": kind,
        "weights": None if seg is None else str(Path(seg).resolve()),
        "spurs": None if spur is None else str(Path(spur).resolve()),
        "scan_config": config_to_dict(config),
        "weights_sha256": None if seg is None else file_sha256(seg),
        "spurs_sha256": None if spur is None else file_sha256(spur),
    }
