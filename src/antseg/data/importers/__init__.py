"""Importers: one registered plugin per source annotation format.

Each importer is a function ``(src, out, opts) -> ImportResult`` registered in :data:`IMPORTERS`.
"""

from antseg.data.importers.base import ImportOptions, ImportResult
from antseg.data.importers.registry import IMPORTERS, run_importer

# Importing the modules registers them.
from antseg.data.importers import age, labelme, mask_folders, supervisely  # noqa: E402,F401  isort: skip

__all__ = ["IMPORTERS", "ImportOptions", "ImportResult", "run_importer"]
