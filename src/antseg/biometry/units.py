"""Units of the measure columns and the precision a table gives them.

Values are rounded to what AS-OCT resolves (one pixel is 5-15 um): mm to 0.001, mm2 to 0.0001. A table never
shows ``-0.0`` or float noise such as ``1.2e-18`` (an iris curvature of zero).
"""

from __future__ import annotations

import math

#: Decimal places per unit.
DECIMALS = {"mm": 3, "mm2": 4}


def unit(column: str) -> str | None:
    """``mm`` or ``mm2`` for a measure column (``acd_mm``, ``tisa500_mm2_left``), None for anything else."""
    parts = column.split("_")
    for u in ("mm2", "mm"):
        if u in parts:
            return u
    return None


def rounded(column: str, value: float) -> float:
    """``value`` rounded to its unit's precision (NaN stays NaN; columns without a unit are returned as given)."""
    u = unit(column)
    if u is None or value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if not math.isfinite(value):
        return value
    r = round(float(value), DECIMALS[u])
    return 0.0 if r == 0 else r
