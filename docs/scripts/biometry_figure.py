"""Draw the biometry definitions on a phantom scan: docs/assets/biometry.png (the explanation page's figure).

A classic phantom scan (exact masks and spurs) is measured with :func:`antseg.biometry.measure`, and every
measure is drawn from the same geometry functions it uses (:mod:`antseg.biometry.geometry`), so the figure shows
what antseg computes, not a sketch of it. Left: the whole scan (ACW, ACD, LV, pupil diameter);
right: the left angle magnified (AOD500/750, TISA500, ARA500, IT750).

Usage:
    python docs/scripts/biometry_figure.py [--out docs/assets/biometry.png] [--seed 3]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from antseg.biometry import measure  # noqa: E402
from antseg.biometry.geometry import (  # noqa: E402
    chamber_floor,
    iris_tip,
    lens_front,
    march,
    point_on_wall,
    wall_profile,
)
from antseg.data import load_dataset  # noqa: E402
from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
COLOURS = {"anterior_chamber": "#4fc3f7", "lens": "#aed581", "left_iris": "#ff8a65", "right_iris": "#ff8a65",
           "cornea": "#ce93d8"}  # fmt: skip


def phantom_scan(seed: int) -> tuple[np.ndarray, dict[str, np.ndarray], dict, tuple[float, float]]:
    """One classic normal-eye phantom scan: (grey image, masks by name, spurs by name, spacing)."""
    with tempfile.TemporaryDirectory() as tmp:
        cfg = AsoctPhantomConfig(n=1, seed=seed, groups=("normal",))
        generate_asoct_dataset(Path(tmp) / "ph", cfg)
        ds = load_dataset(Path(tmp) / "ph")
        case = ds.cases[0]
        image = ds.load_image(case, grayscale=True)
        masks = dict(zip(ds.structures, ds.load_masks(case).astype(bool), strict=True))
        return image, masks, dict(case.landmarks), ds.spacing(case)


def _px(p_mm: np.ndarray, spacing: tuple[float, float]) -> tuple[float, float]:
    return p_mm[0] / spacing[0], p_mm[1] / spacing[1]


def _seg(ax, a_mm, b_mm, spacing, colour, label=None, lw=2.0, ls="-") -> None:
    (x0, y0), (x1, y1) = _px(a_mm, spacing), _px(b_mm, spacing)
    ax.plot([x0, x1], [y0, y1], color=colour, lw=lw, ls=ls, label=label, solid_capstyle="butt")


def _outlines(ax, masks: dict[str, np.ndarray]) -> None:
    for name, colour in COLOURS.items():
        if name in masks and masks[name].any():
            ax.contour(masks[name].astype(float), levels=[0.5], colors=[colour], linewidths=0.8)


def _sector(ac: np.ndarray, spacing, spur, n_spur, p, n_p, reach: float = 2.0) -> np.ndarray:
    """The chamber pixels TISA (with ``n_spur``) or ARA (``n_spur`` None) counts, as a mask (the same rule as
    :func:`antseg.biometry.geometry.sector_area`)."""
    rows, cols = np.nonzero(ac)
    q = np.stack([cols * spacing[0], rows * spacing[1]], axis=1)

    def cross(o, n, pts):
        return (pts[:, 0] - o[0]) * n[1] - (pts[:, 1] - o[1]) * n[0]

    keep = np.hypot(*(q - spur).T) < reach
    keep &= np.sign(cross(p, n_p, q)) == np.sign(cross(p, n_p, spur[None])[0])
    if n_spur is not None:
        keep &= np.sign(cross(spur, n_spur, q)) == np.sign(cross(spur, n_spur, p[None])[0])
    out = np.zeros_like(ac)
    out[rows[keep], cols[keep]] = True
    return out


def draw(out: Path, seed: int) -> dict[str, float]:
    image, masks, spurs, spacing = phantom_scan(seed)
    values, _ = measure(masks, spurs, spacing)
    sx, sy = spacing
    ac = masks["anterior_chamber"]
    sl = np.array(spurs["left_scleral_spur"]) * spacing
    sr = np.array(spurs["right_scleral_spur"]) * spacing
    chord = sr - sl
    up = np.array([chord[1], -chord[0]]) / np.linalg.norm(chord)
    up = -up if up[1] > 0 else up
    mid = (sl + sr) / 2

    fig, (a, b) = plt.subplots(1, 2, figsize=(15, 6.4), gridspec_kw={"width_ratios": [1.75, 1]})
    for ax in (a, b):
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        _outlines(ax, masks)
        ax.set_xticks([])
        ax.set_yticks([])

    # Whole scan: ACW, ACD, LV, pupil diameter.
    _seg(a, sl, sr, spacing, "#ffd54f", f"ACW {values['acw_mm']:.2f} mm (spur to spur)")
    floor = chamber_floor(ac, mid, up, spacing)
    _seg(a, floor, floor + values["acd_mm"] * up, spacing, "#00e5ff",
         f"ACD {values['acd_mm']:.2f} mm (endothelium to lens, on the spur line's bisector)")  # fmt: skip
    tl, tr = iris_tip(masks["left_iris"], "left", spacing), iris_tip(masks["right_iris"], "right", spacing)
    front = lens_front(masks["lens"], ac, spacing, (float(tl[0]), float(tr[0])))
    k = int(np.argmax((front - sl) @ up))
    top = front[k]
    foot = top - ((top - sl) @ up) * up
    _seg(a, foot, top, spacing, "#76ff03", f"LV {values['lv_mm']:.2f} mm (lens front above the spur line)")
    _seg(a, tl, tr, spacing, "#ff4081", f"pupil diameter {values['pupil_diameter_mm']:.2f} mm", ls="--")
    for p in (sl, sr):
        a.plot(*_px(p, spacing), marker="x", color="#ffd54f", ms=11, mew=2.5)
    a.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2, fontsize=9, frameon=False)
    a.set_title("Whole scan: chamber width and depth, lens vault, pupil", fontsize=11)

    # The left angle: AOD500/750, TISA500, ARA500, IT750.
    wall = wall_profile(ac, spacing)
    _, n_spur = point_on_wall(wall, sl, 1e-6, "left")
    p5, n5 = point_on_wall(wall, sl, 0.5, "left")
    p7, n7 = point_on_wall(wall, sl, 0.75, "left")
    ara = _sector(ac, spacing, sl, None, p5, n5)
    tisa = _sector(ac, spacing, sl, n_spur, p5, n5)
    b.contourf(ara.astype(float), levels=[0.5, 1.5], colors=["#ffab40"], alpha=0.35)
    b.contourf(tisa.astype(float), levels=[0.5, 1.5], colors=["#40c4ff"], alpha=0.55)
    b.plot(
        [], [], color="#ffab40", alpha=0.6, lw=8, label=f"ARA500 {values['ara500_mm2_left']:.3f} mm² (all the recess)"
    )
    b.plot(
        [], [], color="#40c4ff", alpha=0.8, lw=8, label=f"TISA500 {values['tisa500_mm2_left']:.3f} mm² (spur to AOD500)"
    )
    _seg(b, p5, p5 + march(ac, p5, n5, spacing) * n5, spacing, "#00e676",
         f"AOD500 {values['aod500_mm_left']:.3f} mm")  # fmt: skip
    _seg(b, p7, p7 + march(ac, p7, n7, spacing) * n7, spacing, "#eeff41",
         f"AOD750 {values['aod750_mm_left']:.3f} mm")  # fmt: skip
    # IT750: the iris thickness 750 um from the spur along the anterior iris surface, along its normal.
    iris = masks["left_iris"]
    cols = np.nonzero(iris.any(axis=0))[0]
    surf = np.stack([cols * sx, (iris[:, cols].argmax(axis=0) - 0.5) * sy], axis=1)
    d = np.hypot(*(surf - sl).T)
    i = int(np.argmax(d >= 0.75))
    q = surf[i - 1] + (0.75 - d[i - 1]) / (d[i] - d[i - 1]) * (surf[i] - surf[i - 1])
    span = max(3, int(0.1 / sx))
    t = surf[min(i + span, len(surf) - 1)] - surf[max(i - span, 0)]
    n = np.array([-t[1], t[0]]) / np.linalg.norm(t)
    n = n if n[1] > 0 else -n
    _seg(b, q, q + march(iris, q, n, spacing) * n, spacing, "#ff4081", f"IT750 {values['it750_mm_left']:.3f} mm")
    for p, lbl in ((sl, "scleral spur"), (p5, "500 µm along the wall"), (p7, "750 µm")):
        b.plot(*_px(p, spacing), marker="o" if p is not sl else "x", color="white" if p is not sl else "#ffd54f",
               ms=7 if p is not sl else 11, mew=2.5, ls="none", label=lbl if p is sl else None)  # fmt: skip
    b.plot([], [], marker="o", color="white", mec="black", ls="none", label="500 and 750 µm from the spur, on the wall")
    x0, y0 = _px(sl, spacing)
    half = 1.25 / sx
    b.set_xlim(x0 - 0.35 * half, x0 + 1.35 * half)
    b.set_ylim(y0 + 0.75 * half, y0 - 0.55 * half)
    b.legend(loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2, fontsize=8.5, frameon=False)
    b.set_title("Left angle, magnified: opening distance, trabecular-iris space", fontsize=11)

    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, bbox_inches="tight", pad_inches=0.1)
    plt.close(fig)
    return values


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "assets" / "biometry.png")
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args(argv)
    values = draw(args.out, args.seed)
    print(f"wrote {args.out}: " + ", ".join(f"{k} {v:.3f}" for k, v in values.items() if v == v))


if __name__ == "__main__":
    main()
