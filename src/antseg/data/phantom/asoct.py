"""Synthetic AS-OCT B-scans (CASIA-like) with exact masks, spurs and biometry.

Rendering is physical enough to look like the device: tissue reflectivity, per-column attenuation
(shadows under the iris and sclera), depth fall-off, multiplicative speckle, a noise floor, log
compression, and the bright central reflection line through the corneal apex.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from antseg.anatomy import ASOCT_STRUCTURES, SIDES, spur_name
from antseg.data.phantom.geometry import EyeGeometry, EyeParams
from antseg.data.phantom.truth import exact_biometry

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


def is_plausible(g: EyeGeometry, width_mm: float, height_mm: float) -> bool:
    """The anatomy fits the image and every structure has positive size."""
    xs = np.linspace(g.recess["left"][0] + 0.05, g.recess["right"][0] - 0.05, 2001)
    top, bot = g.chamber_interval(xs)
    if not np.all(bot - top > 0.01):
        return False
    for s in SIDES:
        if not 0.3 < g.recess[s][0] < width_mm - 0.3 or g.recess[s][1] > height_mm - 0.5:
            return False
    return g.lens_equator() > abs(g.tip["left"][0] - g.p.cx) + 0.5


def make_eye(group: str, width_mm: float, height_mm: float, rng: np.random.Generator) -> EyeGeometry:
    for _ in range(50):
        g = EyeGeometry(sample_params(group, width_mm, rng))
        if is_plausible(g, width_mm, height_mm):
            return g
    raise RuntimeError(f"could not draw a plausible {group} eye for a {width_mm:.1f} x {height_mm:.1f} mm scan")


@dataclass
class Scan:
    """One rendered phantom scan."""

    image: np.ndarray  # (H, W) uint8
    masks: np.ndarray  # (5, H, W) uint8, ASOCT_STRUCTURES order
    spurs: dict[str, tuple[float, float] | None]  # landmark name -> (x, y) pixels; None: hidden
    biometry: dict[str, float]
    geometry: EyeGeometry


#: log compression of OCT intensity I to 8 bits: 255 * log(1 + GAIN * I) / log(1 + GAIN * 1.15).
_LOG_GAIN = 60.0
_LOG_ALPHA = 255.0 / float(np.log1p(_LOG_GAIN * 1.15))


class NoiseBank:
    """Pre-drawn speckle and texture fields; each scan takes a random window (keeps rendering fast)."""

    def __init__(self, h: int, w: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 7919])
        self.pad = 64
        sh = (h + self.pad, w + self.pad)
        raw = rng.standard_exponential(sh, dtype=np.float32)
        # Speckle grains are wider than tall in CASIA scans.
        self.speckle = (0.5 * raw + 0.5 * cv2.blur(raw, (3, 1))) * np.float32(_LOG_GAIN)
        self.floor = rng.standard_exponential(sh, dtype=np.float32) * np.float32(0.02 * _LOG_GAIN)
        tex = rng.standard_normal((sh[0] // 6 + 1, sh[1] // 6 + 1)).astype(np.float32)
        tex = cv2.resize(cv2.GaussianBlur(tex, (0, 0), 1.2), (sh[1], sh[0]), interpolation=cv2.INTER_LINEAR)
        self.texture = np.exp(0.45 * tex / (tex.std() + 1e-6)).astype(np.float32)

    def window(self, arr: np.ndarray, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        dy, dx = rng.integers(0, self.pad, 2)
        return arr[dy : dy + h, dx : dx + w]


def _bounds(top: np.ndarray, bot: np.ndarray, sy: float, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive row range per column of the pixels whose centres lie strictly between two curves (mm)."""
    with np.errstate(invalid="ignore"):
        start = np.floor(np.clip(top / sy, -2, h + 2)) + 1
        end = np.ceil(np.clip(bot / sy, -2, h + 2)) - 1
    return start.astype(np.int32), end.astype(np.int32)


class Region:
    """Rows ``sl`` of an image and the (rows, W) boolean mask of a structure inside them."""

    def __init__(self, sl: slice | None, band: np.ndarray | None) -> None:
        self.sl, self.band = sl, band


