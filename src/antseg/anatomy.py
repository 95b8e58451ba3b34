"""The anatomy vocabulary: one home for structure and landmark names, sides, aliases, colours, groups and
the biometric measures. Every other module takes these names from here.

Names are canonical snake_case. A name that starts with ``left_`` or ``right_`` belongs to that side of the
B-scan (as displayed): a horizontal flip swaps it with its mirror, and the side gate keeps it on its half.
"""

from __future__ import annotations

import re

# -- structures ---------------------------------------------------------------------------------------------
ANTERIOR_CHAMBER = "anterior_chamber"
LENS = "lens"
NUCLEUS = "nucleus"
LEFT_IRIS = "left_iris"
RIGHT_IRIS = "right_iris"
IRIS = "iris"
CORNEA = "cornea"
PUPIL = "pupil"
#: Surgical instruments, all classes together (a surgical video's occluders, not anatomy).
INSTRUMENT = "instrument"

#: The AS-OCT structures of the reference project, in their usual order (the nucleus lies inside the lens).
ASOCT_STRUCTURES: tuple[str, ...] = (ANTERIOR_CHAMBER, LENS, NUCLEUS, LEFT_IRIS, RIGHT_IRIS)

# -- landmarks ----------------------------------------------------------------------------------------------
SIDES: tuple[str, str] = ("left", "right")
LEFT_SPUR = "left_scleral_spur"
RIGHT_SPUR = "right_scleral_spur"
#: Both scleral spurs, left then right (also the keypoint order of the YOLO-pose export).
SPURS: tuple[str, str] = (LEFT_SPUR, RIGHT_SPUR)


def spur_name(side: str) -> str:
    """``left`` -> ``left_scleral_spur``."""
    return f"{side}_scleral_spur"


def side_of(name: str) -> str | None:
    """``left`` or ``right`` for a sided name (``left_iris``), None otherwise."""
    for side in SIDES:
        if name.startswith(side + "_"):
            return side
    return None


def mirror_name(name: str) -> str:
    """The name on the other side (``left_iris`` <-> ``right_iris``); unsided names are their own mirror."""
    side = side_of(name)
    if side is None:
        return name
    other = SIDES[1 - SIDES.index(side)]
    return other + name[len(side) :]


def site_label(name: str) -> str:
    """Short display label of a landmark: ``left_scleral_spur`` -> ``Left``."""
    return name.replace("_scleral_spur", "").replace("_", " ").title()


#: Display names used in result tables (the reference project's spelling).
DISPLAY_NAMES: dict[str, str] = {
    ANTERIOR_CHAMBER: "Anterior Chamber",
    LENS: "Lens",
    NUCLEUS: "Nucleus",
    LEFT_IRIS: "Left Iris",
    RIGHT_IRIS: "Right Iris",
    IRIS: "Iris",
    CORNEA: "Cornea",
    PUPIL: "Pupil",
    INSTRUMENT: "Instrument",
}


def display_name(name: str) -> str:
    return DISPLAY_NAMES.get(name, name.replace("_", " ").title())


