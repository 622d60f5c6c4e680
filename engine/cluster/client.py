"""Rendering jobs on a Dask cluster: connect (to a scheduler, or to worker processes started on this machine),
submit jobs, collect their results as they complete. Dask (the `cluster` extra) is imported here only.

Each job is one Dask task run by engine.cluster.task.run_job. A worker that dies mid-job (killed, out of
memory) is noticed by the scheduler, which runs the job again on another worker; a job that keeps killing
workers ends in an error. A job's own failure (a PhononError: a bad sample file, another Phonon version) comes
back as data and is raised here, not retried: it would fail the same way anywhere. Leaving a `Batch` early
(Ctrl-C, an error, a `break`) cancels the jobs not yet finished; one a worker is rendering stops at its next
chunk. Writing the results is the caller's (JobResult.write, atomic)."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from phonon.engine.cluster.jobs import JobResult, RenderJob
from phonon.engine.cluster.task import run_job
from phonon.graph.errors import PhononError

if TYPE_CHECKING:
    import distributed

RETRIES = 2  # more runs of a job whose task raised something other than a PhononError (its worker's trouble)
MAX_LOCAL_WORKERS = 256
_SCHEDULER_HINT = (
    "start a scheduler with `dask scheduler` and workers with `dask worker tcp://HOST:8786 --nthreads 1`, "
    "or use local:N to render with N processes on this machine"
)


class ClusterError(PhononError):
    """A cluster that cannot be reached or used, or a job it could not run."""


def connect(address: str, timeout: float = 10.0) -> "distributed.Client":
    """A Dask client: "tcp://HOST:PORT" connects to a running scheduler (which must have a worker within
    `timeout` seconds); "local:N" starts N worker processes of one thread each on this machine, on loopback,
    owned by the client (closing it stops them). Fails within `timeout` with a ClusterError naming `address`."""
    distributed = _dask()
    if address.startswith("local:"):
        count = _local_workers(address)
        try:  # the scheduler's HTTP server (it always has one) on a free port of loopback, not on 8787
            return distributed.Client(
                n_workers=count, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=":0",
                set_as_default=False, timeout=timeout,
            )
        except (OSError, RuntimeError, TimeoutError) as e:
            raise ClusterError(
                f"could not start {count} local worker processes for {address} ({e})",
                hint="worker processes start by importing the main program: run phonon from a file, not stdin",
            ) from None
    if not address.startswith("tcp://") or not address.rpartition(":")[2].isdigit():
        raise ClusterError(f"'{address}' is not a cluster address", hint="give tcp://HOST:PORT or local:N")
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as e:
        raise ClusterError(
            f"cannot reach a Dask scheduler at {address} within {timeout:g} s ({e})", hint=_SCHEDULER_HINT
        ) from None
    try:
        client.wait_for_workers(1, timeout=timeout)
    except (OSError, TimeoutError):
        client.close()
        raise ClusterError(f"the Dask scheduler at {address} has no workers", hint=_SCHEDULER_HINT) from None
    return client


def _local_workers(address: str) -> int:
    count = address.removeprefix("local:")
    if not count.isdigit() or not 1 <= int(count) <= MAX_LOCAL_WORKERS:
        raise ClusterError(
            f"'{address}' is not a number of local workers", hint=f"give local:N with N from 1 to {MAX_LOCAL_WORKERS}"
        )
    return int(count)


def _dask():
    try:
        import distributed
    except ImportError:
        raise ClusterError(
            "rendering on a cluster needs Dask", hint="install it with pip install 'phonon[cluster]'"
        ) from None
    return distributed


def render_jobs(
    client: "distributed.Client",
    jobs: Iterable[RenderJob],
    *,
    retries: int = RETRIES,
    progress: Callable[[int, JobResult], None] | None = None,
) -> list[JobResult]:
    """Render `jobs` on the cluster (each submitted as soon as it is built); their results in the jobs' order.
    `progress(index, result)` is called as each completes. Any exception (KeyboardInterrupt included, from the
    wait or from `progress`) cancels the jobs not finished before it propagates."""
    with Batch(client, jobs, retries=retries) as batch:
        results: list[JobResult | None] = [None] * len(batch.jobs)
        for index, result in batch:
            results[index] = result
            if progress is not None:
                progress(index, result)
    return results  # type: ignore[return-value]


class Batch:
    """Jobs submitted to a cluster, in the order given (each as soon as the iterable yields it, so workers
    start while later jobs are built). Iterating gives (index, result) as they complete and raises the first
    job's error; leaving the `with` block cancels every job not finished yet."""

    def __init__(self, client: "distributed.Client", jobs: Iterable[RenderJob], *, retries: int = RETRIES) -> None:
        self.client = client
        self.jobs: list[RenderJob] = []
        self.futures: list[distributed.Future] = []
        batch = uuid.uuid4().hex[:8]
        try:
            for i, job in enumerate(jobs):  # each submitted as soon as it is built: workers start meanwhile
                key = f"phonon-render-{batch}-{i}-{job.output}"
                self.futures.append(client.submit(_render_here, job, key=key, retries=retries, pure=False))
                self.jobs.append(job)
        except BaseException:  # a job that cannot be built, or Ctrl-C: none of the others goes on
            self.cancel()
            raise

    def __iter__(self) -> Iterator[tuple[int, JobResult]]:
        for i, outcome in self.outcomes():
            if isinstance(outcome, PhononError):
                raise outcome
            yield i, outcome

    def outcomes(self) -> Iterator[tuple[int, "JobResult | PhononError"]]:
        """(index, result or the job's error) as they complete: a job that fails does not stop the others (a
        batch reports it and goes on); Ctrl-C still propagates."""
        distributed = _dask()
        index = {future.key: i for i, future in enumerate(self.futures)}
        for future in distributed.as_completed(self.futures, loop=self.client.loop):
            i = index[future.key]
            try:
                outcome: JobResult | PhononError = _outcome(future, self.jobs[i], distributed)
            except PhononError as error:
                outcome = error
            yield i, outcome
            future.release()  # the result is the caller's now: the cluster need not keep it

    def cancel(self) -> None:
        """Cancel the jobs not finished (their results, if they come, are dropped)."""
        pending = [future for future in self.futures if not future.done()]
        if pending:
            self.client.cancel(pending)

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


@dataclass(frozen=True)
class _Failed:
    """A job's PhononError, returned (not raised) by the task so Dask does not retry it."""

    error: PhononError


def _render_here(job: RenderJob) -> JobResult | _Failed:
    """The Dask task: run_job on this worker, stopping at the next chunk once the job is cancelled."""
    from distributed import get_worker
    from distributed.worker import thread_state

    worker, key = get_worker(), thread_state.key

    def stop_if_cancelled(done: int, total: int) -> None:
        task = worker.state.tasks.get(key)
        if task is None or task.state in ("cancelled", "released", "forgotten"):
            raise _Cancelled(key)

    try:
        result = run_job(job, stop_if_cancelled)
    except PhononError as e:
        return _Failed(e)
    return dataclasses.replace(result, worker=worker.address)


class _Cancelled(Exception):
    """Raised inside a render whose task was cancelled: unwinds it (its temporary files go with it)."""


def _outcome(future: "distributed.Future", job: RenderJob, distributed) -> JobResult:
    try:
        value = future.result()
    except distributed.KilledWorker:
        raise ClusterError(
            f"rendering {job.output} ({job.filename}) killed every worker that tried it",
            hint="a worker may run out of memory on it: render it alone, or on workers with more memory",
        ) from None
    if isinstance(value, _Failed):
        raise value.error
    return value
