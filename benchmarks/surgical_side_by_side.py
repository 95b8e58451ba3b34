"""Phantom and real surgical frames side by side, each with a model's overlay: for looking, not for scores.

Each frame goes through the whole-video path's per-frame steps (preprocessing, masks at the frame's size, the
limbus checks with the model's calibration) and is drawn as ``antseg predict`` draws its overlay video: the
limbus disc (cyan), the pupil (red), instruments (green), the fitted ellipses, and "limbus not found: ..." where
the checks refuse the frame. The real frames are read from the folders given and never copied anywhere else:
write ``--out`` outside the repository.

Usage:
    python benchmarks/surgical_side_by_side.py --real ../shared/reference/real_dev/cataract1k_frames \\
        --out /tmp/side-by-side [--weights default] [--phantom 5] [--seed 7]

Writes ``<out>/sheet.png`` (one row per pair: a phantom frame and its overlay, a real frame and its overlay;
the masks are drawn even where the checks refuse the limbus, to show what the network does), one
``<out>/real_<name>.png`` overlay per real frame, and prints one line per frame (found, confidence, limbus and
pupil diameter in px).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from antseg.anatomy import CORNEA, PUPIL
from antseg.data.phantom.surgical import Scene, sample_view
from antseg.inference.video_trust import Calibration, LimbusTracker
from antseg.inference.video_writer import draw_overlay
from antseg.io.images import read_image
from antseg.models.shipped import is_default, surgical_card, surgical_checkpoint
from antseg.pretrained.surgical_card import measure_frames


def _phantom(n: int, seed: int, size: tuple[int, int]) -> list[np.ndarray]:
    out = []
    for k in range(n):
        w, h = size if k % 2 == 0 else (round(size[1] * 16 / 9 / 2) * 2, size[1])
        scene = Scene(sample_view(np.random.default_rng([seed, k]), w, h), w, h)
        out.append(scene.frame(2.0 + k, np.random.default_rng([seed, k, 1]), tools="random").image)
    return out


def _overlay(img: np.ndarray, row: dict, names: list[str], cal: Calibration) -> tuple[np.ndarray, str]:
    v = LimbusTracker(calibration=cal)(0.0, row["measures"][CORNEA], row["masks"][names.index(CORNEA)])
    masks = row["masks"]  # drawn even when the checks refuse them, to see what the network does
    notes = [f"limbus {v.confidence:.2f}"]
    ellipses = {}
    if v.found:
        ellipses[CORNEA] = row["measures"][CORNEA].ellipse
        if PUPIL in names and row["measures"][PUPIL].present:
            ellipses[PUPIL] = row["measures"][PUPIL].ellipse
    else:
        notes = [f"limbus not found: {v.reason}"]
    e = row["measures"][CORNEA].ellipse
    p = row["measures"][PUPIL].ellipse if PUPIL in names else None
    line = (f"found={int(v.found)} conf={v.confidence:.2f} fit={v.fit:.2f} "
            f"limbus={'' if e is None else f'{e.major:.0f}x{e.minor:.0f}'} "
            f"pupil={'' if p is None else f'{p.major:.0f}'} {v.reason}")  # fmt: skip
    return draw_overlay(img, masks, names, ellipses, notes=notes), line


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", type=Path, nargs="+", required=True, help="Folders (or files) of real frames.")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--weights", default="default")
    ap.add_argument("--phantom", type=int, default=5)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--tile", type=int, default=320, help="Width of one image in the sheet (px).")
    args = ap.parse_args()
    weights = surgical_checkpoint() if is_default(args.weights) else Path(args.weights)
    cal = Calibration.from_card(surgical_card()) if is_default(args.weights) else Calibration()
    real_files = sorted(
        f for p in args.real for f in ([p] if p.is_file() else p.iterdir()) if f.suffix.lower() in (".png", ".jpg")
    )
    real = [read_image(f) for f in real_files]
    phantom = _phantom(args.phantom, args.seed, real[0].shape[1::-1] if real else (1024, 768))
    from antseg.models import read_checkpoint

    names = list(read_checkpoint(weights).meta.structures)
    rows = measure_frames(weights, phantom + real, [None] * (len(phantom) + len(real)))
    args.out.mkdir(parents=True, exist_ok=True)
    tiles: dict[str, list[np.ndarray]] = {"phantom": [], "real": []}
    for k, (img, row) in enumerate(zip(phantom + real, rows, strict=True)):
        over, line = _overlay(img, row, names, cal)
        kind = "phantom" if k < len(phantom) else "real"
        name = f"phantom_{k}" if kind == "phantom" else real_files[k - len(phantom)].stem
        print(f"{name}: {line}")
        if kind == "real":
            cv2.imwrite(str(args.out / f"real_{name}.png"), over[..., ::-1])
        pair = np.concatenate([img, over], 1)
        s = 2 * args.tile / pair.shape[1]
        tiles[kind].append(cv2.resize(pair, (2 * args.tile, round(pair.shape[0] * s)), interpolation=cv2.INTER_AREA))
    blank = np.zeros((10, 2 * args.tile, 3), np.uint8)
    lines = []
    for i in range(max(len(tiles["phantom"]), len(tiles["real"]))):
        a = tiles["phantom"][i] if i < len(tiles["phantom"]) else blank
        b = tiles["real"][i] if i < len(tiles["real"]) else blank
        hh = max(a.shape[0], b.shape[0])
        a, b = (np.pad(x, ((0, hh - x.shape[0]), (0, 0), (0, 0))) for x in (a, b))
        lines.append(np.pad(np.concatenate([a, np.zeros((hh, 12, 3), np.uint8), b], 1), ((0, 6), (0, 0), (0, 0))))
    cv2.imwrite(str(args.out / "sheet.png"), np.concatenate(lines, 0)[..., ::-1])
    print(f"wrote {args.out / 'sheet.png'}")


if __name__ == "__main__":
    main()