# -- colours (RGB) --------------------------------------------------------------------------------------------
#: Preferred order and colours of well-known structures; unknown ones follow alphabetically.
STRUCTURE_COLOURS: dict[str, tuple[int, int, int]] = {
    ANTERIOR_CHAMBER: (60, 120, 255),
    LENS: (255, 220, 40),
    NUCLEUS: (255, 120, 0),
    LEFT_IRIS: (40, 220, 90),
    RIGHT_IRIS: (230, 60, 200),
    IRIS: (40, 220, 90),
    CORNEA: (0, 230, 230),
    PUPIL: (255, 60, 60),
    INSTRUMENT: (120, 255, 80),
}
LANDMARK_COLOURS: dict[str, tuple[int, int, int]] = {LEFT_SPUR: (255, 0, 0), RIGHT_SPUR: (0, 160, 255)}
_FALLBACK_COLOURS = [
    (31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
    (140, 86, 75), (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207),
]  # fmt: skip


def default_colour(name: str, index: int) -> tuple[int, int, int]:
    """The colour of a known structure or landmark, else the ``index``-th of a fixed palette."""
    return STRUCTURE_COLOURS.get(name) or LANDMARK_COLOURS.get(name) or _FALLBACK_COLOURS[index % 10]


def structure_order(names: set[str] | list[str]) -> list[str]:
    """Well-known structures first in their usual order, then the others alphabetically."""
    known = [n for n in STRUCTURE_COLOURS if n in names]
    return known + sorted(set(names) - set(known))


# -- diagnosis groups -----------------------------------------------------------------------------------------
DIAGNOSIS_GROUPS: tuple[str, ...] = ("normal", "cataract", "pacg", "pacg_cataract")
_GROUP_ALIASES = {"glaucoma": "pacg", "glaucoma_cataract": "pacg_cataract", "pacg+cataract": "pacg_cataract"}


def normalize_label(label: str) -> str:
    """Canonical spelling of a label: lower case, runs of non-alphanumerics become one underscore."""
    return re.sub(r"[^0-9a-z]+", "_", label.strip().lower()).strip("_")


def normalize_group(group: str) -> str:
    """Canonical diagnosis-group name (``Glaucoma_Cataract`` -> ``pacg_cataract``); unknown names pass through."""
    g = normalize_label(group)
    return _GROUP_ALIASES.get(g, g)


# -- known spellings in source formats ------------------------------------------------------------------------
STRUCTURE_ALIASES: dict[str, list[str]] = {
    ANTERIOR_CHAMBER: ["ac", "anteriorchamber", "anterior_chamber"],
    LENS: ["lens"],
    NUCLEUS: ["nucleus", "lens_nucleus"],
    LEFT_IRIS: ["left_iris", "iris_left", "iris_l", "l_iris"],
    RIGHT_IRIS: ["right_iris", "iris_right", "iris_r", "r_iris"],
    IRIS: ["iris"],
    CORNEA: ["cornea"],
}
LANDMARK_ALIASES: dict[str, list[str]] = {
    LEFT_SPUR: ["left_scleral_spur", "left_spur", "scleral_spur_left", "ss_l", "l_ss"],
    RIGHT_SPUR: ["right_scleral_spur", "right_spur", "scleral_spur_right", "ss_r", "r_ss"],
}
#: The Cataract-1K Supervisely classes.
CATARACT1K_CLASSES: tuple[str, ...] = (
    "Cornea", "Pupil", "Lens", "Iris", "Slit/Incision Knife", "Gauge", "Spatula", "Capsulorhexis Cystotome",
    "Phacoemulsification Tip", "Irrigation-Aspiration", "Lens Injector", "Capsulorhexis Forceps", "Katana Forceps",
)  # fmt: skip


def _vocab(table: dict[str, list[str]]) -> dict[str, str]:
    return {normalize_label(alias): canon for canon, aliases in table.items() for alias in [canon, *aliases]}


#: normalised spelling -> canonical name, for AS-OCT sources (structures and landmarks).
ASOCT_VOCAB: dict[str, str] = _vocab({**STRUCTURE_ALIASES, **LANDMARK_ALIASES})
ASOCT_LANDMARK_NAMES: frozenset[str] = frozenset(LANDMARK_ALIASES)
#: normalised spelling -> canonical name, for surgical (Cataract-1K) sources.
SURGICAL_VOCAB: dict[str, str] = {
    **{normalize_label(c): normalize_label(c) for c in CATARACT1K_CLASSES},
    INSTRUMENT: INSTRUMENT,  # antseg's own name for every instrument together (phantoms, exports)
}

# -- biometric measures ---------------------------------------------------------------------------------------
#: Whole-scan measures (lengths in mm, areas in mm2).
GLOBAL_MEASURES: tuple[str, ...] = ("acd_mm", "acw_mm", "lv_mm", "pupil_diameter_mm", "ac_area_mm2")
#: Measures taken once per side; the column is ``<measure>_<side>``.
PER_SIDE_MEASURES: tuple[str, ...] = (
    "aod500_mm", "aod750_mm", "tisa500_mm2", "tisa750_mm2", "ara500_mm2", "ara750_mm2", "iris_area_mm2",
    "it750_mm", "iris_curvature_mm",
)  # fmt: skip
#: Every measure column, in ``biometry.csv`` order.
MEASURES: list[str] = list(GLOBAL_MEASURES) + [f"{m}_{s}" for s in SIDES for m in PER_SIDE_MEASURES]


#: How eyes are written in exports, file names and spreadsheets -> ``R`` / ``L`` (keys lower-case, without dots;
#: OD/OS are oculus dexter/sinister).
EYES: dict[str, str] = {
    "r": "R", "right": "R", "od": "R", "re": "R", "oculus dexter": "R",
    "l": "L", "left": "L", "os": "L", "le": "L", "oculus sinister": "L",
}  # fmt: skip


def eye_of(text: str | None) -> str | None:
    """``R`` or ``L`` for an eye written R/L, OD/OS, right/left, RE/LE (any case, dots ignored); ``""`` for an empty
    value; None for anything else (``OU``, ``both``: not one eye)."""
    key = str(text or "").strip().lower().replace(".", "")
    return "" if not key else EYES.get(key)
