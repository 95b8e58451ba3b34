"""The tissue of a surgical-microscope phantom: drapes, eyelid skin and lashes, the speculum, the exposed globe
(sclera with conjunctival vessels) and the limbus-bounded cornea disc (limbal ring, iris, pupil with the red
reflex and the lens as the steps of surgery leave it).

Everything here is drawn in float32 RGB in [0, 1]. The globe and the surround are rendered once per video
(:class:`StaticLayers`); the cornea disc is drawn per frame (:func:`draw_cornea`) from the same ellipse and pupil
outline that give the exact masks, so the image boundary and the label coincide.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

#: What the red reflex and the lens look like: the steps of cataract surgery.
LENS_STAGES = ("clear", "rhexis", "nucleus", "fragments", "cortex", "iol", "trypan", "dim")
#: Iris colours as the microscope's warm light shows them (RGB, 0-1).
IRIS_COLOURS = (
    (0.55, 0.52, 0.28),  # olive / hazel
    (0.42, 0.30, 0.16),  # brown
    (0.50, 0.55, 0.45),  # grey-green
    (0.45, 0.50, 0.55),  # blue-grey
    (0.60, 0.50, 0.30),  # amber
    (0.30, 0.22, 0.14),  # dark brown
)


@dataclass
class EyeGeometry:
    """The limbus ellipse and the pupil outline of one frame, in frame pixels.

    The pupil outline is given in the limbus' normalised frame (the limbus is the unit circle there):
    radius ``pupil_r * (1 + sum a_k cos(k t + phi_k))`` around ``pupil_c``.
    """

    cx: float
    cy: float
    rx: float  # limbus semi-axis along the ellipse's own x axis
    ry: float
    angle: float  # radians, the ellipse's x axis from the image x axis (clockwise on screen)
    pupil_r: float
    pupil_c: tuple[float, float]
    pupil_harmonics: tuple[tuple[float, float], ...]  # (a_k, phi_k) for k = 2, 3, ...

    def to_unit(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frame pixels -> the limbus' normalised frame (unit circle = limbus)."""
        dx, dy = x - self.cx, y - self.cy
        c, s = math.cos(self.angle), math.sin(self.angle)
        return (dx * c + dy * s) / self.rx, (-dx * s + dy * c) / self.ry

    def from_unit(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Normalised frame -> (K, 2) frame pixels."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        x, y = u * self.rx, v * self.ry
        return np.stack([self.cx + x * c - y * s, self.cy + x * s + y * c], axis=-1)

    def pupil_radius(self, theta: np.ndarray) -> np.ndarray:
        r = np.ones_like(theta)
        for k, (a, phi) in enumerate(self.pupil_harmonics, start=2):
            r = r + a * np.cos(k * theta + phi)
        return self.pupil_r * r

    def limbus_polygon(self, n: int, jitter: float, rng: np.random.Generator) -> np.ndarray:
        """Integer vertices of the limbus, like a hand-drawn annotation (``jitter``: relative radial noise)."""
        t = np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, 2 * np.pi / n)
        r = 1 + jitter * rng.standard_normal(n)
        return np.round(self.from_unit(r * np.cos(t), r * np.sin(t))).astype(np.int32)

    def pupil_polygon(self, n: int) -> np.ndarray:
        t = np.linspace(0, 2 * np.pi, n, endpoint=False)
        r = self.pupil_radius(t)
        return np.round(self.from_unit(self.pupil_c[0] + r * np.cos(t), self.pupil_c[1] + r * np.sin(t))).astype(
            np.int32
        )


