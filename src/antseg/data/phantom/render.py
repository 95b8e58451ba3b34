"""Rendering of a phantom eye into a CASIA-like B-scan with exact masks.

Rendering is physical enough to look like the device: tissue reflectivity, per-column attenuation
(shadows under the iris and sclera), depth fall-off, multiplicative speckle, a noise floor, log
compression, and the bright central reflection line. :class:`Imaging` holds every appearance setting;
its defaults are the classic look, and :mod:`antseg.data.phantom.realism` draws random ones. Appearance
never moves a structure: masks, spurs and biometry depend on the geometry only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from antseg.anatomy import SIDES, spur_name
from antseg.data.phantom.canvas import Canvas, NoiseBank, bounds
from antseg.data.phantom.effects import Imaging, finish, reflection_line
from antseg.data.phantom.geometry import EyeGeometry
from antseg.data.phantom.truth import exact_biometry


@dataclass
class Scan:
    """One rendered phantom scan."""

    image: np.ndarray  # (H, W) uint8
    masks: np.ndarray  # (6, H, W) uint8, PHANTOM_STRUCTURES order
    spurs: dict[str, tuple[float, float] | None]  # landmark name -> (x, y) pixels; None: hidden or out of view
    biometry: dict[str, float]
    geometry: EyeGeometry
    spacing: tuple[float, float] = (0.0, 0.0)  # (x, y) mm per pixel


def render(
    g: EyeGeometry,
    h: int,
    w: int,
    spacing: tuple[float, float],
    bank: NoiseBank,
    rng,
    hidden: str | None = None,
    look: Imaging | None = None,
) -> Scan:
    """Render one scan of ``g`` on an (h, w) grid with ``spacing`` (mm per pixel, x and y).

    ``hidden`` ("left" or "right"): that angle lies in a shadow (as under an eyelid, or where the beam is
    blocked), its spur is not visible and is labelled absent; masks and reference biometry stay exact.
    ``look``: the appearance (default: the classic look). A spur outside the image is labelled absent.
    """
    look = look or Imaging()
    sx, sy = spacing
    x = np.arange(w, dtype=np.float64) * sx
    cv = Canvas(h, w)
    dx = np.abs(x - g.p.cx)
    eq = g.lens_equator()
    in_lens = dx < eq

    ac = cv.region(*bounds(*g.chamber_interval(x), sy, h))
    lens_top = g.lens_ant(x)
    lens_bot = g.lens_post(x)
    lens = cv.region(*bounds(np.where(in_lens, lens_top, np.inf), np.where(in_lens, lens_bot, -np.inf), sy, h))
    nuc = cv.region(*bounds(*g.nucleus_interval(x), sy, h))
    iris = {s: g.iris_interval(s, x) for s in SIDES}
    iris_b = {s: bounds(*iris[s], sy, h) for s in SIDES}
    iris_r = {s: cv.region(*iris_b[s]) for s in SIDES}
    epi, endo = g.epi(x), g.endo(x)
    lift = g.scleral_lift(x)
    sclera = g.sclera_inner(x)
    cornea = cv.region(*bounds(epi, sclera, sy, h))
    masks = np.zeros((6, h, w), np.uint8)
    for k, reg in enumerate([ac, lens, nuc, iris_r["left"], iris_r["right"], cornea]):
        if reg.sl is not None:
            masks[k, reg.sl] = reg.band.view(np.uint8)

    # --- reflectivity (refl) and attenuation per mm (att) -------------------------------------------
    rec = min(abs(g.recess[s][0] - g.p.cx) for s in SIDES)
    # Per column: how far past this side's scleral spur (mm); the sclera becomes opaque at the spur.
    past_spur = g.past_spur(x)
    limbus = np.clip((past_spur + 1.2) / 1.2, 0, 1).astype(np.float32)  # 0 cornea .. 1 sclera
    periphery = dx > rec
    texture = bank.window(bank.texture, rng, h, w)
    refl = np.zeros((h, w), np.float32)
    att = np.zeros((h, w), np.float32)
    shell = bounds(epi, endo, sy, h)
    # Beyond the angle recess the wall is ciliary body: a dimmer band that follows the wall down.
    ciliary = cv.region(*bounds(np.where(periphery, endo, np.inf), np.where(periphery, endo + 1.2, -np.inf), sy, h))
    band = bounds(epi, epi + 0.75 + 0.35 * limbus, sy, h)
    stroma = look.cornea * (look.cornea_centre + (0.55 - look.cornea_centre) * limbus)
    cv.paint(cv.region(*shell), refl, 0.45 * stroma, att, 1.6 * (0.25 + 1.0 * limbus))
    cv.paint(cv.region(*band), refl, stroma, att, 0.25 + 1.0 * limbus)
    cv.paint(ciliary, refl, lambda sl: look.ciliary * texture[sl], att, 2.5)
    if look.glint > 0:  # specular reflection of the epithelium around the apex
        cv.line(refl, epi / sy, look.epithelium + look.glint * np.exp(-((dx / 2.0) ** 2)), offsets=(-1, 0, 1))
    else:
        cv.line(refl, epi / sy, look.epithelium, offsets=(-1, 0, 1))
    cv.line(refl, endo / sy, 0.35 * look.endothelium, offsets=(-1, 0), where=past_spur < 0)
    # Scleral spur, as clinicians find it: the angle wall behind the spur is the ciliary-body band, a dim
    # wedge that starts at the spur and thickens peripherally, so the bright sclera meets the chamber only
    # at the spur tip (a knee in the scleral contour). The endothelial (Descemet) line also stops there.
    wedge = past_spur >= 0
    cbb = cv.region(*bounds(np.where(wedge, endo - lift, np.inf), np.where(wedge, endo, -np.inf), sy, h))
    cv.paint(cbb, refl, lambda sl: look.wedge * texture[sl], att, 2.5)
    if look.ciliary_body > 0:  # the ciliary body under the sclera, past the spur
        body = cv.region(*bounds(np.where(wedge, sclera, np.inf), np.where(wedge, endo - lift, -np.inf), sy, h))
        cv.paint(body, refl, lambda sl: look.ciliary_body * texture[sl], att, 2.0)
    tip = (past_spur >= -0.06) & (past_spur < 0.0)  # the spur tip itself: dense, hyper-reflective collagen
    cv.line(refl, endo / sy, 0.6 * look.spur, offsets=(-3, -2, -1, 0), where=tip)

    for s in SIDES:
        start, end = iris_b[s]
        th = np.maximum(end - start, 1)
        pig = (start + look.pigment_at * th).astype(np.int32)
        cv.paint(iris_r[s], refl, lambda sl: look.iris * texture[sl], att, look.iris_att)
        border = (start + look.border_frac * th).astype(np.int32)
        cv.paint(cv.region(start, border), refl, lambda sl: look.iris_border * texture[sl])
        if look.pigment_at < 1.0:
            cv.paint(cv.region(pig, end), refl, look.pigment, att, look.pigment_att)
        if look.back_band > 0:
            # Real labels stop above the posterior layer of the iris (see realism.py): it is drawn below the
            # mask, never into the lens, and belongs to no structure.
            has = end >= start
            floor = np.where(in_lens, np.floor(np.nan_to_num(lens_top / sy, nan=h - 1.0)), h - 1).astype(np.int32)
            back_end = np.minimum(end + (look.back_band * th).astype(np.int32), floor)
            # Where the iris rests on the lens the layer fills the gap down to the capsule.
            resting = in_lens & (floor - end <= g.p.iris_back / sy + 1.0)
            back_end = np.where(resting, floor, back_end)
            back = cv.region(np.where(has, end + 1, h + 2), np.where(has, back_end, -3))
            # Seen through the pigment line's shadow, the layer would vanish; real scans show it plainly (as
            # bright as the stroma above it or brighter), so its reflectivity makes up for that shadow.
            lit = np.exp(np.minimum(look.pigment_att * np.maximum(end - pig, 0) * sy, 4.0)).astype(np.float32)
            cv.paint(back, refl, lambda sl, lit=lit: look.back_level * lit * texture[sl], att, look.pigment_att)

    dens = g.p.nucleus_density
    cv.paint(lens, refl, look.lens)
    cv.paint(nuc, refl, lambda sl: 0.004 + look.nucleus * dens**2 * (0.7 + 0.3 * texture[sl]), att, 0.2 + 0.8 * dens)
    outside_iris = in_lens & ~np.isfinite(iris["left"][0]) & ~np.isfinite(iris["right"][0])
    cv.line(refl, lens_top / sy, look.capsule, where=outside_iris)
    if look.posterior_capsule > 0:
        cv.line(refl, lens_bot / sy, look.posterior_capsule, where=in_lens)

    # --- propagation: attenuation along each A-scan, depth fall-off, speckle, noise floor ------------
    optical_depth = att
    for i in range(1, h):  # row-wise running sum: 3x faster than np.cumsum(axis=0) on (H, W)
        np.add(optical_depth[i], optical_depth[i - 1], out=optical_depth[i])
    optical_depth *= np.float32(-sy)
    optical_depth -= (np.arange(h, dtype=np.float32) * np.float32(sy / look.falloff_mm))[:, None]  # fall-off
    np.exp(optical_depth, out=optical_depth)
    signal = refl
    signal *= optical_depth
    col = np.arange(w, dtype=np.float32)
    reflection_line(signal, look, g.p.cx / sx, sy)
    if hidden is not None:
        # A vertical shadow band over the angle: these A-scans carry almost no signal.
        centre = g.spur[hidden][0] / sx
        shade = np.clip((1.0 - np.abs(col - centre) / (0.9 / sx)) * 4.0, 0.0, 1.0)
        signal *= (1.0 - 0.95 * shade)[None, :].astype(np.float32)
    img = finish(signal, look, bank, rng, sy)
    spurs, out_of_view = {}, []
    for s in SIDES:
        px, py = float(g.spur[s][0] / sx), float(g.spur[s][1] / sy)
        inside = 0.0 <= px <= w - 1 and 0.0 <= py <= h - 1
        spurs[spur_name(s)] = (px, py) if s != hidden and inside else None
        if not inside:
            out_of_view.append(s)
    truth = exact_biometry(g, (-0.5 * sx, (w - 0.5) * sx), tuple(out_of_view))  # what the image shows
    return Scan(img, masks, spurs, truth, g, (sx, sy))
