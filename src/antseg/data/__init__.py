"""Datasets: the canonical on-disk format and the code that reads, writes, checks and splits it."""

from antseg.data.canonical import CanonicalDataset, load_dataset
from antseg.data.schema import Case, Manifest, Structure

__all__ = ["CanonicalDataset", "Case", "Manifest", "Structure", "load_dataset"]
