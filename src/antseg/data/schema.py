"""Canonical dataset schema: manifest (``dataset.json``) and per-case rows (``cases.csv``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from antseg.anatomy import default_colour

MODALITIES = ("asoct", "surgical")
SPLITS = ("train", "val", "test", "")


@dataclass
class Structure:
    """A segmented structure; its mask is bit ``id - 1`` of the case's bitmask PNG."""

    name: str
    id: int
    color: tuple[int, int, int]


@dataclass
class Manifest:
    """Contents of ``dataset.json``."""

    name: str
    modality: str
    structures: list[Structure]
    landmarks: list[str]
    spacing_mm: tuple[float, float] | None = None  # (x, y) mm per pixel, when the whole set shares one
    groups: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    reference_biometry: str | None = None  # CSV of reference measurements, relative to the dataset
    format_version: int = 1

    @property
    def structure_names(self) -> list[str]:
        return [s.name for s in self.structures]

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "name": self.name,
            "modality": self.modality,
            "structures": [{"name": s.name, "id": s.id, "color": list(s.color)} for s in self.structures],
            "landmarks": [{"name": n, "color": list(default_colour(n, i))} for i, n in enumerate(self.landmarks)],
            "mask_encoding": {
                "type": "bitmask",
                "description": "masks/<case>.png: structure with id k is set where (value >> (k-1)) & 1",
                "dtype": mask_dtype(len(self.structures)),
            },
            "coordinate_convention": "pixels, origin top-left, pixel centres at integer coordinates",
            "spacing_mm": None if self.spacing_mm is None else {"x": self.spacing_mm[0], "y": self.spacing_mm[1]},
            "groups": self.groups,
            "reference_biometry": self.reference_biometry,
            "provenance": self.provenance,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Manifest:
        sp = d.get("spacing_mm")
        names = [s["name"] for s in d["structures"]]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"structure name(s) listed twice: {', '.join(map(str, twice))}")
        return cls(
            name=d["name"],
            modality=d["modality"],
            structures=[Structure(s["name"], int(s["id"]), tuple(s["color"])) for s in d["structures"]],
            landmarks=[lm["name"] for lm in d.get("landmarks", [])],
            spacing_mm=None if not sp else (float(sp["x"]), float(sp["y"])),
            groups=list(d.get("groups", [])),
            provenance=dict(d.get("provenance", {})),
            reference_biometry=d.get("reference_biometry"),
            format_version=int(d.get("format_version", 1)),
        )


def mask_dtype(n_structures: int) -> str:
    if n_structures > 16:
        raise ValueError(f"at most 16 structures fit a bitmask PNG, got {n_structures}")
    return "uint8" if n_structures <= 8 else "uint16"


BASE_COLUMNS = [
    "case_id",
    "patient_id",
    "eye",
    "group",
    "split",
    "fold",
    "image",
    "mask",
    "width",
    "height",
    "spacing_x",
    "spacing_y",
]


@dataclass
class Case:
    """One row of ``cases.csv``. Paths are relative to the dataset folder; coordinates in pixels."""

    case_id: str
    patient_id: str
    image: str
    width: int
    height: int
    mask: str = ""
    eye: str = ""
    group: str = ""
    split: str = ""
    fold: int | None = None
    spacing: tuple[float, float] | None = None
    landmarks: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)

    def to_row(self, landmark_names: list[str]) -> dict[str, str]:
        row = {
            "case_id": self.case_id,
            "patient_id": self.patient_id,
            "eye": self.eye,
            "group": self.group,
            "split": self.split,
            "fold": "" if self.fold is None else str(self.fold),
            "image": self.image,
            "mask": self.mask,
            "width": str(self.width),
            "height": str(self.height),
            "spacing_x": "" if self.spacing is None else repr(float(self.spacing[0])),
            "spacing_y": "" if self.spacing is None else repr(float(self.spacing[1])),
        }
        for name in landmark_names:
            pt = self.landmarks.get(name)
            row[f"{name}_x"] = "" if pt is None else _fmt(pt[0])
            row[f"{name}_y"] = "" if pt is None else _fmt(pt[1])
        row.update(self.extra)
        return row


def _fmt(v: float) -> str:
    return f"{float(v):.3f}".rstrip("0").rstrip(".")
