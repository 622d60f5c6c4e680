"""Real-time playback: `phonon play FILE [--watch]` on a sound card through sounddevice (PortAudio).

Threads and processes
---------------------
* The **main thread** is the producer. It renders blocks of `--block` frames with `engine.render.Renderer`
  (which drives the worker processes) into a ring of stereo float32 frames and keeps that ring full, so
  rendering runs `--latency` seconds ahead of the device. It also swaps programs on reload, drains the
  capture ring, prints messages and the live status line.
* **PortAudio's thread** runs the stream callback. It only copies ready frames out of the ring: one
  producer, one consumer, no lock (the producer writes frames, then publishes `written`; the callback reads
  up to `written`, then publishes `read`; both are Python ints stored atomically under the GIL). It never
  allocates arrays and never waits for Python work: on an empty ring it outputs silence and counts an
  underrun. It also applies the stop fade and copies what it delivered into the capture ring (test hook).
* With `--watch`, a **watcher thread** polls the file (mtime, size, inode), and on a change parses,
  compiles and builds the new program off the audio path, warming up its numba kernels with a one-block
  serial render (so no kernel is compiled on the audio path nor in a worker process). The main thread then
  swaps it in at a block boundary with a `CROSSFADE`-second crossfade. The new program continues on the
  pattern clock of the old one (its Renderer starts at the current absolute sample, see
  `Renderer.start_at`; when the tempo changed, at the sample where the new tempo reaches the same cycle), so
  patterns continue where they were. A program that fails to compile (or to start) is reported with its
  position and the old one keeps playing.

Forking
-------
The worker runtime forks its processes at a Renderer's first block, which must happen before other
threads exist. Importing sounddevice with a JACK server running starts libjack's threads, so the first
program is primed (its workers forked, the ring filled) while PortAudio is terminated (`sd._terminate()`,
which joins those threads); PortAudio is initialised again (`sd._initialize()`) before the stream opens.

A reloaded program with `--workers N > 1` forks its workers from the main thread while PortAudio's and the
watcher's threads exist. That is safe here because the children never touch anything those threads could
have held a lock in at the fork: the watcher is idle (it waits until the main thread has started the
program it handed over, so no compile, import or numba compilation is in progress), the PortAudio/JACK
threads run C code the children never call, the callback cannot be inside Python (the forking thread holds
the GIL), glibc's malloc is fork-safe, and the children only run the worker loop over memory created before
the fork, with every kernel already compiled by the warm-up. `reload_workers` (`--reload-workers 1`)
renders reloaded programs in the main process instead, should a platform prove otherwise.

Latency and the GIL
-------------------
A reload is heard about POLL + SETTLE (detection) + the compile and build + `--latency` (the audio already
in the ring plays out first) after the save: about 0.17 s for a small program and 0.25 s for a 100-voice one
with the default 0.1 s (measured through the capture hook). The callback runs Python, so it needs the GIL:
while playing, the switch interval is lowered to SWITCH_INTERVAL and what exists after startup is frozen
out of the garbage collector (`gc.freeze()`), so the main thread hands the GIL over quickly and collections
stay short. A kernel call in this process that holds the GIL longer than the device's period (a very wide
batch) still delays the callback; PortAudio reports that as an output underflow, counted apart from
underruns (the ring was not empty) and printed as a warning.

The pattern clock restarts nothing: events and stepped values of the new program are where they would be
had it played from the start. Oscillator phases, filter and delay state start fresh in the new program
(the crossfade covers the seam).

Stopping
--------
`--duration S` plays exactly S seconds (no fade, so the delivered audio equals `phonon render`) and exits 0.
Ctrl-C (or SIGTERM) fades out over `FADE_OUT` seconds in the callback, stops and closes the stream, stops
the workers (`Renderer.close()`, which also releases the shared memory), prints the summary and exits 130
(the shell's code for "stopped by SIGINT", like `phonon render`). A second Ctrl-C during that is ignored.

Test hook
---------
`PHONON_PLAY_CAPTURE=path.wav` (or `Player(capture=path)`) writes exactly what the callback delivered to the
device (float32 WAV) and, beside it, `path.wav.json`: sample rate, frames, the wall-clock time of the
first callback (`start_unix`; frame f went to the device at about start_unix + f / sr), underruns and the
reloads (`frame`: the first device frame of the crossfade to the new program, `detected_unix`, `ready_unix`).
"""

