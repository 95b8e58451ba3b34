"""Fitting antseg's models to a user's device from unlabelled and corrected scans (``antseg adapt``)."""

from antseg.adaptation.config import AdaptConfig
from antseg.adaptation.run import adapt

__all__ = ["AdaptConfig", "adapt"]
