"""Rendering across machines on Dask (`pip install 'phonon[cluster]'`).

A job (`build_job`) is a program with everything needed to render it anywhere: its text, settings and
length, the bytes of the sample files it plays, and the Phonon version that built it. A worker renders it
with nothing of the client's (`run_job`) to the same bytes a local `phonon render` writes. `connect` gives a
Dask client ("tcp://HOST:PORT", or "local:N" worker processes on this machine); `render_jobs` / `Batch` run
jobs on it, retrying those whose worker died and cancelling the rest on Ctrl-C; `JobResult.write` puts a
result in place atomically.

    client = connect("local:2")
    try:
        jobs = [build_job(text, "a.wav", RenderSettings(), filename="a.phonon", seconds=8)]
        for result in render_jobs(client, jobs):
            result.write("a.wav")
    finally:
        client.close()

Modules: `played` (the sample files a render plays), `jobs` (jobs and results as data), `task` (rendering
a job on a worker, no Dask), `client` (Dask: connecting, submitting, collecting)."""

from phonon.engine.cluster.client import Batch, ClusterError, connect, render_jobs
from phonon.engine.cluster.jobs import JobResult, RenderJob, build_job, project_version
from phonon.engine.cluster.task import run_job

__all__ = [
    "Batch", "ClusterError", "JobResult", "RenderJob", "build_job", "connect", "project_version", "render_jobs",
    "run_job",
]
