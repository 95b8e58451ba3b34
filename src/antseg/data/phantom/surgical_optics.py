"""Light and optics of the surgical microscope for the phantom: the warm coaxial light cone and vignetting,
the paired corneal reflections of the light, wet specular highlights, air bubbles, colour casts, defocus,
motion blur, sensor noise and video compression.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class OpticsStyle:
    """What the camera and the light do in one video."""

    light_size: float  # sd of the light cone, in limbus radii
    light_offset: tuple[float, float]  # from the limbus centre, limbus radii
    ambient: float  # light outside the cone
    exposure: float
    gains: tuple[float, float, float]  # colour cast (white balance)
    shadow_tint: tuple[float, float, float]  # added in the dark (the green of many microscope videos)
    saturation: float
    defocus: float  # Gaussian sigma (px at 768 lines)
    noise: float  # sd, 0-1 scale
    jpeg: int  # quality, 0: none
    soft: float  # downscale factor of an SD source (1: none)
    reflection_gap: float  # distance between the two corneal reflections, in their radius


def sample_optics(rng: np.random.Generator) -> OpticsStyle:
    gains = np.array([1.0, 1.0, 1.0]) + rng.normal(0, 0.09, 3)
    tint = np.array([0.0, 0.035, 0.015]) * rng.uniform(0, 1.5) + rng.normal(0, 0.008, 3)
    return OpticsStyle(
        light_size=float(rng.uniform(1.4, 2.4)),
        light_offset=(float(rng.normal(0, 0.35)), float(rng.normal(0, 0.3))),
        ambient=float(rng.uniform(0.04, 0.2)),
        exposure=float(rng.uniform(0.8, 1.35)),
        gains=tuple(gains.tolist()),
        shadow_tint=tuple(tint.tolist()),
        saturation=float(rng.uniform(0.8, 1.35)),
        defocus=float(rng.uniform(0.6, 2.0)),
        noise=float(rng.uniform(0.005, 0.03)),
        jpeg=int(rng.choice([0, 40, 55, 70, 85])),
        soft=float(rng.choice([1.0, 1.0, 0.75, 0.6, 0.5])),
        reflection_gap=float(rng.uniform(1.8, 4.0)),
    )


def light_cone(h: int, w: int, cx: float, cy: float, r: float, o: OpticsStyle) -> np.ndarray:
    """(h, w, 1) float32 illumination: ambient plus a flat-topped warm cone around (cx, cy) + offset."""
    lx, ly = cx + o.light_offset[0] * r, cy + o.light_offset[1] * r
    s = o.light_size * r
    ys = ((np.arange(h, dtype=np.float32) - ly) / s) ** 2
    xs = ((np.arange(w, dtype=np.float32) - lx) / s) ** 2
    d2 = ys[:, None] + xs[None, :]
    cone = np.exp(-(d2**1.3))
    return (o.exposure * (o.ambient + (1 - o.ambient) * cone))[..., None].astype(np.float32)


def _disc(img, x: float, y: float, rad: float, colour, soft: float) -> None:
    h, w = img.shape[:2]
    e = int(rad + 4 * soft + 2)
    x0, x1, y0, y1 = max(0, int(x) - e), min(w, int(x) + e + 1), max(0, int(y) - e), min(h, int(y) + e + 1)
    if x1 <= x0 or y1 <= y0:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    d = np.sqrt((xx - x) ** 2 + (yy - y) ** 2)
    a = np.clip((rad - d) / max(soft, 0.5) + 0.5, 0, 1)[..., None]
    glow = np.exp(-((d / (rad * 2.5 + 1)) ** 2))[..., None] * 0.35
    roi = img[y0:y1, x0:x1]
    roi[:] = roi * (1 - a) + np.asarray(colour, np.float32) * a + glow * (1 - a)


def reflections(img, rng, cx: float, cy: float, r: float, o: OpticsStyle, scale: float) -> None:
    """The coaxial light's reflections on the cornea (a pair, sometimes two) and wet highlights on the globe."""
    pairs = 1 if rng.random() < 0.75 else 2
    for k in range(pairs):
        rad = rng.uniform(3, 8) * scale
        px = cx + rng.normal(0, 0.25) * r + o.light_offset[0] * 0.3 * r
        py = cy + rng.normal(0, 0.25) * r + o.light_offset[1] * 0.3 * r - k * rng.uniform(0.2, 0.5) * r
        gap = o.reflection_gap * rad
        ang = rng.normal(0, 0.15)
        for s in (-0.5, 0.5):
            _disc(img, px + s * gap * math.cos(ang), py + s * gap * math.sin(ang), rad, (1.3, 1.3, 1.3), 0.8 * scale)
    for _ in range(int(rng.integers(3, 30))):  # wet tissue: tiny specular points
        a = rng.uniform(0, 2 * np.pi)
        d = r * rng.uniform(0.2, 2.0)
        _disc(img, cx + d * math.cos(a), cy + d * math.sin(a), rng.uniform(0.8, 2.5) * scale, (1.2, 1.2, 1.2),
              0.6 * scale)  # fmt: skip


