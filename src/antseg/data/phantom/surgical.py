"""Synthetic cataract-surgery microscope frames (Cataract-1K-like) with exact ``Cornea``, ``Pupil`` and
instrument polygons.

A frame shows the microscope's view: dark drapes, eyelid skin with lashes, a lid speculum, the exposed globe
(sclera with conjunctival vessels) and the limbus-bounded cornea disc (limbal ring, iris, a dilated pupil with
the red reflex and the lens at one step of surgery), instruments that occlude it (phaco tip, irrigation-
aspiration, forceps, spatula, knife, injector) with shadows, the corneal reflections of the light, wet
highlights, air bubbles, colour casts, defocus, motion blur, noise and compression. Some videos show no eye
at all (the microscope over the drapes), to teach a model to find nothing there.

The polygons are what the masks are: ``Cornea`` is the whole limbus-bounded disc and ``Pupil`` the whole pupil,
instruments included (as Cataract-1K draws them); each instrument is its own polygons. Masks are their OpenCV
rasterisation, exactly what the Supervisely importer produces from the JSON written beside the frame. The
modules beside this one draw the parts: :mod:`.surgical_tissue`, :mod:`.surgical_tools`, :mod:`.surgical_optics`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from antseg.data.phantom.surgical_optics import OpticsStyle, bubbles, camera, light_cone, reflections, sample_optics
from antseg.data.phantom.surgical_tissue import (
    EyeGeometry,
    StaticLayers,
    TissueStyle,
    draw_cornea,
    sample_style,
    superellipse_alpha,
)
from antseg.data.phantom.surgical_tools import TOOL_NAMES, Tool, draw_tools, sample_tool

#: The instrument classes a phantom frame may show (Cataract-1K's titles).
INSTRUMENTS = TOOL_NAMES


@dataclass
class EyeView:
    """What stays the same across the frames of one video.

    Attributes:
        limbus_r: the limbus' semi-axis along its own x axis (px); ``aspect`` = the other one / it.
        tilt: the ellipse's rotation (radians).
        centre: where the limbus sits at rest (px).
        pupil_frac: pupil radius / limbus radius at the start; ``miosis``: its relative loss by ``miosis_at`` s
            (over ``miosis_s`` s), to render a pupil that constricts during surgery.
        tools: the instrument classes used in this video (one or two at a time).
        eye: False for a view of the drapes only (nothing to find).
    """

    limbus_r: float
    aspect: float
    tilt: float
    centre: tuple[float, float]
    pupil_frac: float
    pupil_offset: tuple[float, float]
    pupil_harmonics: tuple[tuple[float, float], ...]
    tissue: TissueStyle
    optics: OpticsStyle
    tools: tuple[str, ...]
    eye: bool
    seed: int
    miosis: float = 0.0
    miosis_at: float = 0.0
    miosis_s: float = 3.0

    @property
    def instrument(self) -> str:
        """The main instrument of the video."""
        return self.tools[0]


def sample_view(rng: np.random.Generator, w: int, h: int, eye: bool = True) -> EyeView:
    """Draw one video's eye, look and instruments for a ``w`` x ``h`` frame."""
    r = float(rng.uniform(0.19, 0.33) * h)
    aspect = float(rng.uniform(0.88, 1.0))
    # The whole limbus usually fits; sometimes it is cut by the frame edge.
    cx = w / 2 + rng.normal(0, 0.07) * w
    cy = h / 2 + rng.normal(0, 0.07) * h
    n_tools = 1 if rng.random() < 0.5 else 2
    tools = tuple(str(t) for t in rng.choice(INSTRUMENTS, size=n_tools, replace=False))
    harm = tuple((float(rng.normal(0, 0.012)), float(rng.uniform(0, 6.3))) for _ in range(3))
    return EyeView(
        limbus_r=r,
        aspect=aspect,
        tilt=float(rng.uniform(0, np.pi)),
        centre=(float(cx), float(cy)),
        pupil_frac=float(rng.uniform(0.45, 0.85)),
        pupil_offset=(float(rng.normal(0, 0.025)), float(rng.normal(0, 0.025))),
        pupil_harmonics=harm,
        tissue=sample_style(rng),
        optics=sample_optics(rng),
        tools=tools,
        eye=bool(eye),
        seed=int(rng.integers(0, 2**31)),
        miosis=float(rng.choice([0.0, 0.0, rng.uniform(0.15, 0.4)])),
        miosis_at=float(rng.uniform(0.5, 3.0)),
    )


def ellipse_polygon(cx: float, cy: float, rx: float, ry: float, n: int, jitter: float, rng) -> np.ndarray:
    """Integer (x, y) vertices of a slightly irregular axis-aligned ellipse, like a hand-drawn annotation."""
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    r = 1 + jitter * rng.standard_normal(n)
    pts = np.stack([cx + rx * r * np.cos(t), cy + ry * r * np.sin(t)], axis=1)
    return np.round(pts).astype(np.int32)


