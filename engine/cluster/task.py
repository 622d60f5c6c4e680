"""Rendering a job where it landed, with nothing of the client's but the job: a pure function of the job.

The job's sample files are written into a private temporary folder, which the render searches first (every
sample the program plays is there: engine/cluster/played.py); the sound file is rendered beside it by
engine.render.render_to_file, exactly as `phonon render` renders it, read back and returned with the report,
and the folder is removed. A worker process killed mid-job cannot remove its folder: its name holds the
process id and host, and the next job on that machine removes the folders of processes that are gone."""

from __future__ import annotations

import functools
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path
from typing import Callable

from phonon.engine.cluster.jobs import JobResult, RenderJob, project_version
from phonon.engine.render import output_format, render_to_file, stem_alone
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from phonon.graph.signal_graph import SignalGraph

JOB_FOLDER_PREFIX = "phonon-job-"


def run_job(job: RenderJob, progress: Callable[[int, int], None] | None = None) -> JobResult:
    """Render `job` (see the module docstring); `progress(done, frames)` is called after every chunk. Raises
    PhononError for a job of another Phonon version and for anything a local render would refuse."""
    check_version(job)
    started = time.perf_counter()
    remove_stale_job_folders()
    with tempfile.TemporaryDirectory(prefix=f"{JOB_FOLDER_PREFIX}{os.getpid()}@{socket.gethostname()}-") as root:
        samples = Path(root) / "samples"
        unpack_samples(job.samples, samples)
        settings = job.render_settings((str(samples),) if job.samples else ())
        out = Path(root) / f"out{Path(job.output).suffix}"
        try:
            graph = _compiled(job.text, job.filename)
            if job.stem is not None:
                graph, settings = stem_alone(graph, job.stem, settings, output_format(out, job.subtype)[1])
            report = render_to_file(
                graph, out, job.frames, settings, subtype=job.subtype, channels=job.channels, progress=progress,
                dither=job.dither, dither_salt=job.stem or "",
            )
        except PhononError as e:
            raise _without_folder(e, samples) from None
        audio = out.read_bytes()
    return JobResult(job.output, audio, report, time.perf_counter() - started)


@functools.lru_cache(maxsize=8)
def _compiled(text: str, filename: str) -> SignalGraph:
    """The program compiled once per worker process: a program's stems are a task each, and compiling is most
    of a small stem's task (parsing alone is 75 ms of 140 for a stem of 16). A SignalGraph is not changed by
    rendering it (a stem is a new graph made from it: engine.render.stem_alone), and a program that does not
    compile raises, which is not kept."""
    return compile_program(text, filename)


def check_version(job: RenderJob) -> None:
    """Refuse a job built by another version of Phonon: it might not render to the same bytes here."""
    mine = project_version()
    if job.version != mine:
        raise PhononError(
            f"this worker runs Phonon {mine} but the job for {job.output} was built by Phonon {job.version}",
            hint=f"install the same Phonon version on the client and on every worker (the client has {job.version})",
        )


def unpack_samples(files: dict[str, bytes], folder: Path) -> None:
    """Write the job's `name/file` sample files under `folder` (paths that are not exactly that are refused)."""
    for relative, data in files.items():
        parts = relative.split("/")
        if len(parts) != 2 or not all(_plain_name(p) for p in parts) or parts[1].startswith("."):
            raise PhononError(f"the job holds a sample file '{relative}' that is not NAME/FILE")
        path = folder / parts[0] / parts[1]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _plain_name(part: str) -> bool:
    return part not in ("", ".", "..") and "\0" not in part and os.sep not in part and "\\" not in part


def _without_folder(error: PhononError, samples: Path) -> PhononError:
    """The error with the temporary folder's path left out: `bd/x.wav` is what names the file to the user."""
    for text in (f"{samples}{os.sep}", str(samples)):
        error.message = error.message.replace(text, "" if text.endswith(os.sep) else "the job's samples")
        error.hint = error.hint.replace(text, "" if text.endswith(os.sep) else "the job's samples")
    error.args = (error.message,)
    return error


def remove_stale_job_folders() -> None:
    """Remove the job folders that processes of this host which are gone left behind (killed mid-job)."""
    host = socket.gethostname()
    try:
        entries = os.scandir(tempfile.gettempdir())
    except OSError:
        return
    with entries:
        for entry in entries:
            pid, _, rest = entry.name.removeprefix(JOB_FOLDER_PREFIX).partition("@")
            if not entry.name.startswith(JOB_FOLDER_PREFIX) or not pid.isdigit() or rest.rpartition("-")[0] != host:
                continue
            if int(pid) != os.getpid() and not _alive(int(pid)):
                shutil.rmtree(entry.path, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process `pid` lives (a zombie, killed and not yet reaped, does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except (OSError, IndexError):  # no /proc here: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # someone else's process
            return True
        return True
