"""Surgical instruments for the microscope phantom: exact polygons, and how they look (metal with a specular
stripe, translucent silicone or blue plastic, a soft shadow on the tissue, out of focus towards the frame edge).

An instrument is a list of parts; each part is a quadrilateral strip along a straight shaft (or an arm of the
forceps) whose integer polygon is both what is drawn and what the mask holds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

#: Cataract-1K's instrument classes the phantom draws, and how each one is built.
TOOL_KINDS: dict[str, str] = {
    "Phacoemulsification Tip": "phaco",
    "Irrigation-Aspiration": "ia",
    "Capsulorhexis Forceps": "forceps",
    "Katana Forceps": "forceps",
    "Spatula": "rod",
    "Capsulorhexis Cystotome": "rod",
    "Gauge": "rod",
    "Slit/Incision Knife": "knife",
    "Lens Injector": "injector",
}
TOOL_NAMES: tuple[str, ...] = tuple(TOOL_KINDS)

METAL = (0.62, 0.64, 0.66)
SILICONE = (0.78, 0.80, 0.82)
BLUE = (0.25, 0.70, 0.85)


@dataclass
class Part:
    """One strip of an instrument: its polygon, its axis (from tip to the frame edge), its look."""

    polygon: np.ndarray  # (4, 2) int32
    tip: np.ndarray  # (2,) float, the axis' start
    direction: np.ndarray  # (2,) unit vector from the tip out of the frame
    half_width: float  # at the tip (px); the strip widens by ``flare`` towards the edge
    material: str  # metal, silicone, blue
    opacity: float


@dataclass
class Tool:
    name: str  # a Cataract-1K class title
    parts: list[Part]

    def polygons(self) -> list[np.ndarray]:
        return [p.polygon for p in self.parts]


def _strip(tip, d, half_tip: float, half_far: float, length: float, w: int, h: int) -> np.ndarray:
    n = np.array([-d[1], d[0]])
    far = tip + d * length
    pts = np.array([tip + n * half_tip, far + n * half_far, far - n * half_far, tip - n * half_tip])
    return np.round(np.clip(pts, -4 * w, 4 * w)).astype(np.int32)


def sample_tool(
    rng: np.random.Generator, name: str, target: np.ndarray, w: int, h: int, scale: float, turn: float = 0.0
) -> Tool:
    """A ``name`` instrument whose tip lies at ``target``, entering from a random side (mostly below);
    ``turn`` (radians) rotates it about its tip."""
    kind = TOOL_KINDS[name]
    ang = rng.normal(math.pi / 2, 0.75) + turn  # direction tip -> frame edge; +pi/2 points down on screen
    d = np.array([math.cos(ang), math.sin(ang)])
    length = 2.5 * max(w, h)
    parts: list[Part] = []

    def add(tip, dd, half_tip, half_far, material, opacity, ln=length):
        poly = _strip(tip, dd, half_tip, half_far, ln, w, h)
        parts.append(Part(poly, np.asarray(tip, float), dd, half_tip, material, opacity))

    if kind == "rod":
        r = rng.uniform(2.5, 5.0) * scale
        bend = ang + rng.choice([-1, 1]) * rng.uniform(0.6, 1.4)  # a bent tip (cystotome, chopper)
        db = np.array([math.cos(bend), math.sin(bend)])
        knee = target + db * rng.uniform(8, 22) * scale
        add(target, db, r * 0.8, r, "metal", 1.0, float(np.linalg.norm(knee - target)) + r)
        add(knee, d, r, r * rng.uniform(2.0, 8.0), "metal", 1.0)
    elif kind == "knife":
        r = rng.uniform(6, 12) * scale
        add(target, d, 0.5, r, "metal", 1.0, r * 3.5)
        add(target + d * r * 3.2, d, r, r * rng.uniform(2.0, 6.0), "metal", 1.0)
    elif kind == "forceps":
        r = rng.uniform(3.5, 6.0) * scale
        gap = rng.uniform(0.03, 0.15)
        for s in (-1, 1):
            a = ang + s * gap
            da = np.array([math.cos(a), math.sin(a)])
            tip = target + np.array([-d[1], d[0]]) * s * rng.uniform(0, 6) * scale
            add(tip, da, r * 0.7, r * rng.uniform(2.0, 4.0), "metal", 1.0)
    elif kind in ("phaco", "ia"):
        needle = rng.uniform(4, 8) * scale
        sleeve = rng.uniform(12, 30) * scale
        out = rng.uniform(12, 35) * scale  # the needle beyond the sleeve
        add(target, d, needle * 0.9, needle, "metal", 1.0, out + needle)
        add(target + d * out, d, sleeve * 0.8, sleeve * rng.uniform(4.0, 12.0), "blue" if kind == "ia" else "silicone",
            rng.uniform(0.55, 0.85))  # fmt: skip  # the handpiece widens out of focus towards the objective
    else:  # lens injector: a wide translucent tube with a cartridge
        r = rng.uniform(14, 24) * scale
        add(target, d, r * 0.6, r * rng.uniform(3.0, 8.0), "silicone", rng.uniform(0.5, 0.75))
    return Tool(name, parts)


def draw_tools(
    img: np.ndarray, tools: list[Tool], rng: np.random.Generator, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``tools`` over ``img`` ((H, W, 3) float32): soft shadows first, then each part, defocused towards the
    frame edge. Returns the new image and the union mask of every part's polygon, (H, W) uint8."""
    h, w = img.shape[:2]
    union = np.zeros((h, w), np.uint8)
    if not tools:
        return img, union
    shadow = np.zeros((h, w), np.uint8)
    off = rng.normal(0, 1, 2)
    off = off / (np.linalg.norm(off) + 1e-6) * rng.uniform(6, 18) * scale
    for t in tools:
        for p in t.parts:  # one call per part: fillPoly XORs the overlaps of polygons given together
            cv2.fillPoly(shadow, [(p.polygon + off).round().astype(np.int32).reshape(-1, 1, 2)], 255)
    sh = cv2.GaussianBlur(shadow.astype(np.float32) / 255, (0, 0), 7 * scale)[..., None]
    img = img * (1 - rng.uniform(0.2, 0.45) * sh)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for t in tools:
        for p in t.parts:
            m = np.zeros((h, w), np.uint8)
            cv2.fillPoly(m, [p.polygon.reshape(-1, 1, 2)], 1)
            x0, y0, bw, bh = cv2.boundingRect(m)
            if bw == 0 or bh == 0:
                continue
            union |= m
            sl = (slice(y0, y0 + bh), slice(x0, x0 + bw))
            img[sl] = _shade_part(img[sl], m[sl], p, xx[sl], yy[sl], rng, scale)
    return img, union


