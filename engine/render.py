"""Offline rendering: evaluate blocks, mix the master, and stream it to a sound file or an array.

The file is written where nothing can see it and put in place only when the render succeeded, so a failed,
interrupted or killed render never leaves a half-written output (nor a temporary file) behind, and an
existing file of that name stays as it was. On Linux it is an unnamed file in the output folder (O_TMPFILE),
linked under its name at the end: even kill -9 leaves nothing, as the kernel frees an unnamed file with
its last descriptor. Where the platform or the file system has no unnamed files it is a hidden
`.NAME.*.partial` file, renamed at the end (removed on any failure or stop signal; only kill -9 can leave
it). Memory stays constant: blocks are gathered into a fixed chunk buffer that is written and reused."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import math
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from phonon.engine import interrupts
from phonon.engine.executor import BlockEvaluator, Incident, default_samples
from phonon.engine.formats import FLOAT_SUBTYPES, STDOUT, SUBTYPES, output_format
from phonon.engine.master import OUTMIX_CODES, limiter_state, master_rows, mix_master, quantise_pcm16
from phonon.engine.parts import build_parts
from phonon.engine.tiers import Tiers
from phonon.engine.timings import Timings
from phonon.engine.voices import VOICE_POOL
from phonon.graph.compiler import compile_program
from phonon.graph.plan.schedule import Schedule
from phonon.graph.errors import PhononError
from phonon.graph.signal_graph import SignalGraph
from phonon.workers import TaskFailed, WorkerDied

CHUNK_FRAMES = 16384
RING_OFFLINE = 4  # steps a part may run ahead of its consumers when rendering to a file
SPAN_OFFLINE = 8  # blocks per runtime step when rendering to a file: a step's fixed costs are paid per 8 blocks


@dataclass
class RenderSettings:
    sr: int = 44100
    block: int = 512
    gain: float = 1.0
    ceiling: float = 1.0  # above 1 only for float output (check_ceiling)
    limit: bool = False  # the soft limiter before the ceiling (engine/master.py), else a hard clip at it
    fade_in: float = 0.0
    fade_out: float = 0.0
    samples: tuple[str, ...] = ()  # sample folders searched before the standard ones

    def check(self) -> None:
        if self.sr < 1000 or self.sr > 384000:
            raise PhononError(f"sample rate {self.sr} is out of range", hint="use e.g. --sr 44100 or --sr 48000")
        if self.block < 1 or self.block > 65536:
            raise PhononError(f"block size {self.block} is out of range", hint="use 1 .. 65536, e.g. --block 512")
        if not math.isfinite(self.gain):
            raise PhononError(f"the gain must be a finite number, not {self.gain}")
        if not 0.0 < self.ceiling < math.inf:
            raise PhononError(f"the ceiling must be a positive number, not {self.ceiling:g}", hint="e.g. --ceiling 1")
        if not (0 <= self.fade_in < math.inf and 0 <= self.fade_out < math.inf):
            raise PhononError("fades must be finite and not negative", hint="e.g. --fade-in 0.5")


@dataclass
class RenderReport:
    frames: int
    sr: int
    nonfinite: int = 0
    clipped: int = 0
    incidents: list[Incident] = field(default_factory=list)
    peak: float = 0.0
    voices_stolen: int = 0
    most_voices: int = 0
    workers: int = 1
    fused: str | None = None  # what happened to the parts' fused code (engine/tiers.py)

    def lines(self) -> list[str]:
        out = [f"note: {self.fused}"] if self.fused else []
        out += [incident.warning(self.sr) for incident in self.incidents]
        if self.nonfinite:
            out.append(f"warning: {self.nonfinite} non-finite samples were replaced by silence")
        if self.voices_stolen:
            out.append(
                f"note: {self.voices_stolen} voices were stolen (oldest first) when a pool of "
                f"{VOICE_POOL} was full"
            )
        if self.clipped:
            out.append(clipping_warning(self.clipped))
        return out


def clipping_warning(clipped: int) -> str:
    """What `phonon render` and `phonon play` say when the master clipped samples at the ceiling."""
    return f"warning: {clipped} samples were clipped at the ceiling (lower the level or --gain, or use --limit)"


def check_ceiling(ceiling: float, subtype: str) -> None:
    """A ceiling above full scale (1) only where the samples can hold it: float files. In integer samples
    (and codecs: Vorbis, MP3) it would clip, so it is refused before anything is rendered."""
    if ceiling > 1.0 and subtype not in FLOAT_SUBTYPES:
        held = f"{subtype} samples" if subtype in SUBTYPES else f"{subtype}-encoded files"
        raise PhononError(
            f"--ceiling {ceiling:g} is above full scale (1), which {held} cannot hold: it would clip",
            hint="use --subtype FLOAT to keep peaks above 1, or a --ceiling of at most 1",
        )


def duration_frames(graph: SignalGraph, sr: int, seconds: float | None, cycles: float | None) -> int:
    """Length of a render in frames, from seconds or from cycles at the program's tempo (exact)."""
    if (seconds is None) == (cycles is None):
        raise PhononError("give exactly one of a duration in seconds or a number of cycles")
    if seconds is not None:
        if not 0 < seconds < math.inf:
            raise PhononError("the duration must be positive (a finite number of seconds)")
        frames, asked = int(round(Fraction(str(seconds)) * sr)), f"{seconds} s"
    else:
        if not 0 < cycles < math.inf:
            raise PhononError("the number of cycles must be positive and finite")
        frames, asked = int(round(Fraction(str(cycles)) * sr / graph.cps)), f"{cycles} cycles"
    if frames < 1:
        raise PhononError(
            f"{asked} is less than one sample at {sr} Hz", hint=f"render at least one sample ({1 / sr:.3g} s)"
        )
    return frames


