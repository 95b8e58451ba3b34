"""Which workers a run gets: this process, local processes, or a Dask cluster (kept apart from the backends so
that the local ones never import the cluster's module)."""

from __future__ import annotations

import contextlib
from typing import Any

from antseg.batch.backends import Inline, LocalProcesses, check_workers
from antseg.errors import AntsegInputError


@contextlib.contextmanager
def open_workers(workers: int = 1, cluster: str | None = None, spec: Any = None, model: Any = None):
    """The backend a run asked for: ``cluster`` (a Dask scheduler's address), else ``workers`` local processes
    (``spec`` builds their models), else this process (``model``: the models already loaded).

    Raises:
        AntsegInputError: ``workers`` out of range, both ``workers`` > 1 and ``cluster``, or a cluster that does
            not answer.
    """
    check_workers(workers)
    if cluster is not None and workers != 1:
        raise AntsegInputError(None, "give --workers or --cluster, not both: the cluster has its own workers")
    if cluster is not None:
        from antseg.batch.dask_backend import DaskCluster

        backend: Any = DaskCluster(cluster)
    elif workers > 1:
        backend = LocalProcesses(workers, spec)
    else:
        backend = Inline(model if model is not None else spec.build())
    try:
        yield backend
    finally:
        backend.close()
