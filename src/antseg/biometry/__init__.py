"""Clinical biometry in mm from structure masks and scleral spurs (pure geometry, no torch)."""

from antseg.anatomy import MEASURES
from antseg.biometry.measure import measure

__all__ = ["MEASURES", "measure"]