@dataclass
class Frame:
    image: np.ndarray  # (H, W, 3) RGB uint8
    polygons: dict[str, list[np.ndarray]]  # class title -> (K, 2) int exteriors (a tool may have several)
    masks: dict[str, np.ndarray]  # class title -> (H, W) uint8 union of its polygons


def _fill(polys: list[np.ndarray], h: int, w: int) -> np.ndarray:
    """The union of the polygons (filled one by one: a single fillPoly call would XOR their overlaps)."""
    m = np.zeros((h, w), np.uint8)
    for p in polys:
        cv2.fillPoly(m, [p.reshape(-1, 1, 2)], 1)
    return m


def clip_to_frame(poly: np.ndarray, w: int, h: int) -> np.ndarray | None:
    """The part of a convex polygon inside the frame, as integer vertices (None: nothing inside)."""
    inside = (poly[:, 0] >= 0) & (poly[:, 0] <= w - 1) & (poly[:, 1] >= 0) & (poly[:, 1] <= h - 1)
    if inside.all():
        return poly.astype(np.int32)
    hull = cv2.convexHull(poly.astype(np.float32).reshape(-1, 1, 2)).reshape(-1, 2)
    rect = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], np.float32)
    area, pts = cv2.intersectConvexConvex(hull, rect)
    if pts is None or area < 1:
        return None
    return np.round(pts.reshape(-1, 2)).astype(np.int32)


