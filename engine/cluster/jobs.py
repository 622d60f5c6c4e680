"""A render job: everything a machine needs to render a program without the client's files, as plain data.

A job holds the program text, the render settings, the length in samples, the output's format, the bytes of
the sample files the program plays (engine/cluster/played.py) and the project version that built it. A
worker of another version refuses it (engine/cluster/task.py), since the same job must give the same bytes
wherever it runs."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

import phonon
from phonon.engine.cluster.played import sample_files
from phonon.engine.render import (
    PendingOutput, RenderReport, RenderSettings, duration_frames, output_format, output_target, stem_alone,
)
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from phonon.graph.signal_graph import SignalGraph


def project_version() -> str:
    """The installed Phonon's version (pyproject.toml's, as installed; "unknown" in a checkout never installed)."""
    return phonon.__version__


@dataclass(frozen=True)
class RenderJob:
    """One program to render to one sound file (see the module docstring). `samples`: {`name/file`: bytes}, an
    empty value being a placeholder for a file of a played name that the render never reads."""

    text: str
    filename: str  # the program's file name, for error messages
    output: str  # the output file's name: its suffix gives the format (the worker writes nowhere of the client's)
    frames: int
    settings: dict[str, object]  # RenderSettings as plain data, without the client's sample folders
    subtype: str | None  # as asked (None: the format's default), checked against the output's format
    channels: int
    dither: bool
    samples: dict[str, bytes]
    version: str
    stem: str | None = None  # render only this output, as it enters the master mix (engine.render.stem_alone)

    def render_settings(self, folders: tuple[str, ...] = ()) -> RenderSettings:
        """The settings, searching `folders` for samples (where the worker put the job's files)."""
        return RenderSettings(**self.settings, samples=folders)


@dataclass(frozen=True)
class JobResult:
    """A rendered job: the encoded sound file, the render's report, the seconds the worker spent on it (with
    planning and encoding) and the worker's address (empty when rendered outside a cluster)."""

    output: str
    audio: bytes
    report: RenderReport
    seconds: float
    worker: str = ""

    def write(self, path: str | os.PathLike) -> None:
        """Write the sound file to `path` atomically, as `phonon render` writes its output
        (engine.render.PendingOutput): it appears whole or not at all, and a file already there stays as it
        was until then. The path's format must be the job's."""
        target = Path(path)
        if target.suffix.lower() != Path(self.output).suffix.lower():
            raise PhononError(
                f"cannot write {target.name}: the job rendered a {Path(self.output).suffix} file ({self.output})",
                hint=f"give a name ending in {Path(self.output).suffix}",
            )
        with PendingOutput(target) as pending:
            data = memoryview(self.audio)
            while data:
                data = data[os.write(pending.fd, data) :]
            pending.publish()


def build_job(
    program: str | SignalGraph,
    output: str,
    settings: RenderSettings,
    *,
    filename: str = "<program>",
    seconds: float | None = None,
    cycles: float | None = None,
    subtype: str | None = None,
    channels: int = 2,
    dither: bool = True,
    stem: str | None = None,
) -> RenderJob:
    """A job rendering `program` (text named `filename`, or a graph compiled from it) as `phonon render` would
    render it to a file named `output`: compiled here (a bad program fails before anything is sent), its length
    fixed, its format checked and the sample files it plays read."""
    graph = compile_program(program, filename) if isinstance(program, str) else program
    if stem is not None:  # the samples and the checks are the stem's
        graph, settings = stem_alone(graph, stem, settings, output_format(Path(output), subtype)[1])
    output_target(output, subtype, settings)
    frames = duration_frames(graph, settings.sr, seconds, cycles)
    plain = dataclasses.asdict(settings)
    folders = tuple(plain.pop("samples"))
    return RenderJob(
        graph.source, graph.filename, Path(output).name, frames, plain, subtype, channels, dither,
        sample_files(graph, frames, settings.sr, folders), project_version(), stem,
    )
