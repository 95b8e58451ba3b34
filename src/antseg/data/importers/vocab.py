"""Known label spellings of each source format, mapped to canonical names."""

from __future__ import annotations

from antseg.data.schema import normalize_label

ASOCT_STRUCTURES = {
    "anterior_chamber": ["ac", "anteriorchamber", "anterior_chamber"],
    "lens": ["lens"],
    "nucleus": ["nucleus", "lens_nucleus"],
    "left_iris": ["left_iris", "iris_left", "iris_l", "l_iris"],
    "right_iris": ["right_iris", "iris_right", "iris_r", "r_iris"],
    "iris": ["iris"],
    "cornea": ["cornea"],
}
ASOCT_LANDMARKS = {
    "left_scleral_spur": ["left_scleral_spur", "left_spur", "scleral_spur_left", "ss_l", "l_ss"],
    "right_scleral_spur": ["right_scleral_spur", "right_spur", "scleral_spur_right", "ss_r", "r_ss"],
}
CATARACT1K_CLASSES = [
    "Cornea",
    "Pupil",
    "Lens",
    "Iris",
    "Slit/Incision Knife",
    "Gauge",
    "Spatula",
    "Capsulorhexis Cystotome",
    "Phacoemulsification Tip",
    "Irrigation-Aspiration",
    "Lens Injector",
    "Capsulorhexis Forceps",
    "Katana Forceps",
]


def build(table: dict[str, list[str]]) -> dict[str, str]:
    """normalised alias -> canonical name."""
    return {normalize_label(alias): canon for canon, aliases in table.items() for alias in [canon, *aliases]}


ASOCT_VOCAB = build({**ASOCT_STRUCTURES, **ASOCT_LANDMARKS})
ASOCT_LANDMARK_NAMES = set(ASOCT_LANDMARKS)
SURGICAL_VOCAB = {normalize_label(c): normalize_label(c) for c in CATARACT1K_CLASSES}
