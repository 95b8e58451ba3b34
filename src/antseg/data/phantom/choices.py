"""The AS-OCT phantom's named choices, light to import (no NumPy) so that the command line can list them: the
styles and the device geometries the realistic style mimics."""

from __future__ import annotations

from dataclasses import dataclass

#: ``classic``: fixed framing and one clean look; ``realistic``: see :mod:`antseg.data.phantom.realism`.
STYLES: tuple[str, ...] = ("classic", "realistic")


@dataclass(frozen=True)
class Device:
    """A device geometry: image size (width, height) in pixels and the field width in mm."""

    size: tuple[int, int]
    width_mm: float

    @property
    def spacing(self) -> tuple[float, float]:
        """(x, y) mm per pixel (square pixels)."""
        s = self.width_mm / self.size[0]
        return (s, s)


#: Device geometries the realistic phantom can mimic.
DEVICES: dict[str, Device] = {
    "ss1000": Device((2130, 998), 16.0),  # CASIA SS-1000 (the AGE challenge scans)
    "casia2": Device((2135, 1568), 16.0),  # CASIA2 (the reference dataset): deeper, the whole lens in view
    "narrow": Device((1800, 998), 13.5),  # a narrower field: the angles near the image sides
}