def smooth_noise(rng: np.random.Generator, h: int, w: int, sigma: float) -> np.ndarray:
    """Zero-mean, unit-sd Gaussian-filtered noise of correlation length ``sigma`` px (made small, then resized)."""
    f = max(1, int(sigma // 3))
    sh, sw = h // f + 3, w // f + 3
    small = cv2.GaussianBlur(rng.standard_normal((sh, sw)).astype(np.float32), (0, 0), max(sigma / f, 0.5))
    big = cv2.resize(small, (sw * f, sh * f), interpolation=cv2.INTER_LINEAR)[:h, :w]
    big -= big.mean()
    return big / (big.std() + 1e-6)


def fbm(rng: np.random.Generator, h: int, w: int, sigmas: tuple[float, ...]) -> np.ndarray:
    """Sum of octaves of :func:`smooth_noise`, each half the weight of the previous, unit sd."""
    out = np.zeros((h, w), np.float32)
    for i, s in enumerate(sigmas):
        out += smooth_noise(rng, h, w, s) * 0.6**i
    return out / (out.std() + 1e-6)


def _random_walk(rng, start: np.ndarray, heading: float, steps: int, step: float, turn: float) -> np.ndarray:
    pts = [start]
    for _ in range(steps):
        heading += rng.normal(0, turn)
        pts.append(pts[-1] + step * np.array([math.cos(heading), math.sin(heading)]))
    return np.array(pts)


def draw_vessels(rng, h: int, w: int, cx: float, cy: float, r: float, scale: float, density: float) -> np.ndarray:
    """Tortuous, branching conjunctival vessels around a limbus of radius ``r``: an (h, w) strength map in [0, 1]."""
    canvas = np.zeros((h, w), np.uint8)
    n = int(rng.integers(40, 90) * density)
    for _ in range(n):
        ang = rng.uniform(0, 2 * np.pi)
        rad = r * rng.uniform(1.05, 2.6)
        start = np.array([cx + rad * math.cos(ang), cy + rad * math.sin(ang)])
        heading = ang + np.pi + rng.normal(0, 1.0)  # mostly towards the limbus, never quite radial
        trunk = _random_walk(rng, start, heading, int(rng.integers(8, 35)), 6 * scale, 0.5)
        width = 2 if rng.random() < 0.15 * scale else 1
        strength = int(rng.uniform(90, 230))
        branches = [(trunk, width, strength)]
        for _ in range(int(rng.integers(1, 6))):
            k = int(rng.integers(1, len(trunk)))
            sub = _random_walk(rng, trunk[k], rng.uniform(0, 2 * np.pi), int(rng.integers(3, 14)), 4 * scale, 0.7)
            branches.append((sub, 1, int(strength * rng.uniform(0.4, 0.8))))
        for pts, wd, st in branches:
            cv2.polylines(canvas, [np.round(pts * 4).astype(np.int32).reshape(-1, 1, 2)], False, st, wd, cv2.LINE_AA, 2)
    v = cv2.GaussianBlur(canvas.astype(np.float32) / 255, (0, 0), 0.35 + 0.3 * scale)
    return np.clip(v * 1.6, 0, 1)


def superellipse_alpha(xx, yy, cx, cy, a, b, p, soft: float, angle: float = 0.0) -> np.ndarray:
    """1 inside the superellipse |x/a|^p + |y/b|^p = 1 (rotated by ``angle``), a soft edge of ``soft`` px."""
    c, s = math.cos(angle), math.sin(angle)
    dx, dy = xx - cx, yy - cy
    u, v = (dx * c + dy * s) / a, (-dx * s + dy * c) / b
    rho = (np.abs(u) ** p + np.abs(v) ** p) ** (1 / p)
    return np.clip((1 - rho) * min(a, b) / max(soft, 0.5) + 0.5, 0, 1).astype(np.float32)


@dataclass
class TissueStyle:
    """The look of one eye and its surround (drawn once per video)."""

    iris: tuple[float, float, float]
    limbal_ring: tuple[float, float, float]
    ring_width: float  # fraction of the limbus radius
    sclera: tuple[float, float, float]
    injection: float  # conjunctival redness
    vessel_density: float
    skin: tuple[float, float, float]
    drape: tuple[float, float, float]
    adhesive_drape: bool  # the translucent yellow incise drape over the upper lid
    speculum: int  # 0: none, 1: wire arms from the top, 2: top and bottom
    lashes: float  # 0..1
    fissure: tuple[float, float, float, float, float]  # a, b (x limbus radius), exponent, dx, dy (x limbus radius)
    stage: str
    stage_seed: int
    haze: float = 0.1  # milky haze of the cornea over the iris
    limbus_soft: float = 0.03  # width of the limbal transition, in limbus radii


def sample_style(rng: np.random.Generator) -> TissueStyle:
    iris = np.array(IRIS_COLOURS[rng.integers(0, len(IRIS_COLOURS))]) * rng.uniform(0.85, 1.15, 3)
    ring = np.array([0.62, 0.68, 0.66]) * rng.uniform(0.85, 1.1) + rng.normal(0, 0.04, 3)
    sclera = np.array([0.93, 0.86, 0.80]) + rng.normal(0, 0.03, 3)
    skin = np.array([0.72, 0.50, 0.40]) * rng.uniform(0.6, 1.1) + rng.normal(0, 0.04, 3)
    drape = [(0.10, 0.16, 0.12), (0.08, 0.12, 0.16), (0.14, 0.15, 0.10), (0.06, 0.07, 0.06)][rng.integers(0, 4)]
    return TissueStyle(
        iris=tuple(np.clip(iris, 0.05, 0.9).tolist()),
        limbal_ring=tuple(np.clip(ring, 0.3, 0.9).tolist()),
        ring_width=float(rng.uniform(0.06, 0.16)),
        sclera=tuple(np.clip(sclera, 0.6, 1.0).tolist()),
        injection=float(rng.uniform(0.1, 0.6)),
        vessel_density=float(rng.uniform(0.5, 1.6)),
        skin=tuple(np.clip(skin, 0.15, 0.9).tolist()),
        drape=tuple(float(c) * rng.uniform(0.7, 1.4) for c in drape),
        adhesive_drape=bool(rng.random() < 0.65),
        speculum=int(rng.choice([0, 1, 2], p=[0.2, 0.4, 0.4])),
        lashes=float(rng.uniform(0, 1)),
        fissure=_fissure(rng),
        stage=str(LENS_STAGES[rng.integers(0, len(LENS_STAGES))]),
        stage_seed=int(rng.integers(0, 2**31)),
        haze=float(rng.uniform(0.03, 0.3)),
        limbus_soft=float(rng.uniform(0.012, 0.05)),
    )


def _fissure(rng: np.random.Generator) -> tuple[float, float, float, float, float]:
    """The lid opening around a unit limbus: semi-axes, superellipse exponent, centre offset (limbus inside)."""
    a, b = rng.uniform(1.45, 2.3), rng.uniform(1.12, 1.6)
    dx = float(np.clip(rng.normal(0, 0.12), -(a - 1.2), a - 1.2))
    dy = float(np.clip(rng.normal(0, 0.1), -(b - 1.08), b - 1.08))
    return float(a), float(b), float(rng.uniform(1.8, 2.4)), dx, dy


class StaticLayers:
    """The surround (drapes, skin, lid margins, lashes, speculum) and the globe (sclera, vessels) of one video,
    drawn once around a reference limbus at ``(cx, cy)`` of radius ``r``; frames warp them (camera motion)."""

    def __init__(self, style: TissueStyle, w: int, h: int, cx: float, cy: float, r: float, rng, eye: bool) -> None:
        self.w, self.h = w, h
        scale = h / 768
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        low = fbm(rng, h, w, (60 * scale, 20 * scale, 6 * scale))
        # Drapes: dark cloth with folds.
        fold_dir = rng.uniform(0, np.pi)
        fold = np.sin((xx * math.cos(fold_dir) + yy * math.sin(fold_dir)) / (rng.uniform(25, 70) * scale) + 2 * low)
        drape = np.array(style.drape, np.float32) * (0.75 + 0.25 * fold[..., None] + 0.12 * low[..., None])
        img = drape
        a, b, p, fdx, fdy = style.fissure
        fx, fy = cx + fdx * r, cy + fdy * r
        self.fissure_centre = (fx, fy)
        if eye:
            skin_tex = 0.85 + 0.1 * fbm(rng, h, w, (30 * scale, 8 * scale))[..., None]
            wrinkles = np.sin((yy - fy) / (rng.uniform(6, 14) * scale) + 3 * low) > 0.92
            skin_tex = (
                skin_tex * (1 - 0.15 * cv2.GaussianBlur(wrinkles.astype(np.float32), (0, 0), 1.5 * scale))[..., None]
            )
            skin = np.array(style.skin, np.float32) * skin_tex
            around = superellipse_alpha(xx, yy, fx, fy, a * r * 1.9, b * r * 2.1, 2.0, 60 * scale)[..., None]
            img = img * (1 - around) + skin * around
            self.fissure = superellipse_alpha(xx, yy, fx, fy, a * r, b * r, p, 4 * scale)
            outside = 1 - superellipse_alpha(xx, yy, fx, fy, a * r * 1.06, b * r * 1.08, p, 10 * scale)
            lid_shade = cv2.GaussianBlur(1 - outside, (0, 0), 6 * scale)[..., None] * outside[..., None]
            img = img * (1 - 0.6 * lid_shade)  # the lid margin rolls inwards: dark, wet
            if style.lashes > 0.2:
                img = self._lashes(img, rng, fx, fy, a * r, b * r, style.lashes, scale)
            self.globe = self._globe(style, xx, yy, cx, cy, r, rng, scale, low)
        else:
            self.fissure = np.zeros((h, w), np.float32)
            self.globe = np.zeros((h, w, 3), np.float32)
        self.surround = img
        self.speculum = self._speculum(style, rng, fx, fy, a * r, b * r, scale) if eye and style.speculum else None
        self.film = self._film(rng, yy, cy, r, scale, low) if eye and style.adhesive_drape else None

    def _film(self, rng, yy, cy: float, r: float, scale: float, low) -> tuple[np.ndarray, np.ndarray]:
        """The adhesive incise drape: a translucent yellow-orange film with lit wrinkles over the upper lid and
        sclera, its cut edge above the limbus. (alpha (h, w), colour (h, w, 3)), drawn over the globe."""
        h, w = self.h, self.w
        edge = cy - r * rng.uniform(1.08, 1.7) + 0.2 * r * smooth_noise(rng, 1, w, 60 * scale)
        alpha = np.clip((edge - yy) / (5 * scale), 0, 1) * rng.uniform(0.7, 0.95)
        folds = np.sin(3 * smooth_noise(rng, h, w, rng.uniform(15, 40) * scale))[..., None]  # broad folds
        wr = np.abs(smooth_noise(rng, h, w, rng.uniform(8, 16) * scale))
        ridge = np.clip(1 - 8 * wr, 0, 1)[..., None]  # a few creases catch the light
        tint = np.array([1.0, rng.uniform(0.45, 0.72), rng.uniform(0.25, 0.45)], np.float32)
        colour = (rng.uniform(0.7, 1.1) + 0.15 * folds + 0.08 * low[..., None] + 0.35 * ridge) * tint
        rim = np.exp(-(((edge - yy) / (3 * scale)) ** 2))[..., None]  # the film's cut edge, darker
        colour = colour * (1 - 0.4 * rim)
        return alpha.astype(np.float32), colour.astype(np.float32)

    def _globe(self, style: TissueStyle, xx, yy, cx, cy, r, rng, scale, low) -> np.ndarray:
        d = np.sqrt((xx - cx) ** 2 + (yy - cy) ** 2) / r
        sclera = np.array(style.sclera, np.float32)
        pink = np.array([0.88, 0.55, 0.50], np.float32)
        inj = np.clip((d - 1.0) / 1.3, 0, 1)[..., None] * style.injection
        tex = 0.95 + 0.04 * low[..., None]
        globe = (sclera * (1 - inj) + pink * inj) * tex
        globe *= np.clip(1.04 - 0.22 * np.clip(d - 1.1, 0, None), 0.5, 1.04)[..., None]  # the globe's curvature
        # Towards the lids the globe turns away from the light: darker and redder.
        lid = 1 - cv2.GaussianBlur(self.fissure, (0, 0), 14 * scale)
        globe *= 1 - 0.55 * lid[..., None] * np.array([0.8, 1.0, 1.0], np.float32)
        ves = draw_vessels(rng, self.h, self.w, cx, cy, r, scale, style.vessel_density)
        ves *= np.clip((d - 1.03) * 5, 0, 1)
        vessel_rgb = np.array([0.72, 0.16, 0.16], np.float32) * rng.uniform(0.8, 1.1)
        globe = globe * (1 - 0.85 * ves[..., None]) + vessel_rgb * 0.85 * ves[..., None]
        for _ in range(int(rng.choice([0, 0, 1, 1, 2, 3]))):  # blood: a bleed near an incision, a smear
            ang = rng.uniform(0, 2 * np.pi)
            dist = r * rng.uniform(1.03, 1.8)
            bx, by = cx + dist * math.cos(ang), cy + dist * math.sin(ang)
            blob = superellipse_alpha(xx, yy, bx, by, rng.uniform(8, 50) * scale, rng.uniform(5, 25) * scale, 2.0,
                                      5 * scale, ang + rng.normal(np.pi / 2, 0.4))  # fmt: skip
            blob *= np.clip(0.5 + 0.7 * smooth_noise(rng, self.h, self.w, 6 * scale), 0, 1)
            red = np.array([0.62, 0.05, 0.05], np.float32) * rng.uniform(0.6, 1.2)
            globe = globe * (1 - 0.85 * blob[..., None]) + red * 0.85 * blob[..., None]
        return globe

    def _lashes(self, img, rng, fx, fy, a, b, amount: float, scale: float) -> np.ndarray:
        layer = np.zeros(img.shape[:2], np.uint8)
        for lower in (True, False):
            if not lower and rng.random() < 0.6:
                continue  # the upper lashes are usually taped under the drape
            for _ in range(int(amount * rng.integers(15, 45))):
                t = rng.uniform(-0.85, 0.85) * np.pi / 2 + (np.pi / 2 if lower else -np.pi / 2)
                px, py = fx + 1.04 * a * math.cos(t), fy + 1.04 * b * math.sin(t)
                out = np.array([math.cos(t), math.sin(t)])
                pts = [np.array([px, py])]
                n = int(rng.integers(4, 8))
                bend = rng.normal(0, 0.15)
                for k in range(n):
                    ang = math.atan2(out[1], out[0]) + bend * k
                    pts.append(pts[-1] + rng.uniform(3, 6) * scale * np.array([math.cos(ang), math.sin(ang)]))
                cv2.polylines(layer, [np.round(np.array(pts)).astype(np.int32).reshape(-1, 1, 2)], False, 255,
                              max(1, int(round(1.6 * scale))), cv2.LINE_AA)  # fmt: skip
        m = cv2.GaussianBlur(layer.astype(np.float32) / 255, (0, 0), 0.7 * scale)[..., None]
        return img * (1 - 0.85 * m) + np.array([0.05, 0.04, 0.03], np.float32) * 0.85 * m

    def _speculum(self, style: TissueStyle, rng, fx, fy, a, b, scale) -> tuple[np.ndarray, np.ndarray]:
        """Wire arms of a lid speculum: (alpha (h, w), colour (h, w, 3)), drawn over everything but the tools."""
        layer = np.zeros((self.h, self.w), np.uint8)
        hi = np.zeros((self.h, self.w), np.uint8)
        width = max(3, int(rng.uniform(6, 13) * scale))
        ends = [(-1, rng.uniform(-0.6, -0.2)), (-1, rng.uniform(0.2, 0.6))]
        if style.speculum == 2:
            ends += [(1, rng.uniform(-0.6, -0.2)), (1, rng.uniform(0.2, 0.6))]
        for side, frac in ends:
            x_lid = fx + frac * a
            y_lid = fy + side * b * math.sqrt(max(1 - frac**2, 0.05)) * 1.05
            y_edge = -50.0 if side < 0 else self.h + 50.0
            x_top = x_lid + rng.normal(0, 0.15) * a
            hook = np.array([[x_lid, y_lid], [x_lid, y_lid - side * 18 * scale]])
            stem = np.array([[x_lid + rng.normal(0, 4) * scale, y_lid - side * 0.25 * b], [x_top, y_edge]])
            pts = np.concatenate([hook, stem])
            cv2.polylines(layer, [np.round(pts).astype(np.int32).reshape(-1, 1, 2)], False, 255, width, cv2.LINE_AA)
            cv2.polylines(hi, [np.round(pts + [width * 0.2, 0]).astype(np.int32).reshape(-1, 1, 2)], False, 255,
                          max(1, width // 4), cv2.LINE_AA)  # fmt: skip
        alpha = cv2.GaussianBlur(layer.astype(np.float32) / 255, (0, 0), 0.8 * scale)
        shine = cv2.GaussianBlur(hi.astype(np.float32) / 255, (0, 0), 1.0 * scale)[..., None]
        base = np.array([0.16, 0.24, 0.20], np.float32) * rng.uniform(0.7, 1.5)
        colour = base * (1 - shine) + np.array([0.75, 0.85, 0.8], np.float32) * shine
        return alpha, np.broadcast_to(colour, (self.h, self.w, 3)).astype(np.float32)


def draw_cornea(img: np.ndarray, g: EyeGeometry, style: TissueStyle, rng: np.random.Generator, scale: float) -> None:
    """Paint the limbus-bounded disc of ``g`` (limbal ring, iris, pupil with the red reflex and the lens stage)
    into ``img`` ((H, W, 3) float32, in place), in the bounding box of the limbus only."""
    h, w = img.shape[:2]
    ext = max(g.rx, g.ry) * 1.08 + 4
    x0, x1 = max(0, int(g.cx - ext)), min(w, int(g.cx + ext) + 1)
    y0, y1 = max(0, int(g.cy - ext)), min(h, int(g.cy + ext) + 1)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    u, v = g.to_unit(xx, yy)
    rr = np.sqrt(u * u + v * v)
    theta = np.arctan2(v, u)
    px, py = u - g.pupil_c[0], v - g.pupil_c[1]
    pr = np.sqrt(px * px + py * py)
    ptheta = np.arctan2(py, px)
    pupil_edge = g.pupil_radius(ptheta)
    px_per_unit = min(g.rx, g.ry)
    srng = np.random.default_rng(style.stage_seed)  # the same textures in every frame of a video
    # Iris between the pupil and the limbus: radial fibres, crypts, the collarette, a dark pupil ruff.
    t_iris = np.clip((pr - pupil_edge) / np.maximum(1 - pupil_edge, 1e-3), 0, 1)
    phase = srng.uniform(0, 6.3)
    fib_amp = srng.uniform(0.0, 0.04)
    fib = 1 + fib_amp * np.sin(theta * srng.integers(60, 110) + 4 * np.sin(theta * 7 + phase) + 3 * t_iris)
    fib += srng.uniform(0, 0.06) * np.sin(theta * srng.integers(5, 13) + phase) * np.sin(t_iris * 6 + phase)
    iris = np.array(style.iris, np.float32) * fib[..., None]
    collar = np.exp(-(((t_iris - srng.uniform(0.2, 0.45)) / 0.1) ** 2))[..., None]
    iris = iris * (1 + srng.uniform(0, 0.15) * collar) * (0.85 + 0.25 * t_iris[..., None])
    ruff = np.exp(-(((pr - pupil_edge) * px_per_unit / (srng.uniform(1.5, 4.0) * scale)) ** 2))[..., None]
    iris = iris * (1 - srng.uniform(0.2, 0.7) * ruff)
    # The peripheral cornea over the limbus: a translucent grey ring that hides the iris root.
    ring = np.clip((rr - (1 - style.ring_width)) / style.ring_width, 0, 1) ** 1.2
    ring_rgb = np.array(style.limbal_ring, np.float32)
    disc = iris * (1 - 0.8 * ring[..., None]) + ring_rgb * 0.8 * ring[..., None]
    # Pupil: the red reflex, brighter in its middle, and the lens of this step of surgery.
    reflex = _red_reflex(pr / np.maximum(pupil_edge, 1e-3), ptheta, style, srng, px_per_unit * g.pupil_r, scale)
    inside_p = np.clip((pupil_edge - pr) * px_per_unit / (0.8 + 0.8 * scale) + 0.5, 0, 1)[..., None]
    disc = disc * (1 - inside_p) + reflex * inside_p
    haze = style.haze * np.clip(1 - 0.5 * inside_p, 0, 1)  # the cornea's milky haze, less over the reflex
    disc = disc * (1 - haze) + np.array([0.75, 0.78, 0.76], np.float32) * haze
    # The limbus: a soft transition into the sclera, its middle on the mask's edge, a grey halo outside.
    soft = style.limbus_soft * px_per_unit
    inside = np.clip((1 - rr) * px_per_unit / soft + 0.5, 0, 1)[..., None]
    halo = np.exp(-((np.clip(rr - 1, 0, None) * px_per_unit / (1.5 * soft)) ** 2))[..., None] * (1 - inside)
    roi = img[y0:y1, x0:x1]
    roi[:] = roi * (1 - inside) + disc * inside
    roi[:] = roi * (1 - 0.35 * halo) + np.array(style.limbal_ring, np.float32) * 0.35 * halo


def _red_reflex(q, t, style: TissueStyle, srng, radius_px: float, scale: float) -> np.ndarray:
    """The pupil's content at normalised pupil radius ``q`` (1 at the pupil edge) and angle ``t``."""
    stage = style.stage
    base = np.array([0.72, 0.27, 0.13], np.float32) * srng.uniform(0.7, 1.25, 3).astype(np.float32)
    base = base * srng.uniform(0.6, 1.15)  # from a dull red-brown to a bright orange reflex
    centre = np.array([0.98, 0.62, 0.40], np.float32)
    glow = np.clip(1 - q**2, 0, 1)[..., None] ** 1.5 * srng.uniform(0.1, 0.5)
    mottle = 1 + 0.05 * np.sin(q * 9 + 3 * np.sin(t * 5 + srng.uniform(0, 6)))[..., None]
    rgb = (base * (1 - glow) + centre * glow) * mottle
    rgb *= (1 - srng.uniform(0.1, 0.5) * np.clip(q - 0.7, 0, 1) / 0.3)[..., None]  # darker towards the iris
    tilt = srng.uniform(0, 6.3)  # the reflex is brighter on one side
    rgb *= (1 + srng.uniform(0, 0.25) * q * np.cos(t - tilt))[..., None]
    haze = srng.uniform(0.0, 0.85) * srng.random() ** 0.7  # a cloudy lens over the reflex, up to a white cataract
    if haze > 0.02:
        patchy = srng.uniform(0.1, 0.5)
        cloud = haze * (1 - patchy + patchy * np.sin(q * srng.uniform(3, 9) + 2 * np.sin(t * 2 + srng.uniform(0, 6))))
        tones = ((0.62, 0.64, 0.55), (0.75, 0.75, 0.7), (0.55, 0.6, 0.62), (0.5, 0.38, 0.22), (0.58, 0.6, 0.45))
        grey = np.array(tones[srng.integers(0, len(tones))], np.float32) * srng.uniform(0.6, 1.2)
        rgb = rgb * (1 - cloud[..., None]) + grey * cloud[..., None]
    if stage == "dim":
        rgb *= np.array([0.55, 0.45, 0.4], np.float32)
    elif stage == "trypan":
        rgb = rgb * np.array([0.55, 0.55, 0.9], np.float32) + np.array([0.05, 0.05, 0.15], np.float32)
    if stage in ("rhexis", "nucleus", "fragments", "trypan"):
        rr0 = srng.uniform(0.55, 0.85)
        edge = np.exp(-(((q - rr0 * (1 + 0.03 * np.sin(2 * t))) * radius_px / (1.5 * scale)) ** 2))[..., None]
        rgb = rgb * (1 - 0.35 * edge) + np.array([0.95, 0.85, 0.75], np.float32) * 0.35 * edge
    if stage in ("nucleus", "fragments"):
        k = srng.uniform(0.35, 0.8)
        wobble = 1 + 0.12 * np.sin(3 * t + srng.uniform(0, 6)) + 0.06 * np.sin(5 * t + srng.uniform(0, 6))
        nuc = np.clip((k * wobble - q) * radius_px / (srng.uniform(4, 20) * scale), 0, 1)[..., None]
        tone = np.array([0.62, 0.62, 0.48], np.float32) * srng.uniform(0.6, 1.2, 3).astype(np.float32)
        smear = 0.85 + 0.15 * np.sin(q * srng.uniform(5, 15) + 2 * np.sin(t * 3 + srng.uniform(0, 6)))[..., None]
        if stage == "fragments":  # grooves of the chop, as dark streaks
            groove = np.abs(np.sin(2 * t + srng.uniform(0, 3))) < 0.08
            smear = smear * np.where(groove, 0.7, 1.0)[..., None]
        amount = srng.uniform(0.4, 0.85)
        rgb = rgb * (1 - amount * nuc) + tone * smear * amount * nuc
    if stage == "cortex":
        spokes = np.clip(np.sin(t * srng.integers(3, 8) + 2 * np.sin(3 * t) + srng.uniform(0, 6)), 0, 1) ** 6
        cortex = (spokes * np.clip((q - 0.6) / 0.4, 0, 1))[..., None] * srng.uniform(0.2, 0.5)
        rgb = rgb * (1 - cortex) + np.array([0.85, 0.8, 0.72], np.float32) * cortex
    if stage == "iol":
        r_optic = srng.uniform(0.55, 0.8)
        rim = np.exp(-(((q - r_optic) * radius_px / (1.2 * scale)) ** 2))[..., None]
        rgb = rgb * (1 - 0.5 * rim) + np.array([1.0, 0.95, 0.9], np.float32) * 0.5 * rim
        for side in (0.0, np.pi):  # two C-loop haptics
            arc_t = t - side - srng.uniform(-0.3, 0.3)
            hapt = np.exp(-(((q - (r_optic + 0.5 * np.clip(arc_t, 0, 1.5))) * radius_px / (1.0 * scale)) ** 2))
            hapt *= (arc_t > 0) & (arc_t < 1.5)
            rgb = rgb * (1 - 0.4 * hapt[..., None]) + 0.9 * 0.4 * hapt[..., None]
    return np.clip(rgb, 0, 1.2)
