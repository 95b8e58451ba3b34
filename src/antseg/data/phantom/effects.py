"""Appearance of a phantom scan: tissue brightness, image formation and device artefacts.

:class:`Imaging` defaults give the classic phantom look; :func:`antseg.data.phantom.realism.sample_imaging`
draws the ranges seen on real CASIA scans. None of these settings moves a structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from antseg.data.phantom.canvas import LOG_ALPHA, NoiseBank


@dataclass
class Imaging:
    """Appearance settings of one scan (reflectivities are relative; lengths in mm unless named _px)."""

    # tissue reflectivity
    cornea: float = 1.0  # corneal and scleral stroma (scale)
    cornea_centre: float = 0.2  # central corneal stroma, relative to the limbus's 0.55
    epithelium: float = 1.0  # anterior corneal surface line
    endothelium: float = 1.0  # Descemet line (scale)
    spur: float = 1.0  # hyper-reflective spur tip (scale)
    ciliary: float = 0.12  # ciliary body beyond the angle recess
    wedge: float = 0.08  # ciliary-body wedge under the sclera past the spur
    ciliary_body: float = 0.0  # the ciliary body between the inner scleral surface and the wall (0: not drawn)
    iris: float = 0.45  # iris stroma
    iris_att: float = 3.0  # iris stroma attenuation per mm
    border_frac: float = 0.08  # anterior border layer, fraction of the iris thickness
    iris_border: float = 0.7
    pigment_at: float = 0.78  # the pigment epithelium starts at this fraction of the iris thickness (>= 1: below it)
    pigment: float = 0.8
    pigment_att: float = 14.0  # the shadow under the iris
    back_band: float = 0.0  # unlabelled posterior layer below the iris mask, fraction of the iris thickness
    back_level: float = 0.3  # its reflectivity, as if the pigment line above cast no shadow
    lens: float = 0.015  # lens cortex
    nucleus: float = 0.3  # nucleus brightness at density 1
    capsule: float = 0.28  # anterior capsule line in the pupil
    posterior_capsule: float = 0.0
    # image formation
    falloff_mm: float = 9.0  # depth fall-off length
    grain: int = 0  # speckle field (0: classic fine grain; 1-3 coarser, see canvas.GRAINS)
    floor_grain: int = 0  # noise-floor field grain
    floor: float = 1.0  # noise-floor level (scale)
    floor_slope: float = 0.0  # the noise floor falls by this fraction from the top to the bottom row
    streaks: float = 0.0  # vertical streaks in the noise floor (per-column gain sd)
    gain: float = 1.0  # signal gain before log compression
    black: float = 0.0  # display black level subtracted after compression (8-bit units)
    contrast: float = 1.0  # 8-bit contrast after the black level
    jpeg: int = 0  # JPEG quality of the saved scan (0: lossless)
    # reflection line (the device axis)
    line: float = 0.55  # peak of the narrow core
    line_halo: float = 0.12  # peak of the wider halo
    line_x_px: float | None = None  # its column (None: the corneal apex)
    line_width_px: float = 2.5  # core width
    line_halo_px: float = 9.0  # halo width
    line_falloff_mm: float = 12.0
    line_band: float = 0.0  # opacity of the flat band that replaces the tissue signal in the line's columns
    line_band_px: float = 15.0  # its half-width
    line_level: float = 0.1  # its brightness
    dashes: float = 0.0  # brightness of the periodic horizontal dashes inside the band
    dash_period_px: float = 80.0
    dash_phase_px: float = 0.0
    dash_px: float = 4.0  # dash height
    glint: float = 0.0  # extra brightness of the epithelium near the apex (specular reflection)
    # artefacts
    eyelid: tuple[float, float, float] | None = None  # (edge column px, direction -1 left / +1 right, strength)
    ghost: tuple[int, int, float] | None = None  # motion double image: (dx px, dy px, relative strength)
    seed: int = 0  # for the artefacts' own noise (streaks)


def reflection_line(signal: np.ndarray, look: Imaging, apex_col: float, sy: float) -> None:
    """Add the vertical reflection line (and its dashes) of the device axis to ``signal`` in place.

    Classic: a Gaussian core and halo added to the signal. With ``line_band`` > 0 (real devices), a
    flat-topped band of that opacity also replaces the tissue signal in its columns, with bright dashes.
    """
    h, w = signal.shape
    centre = apex_col if look.line_x_px is None else look.line_x_px
    halo_w = look.line_halo_px
    reach = int(max(40, 4 * halo_w))
    lo, hi = max(0, int(centre) - reach), min(w, int(centre) + reach + 1)
    if hi <= lo:
        return
    col = np.arange(lo, hi, dtype=np.float32)
    line = look.line * np.exp(-(((col - centre) / look.line_width_px) ** 2)) + look.line_halo * np.exp(
        -(((col - centre) / halo_w) ** 2)
    )
    falloff = np.exp(-np.arange(h, dtype=np.float32) * np.float32(sy / look.line_falloff_mm))[:, None]
    part = signal[:, lo:hi]
    if look.line_band > 0:
        inside = np.clip(look.line_band_px - np.abs(col - centre) + 0.5, 0.0, 1.0).astype(np.float32)[None, :]
        part *= 1.0 - look.line_band * inside
        part += (look.line_band * look.line_level) * inside * falloff
        if look.dashes > 0:
            rows = np.arange(h, dtype=np.float32)
            on = (np.mod(rows - look.dash_phase_px, look.dash_period_px) < look.dash_px).astype(np.float32)
            part += look.dashes * on[:, None] * inside
    part += line[None, :].astype(np.float32) * falloff


def _eyelid(signal: np.ndarray, look: Imaging) -> None:
    edge, direction, strength = look.eyelid
    col = np.arange(signal.shape[1], dtype=np.float32)
    inside = np.clip((col - edge) * direction / 40.0, 0.0, 1.0)  # 40 px soft edge
    signal *= (1.0 - strength * inside)[None, :].astype(np.float32)


def _ghost(signal: np.ndarray, look: Imaging) -> None:
    dx, dy, a = look.ghost
    h, w = signal.shape
    src = signal[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)]
    dst = signal[max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)]
    dst += np.float32(a) * src.copy()


def finish(signal: np.ndarray, look: Imaging, bank: NoiseBank, rng, sy: float) -> np.ndarray:
    """Artefacts, speckle, noise floor, log compression and display mapping: the 8-bit scan."""
    h, w = signal.shape
    if look.eyelid is not None:
        _eyelid(signal, look)
    if look.ghost is not None:
        _ghost(signal, look)
    if look.gain != 1.0:
        signal *= np.float32(look.gain)
    signal *= bank.window(bank.grain(look.grain), rng, h, w)  # pre-scaled by the log gain
    floor = bank.window(bank.floor_field(look.floor_grain), rng, h, w)
    if look.floor != 1.0 or look.streaks > 0 or look.floor_slope > 0:
        cols = np.random.default_rng([look.seed, 31]).normal(1.0, look.streaks, w).clip(0.2, None)
        rows = 1.0 - look.floor_slope * np.linspace(0.0, 1.0, h)
        gain = (look.floor * rows[:, None] * cols[None, :]).astype(np.float32)
        cv2.scaleAdd(floor * gain, 1.0, signal, signal)
    else:
        signal += floor
    signal += 1.0
    cv2.log(signal, signal)  # log compression, as OCT devices display intensity
    img = cv2.convertScaleAbs(signal, alpha=LOG_ALPHA)
    if look.black > 0:
        img = cv2.subtract(img, np.full_like(img, int(round(look.black))))
    if look.contrast != 1.0:
        img = cv2.convertScaleAbs(img, alpha=look.contrast)
    if look.jpeg:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(look.jpeg)])
        img = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    return img
