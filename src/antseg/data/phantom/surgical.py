"""Synthetic cataract-surgery microscope frames (Cataract-1K-like) with an exact ``Cornea`` polygon.

A frame shows a dark surround, the sclera with vessels under the microscope's light cone, the
limbus-bounded cornea disc (iris ring and a pupil with the red reflex), specular highlights and an
instrument. The cornea, pupil and instrument are polygons; masks are their OpenCV rasterisation,
exactly what the Supervisely importer produces from the JSON written beside the frame.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

INSTRUMENTS = ("Spatula", "Phacoemulsification Tip", "Irrigation-Aspiration", "Capsulorhexis Forceps")


@dataclass
class EyeView:
    """What stays the same across the frames of one video."""

    iris_rgb: tuple[float, float, float]
    limbus_r: float
    aspect: float  # vertical / horizontal radius (viewing angle)
    pupil_frac: float
    vessels: list[np.ndarray]  # polylines in eye-centred coordinates (px)
    instrument: str
    seed: int


def sample_view(rng: np.random.Generator, w: int, h: int) -> EyeView:
    scale = w / 1024
    iris = [(120, 90, 50), (90, 110, 70), (110, 120, 110), (140, 110, 60)][rng.integers(0, 4)]
    vessels = []
    for _ in range(rng.integers(30, 50)):
        ang = rng.uniform(0, 2 * np.pi)
        r = rng.uniform(1.15, 1.9) * 170 * scale
        pts = [np.array([np.cos(ang) * r, np.sin(ang) * r])]
        heading = ang + np.pi + rng.normal(0, 0.6)
        for _ in range(rng.integers(6, 16)):
            heading += rng.normal(0, 0.35)
            pts.append(pts[-1] + 9 * scale * np.array([np.cos(heading), np.sin(heading)]))
        vessels.append(np.array(pts))
    return EyeView(
        iris_rgb=tuple(float(c) for c in iris),
        limbus_r=float(rng.uniform(150, 200) * scale),
        aspect=float(rng.uniform(0.9, 1.0)),
        pupil_frac=float(rng.uniform(0.62, 0.8)),
        vessels=vessels,
        instrument=str(INSTRUMENTS[rng.integers(0, len(INSTRUMENTS))]),
        seed=int(rng.integers(0, 2**31)),
    )


def ellipse_polygon(cx: float, cy: float, rx: float, ry: float, n: int, jitter: float, rng) -> np.ndarray:
    """Integer (x, y) vertices of a slightly irregular ellipse, like a hand-drawn annotation."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 1 + jitter * rng.standard_normal(n)
    pts = np.stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)], axis=1)
    return np.round(pts).astype(np.int32)


@dataclass
class Frame:
    image: np.ndarray  # (H, W, 3) RGB uint8
    polygons: dict[str, np.ndarray]  # class title -> (K, 2) int exterior
    masks: dict[str, np.ndarray]  # class title -> (H, W) uint8


def _fill(poly: np.ndarray, h: int, w: int) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    cv2.fillPoly(m, [poly.reshape(-1, 1, 2)], 1)
    return m


