"""The `phonon` command."""

from __future__ import annotations

import argparse
import atexit
import errno
import functools
import math
import os
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

from phonon.engine.timings import TIMINGS  # first: the import phase starts here
from phonon.engine import interrupts
from phonon.graph.errors import PhononError


STDOUT_NAME = "standard output"  # how messages name `-o -`
FIFO_WRITER_WAIT = 2.0  # seconds a FIFO given as FILE may take to get a writer (see read_program)
RENDER_SECONDS = 8.0  # what `phonon render` renders without --duration or --cycles
_FILE_HINT = "give a .phonon file, or - to read standard input"


def read_program(source: str) -> tuple[str, str]:
    """(text, name) of the program FILE: a file, `-` for standard input, or a FIFO or pipe (`<(...)`,
    /dev/stdin), read like standard input to its end once a writer has it open. A FIFO that nobody writes to
    within FIFO_WRITER_WAIT seconds is an error, not a wait without end. Folders and devices are errors that
    say what they are."""
    if source == "-":
        return _decoded(sys.stdin.buffer.read(), "<stdin>"), "<stdin>"
    try:
        mode = os.stat(source).st_mode
    except FileNotFoundError:
        raise PhononError(f"no such program file: {source}", hint=_FILE_HINT) from None
    if stat.S_ISDIR(mode):
        raise PhononError(f"{source} is a folder, not a program file", hint="give a .phonon file in it")
    if stat.S_ISFIFO(mode):
        return _decoded(_read_fifo(source), source), source
    if not stat.S_ISREG(mode):
        raise PhononError(f"{source} is {_kind_of_file(mode)}, not a program file", hint=_FILE_HINT)
    return _decoded(Path(source).read_bytes(), source), source


