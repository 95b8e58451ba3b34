"""A scan's result as plain JSON data and back: what a worker sends home and the run's journal keeps.

The pixels (the scan, its masks) are not carried: a worker encodes what it draws into files first. Every float
survives exactly (JSON writes ``repr``), so tables made from decoded results are byte-identical to tables made
from the result itself.
"""

from __future__ import annotations

import numpy as np

from antseg.scan.result import Measure, Repair, ScanResult


def plain(value):
    """``value`` with numpy scalars, arrays and tuples turned into JSON's types (NaN kept as NaN)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def encode_result(res: ScanResult) -> dict:
    """The numbers, statuses and words of ``res`` (no pixels)."""
    return {
        "name": res.name,
        "structures": list(res.structures),
        "spurs": plain(res.spurs),
        "measures": {k: [float(m.value), m.status, list(m.reasons), float(m.mirror)] for k, m in res.measures.items()},
        "warnings": list(res.warnings),
        "repairs": [[r.structure, r.action, int(r.pixels), r.area_mm2] for r in res.repairs],
        "in_domain": bool(res.in_domain),
        "spacing": None if res.spacing is None else [float(v) for v in res.spacing],
        "seconds": {k: float(v) for k, v in res.seconds.items()},
    }


def decode_result(data: dict) -> ScanResult:
    """A :class:`~antseg.scan.ScanResult` from :func:`encode_result`'s data, with an empty image and masks."""
    measures = {k: Measure(v, s, list(r), m) for k, (v, s, r, m) in data["measures"].items()}
    repairs = [Repair(s, a, p, area) for s, a, p, area in data["repairs"]]
    spacing = None if data["spacing"] is None else tuple(data["spacing"])
    return ScanResult(
        name=data["name"], image=np.zeros((0, 0), np.uint8), structures=list(data["structures"]),
        masks=np.zeros((len(data["structures"]), 0, 0), np.uint8), spurs=data["spurs"], measures=measures,
        warnings=list(data["warnings"]), repairs=repairs, in_domain=data["in_domain"], spacing=spacing,
        seconds=dict(data["seconds"]),
    )  # fmt: skip