class Canvas:
    """Paints per-column row intervals into (H, W) layers, touching only the rows a structure spans."""

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.rows = np.arange(h, dtype=np.int32)[:, None]
        self.cols = np.arange(w)

    def region(self, start: np.ndarray, end: np.ndarray) -> Region:
        ok = end >= start
        if not ok.any():
            return Region(None, None)
        r0, r1 = max(0, int(start[ok].min())), min(self.h - 1, int(end[ok].max()))
        if r1 < r0:
            return Region(None, None)
        rows = self.rows[r0 : r1 + 1]
        return Region(slice(r0, r1 + 1), (rows >= start) & (rows <= end))

    def paint(self, reg: Region, *pairs) -> None:
        """For each (layer, value) pair, set ``layer`` to ``value`` inside the region.

        ``value`` is a scalar, a (W,) per-column array, or a function of the row slice giving the band's
        values (so full-image fields are only evaluated on the rows a structure spans).
        """
        if reg.sl is None:
            return
        for layer, value in zip(pairs[::2], pairs[1::2], strict=True):
            v = value(reg.sl) if callable(value) else value
            np.copyto(layer[reg.sl], np.broadcast_to(np.asarray(v, layer.dtype), reg.band.shape), where=reg.band)

    def line(self, layer: np.ndarray, y_px: np.ndarray, value: float, offsets=(-1, 0, 1), where=None) -> None:
        """Add ``value`` along a curve (fractional row per column), a few pixels thick."""
        ok = np.isfinite(y_px) if where is None else np.isfinite(y_px) & where
        cols = self.cols[ok]
        base = np.round(y_px[ok]).astype(np.int64)
        for o in offsets:
            r = base + o
            keep = (r >= 0) & (r < self.h)
            layer[r[keep], cols[keep]] += value


