"""The labelling loop: pre-labels to correct in LabelMe, the most doubtful scans first.

``antseg label MODEL SCANS --out LABELS`` runs the per-scan pipeline on every scan and writes

- ``LABELS/labelme/``: one LabelMe JSON per scan (a polygon per structure, the two spurs as points) beside a
  copy of the scan, in the layout ``antseg data import labelme`` reads (``<Group>/Original Images`` and
  ``<Group>/Annotated Images``; the group is ``To correct``);
- ``LABELS/to_correct.csv``: the scans ranked by how much the pipeline doubts them (correct the first ones
  first: they teach the model most);
- ``LABELS/prelabels/``: the same pre-labels as a canonical dataset.

After correcting the JSON files in LabelMe, ``antseg data import labelme LABELS/labelme data/mine`` reads them
back (unchanged files give exactly the pre-labels) and ``antseg train seg data/mine --init default`` fine-tunes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from antseg.anatomy import SPURS, default_colour
from antseg.biometry.ranges import base_measure
from antseg.data.canonical import load_dataset, write_dataset_files, write_mask
from antseg.data.schema import Case, Manifest, Structure
from antseg.inference.inputs import collect_inputs
from antseg.io.atomic import atomic_dir
from antseg.io.images import read_image, write_png
from antseg.io.output_folder import existing_paths
from antseg.io.tables import write_csv
from antseg.scan.config import ScanConfig
from antseg.scan.pipeline import ScanPipeline
from antseg.scan.result import CHECK, ScanResult

#: The LabelMe group folder the pre-labels are written to.
GROUP = "To correct"


def doubt(res: ScanResult) -> float:
    """How much the pipeline doubts a scan (0: nothing to correct): 10 when it is not an anterior-segment
    B-scan, else 1 per measure to check plus each measure's mirror disagreement in units of its tolerance (at
    most 3 each)."""
    if not res.in_domain:
        return 10.0
    score = 0.0
    for k, m in res.measures.items():
        score += m.status == CHECK
        tol = ScanConfig().limits.mirror.get(base_measure(k)[0])
        if tol and math.isfinite(m.mirror):
            score += min(m.mirror / tol, 3.0)
    return round(score, 3)


def prelabel(
    weights: str | Path,
    scans: list[Path],
    out: str | Path,
    spurs: str | Path | None = "default",
    config: ScanConfig | None = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Write LabelMe pre-labels for ``scans`` into ``out`` (see the module docstring).

    Returns:
        {"n_scans", "ranking": [(scan name, doubt), ...] most doubtful first, "labelme": folder}.
    """
    from antseg.data.exporters import run_exporter

    files = collect_inputs([Path(p) for p in scans])
    pipe = ScanPipeline(weights, spurs, config or ScanConfig(), device, use="pre-labelling")
    rows, cases = [], []
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(scans, weights, spurs)) as tmp:
        ds_dir = tmp / "prelabels"
        (ds_dir / "images").mkdir(parents=True)
        for i, f in enumerate(files):
            res = pipe.run(read_image(f), name=f.name)
            cid = f.stem
            write_png(ds_dir / "images" / f"{cid}.png", res.image)
            h, w = res.image.shape
            cases.append(Case(
                case_id=cid, patient_id=cid, image=f"images/{cid}.png", width=w, height=h,
                mask=write_mask(ds_dir, cid, res.masks), group=GROUP, spacing=res.spacing,
                landmarks={n: (p["x"], p["y"]) if p.get("visible") and p.get("x") is not None else None
                           for n, p in res.spurs.items()},
            ))  # fmt: skip
            rows.append({"image": f.name, "case_id": cid, "doubt": doubt(res), "in_domain": res.in_domain,
                         "warnings": "; ".join(res.warnings)})  # fmt: skip
            if progress:
                progress(i + 1, len(files))
        manifest = Manifest(
            name="pre-labels", modality="asoct",
            structures=[Structure(n, k + 1, default_colour(n, k)) for k, n in enumerate(pipe.structures)],
            landmarks=list(SPURS) if pipe.spur is not None else [], spacing_mm=pipe.spacing, groups=[GROUP],
            provenance={"generator": "antseg label", "weights": str(weights), "spurs": str(spurs)},
        )  # fmt: skip
        write_dataset_files(ds_dir, manifest, cases)
        run_exporter("labelme", ds_dir, tmp / "labelme", image_format="png")
        rows.sort(key=lambda r: -r["doubt"])
        for rank, r in enumerate(rows, 1):
            r["rank"] = rank
        write_csv(tmp / "to_correct.csv", rows, ["rank", "image", "case_id", "doubt", "in_domain", "warnings"])
    load_dataset(Path(out) / "prelabels")  # what was written reads back
    return {"n_scans": len(rows), "ranking": [(r["image"], r["doubt"]) for r in rows],
            "labelme": Path(out) / "labelme"}  # fmt: skip
