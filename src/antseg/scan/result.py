"""What the per-scan pipeline returns: masks, spurs, and every measure with a status and its reasons."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

#: A measure's status. ``ok``: no check found a reason to doubt it. ``check``: a value, but a check found a reason
#: to look at the scan before using it (the reasons say which). ``not measured``: no value (the reasons say why).
OK, CHECK, NOT_MEASURED = "ok", "check", "not measured"
STATUSES = (OK, CHECK, NOT_MEASURED)


@dataclass
class Measure:
    """One measure of one scan.

    Attributes:
        value: mm or mm2 (NaN when not measured).
        status: :data:`OK`, :data:`CHECK` or :data:`NOT_MEASURED`.
        reasons: why it is not ok (empty when ok).
        mirror: how far the value measured on the mirrored scan lies from the one on the scan itself (same unit;
            NaN when either could not be measured or the mirror pass was off): an uncertainty.
    """

    value: float
    status: str = OK
    reasons: list[str] = field(default_factory=list)
    mirror: float = math.nan

    def doubt(self, reason: str) -> None:
        """Mark the value for checking, with ``reason`` (a measure without a value stays not measured)."""
        if self.status == OK:
            self.status = CHECK
        if reason not in self.reasons:
            self.reasons.append(reason)

    def drop(self, reason: str) -> None:
        """Withdraw the value: not measured, because of ``reason``."""
        self.value, self.status = math.nan, NOT_MEASURED
        self.reasons = [reason]


@dataclass
class Repair:
    """One change the anatomical-consistency step made to a mask.

    Attributes:
        structure: the mask changed.
        action: what was done (``filled holes``, ``removed islands``, ...).
        pixels: how many pixels changed.
        area_mm2: their area (None without a spacing).
        changed: (H, W) bool, the pixels changed (kept for the quality checks; not written anywhere).
    """

    structure: str
    action: str
    pixels: int
    area_mm2: float | None = None
    changed: np.ndarray | None = field(default=None, repr=False)

    def text(self) -> str:
        size = f"{self.area_mm2:.3f} mm2" if self.area_mm2 is not None else f"{self.pixels} px"
        return f"{self.structure.replace('_', ' ')}: {self.action} ({size})"


@dataclass
class ScanResult:
    """Everything the pipeline found in one scan.

    Attributes:
        name: the scan's name (file name, or what the caller gave).
        image: the (H, W) grey scan the models saw (kept for drawing; drop the result to free it).
        structures: mask order.
        masks: (N, H, W) uint8 {0, 1}, after the consistency repairs.
        spurs: landmark -> {"x", "y" (px or None), "confidence", "visible", "moved_mm", "model_x", "model_y",
            "mirror_mm" (distance to the spur found on the mirrored scan, NaN when not compared)}.
        measures: measure column -> :class:`Measure` (every column of ``antseg.anatomy.MEASURES``; empty when
            no spacing is known).
        warnings: sentences a reader must see before trusting this scan.
        repairs: what the consistency step changed.
        in_domain: False when the image does not look like a full anterior-segment B-scan (no measures then).
        spacing: (x, y) mm per pixel used (None when unknown).
        seconds: wall time of each step.
    """

    name: str
    image: np.ndarray
    structures: list[str]
    masks: np.ndarray
    spurs: dict[str, dict]
    measures: dict[str, Measure]
    warnings: list[str]
    repairs: list[Repair]
    in_domain: bool
    spacing: tuple[float, float] | None
    seconds: dict[str, float] = field(default_factory=dict)

    def mask(self, structure: str) -> np.ndarray | None:
        """The (H, W) mask of ``structure`` (None when the model has no such structure)."""
        return self.masks[self.structures.index(structure)] if structure in self.structures else None

    @property
    def mask_dict(self) -> dict[str, np.ndarray]:
        return dict(zip(self.structures, self.masks, strict=True))

    @property
    def values(self) -> dict[str, float]:
        return {k: m.value for k, m in self.measures.items()}

    @property
    def statuses(self) -> dict[str, str]:
        return {k: m.status for k, m in self.measures.items()}

    @property
    def reasons(self) -> dict[str, str]:
        """measure -> its reasons joined (only measures that are not ok)."""
        return {k: "; ".join(m.reasons) for k, m in self.measures.items() if m.reasons}

    @property
    def spur_points(self) -> dict[str, tuple[float, float] | None]:
        return {n: (p["x"], p["y"]) if p.get("visible") and p.get("x") is not None else None
                for n, p in self.spurs.items()}  # fmt: skip
