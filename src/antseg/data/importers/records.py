"""What an importer finds and returns: annotations, source cases, options and the result (records only; the
pipeline that turns them into a dataset is :mod:`antseg.data.importers.pipeline`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from antseg import checks
from antseg.data.labels import LabelPolicy
from antseg.data.naming import compile_patient_regex
from antseg.data.schema import MODALITIES

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Shape:
    """One annotation: a polygon (with optional holes, ``rule`` 'pil' or 'cv2') or a point."""

    label: str
    kind: str  # "polygon" | "point"
    points: np.ndarray  # (K, 2) x, y pixels
    holes: list[np.ndarray] = field(default_factory=list)
    rule: str = "pil"


@dataclass
class SourceCase:
    """What an importer found for one case, before any pixel is read.

    Attributes:
        source: the annotation (or image) file, named in errors.
        image_path: the image file, or None when ``embedded`` holds it.
        embedded: (json file, key) holding base64 image data, read only when materialising.
        mask_files: source label -> binary mask file (mask-folder layouts).
        declared_size: (width, height) the annotation claims, checked against the image.
    """

    case_id: str
    source: Path
    image_path: Path | None = None
    embedded: tuple[Path, str] | None = None
    shapes: list[Shape] = field(default_factory=list)
    mask_files: dict[str, Path] = field(default_factory=dict)
    points: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    patient_id: str = ""
    eye: str = ""
    group: str = ""
    declared_size: tuple[int, int] | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def labels(self) -> set[str]:
        return {s.label for s in self.shapes} | set(self.mask_files) | set(self.points)


@dataclass
class ImportOptions:
    """Options common to every importer (the CLI flags of ``antseg data import``)."""

    policy: LabelPolicy = field(default_factory=LabelPolicy)
    name: str | None = None
    spacing: tuple[float, float] | None = None
    patient_regex: str | None = None  # None: the importer's default (CASIA names, Cataract-1K videos)
    modality: str | None = None  # None: the importer's default
    meta: Path | None = None  # CSV: case_id or image, plus any of patient_id, eye, group
    workers: int = 0  # 0: one per core
    overwrite: bool = False
    outside_tolerance_px: float = 5.0

    def __post_init__(self) -> None:
        """Check every value here, so a bad one is refused before any file is read (CLI and API alike)."""
        self.spacing = checks.spacing(self.spacing, "--spacing")
        self.workers = checks.integer(self.workers, "--workers", minimum=0)
        self.outside_tolerance_px = checks.number(self.outside_tolerance_px, "outside_tolerance_px", minimum=0)
        if self.patient_regex:
            compile_patient_regex(self.patient_regex)
        if self.modality is not None:
            checks.choice(self.modality, "--modality", MODALITIES)


@dataclass
class ImportResult:
    """What an import wrote.

    Attributes:
        unchanged: case ids still exactly the pre-labels ``antseg label`` wrote beside the source (LabelMe folders
            only: :mod:`antseg.data.prelabels`).
    """

    out: Path
    n_cases: int
    structures: list[str]
    landmarks: list[str]
    warnings: list[str]
    unchanged: list[str] = field(default_factory=list)
