"""Many scans at once: local worker processes, a Dask cluster, and resumable runs whose tables do not depend on
where the scans were processed.

- :func:`~antseg.batch.workers.open_workers`: this process, ``workers`` local processes (spawned, threads shared
  out so the cores are not oversubscribed), or a Dask scheduler's workers (:mod:`antseg.batch.dask_backend`,
  the ``cluster`` extra).
- :func:`~antseg.batch.runner.run_items`: items to the backend, results back in the input's order, each written
  whole and journaled in a :class:`~antseg.io.resumable.ResumableDir`, so a killed run resumes.

``antseg predict``, ``biometry`` and ``report`` take ``--workers N`` and ``--cluster ADDRESS``; their per-scan
work is in :mod:`antseg.scan.tasks`.
"""

from antseg.batch.backends import threads_per_worker, usable_cores
from antseg.batch.runner import Done, RunStats, run_items
from antseg.batch.workers import open_workers

__all__ = ["Done", "RunStats", "open_workers", "run_items", "threads_per_worker", "usable_cores"]
