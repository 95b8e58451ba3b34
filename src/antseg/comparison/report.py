"""Benchmark tables and figure: the reference results-table layout, per-group Dice, speed, failures."""

from __future__ import annotations

import math
from pathlib import Path

from antseg.anatomy import display_name, site_label
from antseg.io.atomic import atomic_write_text
from antseg.io.tables import write_csv, write_json
from antseg.metrics.landmarks import PCK_PX

METRICS = (("dice", "Dice", max), ("iou", "IoU", max), ("hd95", "HD95", min), ("assd", "ASSD", min))


def _pm(mean: float | None, sd: float | None, digits: int) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "n/a"
    return f"{mean:.{digits}f} ± {(sd or 0.0):.{digits}f}"


def _finite(v) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))


def _label(r: dict) -> str:
    return r.get("label") or r["method"]


def _task(r: dict) -> str:
    return r.get("task", "segmentation")


def results_markdown(results: list[dict], structures: list[str]) -> str:
    """The segmentation table (one block per structure, one row per method: Dice, IoU (fractions), HD95, ASSD as
    mean ± sd; the best value per structure and metric in bold), per-group Dice, the spur table (when spur
    methods ran), speed for every method and failures."""
    lines = segmentation_markdown([r for r in results if _task(r) == "segmentation"], structures)
    spur = [r for r in results if _task(r) == "landmarks" and r["status"] == "ok"]
    if spur:
        lines += ["", *spur_markdown(spur)]
    lines += ["", *speed_markdown(results)]
    failed = [r for r in results if r["status"] != "ok"]
    if failed:
        lines += ["", "Failed methods:", "", "| Method | error |", "| :-- | :-- |"]
        lines += [f"| {r['method']} | {r['error']} |" for r in failed]
    return "\n".join(lines) + "\n"


def segmentation_markdown(results: list[dict], structures: list[str]) -> list[str]:
    """The reference results table and Dice by diagnosis group, as markdown lines ([] without a finished method)."""
    ok = [r for r in results if r["status"] == "ok"]
    if not ok:
        return []
    unit = next((s["unit"] for r in ok for s in r["summary"]), "px")
    lines = [
        f"| Anatomical Structure | Method | Dice | IoU | HD95 ({unit}) | ASSD ({unit}) | n | missed | false + |",
        "| :-- | :-- | :-- | :-- | :-- | :-- | --: | --: | --: |",
    ]
    for s in structures:
        rows = [(_label(r), next((x for x in r["summary"] if x["structure"] == s), None)) for r in ok]
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
    lines += _group_table("Dice by diagnosis group (mean ± sd):", ok, "structure", structures, display_name,
                          ("dice_mean", "dice_sd", 4))  # fmt: skip
    return lines


def _group_table(title: str, results: list[dict], key: str, names: list[str], header, stat: tuple) -> list[str]:
    """The by-diagnosis-group table of ``results`` (one column per ``names`` entry found under ``key`` in each
    result's ``by_group`` rows, ``stat`` = (mean field, sd field, digits)); nothing when there are no groups."""
    groups = sorted({g["group"] for r in results for g in r["by_group"]})
    if not groups or groups == [""]:
        return []
    mean, sd, digits = stat
    lines = ["", title, "", "| Group | Method | " + " | ".join(header(n) for n in names) + " |",
             "| :-- | :-- |" + " :-- |" * len(names)]  # fmt: skip
    for g in groups:
        for i, r in enumerate(results):
            cells = {x[key]: x for x in r["by_group"] if x["group"] == g}
            vals = [_pm(cells[n][mean], cells[n][sd], digits) if n in cells else "" for n in names]
            lines.append(f"| {g or '-' if i == 0 else ''} | {_label(r)} | " + " | ".join(vals) + " |")
    return lines


def _num(v, digits: int, pct: bool = False) -> str:
    if not _finite(v):
        return "n/a"
    return f"{100 * v:.1f}%" if pct else f"{v:.{digits}f}"


