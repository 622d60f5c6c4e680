"""The sample files a render plays, read into memory so they can travel with a job to another machine.

Which samples a render plays is decided by the voices themselves: each sampler node of the graph gets the
`SampleVoices` a render would give it (engine/voices.py), over a stand-in for the sample bank that only
records the `name:index` each event asks for. Construction probes the first cycles, as it does before every
render; then the node's events are walked, through its own EventClock, over every cycle whose samples the
render covers (one period when the events repeat). So the set is exactly what the render would load, from the
same code, with the same errors (an unknown name fails here, at its place in the program).

The files travel under their path relative to the sample folder (`bd/BT0A0D0.wav`). Every file of a name that
is played travels, so `bd:7` wraps by the same count on the worker: the files the render plays with their
bytes, the others as empty placeholders (never read; reading one would be an error, not a different sound).
Kit sounds travel too (their cached WAV files, or rendered the way the cache writes them when the cache is not
writable), so the worker plays exactly the client's sounds."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from phonon.engine.executor import default_samples
from phonon.engine.samples import SampleLibrary
from phonon.engine.samples import kit as _kit
from phonon.engine.voices import SampleVoices
from phonon.graph.errors import PhononError
from phonon.graph.signal_graph import SignalGraph


class _Recorder:
    """Stands in for the SampleBank while the voices' events are walked: resolves each `name:index` through
    the library (so the index wraps as in a render) and records it, loading nothing."""

    version = 0

    def __init__(self, library: SampleLibrary) -> None:
        self.library = library
        self.played: set[tuple[str, int]] = set()  # (name, wrapped index)

    def id_of(self, name: str, index: int = 0) -> int:
        wrapped, _ = self.library.resolve(name, index)
        self.played.add((name, wrapped))
        return 0


def played_samples(graph: SignalGraph, frames: int, sr: int, library: SampleLibrary) -> set[tuple[str, int]]:
    """(name, wrapped index) of every sample a render of `frames` samples at `sr` can play."""
    recorder = _Recorder(library)
    for node in graph.nodes:
        if node.kind != "sampler":
            continue
        try:
            voices = SampleVoices(node, graph.cps, sr, recorder)  # probes the first cycles, as a render does
        except PhononError as e:
            raise e.located(graph.source, graph.filename) from None
        clock = voices.clock
        cycles = math.floor((frames - 1) / clock.spc) + 1  # cycles holding samples 0 .. frames - 1
        if clock.period is not None:
            cycles = min(cycles, clock.period)  # later cycles repeat these events
        for cycle in range(cycles):
            for at, length, controls in clock.cycle_events(cycle):
                if at < frames:
                    try:
                        voices.trigger_row(controls, length)
                    except PhononError as e:
                        raise e.located(graph.source, graph.filename) from None
    return recorder.played


def sample_files(graph: SignalGraph, frames: int, sr: int, folders: tuple[str, ...] = ()) -> dict[str, bytes]:
    """{`name/file`: bytes} of the files a render plays, found as a render finds them (`folders` first, then
    the standard search path and the kit); the other files of each played name as empty placeholders."""
    if not any(node.kind == "sampler" for node in graph.nodes):
        return {}  # nothing to find (nor a sample folder to check: a render would not look at them either)
    library = default_samples(sr, [Path(f) for f in folders]).library
    played = played_samples(graph, frames, sr, library)
    files: dict[str, bytes] = {}
    for name in sorted({name for name, _ in played}):
        used = {index for n, index in played if n == name}
        paths = library.files(name)
        if not paths:  # a kit name the library keeps in memory (its cache is not writable)
            files.update(_kit_files(name, used))
        for index, path in enumerate(paths):
            files[f"{name}/{path.name}"] = _read(path) if index in used else b""
    return files


def _kit_files(name: str, used: set[int]) -> dict[str, bytes]:
    """The files the kit's cache would hold for `name` (engine/samples/kit.py writes them), written into a
    temporary folder and read back; the variants not played as placeholders."""
    with tempfile.TemporaryDirectory(prefix="phonon-kit-") as root:
        files = {}
        for i in range(_kit.variant_count(name)):
            path = _kit.variant_path(name, i, Path(root))
            files[f"{name}/{path.name}"] = _kit.write_variant(name, i, Path(root)).read_bytes() if i in used else b""
        return files


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise PhononError(f"cannot read sample file '{path}': {e.strerror or e}") from None