def resolve_workers(graph: SignalGraph, workers: int, block: int = 512) -> int:
    """`workers`, or for 0 ("auto") what the cost model suggests for this program on the cores we may use."""
    if workers:
        return workers
    from phonon.graph.plan.cost_model import suggested_workers

    return suggested_workers(graph, available_cores(), block=block)


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


class Renderer:
    """Produces the stereo master chunk by chunk. The program runs as parts on `workers` processes (the
    master is one of them) through the worker runtime; with one worker, in this process alone."""

    def __init__(
        self, graph: SignalGraph, settings: RenderSettings, frames: int | None = None, workers: int = 1,
        ring: int = RING_OFFLINE, start: int = 0, span: int = SPAN_OFFLINE, tiered: bool = False,
        taps: bool = False,
    ) -> None:
        settings.check()
        self.workers = workers = resolve_workers(graph, workers, settings.block)
        self.graph = graph
        self.settings = settings
        self.frames = frames
        block = settings.block
        self.step = span * block  # samples per runtime step (the kernels still see blocks of `block`)
        folders = [Path(f) for f in settings.samples]
        self._origin = [int(start)]  # absolute sample of the first block (the pattern clock), see start_at
        try:
            self.parts = build_parts(
                graph, settings.sr, block, workers, ring, lambda: default_samples(settings.sr, folders), self._length,
                self._origin, span,
            )
        except PhononError as e:  # found while preparing (an unknown sample): point at the program text
            raise e.located(graph.source, graph.filename) from None
        self.schedule: Schedule = self.parts.schedule
        # Tiered (the command line): fused code where it is cached, compiled in the background where not.
        self.tiers = Tiers.prepare(self.parts.evaluators, self.parts.local()) if tiered else None
        self.ensemble = self.parts.ensemble  # the clock: start, wait for a step, release it
        self._out_rows = master_rows(self.parts.output_rows())
        self._mode = OUTMIX_CODES[graph.outmix]
        self._counts = np.zeros(2, dtype=np.int64)
        self._limiter = limiter_state(settings.ceiling, settings.sr)
        self._mixed = np.zeros((self.step, 2), dtype=np.float64)  # the current step's master, partly consumed
        # taps: each output as it enters the master (left, right of the first output, then the next ...)
        self._tap_rows = self._out_rows.reshape(-1) if taps else None
        self._taps = np.zeros((self.step, self._out_rows.size if taps else 0), dtype=np.float64)
        self._mixed_from = self._mixed_to = 0
        self._next_block = 0
        self.position = int(start)  # next absolute sample delivered
        self._started = False

    def start_at(self, position: int) -> None:
        """Start on the pattern clock at absolute sample `position` instead of 0 (before the first render)."""
        if self._started:
            raise RuntimeError("Renderer.start_at: rendering has already started")
        self._origin[0] = self.position = int(position)

    def _length(self, k: int) -> int:
        step = self.step
        return step if self.frames is None else max(0, min(step, self.frames - k * step))

    @property
    def evaluator(self) -> BlockEvaluator:
        """The evaluator of the first part (the whole program with one worker)."""
        return self.parts.evaluators[0]

    def _mix_next_block(self) -> None:
        k = self._next_block
        n = self._length(k)
        if n == 0:
            raise ValueError("rendering past the end of the render")
        if not self._started:
            blocks = None if self.frames is None else -(-self.frames // self.step)
            for evaluator in self.parts.evaluators:  # the code, loaded once here, before the workers fork
                evaluator.load_code()
            self.ensemble.start(blocks)
            self._started = True
            if self.tiers is not None:
                self.tiers.start_compiler()
        elif self.tiers is not None:
            self.tiers.poll()
        try:
            slot = self.ensemble.wait(k)
        except WorkerDied as e:
            raise PhononError(
                f"a worker process died ({e}); the render was stopped cleanly and nothing was written",
                hint="a worker that dies is not replaced in the middle of a render (the state of its part "
                "died with it); run the command again, or with --workers 1 to render in this process alone",
            ) from None
        except TaskFailed as e:
            raise PhononError(f"rendering part {e.task_name} failed: {_last_line(e.traceback_text)}") from None
        mix_master(
            slot, self._out_rows, self._mode, self.settings.gain, self.settings.ceiling, self.settings.limit,
            self._limiter, self._mixed, 0, n, self._counts,
        )
        if self._tap_rows is not None:
            self._taps[:n] = slot[self._tap_rows, :n].T
        self.ensemble.release(k)
        self._next_block += 1
        self._mixed_from, self._mixed_to = 0, n

    def render_into(self, dest: np.ndarray, frames: int, taps: np.ndarray | None = None) -> None:
        """Render the next `frames` samples into dest[:frames] (stereo float64), and with `taps` (a Renderer
        made with taps=True) each output as it entered the master into taps[:frames] (left, right per output,
        in the mix order)."""
        done = 0
        while done < frames:
            if self._mixed_from == self._mixed_to:
                self._mix_next_block()
            n = min(frames - done, self._mixed_to - self._mixed_from)
            dest[done : done + n] = self._mixed[self._mixed_from : self._mixed_from + n]
            if taps is not None:
                taps[done : done + n] = self._taps[self._mixed_from : self._mixed_from + n]
            self._mixed_from += n
            done += n
        self.position += frames

    @property
    def clipped(self) -> int:
        """Samples the master has clipped at the ceiling so far."""
        return int(self._counts[1])

    def report(self, frames: int, peak: float) -> RenderReport:
        stolen = most = 0
        for evaluator in self.parts.evaluators:  # voice pools live in the master's copy when serial
            s, m = evaluator.voice_stats()
            stolen, most = stolen + s, max(most, m)
        return RenderReport(
            frames, self.settings.sr, int(self._counts[0]), self.clipped, self.parts.incidents(), peak,
            stolen, most, self.workers, self.tiers.summary() if self.tiers is not None else None,
        )

    def close(self) -> None:
        try:
            if self.tiers is not None:
                self.tiers.close()
        finally:
            self.parts.close()

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "unknown error"


def _apply_fades(chunk: np.ndarray, first: int, total: int, fade_in: int, fade_out: int) -> None:
    """Linear fades over the first fade_in and last fade_out frames of the whole render."""
    n = chunk.shape[0]
    if fade_in and first < fade_in:
        k = min(n, fade_in - first)
        chunk[:k] *= (np.arange(first, first + k) / fade_in)[:, None]
    start_out = total - fade_out
    if fade_out and first + n > start_out:
        lo = max(0, start_out - first)
        idx = np.arange(first + lo, first + n)
        chunk[lo:] *= ((total - idx) / fade_out)[:, None]


def _stream(
    graph: SignalGraph,
    frames: int,
    settings: RenderSettings,
    sink: Callable[[np.ndarray], None],
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    timings: Timings | None = None,
    tiered: bool = False,
    tap_sink: Callable[[np.ndarray], None] | None = None,
) -> RenderReport:
    """Render the master chunk by chunk into `sink`, and with `tap_sink` each output as it enters the master
    (Renderer.render_into's taps)."""
    timings = timings or Timings()
    chunk = np.zeros((CHUNK_FRAMES, 2), dtype=np.float64)
    taps = np.zeros((CHUNK_FRAMES, 2 * len(graph.outputs)), dtype=np.float64) if tap_sink is not None else None
    fade_in, fade_out = int(settings.fade_in * settings.sr), int(settings.fade_out * settings.sr)
    done, peak = 0, 0.0
    with Renderer(graph, settings, frames, workers, tiered=tiered, taps=tap_sink is not None) as renderer:
        timings.lap("plan")
        while done < frames:
            interrupts.check()
            n = min(CHUNK_FRAMES, frames - done, CHUNK_FRAMES if done else renderer.step)  # first step alone
            renderer.render_into(chunk, n, taps)
            if not done:  # numba loads each compiled kernel (from its cache, or compiles it) at its first call
                timings.lap("load kernels")
                timings.first_frames = n
            view = chunk[:n]
            if fade_in or fade_out:
                _apply_fades(view, done, frames, min(fade_in, frames), min(fade_out, frames))
            peak = max(peak, float(np.abs(view).max()))
            started = time.perf_counter()
            sink(view)
            if tap_sink is not None:
                tap_sink(taps[:n])
            timings.add("write", time.perf_counter() - started)
            done += n
            if progress is not None:
                progress(done, frames)
        timings.lap("render")
        return renderer.report(frames, peak)


def render_array(
    program: str | SignalGraph,
    *,
    seconds: float | None = None,
    cycles: float | None = None,
    sr: int = 44100,
    block: int = 512,
    gain: float = 1.0,
    ceiling: float = 1.0,
    limit: bool = False,
    workers: int = 1,
) -> np.ndarray:
    """Render a program (text or compiled graph) to a float64 array of shape (frames, 2)."""
    graph = compile_program(program) if isinstance(program, str) else program
    settings = RenderSettings(sr=sr, block=block, gain=gain, ceiling=ceiling, limit=limit)
    frames = duration_frames(graph, sr, seconds, cycles)
    out = np.zeros((frames, 2), dtype=np.float64)
    position = [0]

    def sink(view: np.ndarray) -> None:
        out[position[0] : position[0] + len(view)] = view
        position[0] += len(view)

    _stream(graph, frames, settings, sink, workers=workers)
    return out


def render_to_file(
    graph: SignalGraph,
    path: str | os.PathLike,
    frames: int,
    settings: RenderSettings,
    *,
    subtype: str | None = None,
    channels: int = 2,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    timings: Timings | None = None,
    tiered: bool = True,
    dither: bool = True,
    dither_salt: str = "",
    format: str | None = None,
) -> RenderReport:
    """Render to a sound file, or to standard output when `path` is "-" (in `format`, a --format name: wav
    unless given). The file appears (atomically) only if the whole render succeeds. `tiered`: use
    the parts' fused code where it is cached and compile the rest in the background (engine/tiers.py).
    PCM_16 samples are rounded to nearest (engine/master.py), with TPDF dither seeded by the program text
    unless `dither` is False; other sample formats are never dithered."""
    target, fmt, subtype = output_target(path, subtype, settings, format)
    with pending_output(target) as pending:
        with _open_output(pending.fd, settings.sr, channels, subtype, fmt) as f:
            sink = _file_sink(f, subtype, channels, settings.ceiling, dither_seed(graph, dither_salt) if dither else None)
            report = _stream(graph, frames, settings, sink, progress, workers, timings, tiered)
        pending.publish()
    return report


def output_target(path: str | os.PathLike, subtype: str | None, settings: RenderSettings,
                  format: str | None = None) -> tuple[Path, str, str]:
    """The file to write, its format and sample format, all checked before anything is rendered (here, or
    before a job is sent to a cluster)."""
    target = Path(path)
    fmt, subtype = output_format(target, subtype, format)
    settings.check()
    check_ceiling(settings.ceiling, subtype)
    if str(target) == STDOUT:
        return target, fmt, subtype
    if not target.parent.is_dir():
        raise PhononError(f"cannot write '{target}': the folder '{target.parent}' does not exist")
    if target.is_dir():
        raise PhononError(f"cannot write '{target}': it is a folder")
    return target, fmt, subtype


def stems_folder(folder: str | os.PathLike) -> Path:
    """The folder stems are written into, which must be there already (checked before anything is rendered)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise PhononError(f"cannot write stems into '{folder}': it is not a folder", hint="make the folder first")
    return folder


def render_stems(
    graph: SignalGraph,
    folder: str | os.PathLike,
    frames: int,
    settings: RenderSettings,
    *,
    suffix: str = ".wav",
    subtype: str | None = None,
    master: str | os.PathLike | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    timings: Timings | None = None,
    tiered: bool = True,
    dither: bool = True,
) -> tuple[RenderReport, list[Path]]:
    """One render, written as the master and one stereo stem per output, each named after its statement
    (`o1.wav`, `d2.wav`, `out.wav`; the master `master.wav` unless `master` names it). A stem is its output
    exactly as it enters the master mix, before the outmix law, the gain and the ceiling, so that
    `engine.master.mix_stems` mixes the stems back into the master (bit for bit in DOUBLE files; before any
    fades). The files appear (atomically) only if the whole render succeeds. Returns the report and the
    paths written, the master first."""
    folder = stems_folder(folder)
    channels = sorted(graph.outputs)
    if not channels:
        raise PhononError("the program has no output to write a stem of", hint="an output is `out:`, `o1:`, `d1:`")
    # the stems' suffix is the master's format: the format of standard output, or a named master's suffix
    master_target, fmt, subtype = output_target(master or folder / f"master{suffix}", subtype, settings, suffix)
    targets = [master_target, *(folder / f"{graph.output_name(c)}{suffix}" for c in channels)]
    with contextlib.ExitStack() as stack:
        pending = [stack.enter_context(pending_output(t)) for t in targets]
        files = [stack.enter_context(_open_output(p.fd, settings.sr, 2, subtype, fmt)) for p in pending]
        # the master's dither is the plain render's; each stem's is its own
        seeds = [dither_seed(graph, "" if i == 0 else t.stem) if dither else None for i, t in enumerate(targets)]
        sinks = [_file_sink(f, subtype, 2, settings.ceiling if i == 0 else 1.0, seed)
                 for i, (f, seed) in enumerate(zip(files, seeds))]

        def stems(taps: np.ndarray) -> None:
            for i, sink in enumerate(sinks[1:]):
                sink(np.ascontiguousarray(taps[:, 2 * i : 2 * i + 2]))

        report = _stream(graph, frames, settings, sinks[0], progress, workers, timings, tiered, tap_sink=stems)
        for f in files:
            f.close()
        for p in pending:
            p.publish()
    return report, targets


STEM_CEILING = 3.0e38  # a float stem is never clipped (below float32's largest, which the limiter state holds)


def stem_alone(graph: SignalGraph, name: str, settings: RenderSettings, subtype: str) -> tuple[SignalGraph,
                                                                                                RenderSettings]:
    """One output rendered by itself (a cluster task) so that its file is the stem `render_stems` writes: only
    what the output reaches, no outmix law, gain, limit or fades, and clipped only where the samples must be
    (integer formats, at full scale). Render it with dither_salt=name for the stem's own dither."""
    alone = replace(graph.only_output(name), outmix="none")
    ceiling = STEM_CEILING if subtype in FLOAT_SUBTYPES else 1.0
    return alone, replace(settings, gain=1.0, ceiling=ceiling, limit=False, fade_in=0.0, fade_out=0.0)


def output_channels(graph: SignalGraph) -> list[int]:
    """The taps (Renderer.render_into) that make one channel each of a multichannel file: every output in
    the mix order, a stereo one as its left and right, a mono one (the same on both sides) once."""
    columns = []
    for i, c in enumerate(sorted(graph.outputs)):
        left, right = graph.outputs[c]
        columns += [2 * i] if left == right else [2 * i, 2 * i + 1]
    return columns


def render_multichannel(
    graph: SignalGraph,
    path: str | os.PathLike,
    frames: int,
    settings: RenderSettings,
    *,
    subtype: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    workers: int = 1,
    timings: Timings | None = None,
    tiered: bool = True,
    dither: bool = True,
    format: str | None = None,
) -> tuple[RenderReport, int]:
    """One file whose channels are the program's outputs (`output_channels`), each as it enters the master
    mix. Returns the report and the number of channels written."""
    target, fmt, subtype = output_target(path, subtype, settings, format)
    columns = output_channels(graph)
    if not columns:
        raise PhononError("the program has no output to write a channel of", hint="an output is `out:`, `o1:`")
    if not _holds_channels(fmt, subtype, len(columns)):
        raise PhononError(
            f"{fmt} files cannot hold {len(columns)} channels (the program's outputs, stereo ones as pairs)",
            hint="use a .wav, .w64 or .rf64 name, which hold many channels",
        )
    with pending_output(target) as pending:
        with _open_output(pending.fd, settings.sr, len(columns), subtype, fmt) as f:
            sink = _file_sink(f, subtype, len(columns), 1.0, dither_seed(graph) if dither else None)
            report = _stream(graph, frames, settings, lambda view: None, progress, workers, timings, tiered,
                             tap_sink=lambda taps: sink(np.ascontiguousarray(taps[:, columns])))
        pending.publish()
    return report, len(columns)


_SFC_SET_ADD_PEAK_CHUNK = 0x1050  # libsndfile's command (sndfile.h)


def _open_output(fd: int, sr: int, channels: int, subtype: str, fmt: str) -> sf.SoundFile:
    """A sound file to write on `fd`, reproducible: libsndfile's PEAK chunk of float WAV and AIFF files holds
    the time of writing, so it is turned off and rendering a program twice gives the same bytes."""
    f = sf.SoundFile(fd, "w", sr, channels, subtype, format=fmt, closefd=False)
    sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)
    return f


