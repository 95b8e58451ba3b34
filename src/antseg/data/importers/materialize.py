"""Reading, checking and writing one case of an import (in a worker process), and the parallel map over cases."""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from antseg.anatomy import normalize_group
from antseg.data.canonical import write_mask
from antseg.data.importers.records import Shape, SourceCase
from antseg.data.masks import rasterize_polygon_cv2, rasterize_polygon_pil
from antseg.data.schema import Case
from antseg.errors import AntsegInputError
from antseg.io.images import decode_image, read_mask_png


def read_source_image(sc: SourceCase) -> tuple[bytes, str, Path]:
    """The image bytes of a case, their file suffix, and the file to name in errors."""
    if sc.embedded is not None:
        jpath, key = sc.embedded
        try:
            raw = json.loads(jpath.read_text(encoding="utf-8"))[key]
            data = base64.b64decode(raw, validate=False)
        except (OSError, ValueError, KeyError, TypeError, binascii.Error):
            raise AntsegInputError(jpath, f"{key} is not valid base64 image data") from None
        suffix = ".png" if data[:4] == b"\x89PNG" else ".jpg" if data[:2] == b"\xff\xd8" else ".bmp"
        return data, suffix, jpath
    assert sc.image_path is not None
    try:
        return sc.image_path.read_bytes(), sc.image_path.suffix.lower(), sc.image_path
    except OSError as exc:
        raise AntsegInputError(sc.image_path, f"cannot read image ({exc.strerror or exc})") from None


def check_inside(sh: Shape, w: int, h: int, tol: float, source: Path) -> None:
    """A shape's points are finite and lie in the image (within ``tol`` pixels)."""
    pts = sh.points
    what = "point" if sh.kind == "point" else "polygon"
    if not np.isfinite(pts).all() or not all(np.isfinite(r).all() for r in sh.holes):
        raise AntsegInputError(source, f"{what} {sh.label!r} has a coordinate that is not a finite number")
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    if (lo < -tol).any() or hi[0] > w - 1 + tol or hi[1] > h - 1 + tol:
        raise AntsegInputError(
            source,
            f"{what} {sh.label!r} lies outside the {w}x{h} image (x {lo[0]:.0f}..{hi[0]:.0f}, "
            f"y {lo[1]:.0f}..{hi[1]:.0f})",
        )


def materialize(
    sc: SourceCase,
    root: Path,
    names: dict[str, str | None],
    structures: list[str],
    landmarks: list[str],
    spacing: tuple[float, float] | None,
    tol: float,
) -> Case:
    """Read, check and write one case into the dataset folder ``root``; returns its ``cases.csv`` row."""
    data, suffix, origin = read_source_image(sc)
    img = decode_image(data, origin, grayscale=True)
    h, w = img.shape[:2]
    if sc.declared_size and tuple(sc.declared_size) != (w, h):
        dw, dh = sc.declared_size
        raise AntsegInputError(sc.source, f"annotation says {dw}x{dh} but the image is {w}x{h}")
    rel_img = f"images/{sc.case_id}{suffix}"
    (root / rel_img).write_bytes(data)

    masks = np.zeros((len(structures), h, w), np.uint8)
    index = {n: i for i, n in enumerate(structures)}
    pts: dict[str, tuple[float, float] | None] = {n: None for n in landmarks}
    for sh in sc.shapes:
        name = names.get(sh.label)
        if name is None:
            continue
        check_inside(sh, w, h, tol, sc.source)
        if sh.kind == "point":
            pts[name] = (float(sh.points[0, 0]), float(sh.points[0, 1]))
            continue
        if sh.rule == "cv2":
            m = rasterize_polygon_cv2(sh.points, sh.holes, w, h)
        else:
            m = rasterize_polygon_pil(sh.points, w, h)
        masks[index[name]] |= m
    for label, path in sc.mask_files.items():
        name = names.get(label)
        if name is None:
            continue
        m = read_mask_png(path)
        if m.shape != (h, w):
            raise AntsegInputError(path, f"mask is {m.shape[1]}x{m.shape[0]} but the image is {w}x{h}")
        masks[index[name]] |= (m >= max(1, (int(m.max()) + 1) // 2)).astype(np.uint8)
    for label, pt in sc.points.items():
        name = names.get(label)
        if name is None or pt is None:
            continue
        x, y = pt
        if not (-tol <= x <= w - 1 + tol and -tol <= y <= h - 1 + tol):
            raise AntsegInputError(sc.source, f"landmark {label!r} ({x:g}, {y:g}) lies outside the {w}x{h} image")
        pts[name] = (float(x), float(y))
    rel_mask = write_mask(root, sc.case_id, masks) if structures else ""
    return Case(
        case_id=sc.case_id,
        patient_id=sc.patient_id,
        image=rel_img,
        mask=rel_mask,
        width=w,
        height=h,
        eye=sc.eye,
        group=normalize_group(sc.group) if sc.group else "",
        spacing=spacing,
        landmarks=pts,
        extra=sc.extra,
    )


def map_cases(
    job: Callable[[SourceCase], Case], cases: list[SourceCase], workers: int, progress: Callable | None
) -> list[Case]:
    """``job`` over every case, in order, in ``workers`` processes (0: one per core)."""
    workers = workers or (os.cpu_count() or 1)
    workers = max(1, min(workers, len(cases)))
    rows: list[Case] = []
    if workers == 1:
        for i, c in enumerate(cases):
            rows.append(job(c))
            if progress:
                progress(i + 1, len(cases))
        return rows
    ex = ProcessPoolExecutor(max_workers=workers)
    try:
        for i, row in enumerate(ex.map(job, cases, chunksize=2)):
            rows.append(row)
            if progress:
                progress(i + 1, len(cases))
    except BaseException:
        ex.shutdown(wait=True, cancel_futures=True)
        raise
    ex.shutdown()
    return rows
