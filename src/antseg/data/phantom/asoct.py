"""Synthetic AS-OCT B-scans (CASIA-like) with exact masks, spurs and biometry: the classic style's eye and one
call that makes scan ``index`` of a phantom set in either style (:func:`generate_scan`).

Two styles: ``classic`` (fixed framing and one clean look) and ``realistic`` (framing, anatomy and image
formation randomised over the ranges of real CASIA scans, :mod:`antseg.data.phantom.realism`). The anatomy
priors per diagnosis group are in :mod:`antseg.data.phantom.priors`; rendering lives in
:mod:`antseg.data.phantom.render`.
"""

from __future__ import annotations

import numpy as np

from antseg.anatomy import ANTERIOR_CHAMBER, CORNEA, LEFT_IRIS, LENS, NUCLEUS, RIGHT_IRIS, SIDES
from antseg.data.phantom.canvas import NoiseBank
from antseg.data.phantom.choices import STYLES
from antseg.data.phantom.geometry import EyeGeometry
from antseg.data.phantom.priors import is_plausible, sample_params
from antseg.data.phantom.realism import make_realistic_eye, sample_imaging
from antseg.data.phantom.render import Scan, render

#: The phantom's structures, in mask order: the reference project's five, then the corneoscleral shell.
PHANTOM_STRUCTURES: tuple[str, ...] = (ANTERIOR_CHAMBER, LENS, NUCLEUS, LEFT_IRIS, RIGHT_IRIS, CORNEA)


def make_eye(group: str, width_mm: float, height_mm: float, rng: np.random.Generator) -> EyeGeometry:
    for _ in range(50):
        g = EyeGeometry(sample_params(group, width_mm, rng))
        if is_plausible(g, width_mm, height_mm):
            return g
    raise RuntimeError(f"could not draw a plausible {group} eye for a {width_mm:.1f} x {height_mm:.1f} mm scan")


def generate_scan(
    group: str,
    seed: int,
    index: int,
    size: tuple[int, int],
    spacing: tuple[float, float],
    bank: NoiseBank,
    hidden_spurs: float = 0.0,
    style: str = "classic",
) -> Scan:
    """Scan ``index`` of a phantom set; depends only on (seed, index, group, size, spacing, hidden_spurs, style).

    ``hidden_spurs``: the probability that one angle (left or right, at random) lies in a shadow, so that its
    spur is not visible (labelled absent, like -1 in the AGE challenge tables).
    ``style``: ``classic`` or ``realistic`` (see the module docstring).
    """
    if style not in STYLES:
        raise ValueError(f"unknown phantom style {style!r}; valid: {', '.join(STYLES)}")
    w, h = size
    rng = np.random.default_rng([seed, index])
    pick = np.random.default_rng([seed, index, 1])  # its own stream: hidden_spurs=0 leaves scans unchanged
    hidden = SIDES[int(pick.integers(2))] if pick.random() < hidden_spurs else None
    if style == "classic":
        g = make_eye(group, w * spacing[0], h * spacing[1], rng)
        return render(g, h, w, spacing, bank, rng, hidden)
    g = make_realistic_eye(group, w * spacing[0], h * spacing[1], rng)
    look = sample_imaging(np.random.default_rng([seed, index, 2]), g, (w, h), spacing, hidden)
    return render(g, h, w, spacing, bank, rng, hidden, look)


__all__ = ["PHANTOM_STRUCTURES", "NoiseBank", "Scan", "generate_scan", "make_eye"]