def _holds_channels(fmt: str, subtype: str, channels: int) -> bool:
    """Whether libsndfile writes a file of this format with this many channels (FLAC stops at 8)."""
    try:
        with sf.SoundFile(io.BytesIO(), "w", 44100, channels, subtype, format=fmt):
            return True
    except (sf.LibsndfileError, RuntimeError, ValueError):
        return False


def _file_sink(f: sf.SoundFile, subtype: str, channels: int, ceiling: float,
               seed: np.uint64 | None) -> Callable[[np.ndarray], None]:
    """What writes [n, >= channels] float64 frames into an open file: 16-bit samples rounded (with dither
    unless `seed` is None, engine.master.quantise_pcm16), any other format as the float64 frames."""
    if subtype == "PCM_16":
        return _Pcm16(f.write, channels, ceiling, seed)
    if channels == 1:
        return lambda v: f.write(v[:, 0])
    return lambda v: f.write(v[:, :channels])


def dither_seed(graph: SignalGraph, salt: str = "") -> np.uint64:
    """The dither's seed: a hash of the program text (and of a stem's name), so a program always gets the
    same dither (the same bytes) and different programs or stems to be mixed get independent dither."""
    text = graph.source + ("\0" + salt if salt else "")
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


class _Pcm16:
    """A sink that writes the master as 16-bit samples: rounded to nearest, with TPDF dither unless `seed` is
    None, each frame's dither fixed by its place in the file (engine.master.quantise_pcm16)."""

    def __init__(
        self, write: Callable[[np.ndarray], object], channels: int, ceiling: float, seed: np.uint64 | None
    ) -> None:
        self.write = write
        self.channels = channels
        self.ceiling = ceiling
        self.dither = seed is not None
        self.seed = np.uint64(0) if seed is None else seed
        self.position = 0
        self.out = np.zeros((CHUNK_FRAMES, channels), dtype=np.int16)

    def __call__(self, view: np.ndarray) -> None:
        n = view.shape[0]
        out = self.out[:n]
        quantise_pcm16(view[:, : self.channels], self.position, self.ceiling, self.dither, self.seed, out)
        self.write(out if self.channels > 1 else out[:, 0])
        self.position += n


