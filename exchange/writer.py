"""The batching writer of the audit log (DESIGN, writing to the audit log at rate).

Callers hand it a *job* — a function that writes its rows and appends its entries through the
:class:`~exchange.services.Recording` it is given — and wait. One thread takes every job queued
meanwhile (up to ``max_batch``), runs each in a savepoint of one transaction, signs one
checkpoint over the lot in that transaction, commits, and only then answers each caller: no
caller hears of an entry before it is durable, and a thousand calls a second cost a few dozen
commits (each an fsync) instead of a thousand. A job that raises is rolled back to its savepoint
alone and its caller gets the exception; the others commit. When the whole transaction fails
(the database went away), every caller of the batch gets that error and nothing of it is
written.

    result, rec = writer.submit(lambda rec: rec.append(event))   # rec.checkpoint: signed

One writer per process; processes serialize on the log's head row as before.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

__all__ = ["BatchWriter", "MAX_BATCH"]

T = TypeVar("T")
MAX_BATCH = 512  # jobs in one transaction at most


class _Job(Generic[T]):
    def __init__(self, work: Callable[[Any], T]) -> None:
        self.work = work
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None
        self.rec: Any = None


class BatchWriter:
    """Runs jobs in batches on one thread. ``begin()`` opens the batch's transaction (a
    context manager yielding a connection); ``recording(conn)`` makes each job's Recording on
    it; ``sign(conn, recordings)`` signs the batch's checkpoint in the transaction and returns
    it (set as each recording's ``checkpoint`` once committed)."""

    def __init__(self, *, begin: Callable[[], Any], recording: Callable[[sa.Connection], Any],
                 sign: Callable[[sa.Connection, list[Any]], Any],
                 max_batch: int = MAX_BATCH) -> None:
        self._begin, self._recording, self._sign = begin, recording, sign
        self._max = max_batch
        self._queue: queue.Queue[_Job[Any]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.batches = 0  # committed so far (for tests and benchmarks)
        self.jobs = 0

    def submit(self, work: Callable[[Any], T]) -> tuple[T, Any]:
        """Run ``work(rec)`` in the next batch; its result and its Recording once the batch
        is durable. Raises what ``work`` raised (nothing of it written), or the batch's own
        failure."""
        job: _Job[T] = _Job(work)
        self._start()
        self._queue.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.result, job.rec

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="govex-log-writer",
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list[_Job[Any]]) -> None:
        kept: list[_Job[Any]] = []
        try:
            with self._begin() as conn:
                for job in batch:
                    savepoint = conn.begin_nested()
                    rec = self._recording(conn)
                    try:
                        job.result = job.work(rec)
                    except BaseException as exc:  # noqa: BLE001 (handed to its caller)
                        savepoint.rollback()
                        job.error = exc
                        continue
                    savepoint.commit()
                    job.rec = rec
                    kept.append(job)
                signed = self._sign(conn, [job.rec for job in kept]) if kept else None
            for job in kept:
                job.rec.checkpoint = signed
            self.batches += 1
            self.jobs += len(batch)
        except BaseException as exc:  # noqa: BLE001 (the batch failed as a whole)
            for job in kept:
                job.error, job.result = exc, None
        finally:
            for job in batch:
                job.done.set()
