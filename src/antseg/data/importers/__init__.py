"""Importers: one registered plugin per source annotation format.

Each importer is a function ``(src, out, opts) -> ImportResult`` registered in :data:`IMPORTERS`; its module is
imported when it is first asked for (the names are known at once, for ``--help``).
"""

from antseg.data.importers.records import ImportOptions, ImportResult
from antseg.data.importers.registry import IMPORTERS, run_importer

__all__ = ["IMPORTERS", "ImportOptions", "ImportResult", "run_importer"]
