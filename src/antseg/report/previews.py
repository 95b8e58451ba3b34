"""The scans' overlays as the page shows them: embedded for a report a clinician reads, linked for an archive.

A page of a few hundred scans embeds a reduced copy of each overlay, so ``report.html`` is one file that can be
mailed. Past :data:`EMBED_LIMIT` scans the page links the full overlays in ``overlays/`` instead (a page with
10,000 embedded images would be gigabytes and would not open), and says so. Each preview is made from the
overlay on disk when the page is written, so no image is held in memory while the scans are analysed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import cv2
import numpy as np

#: The most scans whose overlays the page embeds; a larger report links them.
EMBED_LIMIT = 300


def jpeg(rgb: np.ndarray, width: int | None = None, quality: int = 85) -> bytes:
    """``rgb`` as JPEG bytes, first reduced to ``width`` pixels when it is wider."""
    if width and rgb.shape[1] > width:
        rgb = cv2.resize(rgb, (width, round(rgb.shape[0] * width / rgb.shape[1])), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes()


class Previews(Mapping):
    """scan file name -> the preview's JPEG bytes (embedded), or None (the page links ``overlays/<stem>.jpg``).

    Args:
        folder: the report's ``overlays/`` folder.
        files: the report's scans.
        width: previews wider than this are reduced.
        limit: embed up to this many scans; more are linked.
    """

    def __init__(self, folder: Path, files: list[Path], width: int, limit: int = EMBED_LIMIT) -> None:
        self.folder, self.width = Path(folder), width
        self.names = {Path(f).name: Path(f).stem for f in files}
        self.embed = len(self.names) <= limit

    def __getitem__(self, name: str) -> bytes | None:
        stem = self.names[name]
        if not self.embed:
            return None
        bgr = cv2.imread(str(self.folder / f"{stem}.jpg"), cv2.IMREAD_COLOR)
        return jpeg(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), self.width, 80)

    def link(self, name: str) -> str:
        """The overlay's path relative to the page."""
        return f"overlays/{self.names[name]}.jpg"

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def __len__(self) -> int:
        return len(self.names)
