"""Agreement between measured and reference values: error statistics, ICC and Bland-Altman limits."""

from __future__ import annotations

import math

import numpy as np


def icc_absolute(a: np.ndarray, b: np.ndarray) -> float:
    """ICC(2,1): two-way random effects, absolute agreement, single measurement (Shrout & Fleiss)."""
    x = np.stack([a, b], axis=1).astype(float)
    n, k = x.shape
    if n < 2:
        return math.nan
    grand = x.mean()
    ms_r = k * ((x.mean(axis=1) - grand) ** 2).sum() / (n - 1)
    ms_c = n * ((x.mean(axis=0) - grand) ** 2).sum() / (k - 1)
    sse = ((x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + grand) ** 2).sum()
    ms_e = sse / ((n - 1) * (k - 1))
    den = ms_r + (k - 1) * ms_e + k * (ms_c - ms_e) / n
    return float((ms_r - ms_e) / den) if den > 0 else math.nan


def agreement(measured: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    """Error = measured - reference over the pairs where both exist."""
    m, r = np.asarray(measured, float), np.asarray(reference, float)
    ok = np.isfinite(m) & np.isfinite(r)
    m, r = m[ok], r[ok]
    if not len(m):
        return {"n": 0}
    e = m - r
    sd = float(e.std(ddof=1)) if len(e) > 1 else 0.0
    return {
        "n": int(len(e)), "mean_error": float(e.mean()), "sd_error": sd, "mean_abs_error": float(np.abs(e).mean()),
        "max_abs_error": float(np.abs(e).max()), "icc": icc_absolute(m, r),
        "bland_altman_bias": float(e.mean()),
        "loa_low": float(e.mean() - 1.96 * sd), "loa_high": float(e.mean() + 1.96 * sd),
    }  # fmt: skip
