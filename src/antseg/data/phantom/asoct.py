"""Synthetic AS-OCT B-scans (CASIA-like) with exact masks, spurs and biometry: the anatomy priors per
diagnosis group and one call that makes scan ``index`` of a phantom set (:func:`generate_scan`).

Two styles: ``classic`` (fixed framing and one clean look) and ``realistic`` (framing, anatomy and image
formation randomised over the ranges of real CASIA scans, :mod:`antseg.data.phantom.realism`). Rendering
lives in :mod:`antseg.data.phantom.render`.
"""

from __future__ import annotations

import numpy as np

from antseg.anatomy import ANTERIOR_CHAMBER, CORNEA, LEFT_IRIS, LENS, NUCLEUS, RIGHT_IRIS, SIDES
from antseg.data.phantom.canvas import NoiseBank
from antseg.data.phantom.geometry import EyeGeometry, EyeParams
from antseg.data.phantom.render import Scan, render

#: The phantom's structures, in mask order: the reference project's five, then the corneoscleral shell.
PHANTOM_STRUCTURES: tuple[str, ...] = (ANTERIOR_CHAMBER, LENS, NUCLEUS, LEFT_IRIS, RIGHT_IRIS, CORNEA)
STYLES: tuple[str, ...] = ("classic", "realistic")

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


def make_eye(group: str, width_mm: float, height_mm: float, rng: np.random.Generator) -> EyeGeometry:
    for _ in range(50):
        g = EyeGeometry(sample_params(group, width_mm, rng))
        if is_plausible(g, width_mm, height_mm):
            return g
    raise RuntimeError(f"could not draw a plausible {group} eye for a {width_mm:.1f} x {height_mm:.1f} mm scan")


def generate_scan(
    group: str,
    seed: int,
    index: int,
    size: tuple[int, int],
    spacing: tuple[float, float],
    bank: NoiseBank,
    hidden_spurs: float = 0.0,
    style: str = "classic",
) -> Scan:
    """Scan ``index`` of a phantom set; depends only on (seed, index, group, size, spacing, hidden_spurs, style).

    ``hidden_spurs``: the probability that one angle (left or right, at random) lies in a shadow, so that its
    spur is not visible (labelled absent, like -1 in the AGE challenge tables).
    ``style``: ``classic`` or ``realistic`` (see the module docstring).
    """
    if style not in STYLES:
        raise ValueError(f"unknown phantom style {style!r}; valid: {', '.join(STYLES)}")
    w, h = size
    rng = np.random.default_rng([seed, index])
    pick = np.random.default_rng([seed, index, 1])  # its own stream: hidden_spurs=0 leaves scans unchanged
    hidden = SIDES[int(pick.integers(2))] if pick.random() < hidden_spurs else None
    if style == "classic":
        g = make_eye(group, w * spacing[0], h * spacing[1], rng)
        return render(g, h, w, spacing, bank, rng, hidden)
    from antseg.data.phantom.realism import make_realistic_eye, sample_imaging

    g = make_realistic_eye(group, w * spacing[0], h * spacing[1], rng)
    look = sample_imaging(np.random.default_rng([seed, index, 2]), g, (w, h), spacing, hidden)
    return render(g, h, w, spacing, bank, rng, hidden, look)


__all__ = ["GROUP_PRIORS", "PHANTOM_STRUCTURES", "STYLES", "NoiseBank", "Scan", "generate_scan", "make_eye"]
