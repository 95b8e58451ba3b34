"""Datasets: the canonical on-disk format and the code that reads, writes, checks and splits it.

The names below load on first use, so the package's light modules do not import NumPy or OpenCV.
"""

from antseg.lazy_imports import lazy_attributes

__all__ = ["CanonicalDataset", "Case", "Manifest", "Structure", "load_dataset"]

__getattr__, __dir__ = lazy_attributes(
    __name__,
    {
        n: "antseg.data.canonical" if n in ("CanonicalDataset", "load_dataset") else "antseg.data.schema"
        for n in __all__
    },
)