from __future__ import annotations

import gc
import json
import math
import os
import signal
import sys
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from phonon.engine.render import Renderer, RenderSettings, clipping_warning, output_channels
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError

UNDERRUNS_TIMED = 16  # underruns whose time the report gives
RING_REALTIME = 4  # blocks a part may run ahead of its consumers in the worker runtime while playing
CROSSFADE = 0.015  # seconds of crossfade when a reloaded program replaces the playing one
FADE_OUT = 0.010  # seconds of fade-out on Ctrl-C
POLL = 0.02  # seconds between checks of the watched file
SETTLE = 0.01  # a changed file must keep its size and mtime this long before it is read
SWITCH_INTERVAL = 0.0005  # the GIL switch interval while playing: the callback waits at most about this long
STATUS_EVERY = 0.25  # seconds between status line updates (terminal only)
MAX_CALLBACK_FRAMES = 1 << 16
STALL = 2.0  # seconds without a callback after which the device counts as gone

_FORK_WARNING = r".*fork\(\) may lead to deadlocks.*"  # Python >= 3.12 warns on fork with threads; see above


# ---------------------------------------------------------------------------------------------------------
# devices
# ---------------------------------------------------------------------------------------------------------


def load_sounddevice() -> Any:
    """The sounddevice module, or a PhononError saying how to get PortAudio."""
    try:
        import sounddevice
    except OSError as e:  # the PortAudio shared library is missing
        raise PhononError(
            f"cannot play: PortAudio is not available ({e})",
            hint="install PortAudio (Debian/Ubuntu: apt-get install libportaudio2)",
        ) from None
    return sounddevice


@dataclass
class Device:
    index: int
    name: str
    hostapi: str
    channels: int
    samplerate: float
    default: bool = False

    def describe(self) -> str:
        return f"{self.name} ({self.hostapi}, {self.channels} out, {self.samplerate:g} Hz)"


def output_devices(sd: Any) -> list[Device]:
    """Every device PortAudio can play through (the default one marked)."""
    apis = sd.query_hostapis()
    try:
        default = int(sd.query_devices(kind="output")["index"])
    except Exception:
        default = -1
    found = []
    for d in sd.query_devices():
        if d["max_output_channels"] > 0:
            found.append(
                Device(
                    int(d["index"]), d["name"], apis[d["hostapi"]]["name"], int(d["max_output_channels"]),
                    float(d["default_samplerate"]), int(d["index"]) == default,
                )
            )
    if found and not any(d.default for d in found):
        found[0].default = True
    return found


def device_list_text(sd: Any, devices: list[Device] | None = None) -> str:
    devices = output_devices(sd) if devices is None else devices
    if not devices:
        apis = ", ".join(a["name"] for a in sd.query_hostapis()) or "none"
        return f"PortAudio found no output devices (host APIs: {apis})"
    lines = ["output devices (* = default):"]
    for d in devices:
        lines.append(f"  {'*' if d.default else ' '} {d.index}: {d.describe()}")
    return "\n".join(lines)


def device_list_json(sd: Any) -> list[dict]:
    return [
        {"index": d.index, "name": d.name, "hostapi": d.hostapi, "channels": d.channels,
         "samplerate": d.samplerate, "default": d.default}
        for d in output_devices(sd)
    ]