class PendingOutput:
    """The output file while it is being written: unnamed (O_TMPFILE) or, where that is not available, a
    hidden `.partial` file beside the target. `fd` is what soundfile writes to; `publish()` puts the file
    under the target's name (replacing any file there atomically); leaving the `with` block without
    publishing removes it. Errors creating or publishing it name the output, not the temporary name."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.fd: int | None = None
        self.partial: str | None = None  # the temporary name, when the file has one

    def __enter__(self) -> "PendingOutput":
        try:
            self.fd = _open_unnamed(self.target.parent)
            if self.fd is None:
                self.fd, self.partial = _open_partial(self.target)
        except OSError as e:
            raise _unwritable(self.target, e) from None
        return self

    def publish(self) -> None:
        try:
            if self.partial is None:
                _link_unnamed(self.fd, self.target)
            else:
                os.replace(self.partial, self.target)
                self.partial = None
        except OSError as e:
            raise _unwritable(self.target, e) from None

    def __exit__(self, *exc: object) -> None:
        if self.partial is not None:
            Path(self.partial).unlink(missing_ok=True)
        if self.fd is not None:
            os.close(self.fd)  # an unnamed file that was never linked is freed here


class PipedOutput:
    """The output of `-o -`: written whole to an unnamed temporary file, then copied to standard output once the
    render succeeded. A WAV, AIFF, CAF or FLAC header holds the length, which a pipe cannot go back to fill in,
    so a file streamed as it renders would carry a header that lies; this way standard output gets exactly the
    bytes `-o FILE` would write, and a render that fails or is stopped writes nothing there. While it is open,
    descriptor 1 is standard error, so nothing else (a library's print, a worker process) can mix into the
    sound. Stopped while copying (a slow reader such as `aplay`), standard output is left with the first part
    of the file, and PartlyWritten says so."""

    def __init__(self) -> None:
        self.fd: int | None = None
        self._file: io.BufferedRandom | None = None
        self._stdout: int | None = None  # the real standard output, while descriptor 1 is standard error

    def __enter__(self) -> "PipedOutput":
        sys.stdout.flush()
        self._stdout = os.dup(1)
        os.dup2(2, 1)
        try:
            self._file = tempfile.TemporaryFile()  # unnamed where the platform allows (O_TMPFILE)
        except OSError as e:
            self.__exit__()
            raise _unwritable(Path(tempfile.gettempdir()) / "(temporary file)", e) from None
        self.fd = self._file.fileno()
        return self

    def publish(self) -> None:
        size = os.fstat(self.fd).st_size
        os.lseek(self.fd, 0, os.SEEK_SET)
        try:
            _copy(self.fd, self._stdout)
        except BrokenPipeError:
            raise PhononError(
                f"standard output was closed after about {self._sent()} of the file's {size} bytes: what reads it "
                "stopped",
                hint="see what the command after | says",
            ) from None
        except KeyboardInterrupt:
            raise PartlyWritten(f"interrupted: standard output has only the first part of the file, about "
                                f"{self._sent()} of its {size} bytes") from None

    def _sent(self) -> int:
        """About how much went out: the temporary file's offset (`_copy`)."""
        return os.lseek(self.fd, 0, os.SEEK_CUR)

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()
        os.dup2(self._stdout, 1)
        os.close(self._stdout)


def _copy(source: int, dest: int) -> None:
    """The rest of file `source` to `dest` (a pipe, a file), from its offset, which then says about how much
    was written when a stop signal ends it (sendfile, on Linux, may have read a few pages more than reached
    `dest`; elsewhere read and write, where a write cut short may have written more than the offset says)."""
    if hasattr(os, "sendfile"):
        try:
            while os.sendfile(dest, source, None, 1 << 20):
                pass
            return
        except OSError as e:
            if e.errno not in (errno.EINVAL, errno.ENOSYS, errno.ENOTSOCK, errno.EOPNOTSUPP):
                raise
    while chunk := os.read(source, 1 << 20):
        os.lseek(source, -len(chunk), os.SEEK_CUR)
        view = memoryview(chunk)
        while view:
            written = os.write(dest, view)
            os.lseek(source, written, os.SEEK_CUR)
            view = view[written:]


class PartlyWritten(KeyboardInterrupt):
    """A stop signal while standard output was being written: the command says how much it got."""


def pending_output(target: Path) -> PendingOutput | PipedOutput:
    """Where an output is written until it is complete: standard output's (`-`) or a file's."""
    return PipedOutput() if str(target) == STDOUT else PendingOutput(target)


def _open_unnamed(folder: Path) -> int | None:
    """A descriptor of a new unnamed file in `folder` (Linux O_TMPFILE), or None where the platform or the file
    system has none (or /proc, needed to link it, is missing). Other failures (no permission) raise."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        return os.open(folder, flag | os.O_RDWR | os.O_CLOEXEC, 0o666)  # the umask applies, as to any new file
    except OSError as e:
        if e.errno in (errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL):  # EISDIR: a kernel without O_TMPFILE
            return None
        raise


def _open_partial(target: Path) -> tuple[int, str]:
    """A hidden named temporary file beside the target, with the permissions any new file gets."""
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.fchmod(fd, 0o666 & ~umask)  # mkstemp makes 0600; the output should look like any new file
    return fd, name


def _link_unnamed(fd: int, target: Path) -> None:
    """Give the unnamed file `fd` the target's name: linkat through /proc (AT_SYMLINK_FOLLOW, which Python
    uses only when given a directory descriptor). Over an existing file: link under a hidden name, then
    rename over it, so the old file is replaced atomically."""
    source = f"/proc/self/fd/{fd}"
    folder = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            os.link(source, target.name, dst_dir_fd=folder, follow_symlinks=True)
            return
        except FileExistsError:
            pass
        hidden = f".{target.name}.{secrets.token_hex(4)}.partial"
        os.link(source, hidden, dst_dir_fd=folder, follow_symlinks=True)
        try:
            os.replace(hidden, target.name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            os.unlink(hidden, dir_fd=folder)
            raise
    finally:
        os.close(folder)


def _unwritable(target: Path, error: OSError) -> PhononError | OSError:
    """A failure to create or place the output, said of the output (never of a temporary name). A full disk
    stays an OSError: the command says how much space the file needs (engine/cli.py)."""
    if error.errno == errno.ENOSPC:
        return error
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "is read-only" if error.errno == errno.EROFS else "is not writable"
        return PhononError(
            f"cannot write '{target}': the folder '{target.parent}' {why}",
            hint="write somewhere else with -o, or make the folder writable",
        )
    return PhononError(f"cannot write '{target}': {error.strerror or error}")