def _shade_part(roi: np.ndarray, m: np.ndarray, p: Part, xx, yy, rng, scale: float) -> np.ndarray:
    dx, dy = xx - p.tip[0], yy - p.tip[1]
    along = dx * p.direction[0] + dy * p.direction[1]
    nrm = np.array([-p.direction[1], p.direction[0]])
    half = p.half_width + np.clip(along, 0, None) * 0.02
    across = np.clip((dx * nrm[0] + dy * nrm[1]) / np.maximum(half, 1.0), -1, 1)
    stripe_at = rng.uniform(-0.5, 0.5)
    if p.material == "metal":
        col = np.array(METAL, np.float32) * rng.uniform(0.7, 1.2)
        body = col * (0.35 + 0.65 * np.cos(across * np.pi / 2))[..., None]
        spec = np.exp(-(((across - stripe_at) / 0.15) ** 2))[..., None]
        look = body * (1 - 0.8 * spec) + 1.2 * 0.8 * spec
        alpha = np.float32(1.0)
    else:
        col = np.array(BLUE if p.material == "blue" else SILICONE, np.float32)
        edge = np.abs(across)[..., None] ** 4  # the tube's walls look denser than its middle
        spec = np.exp(-(((across - stripe_at) / 0.1) ** 2))[..., None]
        look = roi * col * 1.1 * (1 - edge) + col * 0.5 * edge
        look = look * (1 - 0.6 * spec) + 1.1 * 0.6 * spec
        alpha = np.float32(p.opacity)
    # Out of focus far from the tip (closer to the objective): blur both look and edge.
    mk = m.astype(np.float32)
    blur_mix = np.clip(along / (rng.uniform(150, 400) * scale), 0, 1)[..., None]
    sig = rng.uniform(2, 6) * scale
    look_b = cv2.GaussianBlur(look * mk[..., None], (0, 0), sig)
    cover_b = cv2.GaussianBlur(mk, (0, 0), sig)[..., None]
    look_b = look_b / np.maximum(cover_b, 1e-3)
    edge_soft = cv2.GaussianBlur(mk, (0, 0), 0.6 * scale)[..., None]
    look = look * (1 - blur_mix) + look_b * blur_mix
    cover = (edge_soft * (1 - blur_mix) + cover_b * blur_mix) * alpha
    cover = np.where(m[..., None] > 0, np.maximum(cover, 0.5 * alpha), cover * 0.6)  # the mask pixels are covered
    return roi * (1 - cover) + look * cover