class Scene:
    """The eye of one video rendered once, centred; frames move it and add light, tools and noise."""

    def __init__(self, view: EyeView, w: int, h: int) -> None:
        self.view, self.w, self.h = view, w, h
        rng = np.random.default_rng(view.seed)
        scale = w / 1024
        cx, cy = w / 2, h / 2
        rx, ry = view.limbus_r, view.limbus_r * view.aspect
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        low = cv2.GaussianBlur(rng.standard_normal((h, w)).astype(np.float32), (0, 0), 18 * scale)
        low /= low.std() + 1e-6
        surround = np.array([52, 38, 22], np.float32) * (0.8 + 0.25 * low[..., None])
        d_eye = np.sqrt(((xx - cx) / (2.5 * rx)) ** 2 + ((yy - cy) / (1.9 * ry)) ** 2) * (1 + 0.04 * low)
        eye_w = np.clip((1.05 - d_eye) * 3, 0, 1)[..., None]
        rr = np.sqrt(((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2)  # 1 at the limbus
        pink = np.clip(rr - 1.0, 0, 1.5)[..., None]
        sclera = (
            np.array([240, 222, 200], np.float32) * (1 - 0.25 * pink)
            + np.array([215, 150, 140], np.float32) * 0.25 * pink
        ) * (0.93 + 0.04 * low[..., None])
        img = surround * (1 - eye_w) + sclera * eye_w
        vessels = np.zeros((h, w), np.uint8)  # anti-aliased drawing needs 8 bits
        for v in view.vessels:
            for k in range(3):  # a vessel and two finer branches
                pts = (
                    v + [cx, cy]
                    if k == 0
                    else v[: len(v) // (k + 1)]
                    + [cx, cy]
                    + rng.normal(0, 6 * scale * k, v[: len(v) // (k + 1)].shape).cumsum(0)
                )
                if len(pts) < 2:
                    continue
                cv2.polylines(
                    vessels,
                    [np.round(pts).astype(np.int32).reshape(-1, 1, 2)],
                    False,
                    int(rng.uniform(150, 255)) // (k + 1),
                    thickness=2 if k == 0 else 1,
                    lineType=cv2.LINE_AA,
                )
        vessels = cv2.GaussianBlur(vessels.astype(np.float32) / 255, (0, 0), 0.5)[..., None] * eye_w
        vessels *= (rr > 1.02)[..., None]
        img = img * (1 - 0.6 * vessels) + np.array([165, 30, 35], np.float32) * 0.6 * vessels
        theta = np.arctan2(yy - cy, xx - cx)
        fib = 0.8 + 0.2 * np.sin(theta * 70 + 5 * np.sin(theta * 9)) * (0.6 + 0.4 * low)
        iris = np.array(view.iris_rgb, np.float32) * fib[..., None]
        ring = np.exp(-(((rr - 0.97) / 0.07) ** 2))[..., None]  # translucent limbal ring
        iris = iris * (1 - 0.6 * ring) + np.array([170, 175, 110], np.float32) * 0.6 * ring
        inside = np.clip((1.0 - rr) * ry, 0, 1)[..., None]
        img = img * (1 - inside) + iris * inside
        pr = view.pupil_frac
        reflex = np.clip(1 - (rr / pr) ** 2, 0, 1)[..., None]
        red = np.array([120, 30, 12], np.float32) + np.array([120, 75, 30], np.float32) * reflex
        inside_p = np.clip((pr - rr) * ry, 0, 1)[..., None]
        self.image = img * (1 - inside_p) + red * inside_p
        self.light = (
            0.35 + 0.85 * np.exp(-((xx - cx - 50 * scale) ** 2 + (yy - cy - 40 * scale) ** 2) / (2 * (2.2 * rx) ** 2))
        )[..., None]
        self.noise = rng.normal(0, 4, (h + 16, w + 16, 3)).astype(np.float32)

    def frame(self, t: float, rng: np.random.Generator, drift: float = 1.0, jitter: float = 1.0) -> Frame:
        """The frame at time ``t`` seconds: the eye drifts, the instrument moves, highlights flicker.

        Args:
            drift: scale of the eye's slow sinusoidal drift (0: it stays centred).
            jitter: scale of the eye's random offset per frame (0: none). ``drift=0, jitter=0`` is a static
                eye (only the instrument, highlights and noise change): the video for measuring jitter.
        """
        v, w, h = self.view, self.w, self.h
        scale = w / 1024
        ox = drift * 60 * scale * np.sin(0.7 * t + v.seed % 7) + jitter * rng.normal(0, 20 * scale)
        oy = drift * 40 * scale * np.cos(0.5 * t + v.seed % 5) + jitter * rng.normal(0, 15 * scale)
        cx, cy = w / 2 + ox, h / 2 + oy
        shift = np.float32([[1, 0, ox], [0, 1, oy]])
        img = cv2.warpAffine(self.image, shift, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        rx, ry = v.limbus_r, v.limbus_r * v.aspect
        cornea_poly = ellipse_polygon(cx, cy, rx, ry, 40, 0.004, rng)
        pr = v.pupil_frac
        pupil_poly = ellipse_polygon(cx, cy, pr * rx, pr * ry, 36, 0.006, rng)
        # Instrument: a shaft entering from the lower edge, its tip in the pupil.
        ang = np.deg2rad(rng.uniform(-125, -55) + 15 * np.sin(t))
        tip = np.array([cx, cy]) + rng.normal(0, 0.25 * pr * rx, 2)
        d = np.array([np.cos(ang), -np.sin(ang)])
        nrm = np.array([-d[1], d[0]])
        half = rng.uniform(16, 30) * scale
        far = tip + d * 2.5 * h
        inst_poly = np.round(
            np.array([tip + nrm * half * 0.6, far + nrm * half, far - nrm * half, tip - nrm * half * 0.6])
        )
        inst_poly = np.clip(inst_poly, [0, 0], [w - 1, h - 1]).astype(np.int32)
        m_inst = _fill(inst_poly, h, w)
        colour = np.array([60, 165, 190] if v.instrument == "Irrigation-Aspiration" else [175, 178, 182], np.float32)
        ys, xs = np.nonzero(m_inst)
        across = ((xs - tip[0]) * nrm[0] + (ys - tip[1]) * nrm[1]) / (half * 1.2)
        shade = 0.45 + 0.55 * np.cos(np.clip(across, -1, 1) * np.pi / 2)
        img[ys, xs] = 0.25 * img[ys, xs] + 0.75 * colour * shade[:, None]  # translucent plastic / metal
        img *= self.light
        for _ in range(rng.integers(2, 6)):
            hx, hy = np.round(np.array([cx, cy]) + rng.normal(0, 0.45 * rx, 2)).astype(int)
            cv2.circle(img, (int(hx), int(hy)), int(rng.integers(2, 5) * scale + 1), (255, 255, 255), -1, cv2.LINE_AA)
        img = cv2.GaussianBlur(img, (0, 0), 0.7 * scale)
        dy, dx = rng.integers(0, 16, 2)
        img += self.noise[dy : dy + h, dx : dx + w]
        img = np.clip(img, 0, 255).astype(np.uint8)
        polys = {"Cornea": cornea_poly, "Pupil": pupil_poly, v.instrument: inst_poly}
        masks = {k: _fill(p, h, w) for k, p in polys.items() if k != v.instrument}
        masks[v.instrument] = m_inst
        return Frame(img, polys, masks)


def supervisely_json(frame: Frame, w: int, h: int) -> dict:
    """The Supervisely annotation of a frame; Cornea first, as in Cataract-1K."""
    objects = []
    for title, poly in frame.polygons.items():
        objects.append(
            {
                "classTitle": title,
                "geometryType": "polygon",
                "tags": [],
                "points": {"exterior": poly.tolist(), "interior": []},
            }
        )
    return {"description": "", "tags": [], "size": {"height": h, "width": w}, "objects": objects}


def write_video(
    path,
    scene: Scene,
    seconds: float,
    fps: int,
    seed: int,
    on_frame: Callable[[int, Frame], None] | None = None,
    drift: float = 1.0,
    jitter: float = 1.0,
    speed: float = 1.0,
) -> None:
    """Write a short mp4 (H.264 when available) of ``scene``; frame k is shown at k / fps seconds.

    Args:
        on_frame: called with (k, frame) for every frame written: its exact polygons and masks.
        drift, jitter: the eye's motion (see :meth:`Scene.frame`); ``speed`` scales the drift's pace.
    """
    import av

    rng = np.random.default_rng([seed, 99])
    w, h = scene.w, scene.h
    with av.open(str(path), "w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for k in range(int(round(seconds * fps))):
            fr = scene.frame(speed * k / fps, rng, drift=drift, jitter=jitter)
            if on_frame is not None:
                on_frame(k, fr)
            for packet in stream.encode(av.VideoFrame.from_ndarray(fr.image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
