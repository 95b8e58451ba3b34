"""Fitting antseg's models to a user's device from unlabelled scans (``antseg adapt``)."""

from antseg.adaptation.config import AdaptConfig
from antseg.adaptation.run import adapt

__all__ = ["AdaptConfig", "adapt"]