def find_device(sd: Any, name: str | None) -> Device:
    """The output device named (exactly, else by a unique part of its name, or by number), or the default;
    a PhononError listing the devices when there is none or it is not found."""
    devices = output_devices(sd)
    if not devices:
        raise PhononError(
            "no audio output device found\n" + device_list_text(sd, devices),
            hint="connect a sound card, or start a JACK server (e.g. jackd -d dummy -r 48000) and try again; "
            "phonon play --list-devices shows what PortAudio sees",
        )
    if name is None:
        return next(d for d in devices if d.default)
    if name.strip().isdigit():
        matches = [d for d in devices if d.index == int(name)]
    else:
        key = name.strip().lower()
        matches = [d for d in devices if d.name.lower() == key] or [d for d in devices if key in d.name.lower()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        first = f"the device name '{name}' is ambiguous: {len(matches)} output devices match it"
    else:
        first = f"no output device matches '{name}'"
    raise PhononError(
        first + "\n" + device_list_text(sd, devices),
        hint="give --device a name (or a unique part of one) or a number from the list",
    )


def _abandon_portaudio(sd: Any) -> None:
    """Leave a dead stream (its device or JACK server is gone) and PortAudio alone: stopping, closing or
    terminating them would hang or abort the process, so sounddevice's exit handler is told there is nothing
    to clean up; the process exit releases what is left."""
    try:
        sd._last_callback = None
        sd._initialized = 0
    except AttributeError:
        pass


# ---------------------------------------------------------------------------------------------------------
# the player
# ---------------------------------------------------------------------------------------------------------


@dataclass
class PlayResult:
    underruns: int  # callbacks that found the ring empty (silence was played)
    blocks: int  # device callbacks served while playing
    max_render_ms: float  # longest time to render one block (reload starts excluded, see reloads)
    frames: int  # frames delivered from the program
    seconds: float  # wall time from the first to the last callback that delivered audio
    interrupted: bool
    device_underflows: int = 0  # underflows PortAudio reported (a late callback)
    reloads: list[dict] = field(default_factory=list)
    budget_ms: float = 0.0  # one block's duration
    avg_render_ms: float = 0.0
    underrun_times: list[float] = field(default_factory=list)  # s after the first callback, the first UNDERRUNS_TIMED

    def summary(self) -> str:
        return f"underruns: {self.underruns}, blocks: {self.blocks}, max render ms: {self.max_render_ms:.2f}"

    def json(self) -> str:
        return json.dumps(
            {"underruns": self.underruns, "blocks": self.blocks, "max_render_ms": round(self.max_render_ms, 3),
             "underrun_times": [round(t, 3) for t in self.underrun_times]}
        )


class _Console:
    """Messages and the live status line on stderr (the status line only on a terminal)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        try:
            self.tty = self.stream.isatty()
        except (AttributeError, ValueError):
            self.tty = False
        self._shown = False

    def message(self, text: str) -> None:
        prefix = "\r\x1b[K" if self.tty and self._shown else ""
        self._shown = False
        self.stream.write(prefix + text + "\n")
        self.stream.flush()

    def status(self, text: str) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K" + text)
            self.stream.flush()
            self._shown = True

    def clear(self) -> None:
        if self.tty and self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


class _Capture:
    """What the callback delivered: a ring the callback writes and the main thread drains to a WAV file."""

    def __init__(self, path: str, sr: int, channels: int, frames: int) -> None:
        import soundfile as sf

        self.path = path
        self.data = np.zeros((frames, channels), dtype=np.float32)
        self.size = frames
        self.written = 0  # callback only
        self.read = 0  # main thread only
        self.dropped = 0
        self.file = sf.SoundFile(path, "w", sr, channels, "FLOAT", format="WAV")

    def drain(self) -> None:
        w = self.written
        while self.read < w:
            i = self.read % self.size
            n = min(w - self.read, self.size - i)
            self.file.write(self.data[i : i + n])
            self.read += n

    def close(self) -> None:
        self.drain()
        self.file.close()


class _Watcher(threading.Thread):
    """Polls the program file; compiles and builds a changed program; hands it to the main thread."""

    def __init__(self, player: "Player") -> None:
        super().__init__(name="phonon-watch", daemon=True)
        self.player = player
        self.stopping = threading.Event()
        self.taken = threading.Event()  # the main thread took the program handed over (or refused it)
        self.taken.set()

    def _signature(self) -> tuple | None:
        try:
            st = os.stat(self.player.path)
        except OSError:
            return None  # being replaced by an editor; look again later
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def run(self) -> None:
        p = self.player
        seen = self._signature()
        text_seen = p.text
        while not self.stopping.wait(POLL):
            sig = self._signature()
            if sig is None or sig == seen:
                continue
            while not self.stopping.wait(SETTLE):  # let the editor finish writing
                again = self._signature()
                if again == sig:
                    break
                sig = again
            seen = sig
            try:
                text = Path(p.path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as e:
                p.messages.append(f"error: cannot read {p.path}: {e}; still playing the previous version")
                continue
            if text == text_seen:
                continue
            text_seen = text
            detected = time.time()
            try:
                graph = compile_program(text, p.name)
                renderer = p.build(graph, warm=True, workers=p.reload_workers)
            except PhononError as e:
                p.messages.append(f"{e}\n(still playing the previous version)")
                continue
            except Exception as e:  # a bug, not the program: report it and keep playing
                p.messages.append(f"error: reloading failed: {type(e).__name__}: {e}\n(still playing the previous version)")
                continue
            if self.stopping.is_set():
                renderer.close()
                return
            self.taken.clear()
            p.pending = (renderer, graph, text, detected, time.time())  # the main thread owns it from here
            while not self.taken.wait(POLL):
                if self.stopping.is_set():
                    return


class Player:
    """Plays one program file on an output device; see the module docstring. `run()` returns a PlayResult
    (or raises PhononError) and always releases the stream, the workers and the shared memory."""

    def __init__(
        self,
        path: str,
        *,
        device: str | None = None,
        sr: int | None = None,
        block: int = 512,
        latency: float = 0.1,
        workers: int = 1,
        reload_workers: int | None = None,
        duration: float | None = None,
        watch: bool = False,
        gain: float = 1.0,
        ceiling: float = 1.0,
        limit: bool = False,
        samples: tuple[str, ...] = (),
        capture: str | None = None,
        console: _Console | None = None,
        sd: Any = None,
        outputs: bool = False,
    ) -> None:
        if duration is not None and not duration > 0:
            raise PhononError("the duration must be positive")
        if not 0 < latency <= 10:
            raise PhononError(f"latency {latency} s is out of range", hint="use e.g. --latency 0.1")
        if path == "-" and watch:
            raise PhononError("--watch needs a program file, not standard input")
        if ceiling > 1.0:
            raise PhononError(
                f"--ceiling {ceiling:g} is above full scale (1): the sound card would clip there",
                hint="play with a --ceiling of at most 1 (render to --subtype FLOAT to keep peaks above 1)",
            )
        self.path = path
        self.name = "<stdin>" if path == "-" else path
        self.device_name = device
        self.sr_request = sr
        self.block = block
        self.latency = latency
        self.workers = workers
        self.reload_workers = reload_workers or workers
        self.duration = duration
        self.watch = watch
        self.gain = gain
        self.ceiling = ceiling
        self.limit = limit
        self.samples = tuple(samples)
        self.capture_path = capture
        self.outputs = outputs  # --channels outputs: each output to its own device channels
        self._columns: list[int] = []  # the taps that make the device's channels, with `outputs`
        self.console = console or _Console()
        self.sd = sd or load_sounddevice()
        self.messages: deque[str] = deque()  # from the watcher, printed by the main thread
        self.pending: tuple | None = None  # (renderer, graph, text, detected, ready) handed over by the watcher
        self.text = ""
        # callback state (the callback writes these; the main thread only reads them)
        self.underruns = 0
        self.underrun_times: list[float] = []  # when the first few happened: at start-up, or all along
        self.device_underflows = 0
        self.blocks = 0
        self._read = 0
        self._cb_done = False
        self._t_first = 0.0
        self._t_first_unix = 0.0
        self._t_last = 0.0
        self._fade_pos = 0
        # producer state (main thread; `_written`, `_end` and `_fade_request` are read by the callback)
        self._written = 0
        self._end: int | None = None
        self._fade_request = False
        self.max_render_ms = 0.0
        self._measuring = False
        self._stream_dead = False
        self._render_ms_sum = 0.0
        self._rendered_blocks = 0
        self.reloads: list[dict] = []

    # -- programs ------------------------------------------------------------------------------------------
    def build(self, graph: Any, warm: bool = False, workers: int | None = None) -> Renderer:
        """A Renderer for the program (not started: it forks at its first block). `warm`: first run one block
        serially, so every kernel the program uses is compiled before it reaches the audio path."""
        if warm:
            scratch = np.zeros((self.block, 2), dtype=np.float64)
            with Renderer(graph, self.settings, frames=self.block, workers=1, ring=2, span=1) as r:
                r.render_into(scratch, self.block)
        return Renderer(graph, self.settings, None, workers or self.workers, ring=RING_REALTIME, span=1, tiered=True,
                        taps=self.outputs)

    def _read_text(self) -> str:
        from phonon.engine.cli import read_program

        return read_program(self.path)[0]

    # -- the callback (PortAudio's thread) -----------------------------------------------------------------
    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        if status.output_underflow:
            self.device_underflows += 1
        if self._cb_done:
            outdata.fill(0.0)
            return
        if self._t_first == 0.0:
            self._t_first = time.monotonic()
            self._t_first_unix = time.time()
        r = self._read
        avail = self._written - r
        n = frames
        if avail < frames:
            if self._end is not None and self._written >= self._end:
                n = avail  # the end of --duration: the last frames, then silence
                self._cb_done = True
                if n == 0:
                    outdata.fill(0.0)
                    return
            else:
                n = 0
                if not self._fade_request:
                    self.underruns += 1
                    if len(self.underrun_times) < UNDERRUNS_TIMED:
                        self.underrun_times.append(time.monotonic() - self._t_first)
        if n:
            ring = self._ring
            cap = self._ring_frames
            i = r % cap
            j = i + n
            if j <= cap:
                outdata[:n] = ring[i:j]
            else:
                k = cap - i
                outdata[:k] = ring[i:]
                outdata[k:n] = ring[: n - k]
            self._read = r + n
            self._t_last = time.monotonic()
        if n < frames:
            outdata[n:].fill(0.0)
        delivered = frames if not self._cb_done else n
        if self._fade_request:
            p = self._fade_pos
            if p + frames <= self._fade_gain.shape[0]:
                np.multiply(outdata, self._fade_gain[p : p + frames], out=outdata)
            else:
                outdata.fill(0.0)
            self._fade_pos = p + frames
            if p + frames >= self._fade_frames:
                self._cb_done = True
        self.blocks += 1
        c = self._capture
        if c is not None and delivered:
            w = c.written
            if c.size - (w - c.read) >= delivered:
                i = w % c.size
                j = i + delivered
                if j <= c.size:
                    c.data[i:j] = outdata[:delivered]
                else:
                    k = c.size - i
                    c.data[i:] = outdata[:k]
                    c.data[: delivered - k] = outdata[k:delivered]
                c.written = w + delivered
            else:
                c.dropped += 1

    # -- the producer (main thread) ------------------------------------------------------------------------
    def _produce(self) -> None:
        """Render blocks while the ring has room for one (and the program has not ended)."""
        block = self.block
        total = self._total
        while (total is None or self._written < total) and self._ring_frames - (self._written - self._read) >= block:
            self._render_block(block if total is None else min(block, total - self._written))

    def _render_block(self, n: int) -> None:
        mix = self._mix[:n]
        taps = self._taps[:n] if self.outputs else None
        t0 = time.perf_counter()
        steady = True
        if self.pending is not None and self._old is None:
            steady = not self._swap(mix, n, taps)
        else:
            self._current.render_into(mix, n, taps)
        if self._old is not None:
            old = self._old_mix[:n]
            old_taps = self._old_taps[:n] if self.outputs else None
            self._old.render_into(old, n, old_taps)
            p = self._xf_pos
            for new_part, old_part in ((mix, old), (taps, old_taps)) if self.outputs else ((mix, old),):
                np.multiply(new_part, self._xf_in[p : p + n], out=new_part)
                np.multiply(old_part, self._xf_out[p : p + n], out=old_part)
                new_part += old_part
            self._xf_pos = p + n
        dt = (time.perf_counter() - t0) * 1e3
        if steady and self._measuring:  # blocks rendered while the device plays (not the priming ones)
            self.max_render_ms = max(self.max_render_ms, dt)
            self._render_ms_sum += dt
            self._rendered_blocks += 1
        w = self._written
        cap = self._ring_frames
        i = w % cap
        if self.outputs:
            out = taps[:, self._columns]
        else:
            out = mix if self._channels == 2 else mix.mean(axis=1, keepdims=True)
        if i + n <= cap:
            self._ring[i : i + n] = out
        else:
            k = cap - i
            self._ring[i:] = out[:k]
            self._ring[: n - k] = out[k:]
        self._written = w + n  # publish after the frames are in place
        if self._old is not None and self._xf_pos >= self._xf_frames:
            old, self._old = self._old, None
            self._tell_incidents(old)
            old.close()  # stops its workers, frees its shared memory

    def _tell_incidents(self, renderer: Renderer) -> None:
        """What the program's containment did (NaN/inf, runaway loops) and how many samples the master clipped,
        as a render reports them, once per program: when it is replaced or playing ends."""
        try:
            incidents = renderer.parts.incidents()
        except (AttributeError, ValueError):  # already closed
            return
        self.messages.extend(incident.warning(self.settings.sr) for incident in incidents)
        if renderer.clipped:
            self.messages.append(clipping_warning(renderer.clipped))

    def _swap(self, mix: np.ndarray, n: int, taps: np.ndarray | None = None) -> bool:
        """Start the program the watcher handed over, on the current pattern clock; its first block goes
        into `mix` (and `taps`). Returns whether it started (else the old program goes on and the error is
        shown)."""
        new, graph, text, detected, ready = self.pending
        self.pending = None
        cur = self._current
        if self.outputs and output_channels(graph) != self._columns:
            self.messages.append(
                f"the new version's outputs make {len(output_channels(graph))} channels where the device plays "
                f"{len(self._columns)} (--channels outputs): restart to change them\n(still playing the "
                "previous version)"
            )
            new.close()
            if self._watcher is not None:
                self._watcher.taken.set()
            cur.render_into(mix, n, taps)
            return False
        position = cur.position
        if graph.cps != self._graph.cps:  # keep the cycle position, not the sample position
            position = round(Fraction(position) * Fraction(self._graph.cps) / Fraction(graph.cps))
        t0 = time.perf_counter()
        started = False
        try:
            new.start_at(position)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=_FORK_WARNING, category=DeprecationWarning)
                new.render_into(mix, n, taps)  # forks its workers, if any, and renders its first block
            started = True
        except PhononError as e:
            self.messages.append(f"{e}\n(still playing the previous version)")
        finally:
            if not started:
                new.close()
            if self._watcher is not None:
                self._watcher.taken.set()
        if not started:
            cur.render_into(mix, n, taps)
            return False
        start_ms = (time.perf_counter() - t0) * 1e3
        self._old, self._current, self._graph, self.text = cur, new, graph, text
        self._xf_pos = 0
        at = self._written
        seconds = at / self.settings.sr
        cycle = position * float(graph.cps) / self.settings.sr
        self.reloads.append(
            {"frame": at, "position": position, "detected_unix": detected, "ready_unix": ready,
             "swapped_unix": time.time(), "start_ms": round(start_ms, 3)}
        )
        self.messages.append(
            f"reloaded {self.name}: the new version plays from {seconds:.2f} s (cycle {cycle:.2f}); "
            f"compiled in {(ready - detected) * 1e3:.0f} ms"
        )
        return True

    # -- running -------------------------------------------------------------------------------------------
    def run(self) -> PlayResult:
        sd = self.sd
        self.text = self._read_text()
        self._graph = compile_program(self.text, self.name)
        device = find_device(sd, self.device_name)
        sr = int(self.sr_request or round(device.samplerate))
        self.settings = RenderSettings(
            sr=sr, block=self.block, gain=self.gain, ceiling=self.ceiling, limit=self.limit, samples=self.samples
        )
        self.settings.check()
        for line in self._graph.notes:
            self.console.message(line)
        block = self.block
        self._channels = 2 if device.channels >= 2 else 1
        if self.outputs:
            self._columns = output_channels(self._graph)
            self._channels = len(self._columns)
            if device.channels < self._channels:
                raise PhononError(
                    f"the program's outputs make {self._channels} channels (stereo ones as pairs), and "
                    f"{device.name} has {device.channels}",
                    hint="choose a device with more output channels (phonon play --list-devices), or play "
                    "without --channels outputs (the stereo master)",
                )
        self._taps = np.zeros((block, 2 * len(self._graph.outputs) if self.outputs else 0), dtype=np.float64)
        self._old_taps = np.zeros_like(self._taps)
        ring_blocks = max(2, math.ceil(self.latency * sr / block))
        self._ring_frames = ring_blocks * block
        self._ring = np.zeros((self._ring_frames, self._channels), dtype=np.float32)
        self._mix = np.zeros((block, 2), dtype=np.float64)
        self._old_mix = np.zeros((block, 2), dtype=np.float64)
        xf = max(1, round(CROSSFADE * sr))
        t = np.minimum(np.arange(xf + block) / xf, 1.0)
        self._xf_in = (0.5 - 0.5 * np.cos(np.pi * t))[:, None]
        self._xf_out = 1.0 - self._xf_in
        self._xf_frames, self._xf_pos = xf, 0
        self._fade_frames = max(1, round(FADE_OUT * sr))
        fade = np.zeros((self._fade_frames + MAX_CALLBACK_FRAMES, 1), dtype=np.float32)
        fade[: self._fade_frames, 0] = np.linspace(1.0, 0.0, self._fade_frames, endpoint=False)
        self._fade_gain = fade
        self._total = None if self.duration is None else round(Fraction(str(self.duration)) * sr)
        self._end = self._total  # the callback stops once it has delivered this many frames
        self._capture: _Capture | None = None
        self._current: Renderer | None = None
        self._old: Renderer | None = None
        self._watcher: _Watcher | None = None
        stream = None
        interrupted = False
        failure: BaseException | None = None
        old_switch = sys.getswitchinterval()
        terminated = False
        gc_was_enabled = gc.isenabled()
        try:
            self._current = self.build(self._graph)
            # Fork the workers while no other thread exists: PortAudio's JACK client has threads, so PortAudio
            # is shut down while the first program starts and the ring fills, then started again.
            sd._terminate()
            terminated = True
            self._produce()
            sd._initialize()
            terminated = False
            device = find_device(sd, str(device.index) if self.device_name is None else self.device_name)
            if self.capture_path:
                size = max(4 * self._ring_frames, 2 * sr, 4 * MAX_CALLBACK_FRAMES)
                self._capture = _Capture(self.capture_path, sr, self._channels, size)
            try:
                stream = sd.OutputStream(
                    samplerate=sr, blocksize=block, device=device.index, channels=self._channels,
                    dtype="float32", latency=self.latency, callback=self._callback,
                )
            except sd.PortAudioError as e:
                raise PhononError(
                    f"cannot open {device.describe()} at {sr} Hz: {e}\n" + device_list_text(sd),
                    hint="try the device's own sample rate (leave out --sr), another --device or --latency",
                ) from None
            gc.collect()
            gc.freeze()  # what exists now is never scanned again: collections stay short while playing
            sys.setswitchinterval(SWITCH_INTERVAL)
            if self.watch:
                self._watcher = _Watcher(self)
                self._watcher.start()
            where = f"{device.name} ({device.hostapi})"
            self.console.message(
                f"playing {self.name} on {where}: {sr} Hz, block {block}, latency {self.latency:g} s, "
                f"{self._current.workers} worker{'s' if self._current.workers != 1 else ''}"
                + (", watching for changes" if self.watch else "")
                + ("" if self.duration is not None else "; Ctrl-C stops")
            )
            self._measuring = True
            stream.start()
            self._loop(stream)
        except KeyboardInterrupt:
            interrupted = True
        except BaseException as e:
            failure = e
        finally:
            ignored = self._ignore_signals()
            try:
                if terminated:
                    sd._initialize()
                self._shutdown(stream, fade=interrupted)
            finally:
                sys.setswitchinterval(old_switch)
                gc.unfreeze()
                if gc_was_enabled:
                    gc.enable()
                self._restore_signals(ignored)
        if failure is not None:
            raise failure
        return PlayResult(
            self.underruns, self.blocks, self.max_render_ms, self._read,
            max(0.0, self._t_last - self._t_first) if self._t_first else 0.0, interrupted,
            self.device_underflows, self.reloads, 1e3 * block / sr, self._render_ms_sum / max(1, self._rendered_blocks),
            list(self.underrun_times),
        )

    def _loop(self, stream: Any) -> None:
        nap = min(0.005, 0.25 * self.block / self.settings.sr)
        next_status = 0.0
        started = time.monotonic()
        last_blocks, last_progress = -1, started
        while not self._cb_done:
            self._produce()
            if self._capture is not None:
                self._capture.drain()
            while self.messages:
                self.console.message(self.messages.popleft())
            now = time.monotonic()
            if now >= next_status:
                next_status = now + STATUS_EVERY
                self.console.status(self._status_text())
                if self.blocks != last_blocks:
                    last_blocks, last_progress = self.blocks, now
                if not stream.active or now - last_progress > STALL:
                    self._stream_dead = True
                    raise PhononError(
                        "the audio device stopped (was it unplugged, or the JACK server stopped?)",
                        hint="phonon play --list-devices shows the devices PortAudio sees",
                    )
            time.sleep(nap)

    def _status_text(self) -> str:
        sr = self.settings.sr
        budget = 1e3 * self.block / sr
        avg = self._render_ms_sum / max(1, self._rendered_blocks)
        playing = self._current.position - (self._written - self._read)  # on the program's clock
        cycle = max(0, playing) * float(self._graph.cps) / sr
        return (
            f"▶ {self.name}  {self._read / sr:7.1f} s  cycle {cycle:7.2f}  blocks {self.blocks}  "
            f"underruns {self.underruns}  render avg {avg:.2f} ms, max {self.max_render_ms:.2f} ms "
            f"({100 * self.max_render_ms / budget:.0f}% of {budget:.1f})"
        )

    def _shutdown(self, stream: Any, fade: bool) -> None:
        """Fade (on Ctrl-C), stop and close the stream, stop the watcher, close every program."""
        try:
            if stream is not None and self._stream_dead:
                _abandon_portaudio(self.sd)  # every PortAudio call on a dead JACK stream would hang
            elif stream is not None:
                if fade and stream.active and not self._cb_done:
                    self._fade_request = True
                    deadline = time.monotonic() + self._fade_frames / self.settings.sr + 0.5
                    while not self._cb_done and time.monotonic() < deadline:
                        time.sleep(0.002)
                try:
                    stream.stop()
                finally:
                    stream.close()
        finally:
            if self._watcher is not None:
                self._watcher.stopping.set()
                self._watcher.join(2.0)
            for r in (self._current, self._old, self.pending[0] if self.pending else None):
                if r is not None:
                    self._tell_incidents(r)
                    r.close()
            self._current = self._old = self.pending = None
            while self.messages:
                self.console.message(self.messages.popleft())
            self.console.clear()
            if self._capture is not None:
                self._capture.close()
                self._write_capture_info()

    def _write_capture_info(self) -> None:
        c = self._capture
        info = {
            "sr": self.settings.sr, "frames": c.written, "start_unix": self._t_first_unix,
            "underruns": self.underruns, "device_underflows": self.device_underflows, "dropped": c.dropped,
            "block": self.block, "reloads": self.reloads,
        }
        Path(c.path + ".json").write_text(json.dumps(info, indent=1))

    @staticmethod
    def _ignore_signals() -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        saved = {}
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                saved[sig] = signal.signal(sig, signal.SIG_IGN)
            except (ValueError, OSError):
                pass
        return saved

    @staticmethod
    def _restore_signals(saved: dict) -> None:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


# ---------------------------------------------------------------------------------------------------------
# the command
# ---------------------------------------------------------------------------------------------------------


def play_command(args: Any) -> int:
    """`phonon play` (engine.cli builds the arguments)."""
    sd = load_sounddevice()
    if args.list_devices:
        if args.json:
            print(json.dumps(device_list_json(sd)))
        else:
            print(device_list_text(sd))
        return 0
    if args.file is None:
        raise PhononError("give a program file to play", hint="phonon play FILE, or phonon play --list-devices")
    player = Player(
        args.file, device=args.device, sr=args.sr, block=args.block, latency=args.latency, workers=args.workers,
        reload_workers=args.reload_workers, duration=args.duration, watch=args.watch, gain=args.gain,
        ceiling=args.ceiling, limit=args.limit, samples=tuple(args.samples),
        capture=os.environ.get("PHONON_PLAY_CAPTURE") or None, sd=sd, outputs=args.channels == "outputs",
    )
    result = player.run()
    err = sys.stderr
    if result.device_underflows:
        print(f"warning: the device reported {result.device_underflows} underflows (late callbacks)", file=err)
    if player._capture is not None and player._capture.dropped:
        print(f"warning: the capture missed {player._capture.dropped} callbacks", file=err)
    print(
        f"played {result.frames / player.settings.sr:.3f} s of audio in {result.seconds:.3f} s; render "
        f"avg {result.avg_render_ms:.2f} ms, max {result.max_render_ms:.2f} ms per block of {result.budget_ms:.2f} ms"
        + (f"; {len(result.reloads)} reloads" if result.reloads else ""),
        file=err,
    )
    if args.json:
        print(result.json())
    else:
        print(result.summary(), file=err)
    return 130 if result.interrupted else 0
