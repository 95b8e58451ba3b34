"""Benchmark tables and figure: the reference results-table layout, per-group Dice, speed, failures."""

from __future__ import annotations

import math
from pathlib import Path

from antseg.anatomy import display_name
from antseg.io.atomic import atomic_write_text
from antseg.io.tables import write_csv, write_json

METRICS = (("dice", "Dice", max), ("iou", "IoU", max), ("hd95", "HD95", min), ("assd", "ASSD", min))


def _pm(mean: float | None, sd: float | None, digits: int) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    return f"{mean:.{digits}f} ± {(sd or 0.0):.{digits}f}"


def _finite(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def results_markdown(results: list[dict], structures: list[str]) -> str:
    """One block per structure, one row per method: Dice, IoU (fractions), HD95, ASSD as mean ± sd; the best
    value per structure and metric in bold. Then per-group Dice, speed and failures."""
    ok = [r for r in results if r["status"] == "ok"]
    unit = next((s["unit"] for r in ok for s in r["summary"]), "px")
    lines = [
        f"| Anatomical Structure | Method | Dice | IoU | HD95 ({unit}) | ASSD ({unit}) | n | missed | false + |",
        "| :-- | :-- | :-- | :-- | :-- | :-- | --: | --: | --: |",
    ]
    for s in structures:
        rows = [(r["method"], next((x for x in r["summary"] if x["structure"] == s), None)) for r in ok]
        rows = [(m, x) for m, x in rows if x is not None]
        best = {}
        for key, _, pick in METRICS:
            vals = [x[f"{key}_mean"] for _, x in rows if _finite(x[f"{key}_mean"])]
            best[key] = pick(vals) if vals else None
        for i, (method, x) in enumerate(rows):
            cells = []
            for key, _, _ in METRICS:
                text = _pm(x[f"{key}_mean"], x[f"{key}_sd"], 4 if key in ("dice", "iou") else 3)
                bold = len(rows) > 1 and best[key] is not None and x[f"{key}_mean"] == best[key]
                cells.append(f"**{text}**" if bold else text)
            name = f"**{display_name(s)}**" if i == 0 else ""
            lines.append(
                f"| {name} | {method} | " + " | ".join(cells)
                + f" | {x['n']} | {x['n_missed']} | {x['n_false_positive']} |"
            )  # fmt: skip
    groups = sorted({g["group"] for r in ok for g in r["by_group"]})
    if groups and groups != [""]:
        lines += ["", "Dice by diagnosis group (mean ± sd):", ""]
        lines.append("| Group | Method | " + " | ".join(display_name(s) for s in structures) + " |")
        lines.append("| :-- | :-- |" + " :-- |" * len(structures))
        for g in groups:
            for i, r in enumerate(ok):
                cells = {x["structure"]: x for x in r["by_group"] if x["group"] == g}
                vals = [_pm(cells[s]["dice_mean"], cells[s]["dice_sd"], 4) if s in cells else "" for s in structures]
                lines.append(f"| {g or '-' if i == 0 else ''} | {r['method']} | " + " | ".join(vals) + " |")
    lines += ["", "Speed (inference in-process, same images and device, warm):", ""]
    lines += ["| Method | parameters | training (s) | ms/image (median) | ms/image (mean) | test images | device |"]
    lines += ["| :-- | --: | --: | --: | --: | --: | :-- |"]
    for r in ok:
        params = f"{r['n_parameters'] / 1e6:.2f} M" if r.get("n_parameters") else "n/a"
        lines.append(
            f"| {r['method']} | {params} | {r['train_s']:.0f} | {r['ms_per_image']:.0f} | "
            f"{r['ms_per_image_mean']:.0f} | {r['n_test']} | {r['device']} |"
        )
    failed = [r for r in results if r["status"] != "ok"]
    if failed:
        lines += ["", "Failed methods:", "", "| Method | error |", "| :-- | :-- |"]
        lines += [f"| {r['method']} | {r['error']} |" for r in failed]
    return "\n".join(lines) + "\n"


def dice_figure(results: list[dict], structures: list[str], path: Path) -> None:
    """Box plots of per-case Dice, one group of boxes per structure, one box per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in results if r["status"] == "ok"]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(structures) * max(1, len(ok)) / 2), 4.2))
    width = 0.8 / max(1, len(ok))
    cmap = plt.get_cmap("tab10")
    for k, r in enumerate(ok):
        data = [[x["dice"] for x in r["per_case"] if x["structure"] == s] for s in structures]
        pos = [i + (k - (len(ok) - 1) / 2) * width for i in range(len(structures))]
        bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=True)
        for b in bp["boxes"]:
            b.set_facecolor(cmap(k % 10))
        ax.plot([], [], color=cmap(k % 10), lw=8, label=r["method"])
    ax.set_xticks(range(len(structures)), [display_name(s) for s in structures])
    ax.set_ylabel("Dice per test image")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


def write_report(out: Path, results: list[dict], ds, cfg) -> str:
    """Write results.md/.csv/.json, by_group.csv, speed.csv and dice_boxplot.png into ``out``; returns the md."""
    structures = [s for s in ds.structures if any(s in r.get("structures", []) for r in results)]
    md = results_markdown(results, structures)
    atomic_write_text(out / "results.md", md)
    flat = [{"method": r["method"], **x} for r in results if r["status"] == "ok" for x in r["summary"]]
    write_csv(out / "results.csv", flat)
    write_csv(out / "by_group.csv", [{"method": r["method"], **x} for r in results if r["status"] == "ok"
                                      for x in r["by_group"]])  # fmt: skip
    keys = ("method", "status", "n_parameters", "train_s", "ms_per_image", "ms_per_image_mean", "n_test", "device",
            "error")  # fmt: skip
    write_csv(out / "speed.csv", [{k: r.get(k, "") for k in keys} for r in results], list(keys))
    write_json(out / "results.json", {
        "dataset": str(ds.root), "split": cfg.split, "methods": [
            {k: v for k, v in r.items() if k != "per_case"} for r in results
        ]})  # fmt: skip
    if any(r["status"] == "ok" for r in results):
        dice_figure(results, structures, out / "dice_boxplot.png")
    return md
