"""Canonical dataset schema: manifest (``dataset.json``) and per-case rows (``cases.csv``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MODALITIES = ("asoct", "surgical")
SPLITS = ("train", "val", "test", "")

#: Preferred order and colours (RGB) of well-known structures; unknown ones follow alphabetically.
KNOWN_STRUCTURES: dict[str, tuple[int, int, int]] = {
    "anterior_chamber": (60, 120, 255),
    "lens": (255, 220, 40),
    "nucleus": (255, 120, 0),
    "left_iris": (40, 220, 90),
    "right_iris": (230, 60, 200),
    "iris": (40, 220, 90),
    "cornea": (0, 230, 230),
    "pupil": (255, 60, 60),
}
KNOWN_LANDMARKS: dict[str, tuple[int, int, int]] = {
    "left_scleral_spur": (255, 0, 0),
    "right_scleral_spur": (0, 160, 255),
}
_FALLBACK_COLOURS = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]

DIAGNOSIS_GROUPS = ("normal", "cataract", "pacg", "pacg_cataract")
_GROUP_ALIASES = {"glaucoma": "pacg", "glaucoma_cataract": "pacg_cataract", "pacg+cataract": "pacg_cataract"}


def normalize_label(label: str) -> str:
    """Canonical spelling of a label: lower case, runs of non-alphanumerics become one underscore."""
    return re.sub(r"[^0-9a-z]+", "_", label.strip().lower()).strip("_")


def normalize_group(group: str) -> str:
    """Canonical diagnosis-group name (``Glaucoma_Cataract`` -> ``pacg_cataract``); unknown names pass through."""
    g = normalize_label(group)
    return _GROUP_ALIASES.get(g, g)


def structure_order(names: set[str] | list[str]) -> list[str]:
    """Well-known structures first in their usual order, then the others alphabetically."""
    known = [n for n in KNOWN_STRUCTURES if n in names]
    return known + sorted(set(names) - set(known))


def default_colour(name: str, index: int) -> tuple[int, int, int]:
    return KNOWN_STRUCTURES.get(name) or KNOWN_LANDMARKS.get(name) or _FALLBACK_COLOURS[index % 10]


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