def render(
    g: EyeGeometry,
    h: int,
    w: int,
    spacing: tuple[float, float],
    bank: NoiseBank,
    rng,
    hidden: str | None = None,
) -> Scan:
    """Render one scan of ``g`` on an (h, w) grid with ``spacing`` (mm per pixel, x and y).

    ``hidden`` ("left" or "right"): that angle lies in a shadow (as under an eyelid, or where the beam is
    blocked), its spur is not visible and is labelled absent; masks and reference biometry stay exact.
    """
    sx, sy = spacing
    x = np.arange(w, dtype=np.float64) * sx
    cv = Canvas(h, w)
    dx = np.abs(x - g.p.cx)
    eq = g.lens_equator()
    in_lens = dx < eq

    ac = cv.region(*_bounds(*g.chamber_interval(x), sy, h))
    lens_top = g.lens_ant(x)
    lens = cv.region(*_bounds(np.where(in_lens, lens_top, np.inf), np.where(in_lens, g.lens_post(x), -np.inf), sy, h))
    nuc = cv.region(*_bounds(*g.nucleus_interval(x), sy, h))
    iris = {s: g.iris_interval(s, x) for s in SIDES}
    iris_b = {s: _bounds(*iris[s], sy, h) for s in SIDES}
    iris_r = {s: cv.region(*iris_b[s]) for s in SIDES}
    masks = np.zeros((len(ASOCT_STRUCTURES), h, w), np.uint8)
    for k, reg in enumerate([ac, lens, nuc, iris_r["left"], iris_r["right"]]):
        if reg.sl is not None:
            masks[k, reg.sl] = reg.band.view(np.uint8)

    # --- reflectivity (refl) and attenuation per mm (att) -------------------------------------------
    epi, endo = g.epi(x), g.endo(x)
    rec = min(abs(g.recess[s][0] - g.p.cx) for s in SIDES)
    # Per column: how far past this side's scleral spur (mm); the sclera becomes opaque at the spur.
    spur_dx = np.where(x < g.p.cx, g.p.cx - g.spur["left"][0], g.spur["right"][0] - g.p.cx)
    past_spur = dx - spur_dx
    limbus = np.clip((past_spur + 1.2) / 1.2, 0, 1).astype(np.float32)  # 0 cornea .. 1 sclera
    periphery = dx > rec
    texture = bank.window(bank.texture, rng, h, w)
    refl = np.zeros((h, w), np.float32)
    att = np.zeros((h, w), np.float32)
    shell = _bounds(epi, endo, sy, h)
    # Beyond the angle recess the wall is ciliary body: a dimmer band that follows the wall down.
    ciliary = cv.region(*_bounds(np.where(periphery, endo, np.inf), np.where(periphery, endo + 1.2, -np.inf), sy, h))
    band = _bounds(epi, epi + 0.75 + 0.35 * limbus, sy, h)
    cv.paint(cv.region(*shell), refl, 0.45 * (0.2 + 0.35 * limbus), att, 1.6 * (0.25 + 1.0 * limbus))
    cv.paint(cv.region(*band), refl, 0.2 + 0.35 * limbus, att, 0.25 + 1.0 * limbus)
    cv.paint(ciliary, refl, lambda sl: 0.12 * texture[sl], att, 2.5)
    cv.line(refl, epi / sy, 1.0, offsets=(-1, 0, 1))
    cv.line(refl, endo / sy, 0.35, offsets=(-1, 0), where=past_spur < 0)
    # Scleral spur, as clinicians find it: the angle wall behind the spur is the ciliary-body band, a dim
    # wedge that starts at the spur and thickens peripherally, so the bright sclera meets the chamber only
    # at the spur tip (a knee in the scleral contour). The endothelial (Descemet) line also stops there.
    wedge = past_spur >= 0
    lift = np.minimum(0.035 + np.clip(past_spur, 0, None) * 0.45, 0.3)  # a notch at the spur, then a wedge
    cbb = cv.region(*_bounds(np.where(wedge, endo - lift, np.inf), np.where(wedge, endo, -np.inf), sy, h))
    cv.paint(cbb, refl, lambda sl: 0.08 * texture[sl], att, 2.5)
    tip = (past_spur >= -0.06) & (past_spur < 0.0)  # the spur tip itself: dense, hyper-reflective collagen
    cv.line(refl, endo / sy, 0.6, offsets=(-3, -2, -1, 0), where=tip)

    for s in SIDES:
        start, end = iris_b[s]
        th = np.maximum(end - start, 1)
        pig = (start + 0.78 * th).astype(np.int32)
        cv.paint(iris_r[s], refl, lambda sl: 0.45 * texture[sl], att, 3.0)
        cv.paint(cv.region(start, (start + 0.08 * th).astype(np.int32)), refl, lambda sl: 0.7 * texture[sl])
        cv.paint(cv.region(pig, end), refl, 0.8, att, 14.0)

    dens = g.p.nucleus_density
    cv.paint(lens, refl, 0.015)
    cv.paint(nuc, refl, lambda sl: 0.004 + 0.3 * dens**2 * (0.7 + 0.3 * texture[sl]), att, 0.2 + 0.8 * dens)
    outside_iris = in_lens & ~np.isfinite(iris["left"][0]) & ~np.isfinite(iris["right"][0])
    cv.line(refl, lens_top / sy, 0.28, where=outside_iris)

    # --- propagation: attenuation along each A-scan, depth fall-off, speckle, noise floor ------------
    optical_depth = att
    for i in range(1, h):  # row-wise running sum: 3x faster than np.cumsum(axis=0) on (H, W)
        np.add(optical_depth[i], optical_depth[i - 1], out=optical_depth[i])
    optical_depth *= np.float32(-sy)
    optical_depth -= (np.arange(h, dtype=np.float32) * np.float32(sy / 9.0))[:, None]  # depth fall-off
    np.exp(optical_depth, out=optical_depth)
    signal = refl
    signal *= optical_depth
    col = np.arange(w, dtype=np.float32)
    apex_col = g.p.cx / sx
    line = 0.55 * np.exp(-(((col - apex_col) / 2.5) ** 2)) + 0.12 * np.exp(-(((col - apex_col) / 9.0) ** 2))
    lo, hi = max(0, int(apex_col) - 40), min(w, int(apex_col) + 41)
    line_falloff = np.exp(-np.arange(h, dtype=np.float32) * np.float32(sy / 12.0))[:, None]
    signal[:, lo:hi] += line[lo:hi][None, :] * line_falloff
    if hidden is not None:
        # A vertical shadow band over the angle: these A-scans carry almost no signal.
        centre = g.spur[hidden][0] / sx
        band = np.clip((1.0 - np.abs(col - centre) / (0.9 / sx)) * 4.0, 0.0, 1.0)
        signal *= (1.0 - 0.95 * band)[None, :].astype(np.float32)
    signal *= bank.window(bank.speckle, rng, h, w)  # pre-scaled by the log gain
    signal += bank.window(bank.floor, rng, h, w)
    signal += 1.0
    cv2.log(signal, signal)  # log compression, as OCT devices display intensity
    img = cv2.convertScaleAbs(signal, alpha=_LOG_ALPHA)

    spurs = {spur_name(s): None if s == hidden else (float(g.spur[s][0] / sx), float(g.spur[s][1] / sy)) for s in SIDES}
    return Scan(img, masks, spurs, exact_biometry(g), g)


def generate_scan(
    group: str,
    seed: int,
    index: int,
    size: tuple[int, int],
    spacing: tuple[float, float],
    bank: NoiseBank,
    hidden_spurs: float = 0.0,
) -> Scan:
    """Scan ``index`` of a phantom set; depends only on (seed, index, group, size, spacing, hidden_spurs).

    ``hidden_spurs``: the probability that one angle (left or right, at random) lies in a shadow, so that its
    spur is not visible (labelled absent, like -1 in the AGE challenge tables).
    """
    w, h = size
    rng = np.random.default_rng([seed, index])
    g = make_eye(group, w * spacing[0], h * spacing[1], rng)
    pick = np.random.default_rng([seed, index, 1])  # its own stream: hidden_spurs=0 leaves scans unchanged
    hidden = SIDES[int(pick.integers(2))] if pick.random() < hidden_spurs else None
    return render(g, h, w, spacing, bank, rng, hidden)
