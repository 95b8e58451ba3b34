"""Anatomy priors per diagnosis group and the draw of one plausible eye's parameters from them (both phantom
styles start from these)."""

from __future__ import annotations

import numpy as np

from antseg.anatomy import SIDES
from antseg.data.phantom.geometry import EyeGeometry, EyeParams

#: (mean, sd) per diagnosis group; PACG has shallow chambers, high lens vault and narrow angles,
#: cataract a thick lens with a dense nucleus.
GROUP_PRIORS: dict[str, dict[str, tuple[float, float]]] = {
    "normal": {
        "acd": (3.05, 0.22),
        "lv": (0.25, 0.15),
        "angle": (36, 4),
        "recess": (0.22, 0.05),
        "bow": (0.42, 0.05),
        "nucleus": (0.12, 0.05),
        "lens_th": (4.0, 0.2),
    },
    "cataract": {
        "acd": (2.8, 0.22),
        "lv": (0.5, 0.18),
        "angle": (31, 4),
        "recess": (0.18, 0.05),
        "bow": (0.45, 0.05),
        "nucleus": (0.7, 0.12),
        "lens_th": (4.6, 0.25),
    },
    "pacg": {
        "acd": (2.2, 0.18),
        "lv": (0.95, 0.2),
        "angle": (16, 3),
        "recess": (0.1, 0.03),
        "bow": (0.5, 0.05),
        "nucleus": (0.2, 0.07),
        "lens_th": (4.8, 0.25),
    },
    "pacg_cataract": {
        "acd": (2.05, 0.18),
        "lv": (1.05, 0.2),
        "angle": (14, 3),
        "recess": (0.08, 0.03),
        "bow": (0.52, 0.05),
        "nucleus": (0.75, 0.12),
        "lens_th": (5.0, 0.25),
    },
}


def _n(rng: np.random.Generator, ms: tuple[float, float], lo: float, hi: float) -> float:
    return float(np.clip(rng.normal(*ms), lo, hi))


def sample_params(group: str, width_mm: float, rng: np.random.Generator) -> EyeParams:
    """Draw plausible anatomy for a diagnosis group (see :data:`GROUP_PRIORS`)."""
    g = GROUP_PRIORS[group]
    half = _n(rng, (5.85, 0.18), 5.4, 6.3)
    asym = rng.normal(0, 0.08)
    angle = _n(rng, g["angle"], 6, 50)
    recess = _n(rng, g["recess"], 0.03, 0.4)
    bow = _n(rng, g["bow"], 0.3, 0.65)
    pupil = _n(rng, (2.1, 0.3), 1.4, 2.9)
    return EyeParams(
        cx=0.5 * width_mm + rng.normal(0, 0.12),
        epi_apex=_n(rng, (0.6, 0.06), 0.4, 0.8),
        cct=_n(rng, (0.55, 0.03), 0.47, 0.63),
        half_acw=(half + asym, half - asym),
        acd=_n(rng, g["acd"], 1.5, 3.8),
        lv=_n(rng, g["lv"], -0.2, 1.6),
        recess=tuple(float(np.clip(recess + rng.normal(0, 0.02), 0.03, 0.45)) for _ in SIDES),
        angle_deg=tuple(float(np.clip(angle + rng.normal(0, 2), 5, 52)) for _ in SIDES),
        bow=tuple(float(np.clip(bow + rng.normal(0, 0.02), 0.25, 0.7)) for _ in SIDES),
        pupil_r=tuple(float(pupil + rng.normal(0, 0.05)) for _ in SIDES),
        iris_root_th=_n(rng, (0.3, 0.04), 0.2, 0.4),
        iris_bump=_n(rng, (0.16, 0.04), 0.08, 0.26),
        iris_tip_th=_n(rng, (0.24, 0.03), 0.16, 0.32),
        lens_r_ant=_n(rng, (8.5, 0.6), 7.0, 10.5),
        lens_r_post=_n(rng, (6.0, 0.4), 5.0, 7.0),
        lens_th=_n(rng, g["lens_th"], 3.5, 5.6),
        cortex=_n(rng, (0.75, 0.1), 0.5, 1.0),
        nucleus_density=_n(rng, g["nucleus"], 0.0, 1.0),
        iris_waves=(
            _n(rng, (0.025, 0.008), 0.0, 0.045),
            rng.uniform(2, 4),
            rng.uniform(0, 6.3),
            rng.uniform(6, 11),
            rng.uniform(0, 6.3),
        ),
    )


def is_plausible(g: EyeGeometry, width_mm: float, height_mm: float, cropped: tuple[str, ...] = ()) -> bool:
    """The anatomy fits the image and every structure has positive size.

    ``cropped``: sides whose angle may lie outside the image (a partial crop at that side).
    """
    xs = np.linspace(g.recess["left"][0] + 0.05, g.recess["right"][0] - 0.05, 2001)
    top, bot = g.chamber_interval(xs)
    if not np.all(bot - top > 0.01):
        return False
    for s in SIDES:
        inside = 0.3 < g.recess[s][0] < width_mm - 0.3
        if (not inside and s not in cropped) or g.recess[s][1] > height_mm - 0.5:
            return False
    return g.lens_equator() > abs(g.tip["left"][0] - g.p.cx) + 0.5
