"""Analytic anterior-segment anatomy for the AS-OCT phantom, in millimetres.

Coordinates: x to the right, y down (depth), origin at the top-left corner of the image, pixel
(row i, column j) centred at (j * sx, i * sy). Every structure is an interval in y per column, so
masks sampled at pixel centres are exact, and every biometric value is computed from the curves
themselves (dense sampling and bisection, accurate to ~1e-5 mm), independently of the pixel grid.

A tilted eye is sheared: every depth gets ``tilt * (x - cx)`` added. The curves stay one interval per
column (so masks stay exact), and the biometry is computed on the sheared curves themselves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from antseg.anatomy import SIDES


@dataclass
class EyeParams:
    """Anatomical parameters of one phantom eye (mm, degrees)."""

    cx: float  # x of the corneal apex / optical axis
    epi_apex: float  # y of the corneal epithelium at the apex
    cct: float  # central corneal thickness
    half_acw: tuple[float, float]  # x distance from cx to the left / right spur
    acd: float  # anterior chamber depth knob (endothelium apex to lens pole)
    lv: float  # lens vault knob (sets the wall curvature so the spur line lies lv below the pole)
    recess: tuple[float, float]  # chord length from spur to angle recess along the wall, per side
    angle_deg: tuple[float, float]  # iris angle at the recess, per side
    bow: tuple[float, float]  # Bezier control distance as a fraction of recess-to-tip length
    pupil_r: tuple[float, float]  # x distance from cx to each pupillary margin
    iris_root_th: float
    iris_bump: float  # collarette thickening
    iris_tip_th: float
    lens_r_ant: float
    lens_r_post: float
    lens_th: float
    cortex: float  # anterior cortex thickness above the nucleus
    nucleus_density: float  # 0 clear .. 1 dense (rendering only)
    iris_waves: tuple[float, ...] = (0.0, 3.0, 0.0, 7.0, 0.0)  # amplitude (mm), f1, phase1, f2, phase2
    flatten: float = 0.15  # how fast the scleral surface flattens beyond the limbus (1/mm)
    thickening: float = 0.012  # the cornea thickens toward the limbus by this times dx^2 (mm)
    tilt: float = 0.0  # shear dy/dx of the whole eye (a head or device tilt of atan(tilt))
    bump_at: float = 0.5  # where along the iris (0 root .. 1 pupil) the collarette thickening peaks
    #: crypts of the anterior iris surface: (position 0..1 from root to pupil, depth mm, width in u) each;
    #: they dent the anterior surface only (the posterior surface does not move).
    crypts: tuple[tuple[float, float, float], ...] = ()
    smooth_root: float = 0.0  # the waves fade in over this first fraction of the iris (0: no fade)
    #: thickness of the iris's unlabelled posterior layer where the iris rests on the lens: the labelled iris
    #: (the stroma) stops this far above the anterior capsule, from the pupil margin out to where they part.
    iris_back: float = 0.0
    #: the iris drapes onto the lens over this distance (mm, in x) from its pupillary margin: iris-lens contact
    iris_contact: float = 0.0


class EyeGeometry:
    """Curves of one eye, and the exact biometry they imply."""

    def __init__(self, p: EyeParams) -> None:
        self.p = p
        h = 0.5 * (p.half_acw[0] + p.half_acw[1])
        self.k = (p.acd + p.lv) / h**2  # endothelium y = endo_apex + k dx^2
        self.endo_apex = p.epi_apex + p.cct
        self.pole_y = self.endo_apex + p.acd
        self.spur = {
            "left": self._wall_point(p.cx - p.half_acw[0]),
            "right": self._wall_point(p.cx + p.half_acw[1]),
        }
        self.recess = {s: self._along_wall(self.spur[s], p.recess[i], outward=True) for i, s in enumerate(SIDES)}
        self.tip = {}
        self.iris_curve = {}
        self._sorted: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        for i, s in enumerate(SIDES):
            sign = -1.0 if s == "left" else 1.0
            tx = p.cx + sign * p.pupil_r[i]
            self.tip[s] = np.array([tx, self.lens_ant(np.array([tx]))[0] - p.iris_tip_th - p.iris_back])
            self.iris_curve[s] = self._iris_bezier(s, i)

    def shear(self, x: np.ndarray) -> np.ndarray:
        """Depth added at ``x`` by the tilt (zero at the optical axis)."""
        return self.p.tilt * (x - self.p.cx)

    # -- wall (corneal endothelium / inner corneoscleral wall) ---------------------------------------
    def endo(self, x: np.ndarray) -> np.ndarray:
        return self.endo_apex + self.k * (x - self.p.cx) ** 2 + self.shear(x)

    def endo_slope(self, x: np.ndarray | float) -> np.ndarray | float:
        return 2 * self.k * (x - self.p.cx) + self.p.tilt

    def epi(self, x: np.ndarray) -> np.ndarray:
        """Anterior corneoscleral surface: the cornea thickens toward the limbus, the sclera flattens outward."""
        d = np.abs(x - self.p.cx)
        lim = 0.5 * (self.p.half_acw[0] + self.p.half_acw[1]) + 0.3
        c = self.p.thickening
        inner = self.endo_apex + self.k * d**2 - (self.p.cct + c * d**2)
        at_lim = self.endo_apex + self.k * lim**2 - (self.p.cct + c * lim**2)
        slope = 2 * self.k * lim - 2 * c * lim
        f = self.p.flatten
        e = np.minimum(d - lim, slope / (2 * f)) if f > 0 else d - lim
        outer = at_lim + slope * e - f * e**2
        return np.where(d <= lim, inner, outer) + self.shear(x)

    def past_spur(self, x: np.ndarray) -> np.ndarray:
        """How far (mm, in x) each column lies beyond its side's scleral spur (negative: inside the spurs)."""
        cx = self.p.cx
        return np.abs(x - cx) - np.where(x < cx, self.p.half_acw[0], self.p.half_acw[1])

    def scleral_lift(self, x: np.ndarray) -> np.ndarray:
        """Thickness of the dim ciliary-body wedge under the sclera: 0 inside the spurs, a notch at the spur,
        then widening along the angle wall. The sclera ends (and the wedge begins) at ``endo - lift``."""
        past = self.past_spur(x)
        return np.where(past >= 0, np.minimum(0.035 + np.clip(past, 0, None) * 0.45, 0.3), 0.0)

    def sclera_inner(self, x: np.ndarray) -> np.ndarray:
        """Posterior surface of the corneoscleral shell: the endothelium inside the spurs; past them the inner
        scleral surface, which leaves the angle wall at the spur (the notch of :meth:`scleral_lift`) and then
        runs about parallel to the outer surface, with the ciliary body beneath."""
        past = self.past_spur(x)
        sx = np.array([self.spur["left"][0], self.spur["right"][0]])
        at_spur = self.endo(sx) - self.epi(sx) - 0.035  # shell thickness at each spur, below the notch
        th = np.where(x < self.p.cx, at_spur[0], at_spur[1]) + 0.2 * np.clip(past, 0, None)
        wall = self.endo(x) - self.scleral_lift(x)
        return np.where(past >= 0, np.minimum(wall, self.epi(x) + th), wall)

    def cornea_interval(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The corneoscleral shell (the ``cornea`` structure): from the epithelium down to the endothelium,
        and past the spurs down to the inner scleral surface, across the whole scan."""
        return self.epi(x), self.sclera_inner(x)

    def _wall_point(self, x: float) -> np.ndarray:
        return np.array([x, float(self.endo(np.array([x]))[0])])

    def wall_normal(self, pt: np.ndarray) -> np.ndarray:
        """Unit normal of the wall at ``pt``, pointing into the anterior chamber."""
        n = np.array([-self.endo_slope(pt[0]), 1.0])
        return n / np.linalg.norm(n)

    def _along_wall(self, start: np.ndarray, dist: float, outward: bool) -> np.ndarray:
        """Point on the wall at chord distance ``dist`` from ``start`` (away from or toward the axis)."""
        cx, k, y0, t = self.p.cx, self.k, self.endo_apex, self.p.tilt
        sx, sy = float(start[0]), float(start[1])
        direction = np.sign(sx - cx) * (1.0 if outward else -1.0)
        lo, hi = 0.0, 3.0 * dist + 1e-9
        for _ in range(60):  # bisection on the x offset; plain floats keep it fast
            mid = 0.5 * (lo + hi)
            x = sx + direction * mid
            if math.hypot(x - sx, y0 + k * (x - cx) ** 2 + t * (x - cx) - sy) < dist:
                lo = mid
            else:
                hi = mid
        return self._wall_point(sx + direction * 0.5 * (lo + hi))

    # -- lens ---------------------------------------------------------------------------------------
    def lens_ant(self, x: np.ndarray) -> np.ndarray:
        r = self.p.lens_r_ant
        return self.pole_y + r - np.sqrt(np.maximum(r**2 - (x - self.p.cx) ** 2, 0.0)) + self.shear(x)

    def lens_post(self, x: np.ndarray) -> np.ndarray:
        r = self.p.lens_r_post
        sag = np.sqrt(np.maximum(r**2 - (x - self.p.cx) ** 2, 0.0))
        return self.pole_y + self.p.lens_th - r + sag + self.shear(x)

    def nucleus_interval(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        p = self.p
        cy = self.pole_y + 0.5 * p.lens_th
        b = 0.5 * p.lens_th - p.cortex
        a = 0.62 * self.lens_equator()
        u = 1 - ((x - p.cx) / a) ** 2
        half = b * np.sqrt(np.maximum(u, 0))
        top = np.maximum(cy - half + self.shear(x), self.lens_ant(x))
        bot = np.minimum(cy + half + self.shear(x), self.lens_post(x))
        return np.where(u > 0, top, np.inf), np.where(u > 0, bot, -np.inf)

    def lens_equator(self) -> float:
        """Half-width of the lens (where the anterior and posterior surfaces meet)."""
        lo, hi = 0.0, min(self.p.lens_r_ant, self.p.lens_r_post)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            x = np.array([self.p.cx + mid])
            if self.lens_ant(x)[0] < self.lens_post(x)[0]:
                lo = mid
            else:
                hi = mid
        return lo

    # -- iris ---------------------------------------------------------------------------------------
    def _iris_bezier(self, side: str, i: int) -> np.ndarray:
        """Anterior iris surface: quadratic Bezier from the recess (at the iris angle) to the tip, (K, 2)."""
        r, t = self.recess[side], self.tip[side]
        toward = np.sign(self.p.cx - r[0])
        tangent = np.array([toward, self.endo_slope(r[0]) * toward])
        tangent /= np.linalg.norm(tangent)
        a = np.deg2rad(self.p.angle_deg[i])
        # Rotate the central-pointing wall tangent into the chamber (y down) by the iris angle.
        rot = a if toward > 0 else -a
        d = np.array(
            [
                tangent[0] * np.cos(rot) - tangent[1] * np.sin(rot),
                tangent[0] * np.sin(rot) + tangent[1] * np.cos(rot),
            ]
        )
        c = r + self.p.bow[i] * np.linalg.norm(t - r) * d
        u = np.linspace(0.0, 1.0, 4001)[:, None]
        curve = (1 - u) ** 2 * r + 2 * (1 - u) * u * c + u**2 * t
        amp, f1, p1, f2, p2 = self.p.iris_waves
        uu = u[:, 0]
        # Crypts and folds of the anterior border layer; zero at the recess and at the pupil margin.
        wave = np.sin(2 * np.pi * f1 * uu + p1 + i) + 0.5 * np.sin(2 * np.pi * f2 * uu + p2 + i)
        envelope = np.sin(np.pi * uu) ** 0.5
        if self.p.smooth_root > 0:  # a smooth iris root: the angle (AOD, IT750) stays clear of folds
            ramp = np.clip(uu / self.p.smooth_root, 0.0, 1.0)
            envelope = envelope * ramp * ramp * (3 - 2 * ramp)
        curve[:, 1] += amp * wave * envelope + self.crypt_depth(uu)
        reach = self.p.iris_contact
        if reach > 0:
            # Toward the pupil the iris rests on the lens: where its back floats above the capsule (less the
            # posterior layer between them), the iris is lowered onto it, fully within reach / 2 of the margin
            # and fading out at reach. Its thickness is kept; the curve stays one depth per x.
            post = curve[:, 1] + self.iris_thickness(uu) - self.crypt_depth(uu)
            gap = np.maximum(self.lens_ant(curve[:, 0]) - self.p.iris_back - post, 0.0)
            w = np.clip((reach - np.abs(curve[:, 0] - t[0])) / (0.5 * reach), 0.0, 1.0)
            curve[:, 1] += w * w * (3 - 2 * w) * gap
        return curve

    def iris_thickness(self, u: np.ndarray) -> np.ndarray:
        """Iris thickness (mm) at iris positions ``u`` (0 root .. 1 pupil), before the crypts dent it."""
        p = self.p
        # The collarette ridge: sin^2 peaking at bump_at (u is warped so that bump_at maps to 1/2).
        warp = u if p.bump_at == 0.5 else u ** (np.log(0.5) / np.log(p.bump_at))
        bump = np.sin(np.pi * warp) ** 2
        return p.iris_tip_th + (p.iris_root_th - p.iris_tip_th) * (1 - u) + p.iris_bump * bump

    def crypt_depth(self, u: np.ndarray) -> np.ndarray:
        """Depth (mm, down) of the crypts of the anterior iris surface at iris positions ``u``."""
        out = np.zeros_like(u)
        for at, depth, width in self.p.crypts:
            out += depth * np.exp(-(((u - at) / width) ** 2))
        return out

    def _iris_sorted(self, side: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if side not in self._sorted:
            c = self.iris_curve[side]
            order = np.argsort(c[:, 0])
            self._sorted[side] = (c[order, 0], c[order, 1], np.linspace(0, 1, len(c))[order])
        return self._sorted[side]

    def iris_interval(self, side: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Anterior and posterior iris surface at ``x`` (inf/-inf outside the iris)."""
        xs, ys, us = self._iris_sorted(side)
        ant = np.interp(x, xs, ys)
        u = np.interp(x, xs, us)
        p = self.p
        th = self.iris_thickness(u)
        if p.crypts:
            th = th - self.crypt_depth(u)  # crypts dent the anterior surface only
        post = np.minimum(ant + th, self.lens_ant(x) - p.iris_back)
        inside = (x >= xs[0]) & (x <= xs[-1])
        return np.where(inside, ant, np.inf), np.where(inside, post, -np.inf)

    def iris_ant(self, side: str, x: np.ndarray) -> np.ndarray:
        return self.iris_interval(side, x)[0]

    # -- anterior chamber ---------------------------------------------------------------------------
    def chamber_interval(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        top = self.endo(x)
        bot = np.full_like(x, -np.inf)
        lx, rx = self.recess["left"][0], self.recess["right"][0]
        tl, tr = self.tip["left"][0], self.tip["right"][0]
        pupil = (x > tl) & (x < tr)
        bot = np.where(pupil, self.lens_ant(x), bot)
        left = (x >= lx) & (x <= tl)
        right = (x >= tr) & (x <= rx)
        bot = np.where(left, self.iris_ant("left", x), bot)
        bot = np.where(right, self.iris_ant("right", x), bot)
        return top, bot
