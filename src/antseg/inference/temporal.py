"""Temporal smoothing of per-frame measures: a One-Euro filter (Casiez et al., CHI 2012) on the limbus ellipse.

A first-order low-pass whose cutoff rises with the speed of the outline: at rest it removes the frame-to-frame
jitter of the segmentation, and when the eye moves the cutoff opens, so the outline follows without lag.
It works on timestamps (variable frame rates and ``--every N`` are handled), restarts after a gap, and smooths
the ellipse in a form without wrap-around: centre, mean axis and the axis difference as a doubled-angle vector
(a near-circular ellipse, whose angle is undefined, stays continuous).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from antseg.inference.video_measures import Ellipse, StructureMeasures


@dataclass(frozen=True)
class SmoothConfig:
    """One-Euro settings.

    Attributes:
        min_cutoff_hz: cutoff at rest: changes faster than this are smoothed away.
        beta: how fast the cutoff rises with motion, in Hz per (diameters per second) of the outline's centre.
        d_cutoff_hz: cutoff of the speed estimate itself.
        reset_after_s: a gap longer than this (structure absent, frames skipped) restarts the filter.
    """

    min_cutoff_hz: float = 0.5
    beta: float = 200.0
    d_cutoff_hz: float = 1.0
    reset_after_s: float = 0.5


def _alpha(cutoff_hz: float, dt: float) -> float:
    tau = 1.0 / (2 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


def _to_state(m: StructureMeasures) -> np.ndarray:
    e = m.ellipse
    assert e is not None and m.centroid is not None
    mean_axis = (e.major + e.minor) / 2
    half_diff = (e.major - e.minor) / 2
    two_theta = math.radians(2 * e.angle)
    return np.array(
        [
            m.centroid[0],
            m.centroid[1],
            m.area_px,
            e.cx,
            e.cy,
            mean_axis,
            half_diff * math.cos(two_theta),
            half_diff * math.sin(two_theta),
        ],
        np.float64,
    )


def _from_state(m: StructureMeasures, s: np.ndarray) -> StructureMeasures:
    half_diff = float(math.hypot(s[6], s[7]))
    angle = (math.degrees(math.atan2(s[7], s[6])) / 2) % 180.0
    ellipse = Ellipse(float(s[3]), float(s[4]), float(s[5] + half_diff), float(max(s[5] - half_diff, 0.0)), angle)
    area = float(max(s[2], 0.0))
    return replace(m, centroid=(float(s[0]), float(s[1])), area_px=area, ellipse=ellipse)


class MeasureSmoother:
    """Smooths one structure's centroid, area and fitted ellipse over time (see the module docstring).

    The cutoff opens with the speed of the ellipse's centre (in diameters per second), estimated from the
    low-passed signed velocity as in the One-Euro filter, so zero-mean jitter does not open it.
    """

    def __init__(self, cfg: SmoothConfig | None = None) -> None:
        self.cfg = cfg or SmoothConfig()
        self.reset()

    def reset(self) -> None:
        self.x: np.ndarray | None = None  # filtered state (see _to_state)
        self.velocity = np.zeros(2)  # low-passed velocity of the ellipse centre, px/s
        self.t: float | None = None

    def __call__(self, t: float, m: StructureMeasures) -> StructureMeasures:
        """The smoothed measures at ``t`` seconds (absent or unfitted frames pass through and restart it)."""
        if not m.present or m.ellipse is None or m.centroid is None:
            self.reset()
            return m
        x = _to_state(m)
        if self.x is None or self.t is None or not t > self.t or t - self.t > self.cfg.reset_after_s:
            self.x, self.t, self.velocity = x, t, np.zeros(2)
            return m
        dt = t - self.t
        self.velocity += _alpha(self.cfg.d_cutoff_hz, dt) * ((x[3:5] - self.x[3:5]) / dt - self.velocity)
        speed = float(np.hypot(*self.velocity)) / max(float(x[5]), 1.0)  # diameters per second
        cutoff = self.cfg.min_cutoff_hz + self.cfg.beta * speed
        self.x = self.x + _alpha(cutoff, dt) * (x - self.x)
        self.t = t
        return _from_state(m, self.x)
