"""The per-scan AS-OCT pipeline (see :mod:`antseg.scan`): models loaded once, then one call per scan."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from antseg import checks
from antseg.anatomy import ANTERIOR_CHAMBER, LENS, SIDES, mirror_name, spur_name
from antseg.biometry.measure import measure
from antseg.inference.onnx_predictor import load_predictor
from antseg.inference.spur_wall import MAX_OFF_WALL_MM, constrain_spurs
from antseg.inference.spurs import SpurPredictor
from antseg.io.images import to_grey
from antseg.models.checkpoint import require_modality
from antseg.preprocessing import flip_pairs
from antseg.scan.config import ScanConfig
from antseg.scan.quality import (
    anatomy_problems,
    image_problems,
    judge_measures,
    spacing_hint,
    spur_doubts,
    spur_far_from_angle,
)
from antseg.scan.reflection import bridge, reflection_bands
from antseg.scan.repair import repair_masks
from antseg.scan.result import Measure, ScanResult

#: A spur further than this (mm) from the predicted chamber is off the angle wall it sits on: a warning.
SPUR_OFF_CHAMBER_MM = 0.5
#: The chamber's centre further than this fraction of the width from the scan's centre: anatomy off-centre.
OFF_CENTRE_FRACTION = 0.12


class ScanPipeline:
    """Segment, repair, find the spurs, measure and check one AS-OCT scan at a time.

    Args:
        weights: segmentation model (run folder, checkpoint, ``.onnx`` or ``default``, or an already loaded
            predictor); None: spurs only.
        spurs: spur model (run folder, ``spur.pt`` or ``default``); None: masks (and spur-free measures) only.
        config: how scans are processed (:class:`~antseg.scan.config.ScanConfig`).
        device: ``auto``, ``cpu`` or ``cuda[:k]``.
        use: what the pipeline serves (``report``, ``biometry``), named when a model of another modality (a
            surgical-video model) is refused.

    Example:
        >>> pipe = ScanPipeline("default", "default")
        >>> res = pipe.run(read_image("scan.jpg"), name="scan.jpg")
        >>> res.measures["acd_mm"].value, res.measures["acd_mm"].status
    """

    def __init__(
        self,
        weights: str | Path | None = None,
        spurs: str | Path | None = None,
        config: ScanConfig | None = None,
        device: str = "auto",
        use: str = "AS-OCT measurement",
    ) -> None:
        if weights is None and spurs is None:
            raise ValueError("a pipeline needs a segmentation model, a spur model or both")
        self.config = config or ScanConfig()
        loaded = hasattr(weights, "predict")
        self.seg = weights if loaded else load_predictor(weights, device) if weights is not None else None
        self.spur = SpurPredictor(spurs, device) if spurs is not None else None
        if self.seg is not None and hasattr(self.seg, "checkpoint"):
            require_modality(self.seg.meta, self.seg.checkpoint.path, "asoct", use)
        if self.spur is not None:
            require_modality(self.spur.meta, self.spur.checkpoint_path, "asoct", use)
        spacing = checks.spacing(self.config.spacing) if self.config.spacing is not None else None
        self.spacing: tuple[float, float] | None = spacing or (self.seg.spacing if self.seg is not None else None)
        self.structures: list[str] = list(self.seg.structures) if self.seg is not None else []
        self.flip = flip_pairs(self.structures)
        self._spacing = self.spacing
        self.wall_mm = MAX_OFF_WALL_MM if self.config.spur_wall_mm is None else float(self.config.spur_wall_mm)

    # -- the steps ----------------------------------------------------------------------------------------------
    def probabilities(self, image: np.ndarray, grey: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, H, W) probabilities of the scan and (when ``mirror``) of the mirrored scan, mapped back."""
        x = grey if self.seg.grayscale else (image if image.ndim == 3 else np.repeat(grey[..., None], 3, axis=2))
        own = self.seg.predict(x).probs
        if not self.config.mirror:
            return own, None
        flipped = self.seg.predict(np.ascontiguousarray(x[:, ::-1])).probs
        return own, np.ascontiguousarray(flipped[self.flip][:, :, ::-1])

    def _masks(self, probs: np.ndarray, bands: list[tuple[int, int]]) -> tuple[dict[str, np.ndarray], list]:
        if bands:
            probs = bridge(probs, bands)
        masks = dict(zip(self.structures, (probs > self.seg.threshold).astype(np.uint8), strict=True))
        return repair_masks(masks, self._spacing) if self.config.repair else (masks, [])

    def _spurs(self, grey: np.ndarray) -> tuple[dict[str, dict], dict[str, dict] | None]:
        own = self.spur.predict(grey)
        if not self.config.mirror:
            return own, None
        w = grey.shape[1]
        flipped = self.spur.predict(np.ascontiguousarray(grey[:, ::-1]))
        back = {}
        for name, p in flipped.items():
            q = dict(p)
            if q.get("x") is not None:
                q["x"] = float(w - 1 - q["x"])
            back[mirror_name(name)] = q
        return own, back

    def _walled(self, points: dict[str, dict], masks: dict[str, np.ndarray]) -> dict[str, dict]:
        return constrain_spurs(points, masks, self._spacing, self.wall_mm)

    def _measure(self, masks, spurs) -> tuple[dict, dict, dict]:
        xy = {n: (p["x"], p["y"]) if p.get("visible") and p.get("x") is not None else None for n, p in spurs.items()}
        details: dict = {}
        values, reasons = measure(masks, xy, self._spacing, details=details)
        return values, reasons, details

    # -- one scan -----------------------------------------------------------------------------------------------
    def run(self, image: np.ndarray, name: str = "scan", spacing: tuple[float, float] | None = None) -> ScanResult:
        """One scan ((H, W) grey or (H, W, 3) RGB uint8; colour is only looked at by the checks).

        Args:
            spacing: (x, y) mm per pixel of this scan (None: the pipeline's).
        """
        self._spacing = checks.spacing(spacing) if spacing is not None else self.spacing
        try:
            return self._run(image, name)
        finally:
            self._spacing = self.spacing

    def _run(self, image: np.ndarray, name: str) -> ScanResult:
        t = {"start": time.perf_counter()}
        grey = to_grey(image)
        problems = image_problems(image)
        masks: dict[str, np.ndarray] = {}
        repairs: list = []
        mirror_masks = own_masks = None
        if self.seg is not None:
            own, flipped = self.probabilities(image, grey)
            bands = reflection_bands(grey) if self.config.bridge_reflection else []
            final = own if flipped is None else (own + flipped) / 2
            masks, repairs = self._masks(final, bands)
            if flipped is not None and self._spacing is not None:
                own_masks, mirror_masks = self._masks(own, bands)[0], self._masks(flipped, bands)[0]
        t["segment"] = time.perf_counter()
        spurs: dict[str, dict] = {}
        own_pts: dict[str, dict] = {}
        mirror_pts: dict[str, dict] | None = None
        if self.spur is not None:
            own_pts, mirror_pts = self._spurs(grey)
            spurs = constrain_spurs(own_pts, masks, self._spacing, self.wall_mm) if masks else _unchecked(own_pts)
            for n, p in spurs.items():
                q = (mirror_pts or {}).get(n)
                p["mirror_mm"] = _distance_mm(p, q, self._spacing)
        mirror_pts = mirror_pts if mirror_pts is not None else own_pts
        t["spurs"] = time.perf_counter()
        measures: dict[str, Measure] = {}
        anatomy = anatomy_problems(masks, self._spacing, spurs if self.spur is not None else None) if masks else []
        in_domain = not problems and not anatomy
        if self._spacing is not None and masks:
            values, reasons, details = self._measure(masks, spurs)
            mirror = {}
            if mirror_masks is not None:
                a = self._measure(own_masks, self._walled(own_pts, own_masks))[0]
                b = self._measure(mirror_masks, self._walled(mirror_pts, mirror_masks))[0]
                mirror = {k: abs(a[k] - b[k]) for k in a}
            measures = judge_measures(
                values, reasons, details, spurs, repairs, mirror, self.config.limits, LENS in masks
            )
            if not in_domain:
                why = "not measured: " + (problems + anatomy)[0]
                for m in measures.values():
                    m.drop(why)
        t["measure"] = time.perf_counter()
        warnings = problems + anatomy + self._warnings(masks, spurs, repairs, grey.shape)
        hint = spacing_hint(measures.get("acw_mm"), spurs, self.config.limits, self._spacing) if measures else None
        if hint:
            warnings.append(hint)
        steps = ["start", "segment", "spurs", "measure"]
        seconds = {b: t[b] - t[a] for a, b in zip(steps, steps[1:], strict=False)}
        stack = np.stack([masks[s] for s in self.structures]) if masks else np.zeros((0, *grey.shape), np.uint8)
        return ScanResult(
            name, grey, self.structures, stack, spurs, measures, warnings, repairs, in_domain, self._spacing, seconds
        )

    def _warnings(self, masks, spurs, repairs, shape) -> list[str]:
        out = []
        big = [r for r in repairs if r.area_mm2 is None or r.area_mm2 >= self.config.limits.repair_mm2]
        if big:
            out.append("masks repaired: " + "; ".join(r.text() for r in big))
        ac = masks.get(ANTERIOR_CHAMBER)
        if ac is not None and ac.any():
            w = shape[1]
            cx = float(np.flatnonzero(ac.any(axis=0)).mean())
            if abs(cx - w / 2) > OFF_CENTRE_FRACTION * w:
                out.append(f"anatomy off-centre: the chamber's centre is {abs(cx - w / 2) / w:.0%} of the width "
                           "from the middle")  # fmt: skip
        for side in SIDES:
            p = spurs.get(spur_name(side))
            if p is None:
                continue
            if not p["visible"]:
                out.append(f"{side} scleral spur not found (presence {p['confidence']:.2f}): its angle is not measured")
                continue
            out += [f"{d}: check it" for d in spur_doubts(p, side, self.config.limits)]
            said = spur_far_from_angle(p, self.config.limits)  # spur_doubts above said it
            if self._spacing and ac is not None and ac.any() and not said:
                d = _mask_distance_mm(ac, p["x"], p["y"], self._spacing)
                if d > SPUR_OFF_CHAMBER_MM:
                    out.append(f"{side} scleral spur lies {d:.2f} mm from the chamber, off the angle wall: check it")
        return out


def _unchecked(points: dict[str, dict]) -> dict[str, dict]:
    return {n: {**p, "moved_mm": math.nan, "model_x": p.get("x"), "model_y": p.get("y")} for n, p in points.items()}


def _distance_mm(p: dict, q: dict | None, spacing) -> float:
    if q is None or spacing is None or p.get("x") is None or q.get("x") is None:
        return math.nan
    if not (p.get("visible") and q.get("visible")):
        return math.nan
    x = p.get("model_x", p["x"]) if p.get("model_x") is not None else p["x"]
    y = p.get("model_y", p["y"]) if p.get("model_y") is not None else p["y"]
    return float(math.hypot((x - q["x"]) * spacing[0], (y - q["y"]) * spacing[1]))


def _mask_distance_mm(mask: np.ndarray, x: float, y: float, spacing: tuple[float, float]) -> float:
    """Distance (mm) from (x, y) pixels to the nearest nonzero pixel of ``mask``."""
    ys, xs = np.nonzero(mask)
    return float(np.hypot((xs - x) * spacing[0], (ys - y) * spacing[1]).min())
