"""The realistic phantom style: framing, anatomy and image formation drawn over the ranges of real scans.

What varies, and why (real CASIA2 / SS-1000 scans differ from the classic phantom in each):
- framing: corneal apex from near the top to about 40 % of the height (irises then near the bottom edge),
  eye size (scale 0.9-1.1), tilt (a shear of up to about 6 degrees), decentration, and sometimes one angle
  cropped by the image side (its spur is then labelled absent);
- anatomy: thick irregular irises (crypts, collarette, pigment line), flat, convex and plateau profiles;
  below each iris mask an unlabelled posterior layer (a fifth to a half of the iris thickness; mostly the bright
  pigment epithelium, else under a pigment line inside the mask and never lost in its shadow; 0.04-0.14 mm
  between the stroma and the lens where the iris rests on it, as it does over its last 0.2-1.4 mm), because
  labelled real scans of both development devices draw the iris as the stroma and leave out the back of the
  visible tissue (the pigment epithelium): a model that takes all the visible tissue over-draws the iris by
  20-40 % of its area there;
- image formation: the central cornea's brightness against the limbus (twice as bright on SS-1000 scans, a
  little dimmer on another device), coarse speckle grain, noise floor and vertical streaks, display black level,
  gain and contrast, JPEG compression, the reflection line at the device axis with its dashes, eyelid shadows, motion
  double images, the lens visible or hidden.
None of it moves a mask boundary: masks, spurs and the analytic biometry stay exact.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from antseg.anatomy import SIDES
from antseg.data.phantom.effects import Imaging
from antseg.data.phantom.geometry import EyeGeometry, EyeParams
from antseg.data.phantom.priors import is_plausible, sample_params

#: Length fields of :class:`EyeParams` scaled together by the eye-size factor.
_LENGTHS = (
    "cct", "acd", "lv", "iris_root_th", "iris_bump", "iris_tip_th", "lens_r_ant", "lens_r_post", "lens_th",
    "cortex",
)  # fmt: skip


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def sample_realistic_params(
    group: str, width_mm: float, height_mm: float, rng: np.random.Generator
) -> tuple[EyeParams, tuple[str, ...]]:
    """Anatomy of the group's priors, rescaled, reframed, tilted, with realistic irises.

    Returns:
        (params, cropped): the eye, and the sides whose angle may fall outside the image.
    """
    p = sample_params(group, width_mm, rng)
    scale = _u(rng, 0.9, 1.1)
    changes = {f: getattr(p, f) * scale for f in _LENGTHS}
    changes["half_acw"] = tuple(v * scale for v in p.half_acw)
    changes["recess"] = tuple(v * scale for v in p.recess)
    changes["pupil_r"] = tuple(v * scale for v in p.pupil_r)
    # Thick, irregular irises: a collarette ridge, crypts in the stroma's anterior surface (kept clear of the
    # angle, where AOD and IT750 are measured), waves of the anterior border layer.
    changes["iris_root_th"] = _u(rng, 0.26, 0.46) * scale
    changes["iris_tip_th"] = _u(rng, 0.22, 0.42) * scale
    changes["iris_bump"] = _u(rng, 0.06, 0.3) * scale
    changes["bump_at"] = _u(rng, 0.45, 0.75)
    crypts = []
    for _ in range(int(rng.integers(0, 6))):
        crypts.append((_u(rng, 0.4, 0.92), _u(rng, 0.02, 0.09) * scale, _u(rng, 0.012, 0.04)))
    changes["crypts"] = tuple(crypts)
    changes["smooth_root"] = 0.45
    amp, f1, p1, f2, p2 = p.iris_waves
    changes["iris_waves"] = (_u(rng, 0.005, 0.04), f1, p1, f2 * _u(rng, 1.0, 1.5), p2)
    # Iris profile: flat, convex (bowed forward) or plateau (steep root, then flat).
    profile = rng.choice(["flat", "convex", "plateau"], p=[0.5, 0.3, 0.2])
    if profile == "convex":
        changes["bow"] = tuple(float(np.clip(b + _u(rng, 0.05, 0.18), 0.25, 0.72)) for b in p.bow)
    elif profile == "plateau":
        changes["bow"] = tuple(float(np.clip(b - _u(rng, 0.1, 0.2), 0.2, 0.7)) for b in p.bow)
        changes["angle_deg"] = tuple(float(min(a + _u(rng, 2, 6), 50)) for a in p.angle_deg)
    # Framing: apex height, decentration, tilt, and sometimes one angle cropped by the image side.
    changes["epi_apex"] = _u(rng, 0.02, 0.42) * height_mm + 0.15
    changes["thickening"] = _u(rng, 0.012, 0.03)
    changes["flatten"] = _u(rng, 0.0, 0.12)
    changes["tilt"] = float(np.clip(rng.normal(0.0, 0.04), -0.1, 0.1))
    cropped: tuple[str, ...] = ()
    half = 0.5 * (changes["half_acw"][0] + changes["half_acw"][1])
    if rng.random() < 0.12:
        side = SIDES[int(rng.integers(2))]
        margin = _u(rng, -0.6, 0.5)  # where the recess falls relative to that side's image edge (mm)
        cx = margin + half if side == "left" else width_mm - margin - half
        cropped = (side,)
    else:
        cx = 0.5 * width_mm + rng.normal(0.0, 0.04 * width_mm)
    changes["cx"] = float(cx)
    # The iris rests on the lens over its last 0.2-1.4 mm (iris-lens contact), its posterior layer between the
    # stroma and the capsule (drawn last: the other draws keep their values).
    changes["iris_back"] = _u(rng, 0.04, 0.14) * scale
    changes["iris_contact"] = _u(rng, 0.2, 1.4) * scale
    return replace(p, **changes), cropped


def make_realistic_eye(group: str, width_mm: float, height_mm: float, rng: np.random.Generator) -> EyeGeometry:
    """A plausible realistic eye for the image (retries a new draw when the anatomy does not fit)."""
    for _ in range(100):
        p, cropped = sample_realistic_params(group, width_mm, height_mm, rng)
        g = EyeGeometry(p)
        # Narrow fields crop the angles often: a side is allowed out whenever its recess does not fit.
        cropped = tuple(s for s in SIDES if s in cropped or not 0.3 < g.recess[s][0] < width_mm - 0.3)
        if len(cropped) < 2 and is_plausible(g, width_mm, height_mm, cropped) and _fits(g, width_mm):
            return g
    raise RuntimeError(f"could not draw a plausible {group} eye for a {width_mm:.1f} x {height_mm:.1f} mm scan")


def _fits(g: EyeGeometry, width_mm: float) -> bool:
    """The whole cornea is below the image top, both iris tips are in view and on the lens."""
    xs = np.linspace(0.0, width_mm, 801)
    if float(g.epi(xs).min()) < 0.05:
        return False
    if not all(0.2 < g.tip[s][0] < width_mm - 0.2 for s in SIDES):
        return False
    return g.lens_equator() > max(abs(g.tip[s][0] - g.p.cx) for s in SIDES) + 0.5


#: Share of realistic scans whose labelled iris ends where its bright pigment epithelium begins (the rest draw a
#: pigment line inside the mask). Averaged over the labelled irises of both development devices, the grey level
#: across the iris's labelled back peaks within 0.03 mm below it, 1.3-2 times the stroma, and fades over
#: 0.1-0.3 mm: the labels stop at the top of that bright layer. With the pigment line inside the mask the
#: phantom showed a dip there instead.
PIGMENT_BELOW_MASK = 0.8
#: Its reflectivity there, relative to the stroma's.
PIGMENT_LEVEL = (3.0, 6.0)


def sample_imaging(
    rng: np.random.Generator,
    g: EyeGeometry,
    size: tuple[int, int],
    spacing: tuple[float, float],
    hidden: str | None = None,
) -> Imaging:
    """Random appearance over the ranges of real scans (see the module docstring)."""
    w, h = size
    sx = spacing[0]
    look = Imaging(
        cornea=_u(rng, 0.7, 1.5),
        epithelium=_u(rng, 0.4, 2.0),
        glint=_u(rng, 0.0, 4.0),
        endothelium=_u(rng, 0.2, 1.5),
        spur=_u(rng, 0.3, 1.5),
        ciliary=_u(rng, 0.08, 0.4),
        wedge=_u(rng, 0.03, 0.14),
        ciliary_body=_u(rng, 0.05, 0.3),
        iris=_u(rng, 0.4, 1.5),
        iris_att=_u(rng, 1.0, 4.0),
        border_frac=_u(rng, 0.05, 0.2),
        iris_border=_u(rng, 0.6, 1.6),
        pigment_at=_u(rng, 0.72, 0.88),
        pigment=_u(rng, 0.4, 2.5),
        pigment_att=_u(rng, 3.0, 14.0),
        back_band=_u(rng, 0.2, 0.5),
        lens=_u(rng, 0.0, 0.03) * (rng.random() < 0.6),
        nucleus=_u(rng, 0.02, 0.25),
        capsule=_u(rng, 0.04, 0.45),
        posterior_capsule=_u(rng, 0.05, 0.3) * (rng.random() < 0.5),
        falloff_mm=_u(rng, 5.0, 25.0),
        grain=int(rng.integers(1, 4)),
        floor_grain=int(rng.integers(1, 4)),
        floor=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),
        floor_slope=_u(rng, 0.0, 0.6),
        streaks=_u(rng, 0.0, 0.3),
        gain=float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))),
        black=_u(rng, 10.0, 55.0),
        contrast=_u(rng, 0.5, 1.1),
        jpeg=int(rng.integers(50, 96)) if rng.random() < 0.6 else 0,
        line=_u(rng, 0.05, 0.8),
        line_halo=_u(rng, 0.03, 0.3),
        line_x_px=(0.5 * w + rng.normal(0.0, 10.0)) if rng.random() < 0.7 else None,
        line_width_px=_u(rng, 1.5, 6.0),
        line_halo_px=_u(rng, 6.0, 20.0),
        line_falloff_mm=_u(rng, 6.0, 40.0),
        seed=int(rng.integers(2**31)),
    )
    look = replace(look, back_level=look.iris * _u(rng, 0.6, 2.0))
    if rng.random() < 0.7:  # the saturated band of real devices, often with bright dashes
        look = replace(
            look, line_band=_u(rng, 0.3, 1.0), line_band_px=_u(rng, 6.0, 20.0), line_level=_u(rng, 0.05, 1.0)
        )
        if rng.random() < 0.8:
            period = _u(rng, 55.0, 110.0)
            look = replace(
                look, dashes=_u(rng, 0.5, 5.0), dash_period_px=period, dash_phase_px=_u(rng, 0.0, period),
                dash_px=_u(rng, 2.0, 7.0),
            )  # fmt: skip
    if rng.random() < 0.25:
        # An eyelid shadow over the periphery of one side, never over a visible spur.
        side = SIDES[int(rng.integers(2))]
        if side != hidden:
            direction = -1.0 if side == "left" else 1.0
            edge = (g.spur[side][0] + direction * _u(rng, 0.4, 2.5)) / sx
            look = replace(look, eyelid=(float(edge), direction, _u(rng, 0.5, 0.95)))
    if rng.random() < 0.1:
        look = replace(look, ghost=(int(rng.integers(-8, 9)), int(rng.integers(-30, 31)), _u(rng, 0.1, 0.35)))
    # Devices differ in how bright the central cornea is against the limbus (drawn last: the other draws keep
    # their values).
    look = replace(look, cornea_centre=_u(rng, 0.02, 0.3))
    # Where the labels end the iris (its own stream: the draws above keep their values).
    own = np.random.default_rng([look.seed, 41])
    if own.random() < PIGMENT_BELOW_MASK:
        look = replace(look, pigment_at=1.0, back_level=look.iris * _u(own, *PIGMENT_LEVEL))
    return look
