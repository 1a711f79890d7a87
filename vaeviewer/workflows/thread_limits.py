"""Limits on the threads of the numerical libraries' pools, set from any thread without racing.

threadpoolctl finds the pools by walking the loaded libraries and calls each
one's setter; two threads doing so at once race inside it (threadpoolctl
issues 176 and 205: crashes that a process-wide mutex cured). Every limit the
product sets goes through :func:`openmp_threads`, which holds one lock while
threadpoolctl works, and only OpenMP's limit is set from a thread that shares
the process with others: OpenMP keeps it per calling thread, where BLAS
libraries (OpenBLAS, MKL) keep one for the whole process, and changing that
while another thread is inside a BLAS call is undefined.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

__all__ = ["openmp_threads", "process_threads"]

_LOCK = threading.Lock()


@contextmanager
def _limited(limit: int, user_api: str | None) -> Iterator[None]:
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    with _LOCK:
        limiter = threadpool_limits(limits=int(limit), user_api=user_api)
    try:
        yield
    finally:
        with _LOCK:
            limiter.restore_original_limits()


def openmp_threads(limit: int) -> AbstractContextManager[None]:
    """Run the block with at most ``limit`` OpenMP threads under this thread; other threads keep theirs."""
    return _limited(limit, "openmp")


def process_threads(limit: int) -> AbstractContextManager[None]:
    """Run the block with at most ``limit`` threads in every pool, BLAS included: for a process of its own.

    The BLAS limits are process-wide; the t-SNE child process, which runs
    nothing else, is where this belongs.
    """
    return _limited(limit, None)