def _kind_of_file(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "not a regular file"


def _read_fifo(source: str) -> bytes:
    """Everything written to a FIFO, from the moment a writer opens it to its end. Opened without blocking,
    as a blocking open would wait for a writer for ever."""
    fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
    try:
        chunks = [_first_bytes(fd, source)]
        os.set_blocking(fd, True)
        while chunk := os.read(fd, 65536):  # to the end: when the writer closes it
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _first_bytes(fd: int, source: str) -> bytes:
    """What a writer of the FIFO has written so far (b"" when it has it open but has not written yet). While
    no writer has it open a read gives b"" at once; after FIFO_WRITER_WAIT seconds of that, an error."""
    deadline = time.monotonic() + FIFO_WRITER_WAIT
    while True:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:  # a writer has it open and has not written yet
            return b""
        if data:
            return data
        if time.monotonic() > deadline:
            raise PhononError(
                f"nothing is writing to the FIFO {source}",
                hint="start the program that writes it first, or pipe the program into `phonon ... -`",
            )
        time.sleep(0.01)


def _decoded(data: bytes, name: str) -> str:
    """Program text from UTF-8 bytes; any other encoding is an error at the first byte that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        line_start = data.rfind(b"\n", 0, e.start) + 1
        col = len(data[line_start : e.start].decode("utf-8", errors="replace")) + 1
        raise PhononError(
            f"the program is not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded", line, col,
            "save the file as UTF-8 (most editors offer it under 'encoding')",
        ).located(data.decode("utf-8", errors="replace"), name) from None


def _compile(source: str):
    from phonon.graph.compiler import compile_program

    text, name = read_program(source)
    return compile_program(text, name)


class _Progress:
    """A progress bar on standard error, shown only when a render takes longer than a second; before it, what
    numba compiles (engine/compile_notice.py: said unless `quiet`, and counted in TIMINGS either way)."""

    def __init__(self, label: str, quiet: bool = False) -> None:
        from phonon.engine.compile_notice import CompileNotice

        self.label = label
        self.started = time.perf_counter()
        self.bar = None
        self.task = None
        self.compiling = CompileNotice(show=not quiet, timings=TIMINGS).__enter__()

    def __call__(self, done: int, total: int) -> None:
        self.compiling.settle()  # a step is done: what was compiled for it is said before the bar starts
        if self.bar is None:
            if time.perf_counter() - self.started < 1.0 or not sys.stderr.isatty():
                return
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TimeRemainingColumn

            self.bar = Progress(
                "[progress.description]{task.description}",
                BarColumn(),
                "[progress.percentage]{task.percentage:>3.0f}%",
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task(self.label, total=total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
        self.compiling.__exit__(None, None, None)


def _number(text: str) -> float:
    """A finite number: inf and nan are refused here, with the option's name, rather than deep in a render."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number (give e.g. 8 or 0.5)")
    return value


def _positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not positive (give 1 or more)")
    return value


def _workers(text: str) -> int:
    """A worker count, or 0 for "auto" (what the cost model says pays off for the program on this machine)."""
    if text == "auto":
        return 0
    n = int(text)
    if not 1 <= n <= 256:
        raise argparse.ArgumentTypeError("use 1 .. 256 workers")
    return n


WORKERS_HELP = (
    "processes, or auto (the default): as many as the cost model predicts pay off for this program on this "
    "machine (one for a light program; see phonon graph FILE --workers N)"
)


SR_HELP = "sample rate in Hz (default 44100)"
BLOCK_HELP = "block size in samples (default 512)"
SAMPLES_HELP = (
    "a Dirt-Samples style folder (NAME/*.wav), searched before PHONON_SAMPLES, ./samples and the built-in kit; "
    "may be given several times (phonon samples lists what is found)"
)


LIMIT_HELP = (
    "soft-limit the master instead of clipping it: no peak passes the ceiling, and the sound passes unchanged "
    "while it stays 3 dB below it"
)


def _worker_list(text: str) -> list[int]:
    try:
        return [_workers(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("give worker counts like 1,2,4") from None


def cmd_render(args: argparse.Namespace) -> int:
    from phonon.engine.formats import STDOUT

    TIMINGS.lap("import")
    if args.stems is not None and (args.channels is not None or args.mono):
        raise PhononError("--stems writes one stereo file per output", hint="leave out --channels and --mono")
    if args.channels is not None and args.mono:
        raise PhononError("--channels outputs and --mono ask for different files", hint="give one of them")
    if args.cluster is not None and args.channels is not None:
        raise PhononError("--channels outputs renders in one process", hint="leave out --cluster, or use --stems")
    if len(args.files) > 1:
        return _render_batch(args)
    if args.output is None and args.stems is None:
        raise PhononError("give the output file with -o (or a folder for the stems with --stems DIR)")
    if args.output == STDOUT:
        _check_stdout(args)
    if args.cluster is not None:
        return _render_on_cluster(args, _cluster_targets_of_one(args))
    report, frames, written, elapsed = _render_one(args.files[0], args.output, args)
    TIMINGS.lap("write")
    if args.quiet:
        report.fused = None  # what became of the fused code belongs with the summary
    for line in report.lines():
        print(line, file=sys.stderr)
    if not args.quiet:
        print(
            f"wrote {written} {frames / args.sr:.2f} s, {args.sr} Hz, peak {report.peak:.3f}, "
            f"{_speed(frames, args.sr)} on {report.workers} worker{'s' if report.workers != 1 else ''} "
            f"({elapsed:.2f} s wall time with planning and writing)",
            file=sys.stderr,
        )
    if args.timings:
        print(TIMINGS.line(), file=sys.stderr)
    return 0


def _check_stdout(args: argparse.Namespace) -> None:
    """`-o -` writes the sound file to standard output: one program's, rendered here, to a pipe or a file."""
    if args.cluster is not None:
        raise PhononError("--cluster writes files: it cannot write standard output", hint="give -o FILE")
    if os.isatty(1):
        raise PhononError(
            "standard output is a terminal: -o - would print the sound file's bytes on it",
            hint="pipe it (`phonon render x.phonon -o - | aplay`) or redirect it (`-o - > x.wav`)",
        )


def _render_one(source: str, output: str | None, args: argparse.Namespace, label: str | None = None) -> tuple:
    """Render one program as the options say: one file, a multichannel file (--channels outputs) or the
    stems and the master (--stems DIR). Returns (report, frames, what was written, seconds it took)."""
    from phonon.engine.formats import STDOUT, format_suffix
    from phonon.engine.render import (
        RenderSettings, check_ceiling, duration_frames, output_format, render_multichannel, render_stems,
        render_to_file,
    )

    if output not in (None, STDOUT) and source != "-" and Path(source).resolve() == Path(output).resolve():
        raise PhononError(
            f"the output {output} is the program file itself: rendering would overwrite the program",
            hint="give another name with -o",
        )
    graph = _compile(source)
    TIMINGS.lap("parse")
    for line in graph.notes:
        print(line, file=sys.stderr)
    settings = RenderSettings(
        sr=args.sr, block=args.block, gain=args.gain, ceiling=args.ceiling, limit=args.limit, fade_in=args.fade_in,
        fade_out=args.fade_out, samples=tuple(args.samples),
    )
    settings.check()
    named = Path(output) if output is not None else Path(args.stems) / f"master{format_suffix(args.format)}"
    _, subtype = output_format(named, args.subtype, args.format)  # fail before rendering
    check_ceiling(args.ceiling, subtype)
    seconds = None if args.cycles is not None else (RENDER_SECONDS if args.duration is None else args.duration)
    frames = duration_frames(graph, args.sr, seconds, args.cycles)
    progress = _Progress(label or f"rendering {named.name}", args.quiet)
    started = time.perf_counter()
    options = dict(subtype=args.subtype, progress=progress, workers=args.workers, timings=TIMINGS,
                   dither=not args.no_dither)
    shown = STDOUT_NAME if output == STDOUT else output
    channels = 1 if args.mono else 2
    try:
        if args.stems is not None:
            suffix = format_suffix(args.format) if output == STDOUT else named.suffix
            report, paths = render_stems(graph, args.stems, frames, settings, suffix=suffix, master=output,
                                         **options)
            written = f"{shown or paths[0]} and {len(paths) - 1} stem{'s' * (len(paths) != 2)} in {args.stems}: stereo,"
        elif args.channels is not None:
            report, count = render_multichannel(graph, output, frames, settings, format=args.format, **options)
            written = f"{shown}: {count} channels (the outputs),"
        else:
            report = render_to_file(graph, output, frames, settings, channels=channels, format=args.format, **options)
            written = f"{shown}: {'mono' if args.mono else 'stereo'},"
    except (OSError, RuntimeError) as e:  # soundfile's errors are RuntimeErrors
        failure = _write_failure(e, str(shown or named), frames * channels * _bytes_per_sample(args.subtype))
        if failure is None:
            raise
        raise failure from None
    finally:
        progress.close()
    return report, frames, written, time.perf_counter() - started


def _render_batch(args: argparse.Namespace) -> int:
    """`phonon render A.phonon B.phonon ... -o DIR/`: each program into DIR/NAME.wav (the suffix of --format
    .flac etc.), one after another with one progress view; a program that fails is reported and the others
    still render; the exit status is 1 if any failed, with a summary of what failed and why."""
    from phonon.engine.formats import format_suffix, output_format

    if args.output is None or not Path(args.output).is_dir():
        raise PhononError(
            f"rendering {len(args.files)} programs needs -o FOLDER (an existing folder), not "
            + (f"'{args.output}'" if args.output else "no -o"),
            hint=("-o - writes one program's file to standard output; " if args.output == "-" else "")
            + "for example `mkdir out && phonon render a.phonon b.phonon -o out/`",
        )
    if args.stems is not None or "-" in args.files:
        raise PhononError("--stems and standard input (-) take one program at a time", hint="render them one by one")
    suffix = format_suffix(args.format)
    output_format(Path(f"x{suffix}"), args.subtype, args.format)  # an unknown format fails before any render
    names = [Path(f).stem for f in args.files]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PhononError(f"two programs would write the same file: {', '.join(duplicates)}{suffix}",
                          hint="rename one of them, or render them into different folders")
    if args.cluster is not None:
        return _render_on_cluster(args, [(f, str(Path(args.output) / f"{n}{suffix}"), None) for f, n in
                                         zip(args.files, names)])
    failed: list[tuple[str, str]] = []
    started = time.perf_counter()
    for i, (source, name) in enumerate(zip(args.files, names), 1):
        target = str(Path(args.output) / f"{name}{suffix}")
        label = f"[{i}/{len(args.files)}] {name}"
        try:
            report, frames, written, elapsed = _render_one(source, target, args, label)
        except PhononError as e:
            failed.append((source, e.message))
            print(f"{label}: failed: {e}", file=sys.stderr)
            continue
        if not args.quiet:
            print(f"{label}: wrote {written} {frames / args.sr:.2f} s, peak {report.peak:.3f}, "
                  f"{elapsed:.2f} s", file=sys.stderr)
    total = len(args.files)
    print(f"rendered {total - len(failed)} of {total} programs in {time.perf_counter() - started:.1f} s"
          + (f"; {len(failed)} failed:" if failed else ""), file=sys.stderr)
    for source, why in failed:
        print(f"  {source}: {why}", file=sys.stderr)  # the first line of each error: its details are above
    return 1 if failed else 0


def _cluster_targets_of_one(args: argparse.Namespace) -> list[tuple[str, str, str | None]]:
    """(program, output file, stem) of one program on a cluster: its master, and with --stems one task per
    output, each evaluating only what that output reaches (engine.render.stem_alone)."""
    from phonon.engine.formats import format_suffix, output_format

    source = args.files[0]
    master = args.output or str(Path(args.stems) / f"master{format_suffix(args.format)}")
    output_format(Path(master), args.subtype, args.format)  # --format and the name agree, before anything is sent
    targets: list[tuple[str, str, str | None]] = [(source, master, None)]
    if args.stems is not None:
        from phonon.engine.render import stems_folder

        stems_folder(args.stems)
        graph = _compile(source)
        suffix = Path(master).suffix
        targets += [(source, str(Path(args.stems) / f"{graph.output_name(c)}{suffix}"), graph.output_name(c))
                    for c in sorted(graph.outputs)]
    return targets


def _collect_on_cluster(client: object, jobs: list, outputs: list[str], failed: list[tuple[str, str]],
                        quiet: bool) -> None:
    """Send the jobs, and write each file as it comes back (a failed job, or a file that cannot be written, is
    added to `failed` and the others go on)."""
    from phonon.engine.cluster import Batch

    with Batch(client, jobs) as batch:
        for done, (i, outcome) in enumerate(batch.outcomes(), 1):
            label = f"[{done}/{len(jobs)}] {outputs[i]}"
            if isinstance(outcome, PhononError):
                failed.append((outputs[i], outcome.message))
                print(f"{label}: failed: {outcome}", file=sys.stderr)
                continue
            try:
                outcome.write(outputs[i])
            except OSError as e:  # this file only (the folder went away, the disk is full): the rest go on
                failed.append((outputs[i], f"cannot write it: {e.strerror or e}"))
                print(f"{label}: failed: cannot write it: {e.strerror or e}", file=sys.stderr)
                continue
            if not quiet:
                print(f"{label}: wrote it, peak {outcome.report.peak:.3f}, {outcome.seconds:.2f} s on "
                      f"{outcome.worker}", file=sys.stderr)


def _render_on_cluster(args: argparse.Namespace, targets: list[tuple[str, str, str | None]]) -> int:
    """Render (program, output, stem) tasks on a Dask cluster (--cluster tcp://HOST:PORT or local:N): each
    task carries its program, settings and sample files, and comes back as encoded audio written here
    atomically; a task that fails is reported and the others finish (exit status 1)."""
    from phonon.engine.cluster import build_job, connect
    from phonon.engine.render import RenderSettings

    settings = RenderSettings(
        sr=args.sr, block=args.block, gain=args.gain, ceiling=args.ceiling, limit=args.limit, fade_in=args.fade_in,
        fade_out=args.fade_out, samples=tuple(args.samples),
    )
    seconds = None if args.cycles is not None else (RENDER_SECONDS if args.duration is None else args.duration)
    failed: list[tuple[str, str]] = []
    jobs, outputs = [], []
    graphs: dict[str, object] = {}
    for source, output, stem in targets:
        try:
            if source not in graphs:
                graphs[source] = _compile(source)
            jobs.append(build_job(graphs[source], output, settings, seconds=seconds, cycles=args.cycles,
                                  subtype=args.subtype, channels=1 if args.mono else 2, dither=not args.no_dither,
                                  stem=stem))
            outputs.append(output)
        except PhononError as e:
            failed.append((output, e.message))
            print(f"{output}: failed: {e}", file=sys.stderr)
    started = time.perf_counter()
    if jobs:  # nothing left to send: no cluster to start
        client = connect(args.cluster)
        try:
            _collect_on_cluster(client, jobs, outputs, failed, args.quiet)
        finally:
            client.close()
    total = len(targets)
    print(f"rendered {total - len(failed)} of {total} files on {args.cluster} in "
          f"{time.perf_counter() - started:.1f} s" + (f"; {len(failed)} failed:" if failed else ""), file=sys.stderr)
    for output, why in failed:
        print(f"  {output}: {why}", file=sys.stderr)
    return 1 if failed else 0


def _speed(frames: int, sr: int) -> str:
    """The render's real-time factor, never counting compile time, and what it left out: the first step (where
    numba loads, or compiles, each kernel at its first call) when the render went on after it and that step
    took noticeably long or compiled; in a render of one step, what numba spent compiling."""
    first, load = TIMINGS.first_frames, TIMINGS.phases.get("load kernels", 0.0)
    rest, render = frames - first, TIMINGS.phases.get("render", 0.0)
    compiled = TIMINGS.compiled_in.get("load kernels", 0.0)
    if rest > 0 and render > 0 and (load > 0.25 or compiled):
        of_it = f", {compiled:.1f} s of it compiling" if compiled else ""
        left_out = f"the first step's {load:.1f} s loading kernels{of_it}"
        return f"{rest / sr / render:.1f}x real time (not counting {left_out})"
    if compiled:
        spent = render + load - compiled
        return f"{frames / sr / max(spent, 1e-9):.1f}x real time (not counting {compiled:.1f} s compiling kernels)"
    return f"{frames / sr / max(render + load, 1e-9):.1f}x real time"


def _bytes_per_sample(subtype: str | None) -> int:
    """Bytes one sample takes in the output file, uncompressed (PCM_16 when no subtype is given)."""
    return {"PCM_24": 3, "PCM_32": 4, "FLOAT": 4, "DOUBLE": 8}.get((subtype or "").upper(), 2)


def _write_failure(error: Exception, output: str, needed: int) -> PhononError | None:
    """A failure to write the output file as a PhononError, or None when it is not one. libsndfile reports a
    full disk as "System error." (the errno is lost), so a write error on a folder with less free space than
    the file needs is taken to be a full disk."""
    import soundfile as sf

    if isinstance(error, OSError) and error.errno == errno.ENOSPC:
        return PhononError(f"disk full: could not write {output}", hint="free some space, or write elsewhere")
    if not isinstance(error, sf.SoundFileError):
        return None
    # standard output is written to a temporary file first (engine.render.PipedOutput)
    folder = Path(tempfile.gettempdir()) if output == STDOUT_NAME else Path(output).resolve().parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError:
        free = None
    if free is not None and free < needed:
        return PhononError(
            f"disk full: could not write {output}",
            hint=f"the file needs about {needed / 1e6:.1f} MB and {folder} has {free / 1e6:.1f} MB free; free some "
            "space, or write elsewhere",
        )
    return PhononError(f"could not write {output}: {error}")


def cmd_graph(args: argparse.Namespace) -> int:
    from phonon.engine.report import graph_dot, graph_text

    graph = _compile(args.file)
    print(graph_dot(graph) if args.dot else graph_text(graph, sr=args.sr, block=args.block, workers=args.workers))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from phonon.engine.bench import bench_files

    programs = [(read_program(f)[0], f) for f in args.files]
    return bench_files(
        programs, seconds=args.duration, sr=args.sr, block=args.block, repeat=args.repeat, workers=args.workers,
        as_json=args.json, as_csv=args.csv, plot=args.plot,
    )


def cmd_events(args: argparse.Namespace) -> int:
    """One answer per pattern, whatever the others do: a pattern that fails gets its error (a JSON error
    object with --json) and the rest are still listed. Exit status 1 if any failed."""
    import json

    from phonon.graph.compiler import compile_pattern
    from phonon.graph.patterns import events_text

    failed = False
    for pattern, record in _event_records(args):
        failed |= "error" in record
        if args.json:
            print(json.dumps(record), flush=True)
        elif "error" in record:
            print(f"{pattern}: error: {record['error']}", file=sys.stderr)
        else:
            print(events_text(pattern, args.cycles, compile_pattern))
    return 1 if failed else 0


def _event_records(args: argparse.Namespace):
    """(pattern, events_record) for the pattern given, or for each non-blank line of standard input."""
    from phonon.graph.compiler import compile_pattern
    from phonon.graph.patterns import events_record

    lines = [args.pattern.encode()] if args.pattern is not None else sys.stdin.buffer.read().splitlines()
    for raw in lines:
        if not raw.strip():
            continue
        try:
            pattern = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as e:
            text = raw.decode("utf-8", errors="replace")
            error = f"not UTF-8 text: byte 0x{raw[e.start]:02x} at column {e.start + 1}"
            yield text, {"pattern": text, "error": error}
            continue
        try:
            yield pattern, events_record(pattern, args.cycles, compile_pattern)
        except Exception as e:  # one pattern's failure must not cost the others their answers
            yield pattern, {"pattern": pattern, "error": f"{type(e).__name__}: {e}"}


def cmd_samples(args: argparse.Namespace) -> int:
    """`phonon samples`: the folders searched, in order, then every sample name with its file count and the
    folder (or the built-in kit) it comes from, as a program would resolve it."""
    from phonon.engine.samples import SampleError, SampleLibrary
    from phonon.engine.samples.library import default_folders
    from phonon.graph.kinds import SYNTH_SOUNDS

    try:
        library = SampleLibrary(args.samples)
        rows = library.listing()
    except SampleError as e:
        raise PhononError(e.message, hint=e.hint) from None
    print("searched in this order (the first with a folder NAME/ of sound files wins):")
    print("\n".join(f"  {where}" for where in library.search_order()))
    missing = [str(folder) for folder in default_folders() if not folder.is_dir()]
    print(f"  (also looked for, not there: {', '.join(missing)}; PHONON_SAMPLES names more folders)")
    width = max([len(name) for name, _, _ in rows] + [4])
    print(f"\n{'name':<{width}}  files  from")
    for name, count, where in rows:
        print(f"{name:<{width}}  {count:>5}  {where}")
    print(f"\n{len(rows)} names; `s \"NAME:i\"` plays file i (counting from 0, wrapping around).")
    print("These names play synth voices instead of samples: " + " ".join(SYNTH_SOUNDS))
    return 0


def cmd_functions(args: argparse.Namespace) -> int:
    from phonon.graph.glossary import listing

    print(listing())
    return 0


def cmd_help(args: argparse.Namespace) -> int:
    """`phonon help NAME`: a function, transform or control in full, or a subcommand's --help."""
    from phonon.graph.glossary import LIST_COMMAND, describe, unknown_hint

    parser = build_parser()
    if args.name is None:
        parser.print_help()
        print(f"\n`{LIST_COMMAND}` lists what a program can call; `phonon help NAME` explains one.")
        return 0
    if args.name in subcommands(parser):
        subcommands(parser)[args.name].print_help()
        return 0
    try:
        print(describe(args.name))
    except KeyError:
        raise PhononError(f"no function, transform or control is called '{args.name}'",
                          hint=unknown_hint(args.name)) from None
    return 0


def cmd_play(args: argparse.Namespace) -> int:
    """Real-time playback (engine.play): exit 0 after --duration, 130 after Ctrl-C (faded out, cleaned up)."""
    from phonon.engine.play import play_command

    return play_command(args)


class _Help(argparse.HelpFormatter):
    """Help texts that list what this machine's libsndfile writes (engine/formats.py), looked up only when
    help is shown: {formats}, {suffixes} and {subtypes} in a help text."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if "{" in text:
            from phonon.engine.formats import SUBTYPES, format_names, output_suffixes

            text = text.format(formats=", ".join(format_names()), suffixes=" ".join(output_suffixes()),
                               subtypes=", ".join(SUBTYPES))
        return text


class _ShowVersion(argparse.Action):
    """`--version`: the installed version, looked up only when asked (it costs every start-up otherwise)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        import phonon

        print(f"phonon {phonon.__version__}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="phonon", description="Render Phonon live-coding programs.")
    parser.add_argument("--version", action=_ShowVersion)
    sub = parser.add_subparsers(dest="command", required=True,
                                parser_class=functools.partial(argparse.ArgumentParser, formatter_class=_Help))

    r = sub.add_parser("render", help="render a program to a sound file")
    r.add_argument("files", nargs="+", metavar="FILE",
                   help="program file, or - for standard input; several files render into the folder -o names")
    r.add_argument("-o", "--output",
                   help="output file, in the format its name ends in ({suffixes}); - for standard output (a pipe "
                   "or a redirection; the format from --format); or a folder for several programs")
    r.add_argument("--stems", metavar="DIR",
                   help="also write each output, as it enters the master mix, to DIR/NAME.wav (o1.wav, d2.wav ...), "
                   "and the master to DIR/master.wav unless -o names it")
    r.add_argument("--channels", choices=["outputs"],
                   help="outputs: one file whose channels are the outputs (a stereo output as a pair)")
    r.add_argument("--cluster", metavar="ADDRESS",
                   help="render on Dask: tcp://HOST:PORT (a running scheduler) or local:N (N worker processes "
                   "here); the programs of a batch, and the master and each stem of --stems, are its tasks "
                   "(needs pip install 'phonon[cluster]')")
    r.add_argument("--format", help="the file format of -o -, of each program's file when rendering several into "
                   "a folder, and of --stems files when no -o name says it (default wav): {formats}")
    length = r.add_mutually_exclusive_group()
    length.add_argument("-d", "--duration", type=_number, help=f"seconds to render (default {RENDER_SECONDS:g})")
    length.add_argument("-c", "--cycles", type=_number, help="cycles to render, at the program's tempo")
    r.add_argument("--sr", type=int, default=44100, help=SR_HELP)
    r.add_argument("--block", type=int, default=512, help=BLOCK_HELP)
    r.add_argument("--gain", type=_number, default=1.0, help="output gain (default 1.0)")
    r.add_argument(
        "--ceiling", type=_number, default=1.0,
        help="peak ceiling, a hard clip unless --limit (default 1.0; above 1 only with --subtype FLOAT)",
    )
    r.add_argument("--limit", action="store_true", help=LIMIT_HELP)
    r.add_argument("--fade-in", type=_number, default=0.0, help="fade-in seconds (default 0)")
    r.add_argument("--fade-out", type=_number, default=0.0, help="fade-out seconds (default 0)")
    r.add_argument("--subtype", help="sample format: {subtypes} (default PCM_16; Ogg and MP3 files hold their "
                   "codec: VORBIS, MPEG_LAYER_III)")
    r.add_argument("--mono", action="store_true", help="write one channel instead of two")
    r.add_argument(
        "--no-dither", action="store_true",
        help="round 16-bit samples without dither (PCM_16 files get TPDF dither of +-1 step by default; "
        "float, 24 and 32-bit files never)",
    )
    r.add_argument("--workers", type=_workers, default=0, help=WORKERS_HELP)
    r.add_argument("--samples", action="append", default=[], metavar="DIR", help=SAMPLES_HELP)
    r.add_argument("-q", "--quiet", action="store_true", help="no summary line (nor the note on fused code)")
    r.add_argument(
        "--timings", action="store_true",
        help="say where the time went: interpreter, import, parse, plan, load kernels, render, write",
    )
    r.set_defaults(run=cmd_render)

    g = sub.add_parser("graph", help="show the compiled signal graph")
    g.add_argument("file", help="program file, or - for standard input")
    g.add_argument("--dot", action="store_true", help="Graphviz output")
    g.add_argument("--sr", type=int, default=44100, help=SR_HELP + ": the costs and plan shown are at it")
    g.add_argument("--block", type=int, default=512, help=BLOCK_HELP)
    g.add_argument("--workers", type=_workers, help="also show the partition plan for this many workers")
    g.set_defaults(run=cmd_graph)

    b = sub.add_parser("bench", help="measure rendering speed")
    b.add_argument("files", nargs="+", help="program files")
    b.add_argument("-d", "--duration", type=_number, default=10.0, help="seconds of audio per run (default 10)")
    b.add_argument("--sr", type=int, default=44100, help=SR_HELP)
    b.add_argument("--block", type=int, default=512, help=BLOCK_HELP)
    b.add_argument("--repeat", type=int, default=3,
                   help="runs per program; the median is reported, with the slowest and fastest run (default 3)")
    machine = b.add_mutually_exclusive_group()
    machine.add_argument("--json", action="store_true", help="one JSON line per program and worker count")
    machine.add_argument("--csv", action="store_true", help="CSV on standard output: a header, then one row per "
                         "program and worker count with the fields of --json")
    b.add_argument("--workers", type=_worker_list, default=[1], help="worker counts, e.g. 1,2,4 (default 1)")
    b.add_argument("--plot", metavar="PNG", help="write a speedup-versus-workers chart")
    b.set_defaults(run=cmd_bench)

    e = sub.add_parser("events", help="list the events of a pattern: mini-notation or any pattern expression")
    e.add_argument("pattern", nargs="?", help='mini-notation (bd*2 sn) or an expression (\'"0 2" $ scale "C:major"\', '
                   '\'n "0 .. 3" # s "arpy"\'); read one per line from stdin if omitted')
    e.add_argument("-c", "--cycles", type=_positive_int, default=1, help="cycles to list (default 1)")
    e.add_argument("--json", action="store_true", help="one JSON object per pattern: its events, or its error")
    e.set_defaults(run=cmd_events)

    p = sub.add_parser("play", help="play a program on the sound card (live reloading with --watch)")
    p.add_argument("file", nargs="?", help="program file (or - for standard input, without --watch)")
    p.add_argument("--watch", action="store_true", help="reload the program whenever the file changes")
    p.add_argument("--device", help="output device: a name, part of one, or a number (see --list-devices)")
    p.add_argument("--list-devices", action="store_true", help="list the output devices and exit")
    p.add_argument("--sr", type=int, help="sample rate (default: the device's)")
    p.add_argument("--block", type=int, default=512, help="block size in samples, also the device's (default 512)")
    p.add_argument(
        "--latency", type=_number, default=0.1, help="seconds rendering runs ahead of the device (default 0.1)"
    )
    p.add_argument("--workers", type=_workers, default=0, help=WORKERS_HELP)
    p.add_argument(
        "--reload-workers", type=_workers, help="processes for reloaded programs, or auto (default: --workers)"
    )
    p.add_argument("-d", "--duration", type=_number, help="stop after this many seconds (default: at Ctrl-C)")
    p.add_argument("--gain", type=_number, default=1.0, help="output gain (default 1.0)")
    p.add_argument(
        "--ceiling", type=_number, default=1.0, help="peak ceiling, a hard clip unless --limit (default 1.0; at most 1)"
    )
    p.add_argument("--limit", action="store_true", help=LIMIT_HELP)
    p.add_argument("--channels", choices=["outputs"],
                   help="outputs: each output to its own device channels, in mix order (a stereo output as a "
                   "pair), instead of the stereo master")
    p.add_argument("--samples", action="append", default=[], metavar="DIR", help=SAMPLES_HELP)
    p.add_argument("--json", action="store_true", help="print the summary as JSON on standard output")
    p.set_defaults(run=cmd_play)

    s = sub.add_parser("samples", help="list the sample names, their file counts and where each comes from")
    s.add_argument("--samples", action="append", default=[], metavar="DIR", help=SAMPLES_HELP)
    s.set_defaults(run=cmd_samples)

    f = sub.add_parser("functions", help="list every function, transform and control a program can call")
    f.set_defaults(run=cmd_functions)

    h = sub.add_parser("help", help="explain one function, transform or control (or a command)")
    h.add_argument("name", nargs="?", help="a name from `phonon functions` (lpf, fast, cutoff), or a command (render)")
    h.set_defaults(run=cmd_help)
    return parser


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The `phonon` command's subcommands by name, each its parser."""
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    saved = interrupts.install()
    try:
        return args.run(args)
    except PhononError as e:
        print(str(e), file=sys.stderr)
        return 1
    except BrokenPipeError:  # what reads standard output stopped (`phonon functions | head`): nothing to say
        return 141  # as a shell reports a command stopped by SIGPIPE
    except OSError as e:
        print(f"error: {e.strerror or e}" + (f": {e.filename}" if e.filename else ""), file=sys.stderr)
        return 1
    except RecursionError:  # a safety net: nesting is limited where it is parsed (graph/limits.py)
        print("error: the program is nested too deeply to compile; split it into buses", file=sys.stderr)
        return 1
    except KeyboardInterrupt as e:  # engine.render.PartlyWritten says what standard output got
        print(str(e) or "interrupted; nothing was written", file=sys.stderr)
        return 130
    finally:
        interrupts.restore(saved)


def run() -> None:
    """The `phonon` command: `main`, then leave at once. `main` has closed its files, joined its workers and
    released its shared memory; what finalising the interpreter would still do that matters is the exit
    handlers (PortAudio closing its device and JACK client), run here. Skipping the rest saves 0.3-0.4 s per
    command (the teardown of numba's LLVM), and after a stop signal it also keeps Python from killing itself
    with SIGINT (status -2 instead of 130) when the KeyboardInterrupt had escaped an exec() of library code,
    as numba's lazy imports do while kernels load. The stop signals stay handled until the process ends, so a
    late one cannot raise past `main`."""
    interrupts.install()
    code = main()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