def spur_markdown(results: list[dict]) -> list[str]:
    """The spur table: one block per site, one row per method, the best value per site and column in bold;
    then the mean error by diagnosis group. ``results`` are finished landmark methods."""
    cols = [("mean_px", "MPD (px)", min), ("median_px", "Median (px)", min), ("max_px", "Max (px)", min)]
    cols += [(f"pck{t}", f"PCK@{t}px", max) for t in PCK_PX]
    lines = [
        "Scleral spurs (errors at the original resolution; PCK over the spurs present; missed: present, "
        "predicted absent; false +: absent, predicted present):", "",
        "| Site | Method | " + " | ".join(c[1] for c in cols) + " | MPD (um) | n | missed | false + |",
        "| :-- | :-- |" + " :-- |" * (len(cols) + 1) + " --: | --: | --: |",
    ]  # fmt: skip
    names = list(dict.fromkeys(x["landmark"] for r in results for x in r["summary"]))
    for name in names:
        rows = [(_label(r), next((x for x in r["summary"] if x["landmark"] == name), None)) for r in results]
        rows = [(m, x) for m, x in rows if x is not None]
        best = {k: pick(vals) if (vals := [x[k] for _, x in rows if _finite(x[k])]) else None for k, _, pick in cols}
        for i, (method, x) in enumerate(rows):
            cells = []
            for key, _, _ in cols:
                text = _num(x[key], 2, pct=key.startswith("pck"))
                if key == "mean_px" and _finite(x[key]):
                    text = f"{x['mean_px']:.2f} ± {(x['sd_px'] or 0.0):.2f}"
                bold = len(rows) > 1 and best[key] is not None and x[key] == best[key]
                cells.append(f"**{text}**" if bold else text)
            um = f"{x['mean_um']:.1f} ± {(x['sd_um'] or 0.0):.1f}" if _finite(x["mean_um"]) else "n/a"
            site = f"**{site_label(name)}**" if i == 0 else ""
            lines.append(
                f"| {site} | {method} | " + " | ".join(cells)
                + f" | {um} | {x['n']} | {x['n_missed']} | {x['n_false_positive']} |"
            )  # fmt: skip
    lines += _group_table("Spur error by diagnosis group (MPD px, mean ± sd):", results, "landmark", names,
                          site_label, ("mean_px", "sd_px", 2))  # fmt: skip
    return lines


def speed_markdown(results: list[dict]) -> list[str]:
    """Parameters, training seconds and ms/image of every finished method, segmentation then spurs."""
    head = "| Method | task | parameters | training (s) | ms/image (median) | ms/image (mean) | test images | device |"
    lines = ["Speed (inference in-process, same images and device, warm):", "", head]
    lines += ["| :-- | :-- | --: | --: | --: | --: | --: | :-- |"]
    for r in [r for r in results if r["status"] == "ok"]:
        params = f"{r['n_parameters'] / 1e6:.2f} M" if r.get("n_parameters") else "n/a"
        task = "spurs" if _task(r) == "landmarks" else "segmentation"
        lines.append(
            f"| {_label(r)} | {task} | {params} | {r['train_s']:.0f} | {r['ms_per_image']:.0f} | "
            f"{r['ms_per_image_mean']:.0f} | {r['n_test']} | {r['device']} |"
        )
    return lines


def dice_figure(results: list[dict], structures: list[str], path: Path) -> None:
    """Box plots of per-case Dice, one group of boxes per structure, one box per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in results if r["status"] == "ok" and _task(r) == "segmentation"]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(structures) * max(1, len(ok)) / 2), 4.2))
    width = 0.8 / max(1, len(ok))
    cmap = plt.get_cmap("tab10")
    for k, r in enumerate(ok):
        data = [[x["dice"] for x in r["per_case"] if x["structure"] == s] for s in structures]
        pos = [i + (k - (len(ok) - 1) / 2) * width for i in range(len(structures))]
        bp = ax.boxplot(data, positions=pos, widths=width * 0.9, patch_artist=True, showfliers=True)
        for b in bp["boxes"]:
            b.set_facecolor(cmap(k % 10))
        ax.plot([], [], color=cmap(k % 10), lw=8, label=_label(r))
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


def _flat(results: list[dict], key: str) -> list[dict]:
    """One CSV row per method and ``key`` row (summary or by_group), led by the method and its label."""
    return [{"method": r["method"], "label": _label(r), **x} for r in results for x in r[key]]


def write_report(out: Path, results: list[dict], ds, cfg) -> str:
    """Write results.md/.csv/.json, by_group.csv, spurs.csv, spurs_by_group.csv, speed.csv and dice_boxplot.png
    into ``out``; returns the markdown."""
    seg = [r for r in results if _task(r) == "segmentation" and r["status"] == "ok"]
    spur = [r for r in results if _task(r) == "landmarks" and r["status"] == "ok"]
    structures = [s for s in ds.structures if any(s in r.get("structures", []) for r in results)]
    md = results_markdown(results, structures)
    atomic_write_text(out / "results.md", md)
    write_csv(out / "results.csv", _flat(seg, "summary"))
    write_csv(out / "by_group.csv", _flat(seg, "by_group"))
    if spur:
        write_csv(out / "spurs.csv", _flat(spur, "summary"))
        write_csv(out / "spurs_by_group.csv", _flat(spur, "by_group"))
    keys = ("method", "label", "task", "status", "n_parameters", "train_s", "ms_per_image", "ms_per_image_mean",
            "n_test", "device", "error")  # fmt: skip
    rows = [{**{k: r.get(k, "") for k in keys}, "label": _label(r), "task": _task(r)} for r in results]
    write_csv(out / "speed.csv", rows, list(keys))
    write_json(out / "results.json", {
        "dataset": str(ds.root), "split": cfg.split, "methods": [
            {k: v for k, v in r.items() if k != "per_case"} for r in results
        ]})  # fmt: skip
    if seg:
        dice_figure(results, structures, out / "dice_boxplot.png")
    return md
