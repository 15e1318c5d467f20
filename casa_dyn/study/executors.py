"""Where tasks run: in the driver (one worker), a local process pool (the default), or Dask.

All three take the same jobs and call ``on_done(job, record, error)`` once per job, in
completion order; ``record`` is what the task returned, ``error`` a text when the
infrastructure (not the scenario) failed and the job has no result.  At most a small window
of jobs is in flight, so the driver's memory does not grow with the number of scenarios.

- Local pool: ``spawn``ed processes (numba, h5py and fork do not mix), one numba/BLAS thread
  each, and a watchdog that ends a worker when its driver dies.  A worker that dies takes the
  pool down (Python's ``BrokenProcessPool``): the pool is rebuilt and the jobs that were in
  flight are run again, up to ``MAX_ATTEMPTS`` times each.
- Dask: ``Client(address)`` or a ``LocalCluster`` of one-thread workers; cases are scattered
  to every worker once; Dask itself reruns the task of a worker that dies (up to its
  ``distributed.scheduler.allowed-failures``).  Workers must be able to import casa_dyn and
  must see the output folder (a shared file system on a cluster).
"""
from __future__ import annotations

import os
import threading
from collections import deque
from dataclasses import dataclass

MAX_ATTEMPTS = 3
THREAD_ENV = {"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
              "MKL_NUM_THREADS": "1"}


@dataclass(frozen=True)
class Job:
    key: str
    fn: object
    args: tuple


def make_executor(workers: int = 1, scheduler: str | None = None):
    if scheduler:
        return DaskExecutor(scheduler, workers)
    return InProcess() if workers <= 1 else LocalPool(workers)


class InProcess:
    name, n_workers = "in-process", 1

    def share(self, obj):
        return obj

    def warm(self, cases) -> None:
        """Compile (or load) the kernels every case of ``cases`` uses before fanning out; in
        process, the first scenario of each case does it."""

    def run(self, jobs, on_done) -> None:
        for job in jobs:
            on_done(job, job.fn(*job.args), None)

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ------------------------------------------------------------------ local processes
def _pool_init(parent_pid: int) -> None:
    """Runs first in every pool process: one thread for numba and BLAS (the variables are read
    at their import, which has not happened yet in a spawned process), and a watchdog."""
    for k, v in THREAD_ENV.items():
        os.environ[k] = v

    def watch():
        import time

        while True:
            if os.getppid() != parent_pid:
                os._exit(3)  # the driver died: a result in progress stays in .partial
            time.sleep(0.25)

    threading.Thread(target=watch, daemon=True, name="casa-dyn-watchdog").start()


class LocalPool(InProcess):
    name = "local processes"

    def __init__(self, n_workers: int):
        self.n_workers = int(n_workers)
        self._pool = None

    def _new_pool(self):
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(self.n_workers, mp_context=mp.get_context("spawn"),
                                   initializer=_pool_init, initargs=(os.getpid(),))

    def warm(self, cases) -> None:
        """One worker compiles or loads the kernels of every case (and writes numba's disk
        cache) before the others start, so that workers never compile concurrently; the others
        then only load from the cache."""
        from concurrent.futures.process import BrokenProcessPool

        from casa_dyn.study.tasks import warm_jit_all

        self._pool = self._pool or self._new_pool()
        try:
            self._pool.submit(warm_jit_all, list(cases)).result()
        except BrokenProcessPool:  # the jobs will meet (and record) whatever killed it
            self._pool = self._new_pool()

    def run(self, jobs, on_done) -> None:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        jobs, retry, attempts = iter(jobs), deque(), {}
        inflight = {}
        self._pool = self._pool or self._new_pool()
        window = 2 * self.n_workers
        while True:
            while len(inflight) < window:
                job = retry.popleft() if retry else next(jobs, None)
                if job is None:
                    break
                inflight[self._pool.submit(job.fn, *job.args)] = job
            if not inflight:
                return
            done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            lost = []
            for fut in done:
                job = inflight.pop(fut)
                try:
                    record = fut.result()
                except BrokenProcessPool:
                    lost.append(job)
                    continue
                except Exception as e:  # noqa: BLE001 - e.g. an argument that does not pickle
                    on_done(job, None, f"{type(e).__name__}: {e}")
                    continue
                on_done(job, record, None)
            if lost:  # a worker died: every job in flight is lost with the pool
                lost += list(inflight.values())
                inflight.clear()
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = self._new_pool()
                for job in lost:
                    attempts[job.key] = attempts.get(job.key, 0) + 1
                    if attempts[job.key] >= MAX_ATTEMPTS:
                        on_done(job, None, f"a worker process died {MAX_ATTEMPTS} times while it ran")
                    else:
                        retry.append(job)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