class Scene:
    """One video's eye rendered once (surround and globe); :meth:`frame` moves the camera and the eye, and adds
    the cornea disc, instruments, light and camera effects of that moment."""

    def __init__(self, view: EyeView, w: int, h: int) -> None:
        self.view, self.w, self.h = view, w, h
        self.scale = h / 768
        rng = np.random.default_rng(view.seed)
        cx, cy = view.centre
        self.layers = StaticLayers(view.tissue, w, h, cx, cy, view.limbus_r, rng, view.eye)

    def _pupil_frac(self, t: float) -> float:
        v = self.view
        ramp = np.clip((t - v.miosis_at) / max(v.miosis_s, 1e-3), 0, 1)
        ramp = ramp * ramp * (3 - 2 * ramp)
        return float(v.pupil_frac * (1 - v.miosis * ramp) * (1 + 0.01 * math.sin(1.3 * t + v.seed % 11)))

    def geometry(self, t: float, cam: np.ndarray, eye_off: np.ndarray) -> EyeGeometry:
        """The limbus and pupil at ``t`` under the camera transform ``cam`` (2x3) plus the eye's own offset."""
        v = self.view
        c = cam @ np.array([v.centre[0], v.centre[1], 1.0]) + eye_off
        zoom = float(np.sqrt(abs(np.linalg.det(cam[:, :2]))))
        return EyeGeometry(
            float(c[0]), float(c[1]), v.limbus_r * zoom, v.limbus_r * v.aspect * zoom, v.tilt,
            self._pupil_frac(t), v.pupil_offset, v.pupil_harmonics,
        )  # fmt: skip

    def _motion(self, t: float, rng, drift: float, jitter: float) -> tuple[np.ndarray, np.ndarray]:
        v, h = self.view, self.h
        ph = v.seed % 97
        zoom = 1 + drift * 0.05 * math.sin(0.23 * t + ph)
        ox = drift * 0.05 * h * math.sin(0.7 * t + ph % 7) + jitter * rng.normal(0, 0.012 * h)
        oy = drift * 0.04 * h * math.cos(0.5 * t + ph % 5) + jitter * rng.normal(0, 0.01 * h)
        cx, cy = v.centre
        cam = np.array([[zoom, 0, (1 - zoom) * cx + ox], [0, zoom, (1 - zoom) * cy + oy]])
        eye = np.array([drift * 0.02 * h * math.sin(1.1 * t + ph % 3), drift * 0.02 * h * math.cos(0.9 * t)])
        eye += jitter * rng.normal(0, 0.004 * h, 2)
        return cam, eye

    def _tools(self, t: float, g: EyeGeometry, visible: list[bool]) -> list[Tool]:
        v = self.view
        out = []
        for k, name in enumerate(v.tools):
            if not visible[k]:
                continue
            trng = np.random.default_rng([v.seed, 7, k])  # the same instrument in every frame of the video
            ph = trng.uniform(0, 6.3, 3)
            reach = g.pupil_r * trng.uniform(0.2, 0.9)
            tip = np.array([g.cx, g.cy]) + min(g.rx, g.ry) * reach * np.array(
                [math.sin(0.8 * t + ph[0]), math.sin(0.6 * t + ph[1])]
            )
            if trng.random() < 0.15:  # at the incision, on the limbus
                a = trng.uniform(0, 2 * np.pi)
                tip = np.array([g.cx + g.rx * math.cos(a), g.cy + g.ry * math.sin(a)])
            tool = sample_tool(trng, name, tip, self.w, self.h, self.scale, turn=0.25 * math.sin(0.4 * t + ph[2]))
            for p in tool.parts:
                p.polygon = clip_to_frame(p.polygon, self.w, self.h)
            tool.parts = [p for p in tool.parts if p.polygon is not None]
            if tool.parts:
                out.append(tool)
        return out

    def frame(
        self, t: float, rng: np.random.Generator, drift: float = 1.0, jitter: float = 1.0, tools: str = "video"
    ) -> Frame:
        """The frame at time ``t`` seconds.

        Args:
            drift: scale of the camera's and the eye's slow motion (0: none).
            jitter: scale of the random offsets per frame (0: none). ``drift=0, jitter=0`` is a static eye (the
                instruments, highlights and noise still change): the video for measuring jitter.
            tools: ``video``: the video's instruments come and go smoothly with time; ``random``: each frame shows
                a random subset (for datasets of frames seconds apart).
        """
        v, w, h, sc = self.view, self.w, self.h, self.scale
        cam, eye_off = self._motion(t, rng, drift, jitter)
        lay = self.layers
        warp = dict(dsize=(w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        surround = cv2.warpAffine(lay.surround, cam, **warp)
        polys: dict[str, list[np.ndarray]] = {}
        if v.eye:
            eye_off = self._keep_in_fissure(t, cam, eye_off)
            g = self.geometry(t, cam, eye_off)
            cam_eye = cam.copy()
            cam_eye[:, 2] += eye_off
            globe = cv2.warpAffine(lay.globe, cam_eye, **warp)
            draw_cornea(globe, g, v.tissue, rng, sc)
            fiss = cv2.warpAffine(lay.fissure, cam, **warp)[..., None]
            img = surround * (1 - fiss) + globe * fiss
            if lay.film is not None:
                fa = cv2.warpAffine(lay.film[0], cam, **warp)[..., None]
                img = img * (1 - fa) + cv2.warpAffine(lay.film[1], cam, **warp) * fa
            cornea = clip_to_frame(g.limbus_polygon(40, 0.003, rng), w, h)
            pupil = clip_to_frame(g.pupil_polygon(36), w, h)
            polys["Cornea"] = [cornea] if cornea is not None else []
            polys["Pupil"] = [pupil] if pupil is not None else []
            light_at, lr = (g.cx, g.cy), g.rx
        else:
            img = surround
            g = None
            light_at, lr = (w / 2 + rng.normal(0, 0.1 * w), h / 2 + rng.normal(0, 0.1 * h)), v.limbus_r
        img = img * light_cone(h, w, light_at[0], light_at[1], lr, v.optics)
        if lay.speculum is not None:
            alpha = cv2.warpAffine(lay.speculum[0], cam, **warp)[..., None]
            lit = lay.speculum[1] * light_cone(h, w, light_at[0], light_at[1], lr, v.optics)
            img = img * (1 - alpha) + lit * alpha
        if g is not None:
            reflections(img, rng, g.cx, g.cy, min(g.rx, g.ry), v.optics, sc)
            bubbles(img, rng, g.cx, g.cy, min(g.rx, g.ry), sc)
            if tools == "random":
                visible = [rng.random() < 0.75, rng.random() < 0.5]
            else:
                visible = [math.sin(0.5 * t + v.seed % 13 + 2 * k) > -0.7 for k in range(len(v.tools))]
            shown = self._tools(t, g, visible)
        else:
            shown = []
        if shown:
            img, _ = draw_tools(img, shown, rng, sc)
        motion = rng.uniform(3, 18) if rng.random() < 0.15 else 0.0
        image = camera(img, rng, v.optics, sc, motion)
        for tool in shown:
            polys.setdefault(tool.name, []).extend(tool.polygons())
        masks = {k: _fill(p, h, w) for k, p in polys.items()}
        return Frame(image, polys, masks)

    def _keep_in_fissure(self, t: float, cam: np.ndarray, eye_off: np.ndarray) -> np.ndarray:
        """Shrink the eye's own offset until the limbus lies inside the lid opening (lids never hide it)."""
        a, b, p, _, _ = self.view.tissue.fissure
        fx, fy = self.layers.fissure_centre
        zoom = float(np.sqrt(abs(np.linalg.det(cam[:, :2]))))
        fc = cam @ np.array([fx, fy, 1.0])
        r = self.view.limbus_r * zoom
        ang = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        for _ in range(6):
            pts = self.geometry(t, cam, eye_off).from_unit(np.cos(ang), np.sin(ang))
            u = np.abs((pts[:, 0] - fc[0]) / (a * r * 0.97))
            v = np.abs((pts[:, 1] - fc[1]) / (b * r * 0.97))
            if np.all(u**p + v**p <= 1):
                break
            eye_off = eye_off * 0.5
        return eye_off


def supervisely_json(frame: Frame, w: int, h: int) -> dict:
    """The Supervisely annotation of a frame: Cornea and Pupil first, then the instruments."""
    objects = []
    for title, polys in frame.polygons.items():
        for poly in polys:
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


__all__ = [
    "INSTRUMENTS",
    "EyeView",
    "Frame",
    "Scene",
    "clip_to_frame",
    "ellipse_polygon",
    "sample_view",
    "superellipse_alpha",
    "supervisely_json",
    "write_video",
]
