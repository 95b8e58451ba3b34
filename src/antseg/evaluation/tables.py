"""Markdown result tables in the layout of the reference results table."""

from __future__ import annotations

import math

from antseg.anatomy import display_name


def _pm(mean: float, sd: float, digits: int = 4) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    return f"{mean:.{digits}f} ± {sd:.{digits}f}"


def markdown_table(summary: list[dict], by_group: list[dict], method: str) -> str:
    """Per structure: Dice, IoU (fractions, mean ± sd), HD95 and ASSD, then per diagnosis group."""
    unit = summary[0]["unit"] if summary else "px"
    lines = [
        f"| Anatomical Structure | Method | Dice | IoU | HD95 ({unit}) | ASSD ({unit}) | n | missed | false positive |",
        "| :-- | :-- | :-- | :-- | :-- | :-- | --: | --: | --: |",
    ]
    for r in summary:
        lines.append(
            f"| **{display_name(r['structure'])}** | {method} | {_pm(r['dice_mean'], r['dice_sd'])} | "
            f"{_pm(r['iou_mean'], r['iou_sd'])} | {_pm(r['hd95_mean'], r['hd95_sd'], 3)} | "
            f"{_pm(r['assd_mean'], r['assd_sd'], 3)} | {r['n']} | {r['n_missed']} | {r['n_false_positive']} |"
        )
    groups = sorted({r["group"] for r in by_group})
    if len(groups) > 1 or (groups and groups[0] not in ("", "all")):
        lines += ["", "Dice by diagnosis group (mean ± sd):", ""]
        names = [r["structure"] for r in summary]
        lines.append("| Group | " + " | ".join(display_name(n) for n in names) + " |")
        lines.append("| :-- |" + " :-- |" * len(names))
        for g in groups:
            cells = {r["structure"]: r for r in by_group if r["group"] == g}
            lines.append(
                f"| {g or '-'} | "
                + " | ".join(_pm(cells[n]["dice_mean"], cells[n]["dice_sd"]) if n in cells else "" for n in names)
                + " |"
            )
    return "\n".join(lines) + "\n"
