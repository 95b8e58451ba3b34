"""Landmark (scleral spur) metrics: distances, PCK and misses per side, in px and um."""

from __future__ import annotations

import math

import numpy as np

from antseg.anatomy import site_label

PCK_PX = (5, 10, 20, 50)


def landmark_rows(names: list[str], pred: dict, ref: dict, case_id: str, group: str,
                  spacing: tuple[float, float] | None) -> list[dict]:  # fmt: skip
    """One row per landmark of a case.

    Args:
        pred, ref: name -> (x, y) pixels or None (absent / predicted absent).
    Returns:
        rows with error_px (and error_um when the spacing is known) or a status
        ``missed`` (present, predicted absent), ``false_positive`` (absent, predicted present),
        ``both_absent`` or ``ok``.
    """
    rows = []
    for n in names:
        p, r = pred.get(n), ref.get(n)
        row = {"case_id": case_id, "group": group, "landmark": n, "error_px": math.nan, "error_um": math.nan}
        if r is None and p is None:
            row["status"] = "both_absent"
        elif r is None:
            row["status"] = "false_positive"
        elif p is None:
            row["status"] = "missed"
        else:
            row["status"] = "ok"
            dx, dy = p[0] - r[0], p[1] - r[1]
            row["error_px"] = math.hypot(dx, dy)
            if spacing is not None:
                row["error_um"] = 1000 * math.hypot(dx * spacing[0], dy * spacing[1])
        rows.append(row)
    return rows


def summarize_landmarks(rows: list[dict], by: str | None = None) -> list[dict]:
    """Per landmark (and per ``by`` column): mean ± sd, median and max error, PCK at 5/10/20/50 px,
    the same in um where known, and the counts of each status. PCK is over the landmarks that are
    present in the reference (a missed one counts as incorrect)."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r[by] if by else "all", r["landmark"]), []).append(r)
    out = []
    for (g, name), rs in groups.items():
        e = np.array([r["error_px"] for r in rs if r["status"] == "ok"])
        um = np.array([r["error_um"] for r in rs if r["status"] == "ok" and not math.isnan(r["error_um"])])
        present = sum(r["status"] in ("ok", "missed") for r in rs)
        row = {
            "group": g, "landmark": name, "n": len(rs), "n_present": present,
            "mean_px": float(e.mean()) if len(e) else math.nan, "sd_px": float(e.std(ddof=1)) if len(e) > 1 else 0.0,
            "median_px": float(np.median(e)) if len(e) else math.nan, "max_px": float(e.max()) if len(e) else math.nan,
            "mean_um": float(um.mean()) if len(um) else math.nan,
            "sd_um": float(um.std(ddof=1)) if len(um) > 1 else 0.0,
            "median_um": float(np.median(um)) if len(um) else math.nan,
        }  # fmt: skip
        for t in PCK_PX:
            row[f"pck{t}"] = float((e <= t).sum() / present) if present else math.nan
        for s in ("ok", "missed", "false_positive", "both_absent"):
            row[f"n_{s}"] = sum(r["status"] == s for r in rs)
        out.append(row)
    return out


def landmark_markdown(summary: list[dict]) -> str:
    """The reference project's spur table, plus um and misses."""
    lines = [
        "| Site | MPD (px) | Median (px) | Max (px) | PCK@5px | PCK@10px | PCK@20px | PCK@50px | MPD (um) "
        "| missed | false + |",
        "| :-- | :-- | :-- | :-- | :-- | :-- | :-- | :-- | :-- | --: | --: |",
    ]
    for r in summary:
        site = site_label(r["landmark"])
        um = "n/a" if math.isnan(r["mean_um"]) else f"{r['mean_um']:.1f} ± {r['sd_um']:.1f}"
        pck = [f"{100 * r[f'pck{t}']:.1f}%" if not math.isnan(r[f"pck{t}"]) else "n/a" for t in PCK_PX]
        lines.append(
            f"| {site} | {r['mean_px']:.2f} ± {r['sd_px']:.2f} | {r['median_px']:.2f} | {r['max_px']:.2f} | "
            + " | ".join(pck)
            + f" | {um} | {r['n_missed']} | {r['n_false_positive']} |"
        )
    return "\n".join(lines) + "\n"