def bubbles(img, rng, cx: float, cy: float, r: float, scale: float) -> None:
    """Air bubbles in the fluid on the eye: thin dark rings with a bright rim and a highlight."""
    h, w = img.shape[:2]
    for _ in range(int(rng.choice([0, 0, 0, 1, 2, 4]))):
        a, d = rng.uniform(0, 2 * np.pi), r * rng.uniform(0, 1.6)
        bx, by = cx + d * math.cos(a), cy + d * math.sin(a)
        br = rng.uniform(5, 40) * scale
        e = int(br + 6)
        x0, x1, y0, y1 = max(0, int(bx) - e), min(w, int(bx) + e), max(0, int(by) - e), min(h, int(by) + e)
        if x1 <= x0 or y1 <= y0:
            continue
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
        dd = np.sqrt((xx - bx) ** 2 + (yy - by) ** 2)
        ring = np.exp(-(((dd - br) / (1.2 * scale)) ** 2))[..., None]
        inner = np.exp(-(((dd - br * 0.85) / (1.5 * scale)) ** 2))[..., None]
        roi = img[y0:y1, x0:x1]
        roi[:] = roi * (1 - 0.6 * ring) + 0.6 * ring * 0.1 + inner * 0.35
        _disc(img, bx - 0.4 * br, by - 0.4 * br, max(1.0, 0.12 * br), (1.2, 1.2, 1.2), 0.6 * scale)


def camera(img: np.ndarray, rng, o: OpticsStyle, scale: float, motion: float) -> np.ndarray:
    """Colour cast, saturation, defocus, motion blur, noise, an SD source's softness and compression:
    float32 RGB in -> uint8 RGB out."""
    h, w = img.shape[:2]
    img = img * np.asarray(o.gains, np.float32)
    grey = img.mean(-1, keepdims=True)
    img = grey + (img - grey) * o.saturation
    dark = np.clip(1 - grey * 2.5, 0, 1)
    img = img + dark * np.asarray(o.shadow_tint, np.float32)
    sigma = o.defocus * scale * rng.uniform(0.7, 1.4)
    if sigma > 0.3:
        img = cv2.GaussianBlur(img, (0, 0), sigma)
    if motion > 0.5:
        n = int(round(motion * scale)) | 1
        k = np.zeros((n, n), np.float32)
        k[n // 2] = 1 / n
        rot = cv2.getRotationMatrix2D((n / 2 - 0.5, n / 2 - 0.5), rng.uniform(0, 180), 1.0)
        k = cv2.warpAffine(k, rot, (n, n))
        img = cv2.filter2D(img, -1, k / max(k.sum(), 1e-6))
    if o.soft < 1:
        small = cv2.resize(img, (max(8, int(w * o.soft)), max(8, int(h * o.soft))), interpolation=cv2.INTER_AREA)
        img = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    img = img + rng.normal(0, o.noise, (h, w, 1)).astype(np.float32)  # luma noise
    out = np.clip(img * 255, 0, 255).astype(np.uint8)
    if o.jpeg:
        ok, buf = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, o.jpeg])
        if ok:
            out = np.ascontiguousarray(cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1])
    return out
