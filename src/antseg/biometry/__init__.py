"""Clinical biometry in mm from structure masks and scleral spurs (pure geometry, no torch)."""

from antseg.biometry.measure import MEASURES, measure

__all__ = ["MEASURES", "measure"]