# ------------------------------------------------------------------ Dask
def _dask_worker_setup(cases) -> int:
    """On a Dask worker before the batch: load (or compile) the kernels of every case."""
    for k, v in THREAD_ENV.items():
        os.environ.setdefault(k, v)
    from casa_dyn.study.tasks import warm_jit_all

    return warm_jit_all(cases)


class DaskExecutor(InProcess):
    name = "dask"

    def __init__(self, address: str, n_workers: int = 2, connect_timeout_s: float = 60.0):
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:  # pragma: no cover - the 'cluster' extra
            from casa_dyn.errors import CasaDynError

            raise CasaDynError("--scheduler needs Dask: pip install 'casa_dyn[cluster]'") from e
        self._cluster = None
        if address == "local":
            import logging

            self._cluster = LocalCluster(n_workers=max(1, n_workers), threads_per_worker=1, processes=True,
                                         dashboard_address=":0", host="127.0.0.1", env=dict(THREAD_ENV),
                                         silence_logs=logging.ERROR)
            address = self._cluster.scheduler_address
        self.address = address
        self.client = Client(address, timeout=f"{connect_timeout_s}s", set_as_default=False)
        self.client.wait_for_workers(1, timeout=connect_timeout_s)
        self.n_workers = len(self.client.scheduler_info(n_workers=-1)["workers"])
        self.name = f"dask ({address})"

    def warm(self, cases) -> None:
        """One worker first (it may have to compile and write the cache), then every other
        worker loads the kernels before the batch starts.  These are ordinary tasks, each
        meant for one worker, not ``Client.run``: that runs in the worker's event loop and
        would stop its heartbeats for as long as a compile takes (minutes on a busy node).
        The placement is a preference only, so a worker that dies meanwhile blocks nothing;
        a worker that joins later loads the kernels in its first scenario."""
        cases = list(cases)
        workers = list(self.client.scheduler_info(n_workers=-1)["workers"])

        def on(addrs):
            return [self.client.submit(_dask_worker_setup, cases, workers=[a], allow_other_workers=True,
                                       pure=False) for a in addrs]

        first = on(workers[:1])
        self.client.gather(first, errors="skip")  # a failure here is met (and recorded) by the scenarios
        rest = on(workers[1:])
        self.client.gather(rest, errors="skip")
        for f in first + rest:
            f.release()

    def share(self, obj):
        return self.client.scatter(obj, broadcast=True, hash=False)

    def run(self, jobs, on_done) -> None:
        from distributed import as_completed

        threads = sum(self.client.nthreads().values()) or 1
        window = max(4, 2 * threads)
        jobs, token = iter(jobs), os.urandom(4).hex()
        ac, keys = as_completed(loop=self.client.loop), {}

        def submit_one() -> bool:
            job = next(jobs, None)
            if job is None:
                return False
            fut = self.client.submit(job.fn, *job.args, key=f"casa-dyn-{job.key}-{token}", pure=False)
            keys[fut.key] = job
            ac.add(fut)
            return True

        n = 0
        while n < window and submit_one():
            n += 1
        for fut in ac:
            job = keys.pop(fut.key)
            # not ``fut.status``: a worker that dies right after finishing the task loses its
            # result and Dask computes it again, so a future yielded as finished may be
            # pending again by now; ``result()`` waits for the rerun
            try:
                record = fut.result()
            except Exception as e:  # noqa: BLE001 - e.g. KilledWorker: Dask gave up on it
                on_done(job, None, f"{type(e).__name__}: {e}")
            else:
                on_done(job, record, None)
            fut.release()
            submit_one()

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
