"""The `phonon` command, run for real as a subprocess (`python -m phonon ...`), its files read back.

What is checked is what a user relies on: the file's format, length, level and pitch; errors that point at
line and column with the source line and a caret, and that never leave a file (or a temporary file) behind;
`graph`, `bench` output; an interrupted render cleaning up after itself.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.audio import dominant_freq, peak, tone_amplitude
from tests.processes import wait_until_writing

ROOT = Path(__file__).resolve().parent.parent
PCM16 = 1.0 / 32768  # one 16-bit step
TONE = "out: sine 440 * 0.2\n"

# A program exercising most node kinds (no patterns), for block-size checks through the CLI.
BUSY = """tempo: 1
~lfo: sine 0.7 * 0.5 + 0.5
~src: saw (110 + ~lfo * 30) * 0.2 + square 220.5 * 0.1 + tri 331 * 0.1 + pulse 97 0.3 * 0.1
~noises: noise * 0.05 + pink * 0.05 + brown * 0.05
~filt: (~src # lpf (~lfo * 2000 + 300) 0.9) + (~noises # hpf 3000 2) + (~src # bpf 800 4) * 0.3
~fx: ~filt # delay 0.0731 0.6 0.4 # reverb 0.7 0.4 0.3 # dist 3 0.5 # comp -18 4 0.005 0.08 3
out: ~fx # chorus 1.3 0.6 0.5 # bitcrush 12 1 # adsr 0.05 0.1 0.6 0.2
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("COLUMNS", None)
    return env


def phonon(
    *args: str | os.PathLike, input: str | None = None, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m phonon ARGS`, with `env` added to the environment."""
    return subprocess.run(
        [sys.executable, "-m", "phonon", *map(str, args)],
        cwd=ROOT,
        env=_env() | (env or {}),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def write(tmp_path: Path, text: str, name: str = "prog.phonon") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def listing(folder: Path) -> set[str]:
    """Every entry, hidden ones (temporary `.x.wav.*.partial` files) included."""
    return set(os.listdir(folder))


def render_ok(tmp_path: Path, program: str, out: str, *args: str) -> tuple[np.ndarray, sf._SoundFileInfo]:
    prog = write(tmp_path, program)
    r = phonon("render", prog, "-o", tmp_path / out, *args)
    assert r.returncode == 0, r.stderr
    data, sr = sf.read(tmp_path / out, always_2d=True)
    info = sf.info(tmp_path / out)
    assert sr == info.samplerate
    return data, info


# ---------------------------------------------------------------------------------------------- render


def test_render_wav_defaults(tmp_path):
    data, info = render_ok(tmp_path, TONE, "out.wav", "--duration", "1")
    assert (info.samplerate, info.channels, info.frames, info.format, info.subtype) == (44100, 2, 44100, "WAV", "PCM_16")
    assert np.array_equal(data[:, 0], data[:, 1])
    assert peak(data[:, 0]) == pytest.approx(0.2, abs=2 * PCM16)
    assert tone_amplitude(data[:, 0], 440.0) == pytest.approx(0.2, abs=2 * PCM16)
    assert dominant_freq(data[:, 0]) == pytest.approx(440.0, abs=1.0)
    assert listing(tmp_path) == {"prog.phonon", "out.wav"}


def test_render_matches_the_in_process_renderer(tmp_path):
    """A FLOAT file holds exactly the engine's samples (rounded to float32)."""
    from phonon.engine.render import render_array

    data, info = render_ok(tmp_path, BUSY, "busy.wav", "--duration", "1", "--subtype", "FLOAT")
    assert info.subtype == "FLOAT"
    ref = render_array(BUSY, seconds=1.0)
    assert np.array_equal(data, ref.astype(np.float32).astype(np.float64))


def test_render_sample_rate(tmp_path):
    data, info = render_ok(tmp_path, TONE, "out.wav", "--duration", "1", "--sr", "48000")
    assert (info.samplerate, info.frames) == (48000, 48000)
    assert dominant_freq(data[:, 0], 48000) == pytest.approx(440.0, abs=1.0)


def test_render_mono(tmp_path):
    data, info = render_ok(tmp_path, TONE, "mono.wav", "--duration", "1", "--mono")
    assert (info.channels, info.frames) == (1, 44100)
    stereo, _ = render_ok(tmp_path, TONE, "stereo.wav", "--duration", "1")
    assert np.array_equal(data[:, 0], stereo[:, 0])


def test_render_cycles_follow_the_tempo(tmp_path):
    _, info = render_ok(tmp_path, "tempo: 1\n" + TONE, "c.wav", "--cycles", "2")
    assert info.frames == 2 * 44100
    _, info = render_ok(tmp_path, "bpm: 120\n" + TONE, "b.wav", "--cycles", "3")  # bpm 120 = 2 cycles/s
    assert info.frames == 3 * 22050


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
def test_render_subtypes(tmp_path, subtype):
    data, info = render_ok(tmp_path, TONE, "s.wav", "--duration", "0.5", "--subtype", subtype)
    assert info.subtype == subtype
    step = {"PCM_16": PCM16, "PCM_24": 2.0**-23, "PCM_32": 2.0**-31, "FLOAT": 1e-7}[subtype]
    assert peak(data[:, 0]) == pytest.approx(0.2, abs=2 * step + 1e-7)


def test_render_flac_is_lossless_and_ogg_is_readable(tmp_path):
    wav, _ = render_ok(tmp_path, TONE, "t.wav", "--duration", "1")
    flac, info = render_ok(tmp_path, TONE, "t.flac", "--duration", "1")
    assert (info.format, info.subtype, info.frames) == ("FLAC", "PCM_16", 44100)
    # The same 16-bit samples; libsndfile rounds FLAC but floors WAV conversions, so allow one step.
    assert np.max(np.abs(flac - wav)) <= PCM16
    ogg, info = render_ok(tmp_path, TONE, "t.ogg", "--duration", "1")
    assert (info.format, info.channels) == ("OGG", 2)
    assert abs(info.frames - 44100) <= 1024
    assert dominant_freq(ogg[:, 0]) == pytest.approx(440.0, abs=1.0)
    assert tone_amplitude(ogg[:, 0], 440.0) == pytest.approx(0.2, rel=0.05)


def test_render_block_size_does_not_change_the_file(tmp_path):
    a, _ = render_ok(tmp_path, BUSY, "a.wav", "--duration", "1.5", "--block", "64")
    b, _ = render_ok(tmp_path, BUSY, "b.wav", "--duration", "1.5", "--block", "2048")
    c, _ = render_ok(tmp_path, BUSY, "c.wav", "--duration", "1.5", "--block", "100")
    assert peak(a) > 0.01
    assert np.array_equal(a, b)
    assert np.array_equal(a, c)


def test_render_from_stdin(tmp_path):
    """`phonon render - -o tone.flac --cycles 4 <<< 'out: sine 440 * 0.2'`: 4 cycles at 0.5 cps = 8 s."""
    r = phonon("render", "-", "-o", tmp_path / "tone.flac", "--cycles", "4", input="out: sine 440 * 0.2")
    assert r.returncode == 0, r.stderr
    info = sf.info(tmp_path / "tone.flac")
    assert (info.samplerate, info.channels, info.frames) == (44100, 2, 8 * 44100)
    data, _ = sf.read(tmp_path / "tone.flac")
    assert dominant_freq(data[:44100, 0]) == pytest.approx(440.0, abs=1.0)


def test_gain_and_ceiling_options(tmp_path):
    data, _ = render_ok(tmp_path, TONE, "g.wav", "--duration", "0.5", "--gain", "0.5")
    assert peak(data) == pytest.approx(0.1, abs=2 * PCM16)
    prog = write(tmp_path, TONE)
    r = phonon("render", prog, "-o", tmp_path / "c.wav", "--duration", "0.5", "--ceiling", "0.1", "--subtype", "FLOAT")
    assert r.returncode == 0, r.stderr
    data, _ = sf.read(tmp_path / "c.wav")
    assert peak(data) == pytest.approx(0.1, abs=1e-7)
    assert "clipped" in r.stderr


def test_nonfinite_node_is_reported_and_the_file_is_finite(tmp_path):
    prog = write(tmp_path, "-- blows up\nout: (sine 1000 * 1e308 # bpf 1000 20) * 0.1\n")
    r = phonon("render", prog, "-o", tmp_path / "x.wav", "--duration", "0.5", "--subtype", "FLOAT")
    assert r.returncode == 0, r.stderr
    assert re.search(r"warning: bpf \(line 2 col \d+\) produced NaN/inf", r.stderr), r.stderr
    data, _ = sf.read(tmp_path / "x.wav")
    assert np.isfinite(data).all()


def test_output_file_permissions_follow_the_umask(tmp_path):
    render_ok(tmp_path, TONE, "perm.wav", "--duration", "0.1")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "perm.wav").stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.mark.skipif(shutil.which("phonon") is None, reason="the phonon console script is not installed")
def test_installed_console_script(tmp_path):
    prog = write(tmp_path, TONE)
    r = subprocess.run(
        [shutil.which("phonon"), "render", str(prog), "-o", str(tmp_path / "c.wav"), "--duration", "0.5"],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert sf.info(tmp_path / "c.wav").frames == 22050


# ---------------------------------------------------------------------------------------------- errors

PROGRAM_ERRORS = [
    # (program, line, col or None (any), fragments the message must contain)
    ("out: sine 440 +", 1, None, ["error: unexpected end of line"]),
    ("out: sinee 440", 1, 6, ["unknown function 'sinee'", "did you mean 'sine'"]),
    ("-- a comment\n\nout: sinee 440", 3, 6, ["unknown function 'sinee'", "did you mean 'sine'"]),
    ("~bass: saw 55\nout: ~bas", 2, 6, ["undefined bus ~bas", "did you mean '~bass'"]),
    ("out: lpf 1 2 3 4 5", 1, 6, ["takes at most 3 arguments, got 5", "usage: lpf input cutoff [q=1]"]),
    ("out: saw 55 # lpf", 1, None, ["lpf needs its 'cutoff' argument", "usage: lpf input cutoff [q=1]"]),
    ("out: saw 55 # lpf 300 :qq 2", 1, 23, ["lpf has no parameter 'qq'", "did you mean ':q'"]),
    ("bass: saw 55", 1, 1, ["unknown statement 'bass'"]),
    ("out: lpf(saw 55, 800)", 1, None, ["lpf 800 0.7"]),
]


def _assert_located(stderr: str, prog: Path, source: str, line: int, col: int | None) -> int:
    """`file:line:col: error:` first, then the source line, then a caret under the column."""
    m = re.match(re.escape(str(prog)) + r":(\d+):(\d+): error: ", stderr)
    assert m, stderr
    assert int(m.group(1)) == line, stderr
    got_col = int(m.group(2))
    if col is not None:
        assert got_col == col, stderr
    lines = stderr.splitlines()
    code = source.splitlines()[line - 1]
    assert lines[1] == "  " + code, stderr
    assert lines[2] == "  " + " " * (got_col - 1) + "^", stderr
    return got_col


@pytest.mark.parametrize("program, line, col, fragments", PROGRAM_ERRORS, ids=[p for p, *_ in PROGRAM_ERRORS])
def test_program_errors_point_at_the_source(tmp_path, program, line, col, fragments):
    prog = write(tmp_path, program + "\n")
    r = phonon("render", prog, "-o", tmp_path / "out.wav", "--duration", "1")
    assert r.returncode != 0
    _assert_located(r.stderr, prog, program, line, col)
    for fragment in fragments:
        assert fragment in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert listing(tmp_path) == {"prog.phonon"}  # no output, no temporary file


def test_bad_pattern_error_points_inside_the_string(tmp_path):
    program = 'out: saw "55 [110" * 0.2'
    prog = write(tmp_path, program + "\n")
    r = phonon("render", prog, "-o", tmp_path / "out.wav", "--duration", "1")
    assert r.returncode != 0
    col = _assert_located(r.stderr, prog, program, 1, None)
    quote = program.index('"') + 1  # 1-based column of the opening quote
    assert quote < col <= program.rindex('"') + 1, r.stderr
    assert "Traceback" not in r.stderr
    assert listing(tmp_path) == {"prog.phonon"}


def test_feedback_loop_is_named(tmp_path):
    """A loop between buses is either an error naming the buses (line and column of the closing reference)
    or, where feedback is supported, legal and named by `phonon graph`; it never crashes."""
    program = "~a: ~b * 0.5 + saw 55 * 0.1\n~b: ~a # delay 0.1\nout: ~a\n"
    prog = write(tmp_path, program)
    r = phonon("render", prog, "-o", tmp_path / "out.wav", "--duration", "0.5")
    assert "Traceback" not in r.stderr
    if r.returncode != 0:
        _assert_located(r.stderr, prog, program, 2, 5)
        assert "~a -> ~b -> ~a" in r.stderr
        assert listing(tmp_path) == {"prog.phonon"}
    else:
        assert sf.info(tmp_path / "out.wav").frames == 22050
        g = phonon("graph", prog)
        assert g.returncode == 0, g.stderr
        assert "~a -> ~b -> ~a" in g.stdout


OPTION_ERRORS = [
    # (extra args, output name, fragments)
    ([], "out.xyz", ["cannot tell the file format", "out.xyz"]),
    (["--subtype", "FLOAT"], "out.flac", ["FLAC files cannot hold FLOAT samples"]),
    (["--subtype", "PCM_12"], "out.wav", ["unknown sample format PCM_12"]),
    (["--duration", "-1"], "out.wav", ["duration must be positive"]),
    (["--cycles", "-2"], "out.wav", ["cycles must be positive"]),
    (["--sr", "10"], "out.wav", ["sample rate 10 is out of range"]),
    (["--block", "0"], "out.wav", ["block size 0 is out of range"]),
    (["--ceiling", "2"], "out.wav", ["ceiling"]),
    ([], "missing-folder/out.wav", ["does not exist"]),
]


@pytest.mark.parametrize("args, out, fragments", OPTION_ERRORS, ids=[" ".join(a) or o for a, o, _ in OPTION_ERRORS])
def test_option_errors_write_nothing(tmp_path, args, out, fragments):
    prog = write(tmp_path, TONE)
    r = phonon("render", prog, "-o", tmp_path / out, *args)
    assert r.returncode != 0
    assert "error:" in r.stderr
    for fragment in fragments:
        assert fragment in r.stderr, r.stderr
    assert "Traceback" not in r.stderr
    assert listing(tmp_path) == {"prog.phonon"}


def test_missing_program_file(tmp_path):
    r = phonon("render", tmp_path / "nope.phonon", "-o", tmp_path / "out.wav", "--duration", "1")
    assert r.returncode != 0
    assert "error: no such program file" in r.stderr and "nope.phonon" in r.stderr
    assert listing(tmp_path) == set()


def test_failed_render_keeps_an_existing_file(tmp_path):
    render_ok(tmp_path, TONE, "keep.wav", "--duration", "0.5")
    before = (tmp_path / "keep.wav").read_bytes()
    prog = write(tmp_path, "out: sinee 440\n")
    r = phonon("render", prog, "-o", tmp_path / "keep.wav", "--duration", "1")
    assert r.returncode != 0
    assert (tmp_path / "keep.wav").read_bytes() == before
    assert listing(tmp_path) == {"prog.phonon", "keep.wav"}


@pytest.mark.parametrize("target", ["a_folder.wav", "prog.phonon/x.wav"])
def test_unwritable_output_is_a_clean_error(tmp_path, target):
    (tmp_path / "a_folder.wav").mkdir()
    prog = write(tmp_path, TONE)
    r = phonon("render", prog, "-o", tmp_path / target, "--duration", "0.2")
    assert r.returncode != 0
    assert "Traceback" not in r.stderr, r.stderr
    assert "error:" in r.stderr
    assert listing(tmp_path) == {"prog.phonon", "a_folder.wav"}
    assert listing(tmp_path / "a_folder.wav") == set()


def test_fades(tmp_path):
    """--fade-in / --fade-out are linear ramps over the first and last frames of the whole file."""
    data, _ = render_ok(
        tmp_path, TONE, "f.wav", "--duration", "1", "--fade-in", "0.1", "--fade-out", "0.5", "--subtype", "FLOAT"
    )
    plain, _ = render_ok(tmp_path, TONE, "p.wav", "--duration", "1", "--subtype", "FLOAT")
    env = np.ones(44100)
    env[:4410] = np.arange(4410) / 4410
    env[-22050:] = (44100 - np.arange(22050, 44100)) / 22050
    assert np.max(np.abs(data[:, 0] - plain[:, 0] * env)) < 1e-7


def test_zero_duration_is_an_error(tmp_path):
    prog = write(tmp_path, TONE)
    r = phonon("render", prog, "-o", tmp_path / "out.wav", "--duration", "0")
    assert r.returncode != 0
    assert listing(tmp_path) == {"prog.phonon"}


# ---------------------------------------------------------------------------------------- interruption


def _start_long_render(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    prog = write(tmp_path, "out: saw 55 # lpf 800 0.7 # reverb 0.8 0.5\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "phonon", "render", str(prog), "-o", str(tmp_path / "long.wav"), "--duration", "36000"],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_until_writing(proc, tmp_path)  # the render is under way
    time.sleep(1.0)  # well into rendering blocks
    return proc, prog


def test_interrupted_render_leaves_nothing(tmp_path):
    proc, _ = _start_long_render(tmp_path)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "interrupted" in err
    assert "Traceback" not in err
    assert listing(tmp_path) == {"prog.phonon"}  # no output, no .partial


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_terminated_render_leaves_nothing(tmp_path, sig):
    proc, _ = _start_long_render(tmp_path)
    proc.send_signal(sig)  # SIGHUP: the terminal was closed
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in err
    assert listing(tmp_path) == {"prog.phonon"}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_interrupt_python_swallows_still_stops_the_render(tmp_path, monkeypatch, capsys):
    """A KeyboardInterrupt raised inside a ctypes callback (numba loads code through them) is only printed
    as "Exception ignored"; the render must stop all the same, at the next chunk, and leave nothing."""
    import ctypes

    from phonon.engine import render
    from phonon.engine.cli import main

    chunks = []
    original = render.Renderer.render_into

    def render_into(self, dest, frames, taps=None):
        if not chunks:
            ctypes.CFUNCTYPE(None)(lambda: os.kill(os.getpid(), signal.SIGINT))()
        chunks.append(frames)
        return original(self, dest, frames, taps)

    monkeypatch.setattr(render.Renderer, "render_into", render_into)
    prog = write(tmp_path, TONE)
    assert main(["render", str(prog), "-o", str(tmp_path / "x.wav"), "-d", "60", "--workers", "1"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert len(chunks) == 1  # it stopped at the next chunk instead of rendering the minute
    assert listing(tmp_path) == {"prog.phonon"}


# ----------------------------------------------------------------------------------------- graph, bench

TOUR = ROOT / "examples" / "tour.phonon"
SIMPLE = ROOT / "examples" / "bench" / "simple.phonon"


def _buses(path: Path) -> list[str]:
    return re.findall(r"^(~[A-Za-z_]\w*)\s*[:$]", path.read_text(), re.M)


@pytest.mark.parametrize("path", [TOUR, SIMPLE], ids=["tour", "simple"])
def test_graph_text(path):
    r = phonon("graph", path)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for section in ("outputs:", "buses:", "nodes (cost", "evaluation order"):
        assert section in out
    buses = _buses(path)
    assert buses
    section = out.split("buses:")[1].split("nodes (cost")[0]
    for bus in buses:
        assert re.search(rf"^\s+{re.escape(bus)}\s+=", section, re.M), bus
    assert re.search(r"estimated [\d.]+ us of \d+ us per block", out)
    # every node row has a numeric cost
    rows = re.findall(r"^\s+\d+\s+\w+\s+\S+.*?\s(\d+\.\d\d)\s+\d+:\d+", out, re.M)
    assert rows and all(float(c) > 0 for c in rows)


@pytest.mark.parametrize("path", [TOUR, SIMPLE], ids=["tour", "simple"])
def test_graph_dot(path):
    r = phonon("graph", path, "--dot")
    assert r.returncode == 0, r.stderr
    dot = r.stdout.strip()
    assert dot.startswith("digraph")
    depth = 0
    for ch in dot:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0 and dot.endswith("}")
    for bus in _buses(path):
        assert bus in dot, bus
    assert "-> out" in dot


def test_graph_reports_errors_like_render(tmp_path):
    prog = write(tmp_path, "out: sinee 440\n")
    r = phonon("graph", prog)
    assert r.returncode != 0
    _assert_located(r.stderr, prog, "out: sinee 440", 1, 6)


def test_bench_json():
    r = phonon("bench", SIMPLE, "--duration", "1", "--repeat", "1", "--json")
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["realtime"] > 0
    assert result["ms_per_block_median"] > 0
    assert result["seconds"] == 1.0


def test_bench_piped_shows_whole_names_the_spread_and_the_plot_it_wrote(tmp_path):
    """Not on a terminal, the table is plain text: a long program name whole, every column, the slowest and
    fastest of the repeats beside the median; --plot says on stderr what it wrote."""
    prog = tmp_path / ("a_program_name_far_longer_than_any_terminal_column_would_give_it_" * 2 + ".phonon")
    shutil.copy(SIMPLE, prog)
    r = phonon("bench", prog, "--duration", "0.2", "--repeat", "2", "--workers", "1,2", "--plot", tmp_path / "s.png")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[1].split() == ["program", "workers", "parts", "realtime", "min..max", "ms/block", "p99", "ms",
                                "speedup", "predicted", "efficiency", "wait", "us"]
    rows = [ln.split() for ln in lines[2:]]
    assert [(row[0], row[1]) for row in rows] == [(str(prog), "1"), (str(prog), "2")]
    for row in rows:
        slowest, fastest = map(float, row[4].rstrip("x").split(".."))
        assert slowest <= float(row[3].rstrip("x")) <= fastest
    assert f"wrote {tmp_path / 's.png'}" in r.stderr.splitlines()
    assert (tmp_path / "s.png").stat().st_size > 0


def test_bench_csv():
    r = phonon("bench", SIMPLE, "--duration", "0.2", "--repeat", "2", "--csv")
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert list(rows[0]) == [
        "program", "workers", "nodes", "parts", "batches", "seconds", "realtime", "realtime_min", "realtime_max",
        "ms_per_block_median", "ms_per_block_p99", "wait_us_per_block", "overhead_ms_per_block", "budget_ms",
        "speedup", "predicted_speedup", "efficiency",
    ]
    assert len(rows) == 1 and rows[0]["program"] == str(SIMPLE) and rows[0]["workers"] == "1"
    assert float(rows[0]["realtime_min"]) <= float(rows[0]["realtime"]) <= float(rows[0]["realtime_max"])


def test_bench_plot_ticks_are_the_worker_counts():
    from phonon.engine.bench import speedup_figure

    results = [{"program": "a.phonon", "workers": w, "speedup": s} for w, s in ((1, 1.0), (2, 1.8), (3, 2.4), (6, 4))]
    ax = speedup_figure(results).axes[0]
    assert list(ax.get_xticks()) == [1, 2, 3, 6]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3", "6"]


def test_timings_say_where_the_time_went(tmp_path):
    prog = write(tmp_path, "out: sine 440 * 0.1\n")
    r = phonon("render", prog, "-o", tmp_path / "t.wav", "-d", "0.5", "--timings")
    assert r.returncode == 0, r.stderr
    line = next(ln for ln in r.stderr.splitlines() if ln.startswith("timings:"))
    phases = dict(re.findall(r"([a-z ]+) (\d+\.\d+) s", line.split(":", 1)[1].split(";")[0]))
    phases = {name.strip(): float(v) for name, v in phases.items()}
    assert list(phases) == ["interpreter", "import", "parse", "plan", "load kernels", "write", "render"]
    total = float(re.search(r"total (\d+\.\d+) s", line).group(1))
    assert total == pytest.approx(sum(phases.values()), abs=0.01)
    # speed from rendering alone (a first step that loaded or compiled kernels for long is left out and said),
    # start-up shown beside it
    assert re.search(r"\d\.\dx real time( \(not counting [^)]* loading kernels[^)]*\))? on 1 worker \(", r.stderr)


def test_the_first_render_says_what_it_compiles_and_leaves_it_out_of_the_speed(tmp_path):
    """An empty numba cache, as after install: the render says it is compiling and names the kernels, and its
    summary gives the audio's seconds, the wall time and a real-time factor that leaves the compiling out,
    saying so. The same cache again: nothing is compiled and nothing is said."""
    prog = write(tmp_path, "out: sine 440 * 0.1\n")
    cold = {"NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    first = phonon("render", prog, "-o", tmp_path / "a.wav", "-d", "0.2", env=cold)
    assert first.returncode == 0, first.stderr
    lines = first.stderr.splitlines()
    assert lines[0] == "compiling kernels (first run after install; numba keeps them for the next runs) ..."
    compiled = next(ln for ln in lines if ln.startswith("compiled "))
    assert re.match(r"compiled \d+ kernels in \d+\.\d s \(first run after install", compiled)
    assert {"sine", "mix_master"} <= set(compiled.split(": ", 1)[1].split(", "))
    summary = next(ln for ln in lines if ln.startswith("wrote "))
    assert re.search(r": stereo, 0\.20 s, 44100 Hz, peak 0\.100, \d+\.\dx real time "
                     r"\(not counting [^)]*compiling[^)]*\) on 1 worker \(\d+\.\d\d s wall time", summary), summary

    second = phonon("render", prog, "-o", tmp_path / "b.wav", "-d", "0.2", env=cold)
    assert second.returncode == 0, second.stderr
    assert not [ln for ln in second.stderr.splitlines() if ln.startswith("compil")], second.stderr
    assert re.search(r"\d+\.\dx real time on 1 worker \(\d+\.\d\d s wall time", second.stderr), second.stderr


def test_default_worker_count_is_what_the_cost_model_suggests_and_changes_nothing(tmp_path):
    from benchmarks.workloads import all_workloads
    from phonon.engine.render import available_cores
    from phonon.graph.compiler import compile_program
    from phonon.graph.plan.cost_model import suggested_workers

    light = write(tmp_path, "out: saw 110 # lpf 900 0.7 * 0.1\n", "light.phonon")
    r = phonon("render", light, "-o", tmp_path / "light.wav", "-d", "0.2")
    assert r.returncode == 0 and "on 1 worker (" in r.stderr, r.stderr
    text = all_workloads()["bus8x"]
    heavy = write(tmp_path, text, "bus8x.phonon")
    expected = suggested_workers(compile_program(text), available_cores())
    auto = phonon("render", heavy, "-o", tmp_path / "auto.wav", "-d", "0.3", "--subtype", "FLOAT")
    assert auto.returncode == 0, auto.stderr
    assert f"on {expected} worker{'s' if expected != 1 else ''} (" in auto.stderr
    one = phonon("render", heavy, "-o", tmp_path / "one.wav", "-d", "0.3", "--subtype", "FLOAT", "--workers", "1")
    assert one.returncode == 0, one.stderr
    np.testing.assert_array_equal(sf.read(tmp_path / "auto.wav")[0], sf.read(tmp_path / "one.wav")[0])


def test_render_refuses_to_overwrite_its_own_program(tmp_path):
    prog = write(tmp_path, "out: sine 440 * 0.1\n", "song.wav")
    r = phonon("render", prog, "-o", tmp_path / "." / "song.wav", "-d", "0.1")
    assert r.returncode != 0 and "overwrite the program" in r.stderr and "-o" in r.stderr
    assert prog.read_text() == "out: sine 440 * 0.1\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["song.wav"]


@pytest.mark.parametrize(
    "option,value", [("--duration", "inf"), ("--cycles", "inf"), ("--fade-in", "nan"), ("--fade-out", "inf"),
                     ("--gain", "nan"), ("--ceiling", "nan"), ("--duration", "1e999")],
)
def test_non_finite_numbers_are_refused_by_name_and_nothing_is_written(tmp_path, option, value):
    prog = write(tmp_path, "out: sine 440 * 0.1\n")
    r = phonon("render", prog, "-o", tmp_path / "x.wav", option, value)
    assert r.returncode == 2 and option in r.stderr and "not a finite number" in r.stderr
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prog.phonon"]
