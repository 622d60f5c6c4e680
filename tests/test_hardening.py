"""Hardening (issue 10): whatever the input, a render ends, and a bad program or pattern gets an error that
points at it (file:line:col, what is wrong, a hint), never a traceback, a hang or a file.

Programs run through the real `phonon` command in a subprocess, as a user runs them; the subprocess timeout
is only a guard against a hang (a render that never ends fails the test instead of stalling the suite), never
a speed assertion. Checks that need no render (what the compiler says about a program) run in process.
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections import namedtuple
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.render import CHUNK_FRAMES
from phonon.graph.compiler import compile_program
from phonon.graph.limits import MAX_CPS, MAX_EVENTS_PER_CYCLE, MAX_NESTING
from phonon.graph.patterns import MiniNotationError, PatternLimitError, events_record, parse_mini
from tests.audio import SR, render_report, tone_amplitude
from tests.compiling import compile_error
from tests.processes import alive, children, wait_until_writing

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD = 120  # seconds: only ever reached by a render that does not end


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def phonon(*args: str | os.PathLike, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run `phonon ARGS` (as `python -m phonon`); stdout and stderr come back as text."""
    result = subprocess.run(
        [sys.executable, "-m", "phonon", *map(str, args)],
        cwd=ROOT, env=_env(), input=stdin, capture_output=True, timeout=HANG_GUARD,
    )
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(), result.stderr.decode())


def write(folder: Path, text: str | bytes, name: str = "prog.phonon") -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def assert_clean_error(result: subprocess.CompletedProcess, where: str, *fragments: str) -> None:
    """Exit status 1 and a message starting `where: error:` (e.g. `prog.phonon:1:8`), with a hint, no traceback."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith(f"{where}: error: "), result.stderr
    assert "hint: " in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def assert_only(folder: Path, *names: str) -> None:
    """The folder holds exactly these entries: no output file, no hidden `.partial` left behind."""
    assert set(os.listdir(folder)) == set(names)


# ------------------------------------------------------------------------------------- 1: every render ends

# Voices no kernel can play, or can only play as a blip: each used to wedge a render that only kill -9
# stopped (a huge float through math.ceil wrapped to a negative count, then a loop ran ~1e29 times).
EXTREME_VOICES = {
    "sample slowed 1e20 times": ('s "bd" # speed 1e-20', "silent"),
    "sample slowed 1e20 times, backwards": ('s "bd" # speed -1e-20', "silent"),
    "sample 1000 semitones down": ('s "bd" # note -1000', "silent"),
    "sample sped up 1e20 times": ('s "bd" # speed 1e20', None),
    "sample 1000 semitones up": ('s "bd" # note 1000', None),
    "sample transposed past the float range": ('s "bd" # note 100000', None),
    "synth note 1000 semitones up": ('saw "c3" # note 1000', "silent"),
    "synth note 1000 semitones down": ('saw "c3" # note -1000', None),
    "synth note transposed past the float range": ('saw "c3" # note 100000', "silent"),
    "synth note in octave 99999999": ('saw "c99999999"', "silent"),
    "synth notes at 1e300 and 1e-300 Hz": ('square "c3 1e300 1e-300"', None),
    "sample held for 1e300 events": ('s "bd" # legato 1e300', "audible"),
    "synth note held for 1e300 events": ('saw "c3" # legato 1e300', "audible"),
    "sample slowed a googol googol times": ('s "bd" $ slow 1e300', "audible"),
    "sample with endless attack and release": ('s "bd" # attack 1e300 # release 1e300', None),
}


@pytest.mark.parametrize("program, expect", EXTREME_VOICES.values(), ids=EXTREME_VOICES.keys())
def test_extreme_voices_render_to_a_finite_file(tmp_path, program, expect):
    prog = write(tmp_path, f"out: {program}\n")
    out = tmp_path / "out.wav"
    result = phonon("render", prog, "-o", out, "-d", "1", "--sr", "22050")
    assert result.returncode == 0, result.stderr
    data, sr = sf.read(out, always_2d=True)
    assert sr == 22050 and data.shape == (22050, 2)
    assert np.isfinite(data).all()
    assert_only(tmp_path, "prog.phonon", "out.wav")
    if expect == "silent":  # a voice that cannot sound within the render ends at once
        assert not data.any()
    elif expect == "audible":  # a huge length is clamped, not wrapped to a negative one (a skipped voice)
        assert np.abs(data).max() > 0.1


# ------------------------------------------------------------------------------- 2: work stays bounded

# (program, line, column, what the message says): each used to run for minutes at up to 4 GB, or hang.
LIMIT_ERRORS = {
    "tempo 1e30": ('tempo: 1e30\nout: s "bd"\n', 1, 8, ["tempo 1e+30 is too fast", f"`tempo: {MAX_CPS}`"]),
    "bpm 1e9": ('bpm: 1e9\nout: s "bd"\n', 1, 6, ["bpm 1e+09 is too fast", f"`bpm: {MAX_CPS * 60}`"]),
    "tempo 1e-30": ('tempo: 0.000000000000000000000000000001\nout: s "bd"\n', 1, 8, ["too slow"]),
    "fast 1e30": ('out: s "bd" $ fast 1e30\n', 1, 15, ["fast: this pattern asks for more than 10,000 events"]),
    "fast -1e308": ('out: s "bd" $ fast -1e308\n', 1, 15, ["fast: the factor must not be negative"]),
    "slow 1e-7": ('out: s "bd" $ slow 0.0000001\n', 1, 15, ["more than 10,000 events in one cycle"]),
    "ply 1e6": ('out: s "bd" $ ply 1000000\n', 1, 15, ["ply: this pattern asks for more than 10,000 events"]),
    "chop 1e7": ('out: s "bd" $ chop 10000000\n', 1, 15, ["10000000 pieces for chop", "limit of 10,000"]),
    "euclid (1e5,2e5)": ('out: s "bd(100000,200000)"\n', 1, 11, ["200000 steps in a Euclidean rhythm"]),
    "mini-notation *1e308": ('out: s "bd*1e308"\n', 1, 11, ["times faster (`*`)", "limit of 10,000"]),
    "mini-notation !100000": ('out: s "bd!100000"\n', 1, 11, ["100000 repeats (`!`)"]),
    "a patterned factor": ('out: s "bd" $ fast "<1 1e30>"\n', 1, 15, ["more than 10,000 events in one cycle"]),
    "factors that multiply": ('out: s "[bd*100]*100" $ fast 100\n', 1, 25, ["more than 10,000 events"]),
    "a control pattern": ('out: sine ("1 2" $ segment 1e9) * 0.1\n', 1, 20, ["more than 10,000 events"]),
    "iter 1e9": ('out: s "bd" $ iter 1000000000\n', 1, 15, ["1000000000 parts for iter"]),
    "stut 1e9": ('out: s "bd" $ stut 1000000000 0.1 0.5\n', 1, 15, ["1000000000 echoes for stut"]),
    "a range of 1e9": ('out: sine "0 .. 1000000000"\n', 1, 11, ["1000000001 numbers in a range"]),
}


@pytest.mark.parametrize("program, line, col, fragments", LIMIT_ERRORS.values(), ids=LIMIT_ERRORS.keys())
def test_runaway_requests_are_located_errors(program, line, col, fragments):
    error = compile_error(program)
    text = str(error)
    assert text.startswith(f"prog.phonon:{line}:{col}: error: "), text
    assert error.hint, text
    for fragment in fragments:
        assert fragment in text, text


@pytest.mark.parametrize("program, place, fragment", [
    ('tempo: 1e30\nout: s "bd"\n', "1:8", "too fast"),
    ('out: s "bd" $ fast 1e30\n', "1:15", "more than 10,000 events in one cycle"),
    ('out: s "bd(100000,200000)"\n', "1:11", "200000 steps in a Euclidean rhythm"),
    ('out: s "bd" $ fast -1e308\n', "1:15", "must not be negative"),
])
def test_runaway_requests_fail_the_render_cleanly(tmp_path, program, place, fragment):
    prog = write(tmp_path, program)
    result = phonon("render", prog, "-o", tmp_path / "out.wav", "-d", "30")
    assert_clean_error(result, f"{prog}:{place}", fragment)
    assert_only(tmp_path, "prog.phonon")


def test_a_limit_reached_in_the_middle_of_a_render_stops_it_cleanly(tmp_path):
    # Cycle 9 asks for 20000 events: past the compile-time probe of the first cycles, so it is found while
    # rendering; the render stops with the message, and writes nothing.
    prog = write(tmp_path, 'tempo: 4\nout: s "<bd bd bd bd bd bd bd bd bd [bd*<20000>]>"\n')
    result = phonon("render", prog, "-o", tmp_path / "out.wav", "-d", "3")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "fast, ply, chop" in result.stderr, result.stderr
    assert_only(tmp_path, "prog.phonon")


def test_limits_are_where_they_say():
    at_limit = parse_mini(f"bd*{MAX_EVENTS_PER_CYCLE}")
    assert len(at_limit.query_arc(0, 1)) == MAX_EVENTS_PER_CYCLE
    with pytest.raises(MiniNotationError, match="limit of 10,000"):
        parse_mini(f"bd*{MAX_EVENTS_PER_CYCLE + 1}")
    with pytest.raises(PatternLimitError):
        parse_mini(f"bd*<1 {MAX_EVENTS_PER_CYCLE + 1}>").query_arc(1, 2)
    assert len(parse_mini("bd(5000,10000)").query_arc(0, 1)) == 5000
    compile_program(f'tempo: {MAX_CPS}\nout: s "bd"\n')  # the fastest tempo compiles
    compile_program(f'bpm: {MAX_CPS * 60}\nout: s "bd"\n')
    compile_error(f'tempo: {MAX_CPS + 1}\nout: s "bd"\n')


def test_a_pattern_asking_for_astronomical_work_fails_before_doing_it():
    # 1e8 events per cycle, no single factor above the limit: refused by the work budget of the query
    # (in microseconds; doing the work would take hours, and the test would never end).
    record = events_record("[bd*10000]*10000", 1)
    assert "more than 10,000 events in one cycle" in record["error"]
    record = events_record("[<~ ~>*10000]*10000", 1)  # no events at all, but 1e8 steps to find that out
    assert "error" in record


def test_events_of_a_runaway_pattern_is_a_prompt_error():
    result = phonon("events", "bd*1e308", "--json")
    assert result.returncode == 1
    (line,) = result.stdout.splitlines()
    record = json.loads(line)
    assert record["pattern"] == "bd*1e308"
    assert "times faster (`*`): more than the limit of 10,000 per cycle at column 3" in record["error"]


# ------------------------------------------------------------------ 3: located errors, not tracebacks


def test_a_program_that_is_not_utf8_is_a_located_error(tmp_path):
    prog = write(tmp_path, b"tempo: 1\n-- caf\xe9 au lait\nout: sine 440\n")
    result = phonon("render", prog, "-o", tmp_path / "out.wav")
    assert_clean_error(result, f"{prog}:2:7", "not UTF-8 text: byte 0xe9", "save the file as UTF-8")
    assert_only(tmp_path, "prog.phonon")
    result = phonon("render", "-", "-o", tmp_path / "out.wav", stdin=prog.read_bytes())
    assert_clean_error(result, "<stdin>:2:7", "not UTF-8 text")
    assert_only(tmp_path, "prog.phonon")


NESTED = {
    "500 nested calls": "out: " + "lpf (" * 500 + "saw 55" + ") 800" * 500 + "\n",
    "500 nested lists": "out: " + "[" * 500 + "0.1" + "]" * 500 + "\n",
    "500 transforms in a row": 'out: s "bd"' + " $ fast 1" * 500 + "\n",
    "500 minus signs": "out: " + "- " * 500 + "0.1\n",
}


@pytest.mark.parametrize("program", NESTED.values(), ids=NESTED.keys())
def test_deep_nesting_is_a_located_error(program):
    text = str(compile_error(program))
    assert text.startswith("prog.phonon:1:"), text
    assert f"nested more than {MAX_NESTING} levels deep" in text and "hint: " in text


@pytest.mark.parametrize("pattern, col", [
    ("[" * 500 + "bd" + "]" * 500, 8 + MAX_NESTING + 1),
    ("[bd " * 500 + "bd" + "]" * 500, 8 + 4 * MAX_NESTING + 1),
])
def test_deep_mini_notation_is_a_located_error(pattern, col):
    text = str(compile_error(f'out: s "{pattern}"\n'))
    assert text.startswith(f"prog.phonon:1:{col}: error: "), text
    assert f"brackets nested more than {MAX_NESTING} deep" in text


def test_nesting_within_the_limits_still_compiles():
    # compiled, and the patterns probed: no RecursionError on the way
    depth = MAX_NESTING - 4
    compile_program("out: " + "lpf (" * depth + "saw 55" + ") 800" * depth + "\n")
    compile_program('out: s "' + "[bd " * depth + "bd" + "]" * depth + '"' + " $ fast 1" * 8 + "\n")
    buses = "".join(f'~p{i}: ~p{i - 1} + "1 2"\n' for i in range(1, 100))
    compile_program('~p0: "1 2"\n' + buses + "out: sine (~p99 * 10) * 0.1\n")


def test_patterns_built_on_too_many_buses_are_a_located_error():
    buses = "".join(f'~p{i}: ~p{i - 1} + "1 2"\n' for i in range(1, 600))
    text = str(compile_error('~p0: "1 2"\n' + buses + "out: sine ~p599\n"))
    assert text.startswith("prog.phonon:"), text
    assert "nested too deeply to evaluate" in text


@pytest.mark.parametrize("program, col, fragment", [
    ("out: sine 1e309\n", 11, "the number 1e309 is out of range"),
    ('out: s "bd" $ fast 1e309\n', 20, "the number 1e309 is out of range"),
    ("out: sine " + "7" * 5000 + "\n", 11, "(5000 characters) is out of range"),
    ('out: sine "' + "7" * 5000 + '"\n', 11, "is not a number or a note name"),
    ('out: sine "nan inf"\n', 11, "'nan' is not a number or a note name"),
])
def test_unusable_numbers_are_located_errors(program, col, fragment):
    text = str(compile_error(program))
    assert text.startswith(f"prog.phonon:1:{col}: error: "), text
    assert fragment in text and "hint: " in text, text


def test_unusable_numbers_through_the_command(tmp_path):
    prog = write(tmp_path, "out: sine 1e309 * 0.1\n")
    result = phonon("render", prog, "-o", tmp_path / "out.wav")
    assert_clean_error(result, f"{prog}:1:11", "the number 1e309 is out of range")
    prog = write(tmp_path, 'out: sine "nan inf" * 0.1\n')
    result = phonon("render", prog, "-o", tmp_path / "out.wav")
    assert_clean_error(result, f"{prog}:1:11", "'nan' is not a number or a note name")
    # in cycle 9, past the compile-time probe: found while rendering, and reported at the same place
    prog = write(tmp_path, 'tempo: 4\nout: sine "<1 2 3 4 5 6 7 8 9 nan>" * 0.1\n')
    result = phonon("render", prog, "-o", tmp_path / "out.wav", "-d", "3")
    assert_clean_error(result, f"{prog}:2:11", "'nan' is not a number or a note name")
    assert_only(tmp_path, "prog.phonon")


def test_a_sample_whose_header_claims_1_hz_is_a_located_error(tmp_path):
    folder = tmp_path / "samples" / "boom"
    folder.mkdir(parents=True)
    sf.write(folder / "0.wav", np.full(4000, 0.1, dtype=np.float32), 1, subtype="PCM_16")
    out = tmp_path / "out"
    out.mkdir()
    prog = write(out, 'out: s "boom"\n')
    result = phonon("render", prog, "-o", out / "out.wav", "--samples", tmp_path / "samples")
    assert_clean_error(result, f"{prog}:1:6", f"sample file '{folder / '0.wav'}'", "sample rate of 1 Hz")
    assert_only(out, "prog.phonon")


def _tmpfs_render(tmp_path: Path, prog: Path) -> subprocess.CompletedProcess | None:
    """Render into a 64 kB tmpfs, mounted in a private mount namespace (gone when the command ends); stdout
    lists what the folder holds afterwards. None when this machine cannot mount one."""
    disk = tmp_path / "tiny"
    disk.mkdir()
    script = (
        f'mount -t tmpfs -o size=64k tmpfs "{disk}" || exit 99\n'
        f'"{sys.executable}" -m phonon.engine.cli render "{prog}" -o "{disk}/out.wav" -d 2\n'
        f'status=$?\nls -A "{disk}"\nexit $status\n'
    )
    for unshare in (["unshare", "--mount"], ["unshare", "--user", "--map-root-user", "--mount"]):
        try:
            result = subprocess.run([*unshare, "sh", "-c", script], cwd=ROOT, env=_env(), capture_output=True,
                                    text=True, timeout=HANG_GUARD)
        except FileNotFoundError:
            return None
        if result.returncode != 99 and "unshare" not in result.stderr[:80]:
            return result
    return None


def test_a_full_disk_is_said_so_and_leaves_nothing(tmp_path):
    prog = write(tmp_path, "out: sine 440 * 0.2\n")
    result = _tmpfs_render(tmp_path, prog)
    if result is None:
        pytest.skip("cannot mount a tmpfs here (see the in-process test below)")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert f"error: disk full: could not write {tmp_path}/tiny/out.wav" in result.stderr, result.stderr
    assert result.stdout.strip() == ""  # neither the file nor its .partial is left on the full disk


Usage = namedtuple("Usage", "total used free")


@pytest.mark.parametrize("free, expected", [
    (1000, "error: disk full: could not write"),
    (10**12, "error: could not write"),
])
def test_write_errors_are_explained(tmp_path, monkeypatch, capsys, free, expected):
    # In process, with the error libsndfile gives when the disk is full ("System error.": the errno is lost)
    # and the free space the folder reports: only too little space for the file is called a full disk.
    from phonon.engine import cli

    def failing_write(self, data):
        raise sf.LibsndfileError(2)

    monkeypatch.setattr(sf.SoundFile, "write", failing_write)
    monkeypatch.setattr(cli.shutil, "disk_usage", lambda folder: Usage(10**12, 0, free))
    prog = write(tmp_path, "out: sine 440 * 0.2\n")
    code = cli.main(["render", str(prog), "-o", str(tmp_path / "out.wav"), "-d", "0.1", "--workers", "1"])
    assert code == 1
    err = capsys.readouterr().err
    assert expected in err and "Traceback" not in err, err
    assert ("disk full" in err) == (free == 1000)
    assert_only(tmp_path, "prog.phonon")


def test_events_json_answers_every_line(tmp_path):
    lines = [b"bd sn", b"bd [sn", b"bd*1e308", b"\xff\xfe bd", b"bd(100000,200000)", b"hh*2"]
    result = phonon("events", "--json", stdin=b"\n".join(lines) + b"\n")
    assert result.returncode == 1  # some failed
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [("error" in r) for r in records] == [False, True, True, True, True, False]
    assert records[0]["events"][1] == {"begin": "1/2", "end": "1", "value": "sn"}
    assert "expected ']'" in records[1]["error"]
    assert "not UTF-8 text" in records[3]["error"]
    assert [e["value"] for e in records[5]["events"]] == ["hh", "hh"]
    ok = phonon("events", "--json", stdin=b"bd sn\nhh*2\n")
    assert ok.returncode == 0 and len(ok.stdout.splitlines()) == 2


def test_an_absurd_oscillator_frequency_stays_within_its_level():
    """A phase that grows past 2**63 wraps as a float (np.floor), never through int64 into garbage: each
    oscillator stays within its level instead of writing clipped full-scale noise."""
    from phonon.engine.render import render_array

    x = render_array("o1: saw 1e300 * 0.1\no2: square 1e300 * 0.1\no3: saw (sine 1 * 1e300) * 0.1\n", seconds=0.5)
    assert np.isfinite(x).all() and np.abs(x).max() <= 0.3 + 1e-12


# ------------------------------------------------------------------- 5: a stopped render loses nothing

# A render long enough to be stopped in the middle: ten hours of a filtered, reverberated saw.
LONG_RENDER = "out: saw 55 # lpf 800 0.7 # reverb 0.8 0.5\n"
# Output written through a named `.partial` file: what happens where the platform has no unnamed files.
NAMED_PARTIAL = "import engine.render as r; r._open_unnamed = lambda folder: None; from engine.cli import run; run()"
OLD_OUTPUT = b"the file that was here before the render\n"


def _unnamed_files_work(folder: Path) -> bool:
    """Whether this file system gives unnamed files (O_TMPFILE), which is what makes kill -9 leave nothing."""
    from phonon.engine.render import _open_unnamed

    fd = _open_unnamed(folder)
    if fd is None:
        return False
    os.close(fd)
    return True


def _start_long_render(folder: Path, *options: str, named: bool = False) -> subprocess.Popen:
    """Start a ten-hour render into folder/out.wav (where a file of that name already is) and return once it
    has written its first chunks into its output (tests.processes): under way, and nowhere near done."""
    prog = write(folder, LONG_RENDER)
    (folder / "out.wav").write_bytes(OLD_OUTPUT)
    start = ["-c", NAMED_PARTIAL] if named else ["-m", "phonon"]
    proc = subprocess.Popen(
        [sys.executable, *start, "render", str(prog), "-o", str(folder / "out.wav"), "-d", "36000", *options],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wait_until_writing(proc, folder, HANG_GUARD, written=2 * CHUNK_FRAMES * 2 * 2)  # two chunks of 16-bit stereo
    return proc


STOP_SIGNALS = {"SIGINT (Ctrl-C)": signal.SIGINT, "SIGTERM": signal.SIGTERM, "SIGHUP (terminal closed)": signal.SIGHUP}


@pytest.mark.parametrize("named", [False, True], ids=["unnamed file", "named .partial file"])
@pytest.mark.parametrize("sig", STOP_SIGNALS.values(), ids=STOP_SIGNALS.keys())
def test_a_render_stopped_by_a_signal_leaves_nothing_and_the_old_file_as_it_was(tmp_path, sig, named):
    proc = _start_long_render(tmp_path, named=named)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 130, err  # README: a stop signal exits 130, after the cleanup
    assert "interrupted; nothing was written" in err and "Traceback" not in err, err
    assert_only(tmp_path, "prog.phonon", "out.wav")  # no .partial, no hidden temporary
    assert (tmp_path / "out.wav").read_bytes() == OLD_OUTPUT


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_render_killed_with_sigkill_leaves_nothing(tmp_path, workers):
    if not _unnamed_files_work(tmp_path):
        pytest.skip("this file system has no unnamed files (O_TMPFILE): a killed render leaves its .partial")
    proc = _start_long_render(tmp_path, "--workers", workers)
    proc.kill()
    proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == -signal.SIGKILL
    assert_only(tmp_path, "prog.phonon", "out.wav")
    assert (tmp_path / "out.wav").read_bytes() == OLD_OUTPUT


@pytest.mark.parametrize("named", [False, True], ids=["unnamed file", "named .partial file"])
def test_a_render_replaces_an_existing_file_whole(tmp_path, named):
    prog = write(tmp_path, "out: sine 440 * 0.25\n")
    (tmp_path / "out.wav").write_bytes(OLD_OUTPUT)
    start = ["-c", NAMED_PARTIAL] if named else ["-m", "phonon"]
    result = subprocess.run(
        [sys.executable, *start, "render", str(prog), "-o", str(tmp_path / "out.wav"), "-d", "0.5", "--sr", "8000"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=HANG_GUARD,
    )
    assert result.returncode == 0, result.stderr
    data, sr = sf.read(tmp_path / "out.wav", always_2d=True)
    assert sr == 8000 and data.shape == (4000, 2) and np.abs(data).max() == pytest.approx(0.25, abs=1e-3)
    assert_only(tmp_path, "prog.phonon", "out.wav")
    new = tmp_path / "new.wav"  # and where there was no file
    assert phonon("render", prog, "-o", new, "-d", "0.5").returncode == 0
    assert sf.info(new).frames == 22050
    assert_only(tmp_path, "prog.phonon", "out.wav", "new.wav")


def test_a_render_that_fails_midway_leaves_the_old_file_as_it_was(tmp_path):
    # cycle 9 asks for more events than the limit: found while rendering, after some blocks were written
    prog = write(tmp_path, 'tempo: 4\nout: s "<bd bd bd bd bd bd bd bd bd [bd*<20000>]>"\n')
    (tmp_path / "out.wav").write_bytes(OLD_OUTPUT)
    result = phonon("render", prog, "-o", tmp_path / "out.wav", "-d", "3")
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert (tmp_path / "out.wav").read_bytes() == OLD_OUTPUT
    assert_only(tmp_path, "prog.phonon", "out.wav")


def _without_file_permission_override(command: list[str]) -> list[str] | None:
    """`command` run so that file permissions apply to it: as it is for an ordinary user; for root, without
    the capabilities that override them (setpriv). None when that is not possible here."""
    if os.geteuid() != 0:
        return command
    if shutil.which("setpriv") is None:
        return None
    drop = "-dac_override,-dac_read_search"
    return ["setpriv", f"--bounding-set={drop}", f"--inh-caps={drop}", *command]


def phonon_without_override(*args: str | os.PathLike) -> subprocess.CompletedProcess:
    command = _without_file_permission_override([sys.executable, "-m", "phonon", *map(str, args)])
    if command is None:
        pytest.skip("running as root without setpriv: file permissions cannot be made to apply")
    result = subprocess.run(command, cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=HANG_GUARD)
    return result


def test_a_read_only_output_folder_names_the_output(tmp_path):
    prog = write(tmp_path, "out: sine 440 * 0.2\n")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        result = phonon_without_override("render", prog, "-o", folder / "out.wav", "-d", "0.1")
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"error: cannot write '{folder / 'out.wav'}': the folder '{folder}' is not writable" in result.stderr
    assert ".partial" not in result.stderr and "hint: " in result.stderr
    assert_only(folder)


# ------------------------------------------------------------------------ 6: runaway loops are silenced

RUNAWAY = "~x: ~x * 4 + 1\nout: sine 440 * 0.2 + ~x\n"  # ~x grows 4-fold per sample: past 1e6 in ten samples
TONE_ALONE = "out: sine 440 * 0.2\n"


def test_a_runaway_loop_is_silenced_reported_once_and_the_tone_beside_it_plays_on(tmp_path):
    prog = write(tmp_path, RUNAWAY)
    result = phonon("render", prog, "-o", tmp_path / "out.wav", "-d", "2", "--subtype", "FLOAT")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1, result.stderr  # once, though the loop would run away again every block
    assert "in the feedback loop ~x ran away at 0.000 s" in warnings[0] and "(line 1 col" in warnings[0]
    assert "silenced for the rest of the render" in warnings[0]
    data, sr = sf.read(tmp_path / "out.wav", always_2d=True)
    assert np.isfinite(data).all() and np.abs(data).max() <= 0.2 + 1e-6  # no clipped sample, no noise
    assert tone_amplitude(data[:, 0], 440.0) == pytest.approx(0.2, abs=1e-4)


def test_a_silenced_loop_leaves_exactly_the_rest_of_the_program_at_every_worker_count():
    from phonon.engine.render import render_array

    alone = render_array(TONE_ALONE, seconds=1.0)
    for workers in (1, 2, 3):  # parallel equals serial, and both equal the program without the loop
        np.testing.assert_array_equal(render_array(RUNAWAY, seconds=1.0, workers=workers), alone)


def test_a_loop_that_runs_away_later_is_silenced_from_then_on():
    """A loop through a delay with a gain of 1.5 grows by half every 10 ms: it is caught (once) when it
    passes the runaway level, and from that block on the output is the tone alone."""
    from phonon.engine.master import RUNAWAY_LEVEL

    text = "~in: impulse 2\n~a: ~in + ~b * 1.5\n~b: ~a # delay 0.01 0 1\nout: ~a * 0.1 + sine 440 * 0.2\n"
    for workers in (1, 2):
        out, report = render_report(text, 3.0, workers=workers)
        (incident,) = report.incidents
        assert incident.kind == "runaway" and "in the feedback loop ~a, ~b" in incident.where
        assert "line 2" in incident.where
        growth = np.log(RUNAWAY_LEVEL) / np.log(1.5) * 0.01  # seconds for 1.5x per 10 ms to pass the level
        assert growth < incident.sample / SR < growth + 0.05
        tone, _ = render_report(TONE_ALONE, 3.0)
        block = incident.sample // 512 * 512
        np.testing.assert_array_equal(out[block:], tone[block:])


def test_loops_carrying_large_control_values_are_not_runaways():
    """A smoothing loop that settles at 15 kHz (a frequency, far above audio levels, far below the runaway
    level) keeps playing, and renders the same at every block size and worker count."""
    text = "~f: ~f * 0.999 + 15\nout: sine (~f * 0.02) * 0.2\n"
    outs = []
    for block, workers in ((64, 1), (512, 1), (2048, 1), (512, 2)):
        out, report = render_report(text, 1.0, block=block, workers=workers)
        assert not report.incidents
        outs.append(out)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])
    assert tone_amplitude(outs[0][SR // 2 :, 0], 300.0) == pytest.approx(0.2, abs=0.01)  # 15000 * 0.02 Hz


# ------------------------------------------------------------------------------------- 8: smaller things

# Two outputs, a part each: with --workers 2 one of them runs in a forked worker.
TWO_PARTS = "o1: saw 55 # lpf 800 0.7 * 0.1\no2: saw 82.5 # lpf 900 0.7 * 0.1\n"


@contextmanager
def _hang_guard(seconds: int):
    """SIGALRM after `seconds` fails the test: a guard against a hang, not a speed assertion."""

    def alarm(signum, frame):
        raise AssertionError(f"still waiting after {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def test_closing_a_renderer_does_not_wait_for_a_stopped_worker():
    """A worker stopped with SIGSTOP (Ctrl-Z, a debugger) cannot answer a request to stop: it is SIGKILLed at
    once, where the old teardown first waited for it to exit on its own (7.6 s under Ctrl-C). With a
    graceful wait of an hour the close would hang, and the guard would fail the test."""
    from phonon.engine.render import Renderer, RenderSettings

    out = np.zeros((8192, 2))
    renderer = Renderer(compile_program(TWO_PARTS), RenderSettings(), None, workers=2)
    renderer.render_into(out, 8192)
    workers = renderer.ensemble.runtime.pids
    assert workers
    renderer.ensemble.runtime.stop_timeout = 3600.0
    for pid in workers:
        os.kill(pid, signal.SIGSTOP)
    with _hang_guard(60):
        renderer.close()
    assert not any(alive(pid) for pid in workers)


def test_ctrl_c_with_a_stopped_worker_ends_the_render_cleanly(tmp_path):
    prog = write(tmp_path, TWO_PARTS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "phonon", "render", str(prog), "-o", str(tmp_path / "out.wav"), "-d", "36000",
         "--workers", "2"],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    wait_until_writing(proc, tmp_path, HANG_GUARD, written=2 * CHUNK_FRAMES * 2 * 2)
    stopped = children(proc.pid)
    for pid in stopped:  # the worker (and the background compiler, if it still runs)
        os.kill(pid, signal.SIGSTOP)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
    _, err = proc.communicate(timeout=HANG_GUARD)
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGCONT)  # the compiler is not a worker: let it go on and end
        except ProcessLookupError:
            pass
    assert proc.returncode == 130 and "interrupted" in err and "Traceback" not in err, err
    assert_only(tmp_path, "prog.phonon")


def test_closed_renderers_hold_no_shared_memory():
    """A long `play --watch` session opens and closes a renderer per edit: closing one unmaps its shared
    arenas and closes their descriptors at once, not at a garbage collection that may not come for a long
    time (collection is off here, so nothing is released behind the test's back)."""
    from phonon.engine.render import Renderer, RenderSettings

    def descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    def arena_mappings() -> int:
        with open("/proc/self/maps") as maps:
            return sum("memfd:phonon_" in line for line in maps)

    graph = compile_program(TWO_PARTS)
    out = np.zeros((1024, 2))
    counts = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(50):
            renderer = Renderer(graph, RenderSettings(), None, workers=2)
            renderer.render_into(out, 1024)
            assert renderer.ensemble.workers == 2 and arena_mappings() > 0  # it did use shared memory
            renderer.close()
            counts.append((descriptors(), arena_mappings()))
    finally:
        gc.enable()
    assert counts[-1] == counts[0] and counts[0][1] == 0, counts


def test_an_unreadable_sample_folder_is_named(tmp_path):
    samples = tmp_path / "samples"
    (samples / "boom").mkdir(parents=True)
    sf.write(samples / "boom" / "0.wav", np.full(4000, 0.1, dtype=np.float32), 44100)
    out = tmp_path / "out"
    out.mkdir()
    prog = write(out, 'out: s "boom"\n')
    # the sample's own folder: located at the sample's name; the --samples folder: an error about the option
    for locked, start in ((samples / "boom", f"{prog}:1:6: error:"), (samples, "error:")):
        locked.chmod(0)
        try:
            result = phonon_without_override("render", prog, "-o", out / "out.wav", "--samples", samples)
        finally:
            locked.chmod(0o755)
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.startswith(f"{start} the sample folder '{locked}' cannot be read"), result.stderr
        assert "unknown sample" not in result.stderr and "hint: make it readable" in result.stderr
        assert_only(out, "prog.phonon")


def test_a_folder_or_a_device_as_the_program_says_what_it_is(tmp_path):
    result = phonon("render", tmp_path, "-o", tmp_path / "out.wav")
    assert result.returncode == 1 and f"error: {tmp_path} is a folder, not a program file" in result.stderr
    result = phonon("render", "/dev/null", "-o", tmp_path / "out.wav")
    assert result.returncode == 1 and "error: /dev/null is a device, not a program file" in result.stderr
    assert "or - to read standard input" in result.stderr
    result = phonon("render", tmp_path / "missing.phonon", "-o", tmp_path / "out.wav")
    assert result.returncode == 1 and "no such program file" in result.stderr
    assert_only(tmp_path)


def test_a_fifo_is_read_like_standard_input_when_something_writes_it(tmp_path):
    fifo = tmp_path / "prog.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_text("out: sine 440 * 0.2\n"))  # blocks until opened
    writer.start()
    result = phonon("render", fifo, "-o", tmp_path / "out.wav", "-d", "0.2")
    writer.join(HANG_GUARD)
    assert result.returncode == 0, result.stderr
    assert sf.info(tmp_path / "out.wav").frames == 8820


def test_a_fifo_nobody_writes_is_an_error_not_a_wait_without_end(tmp_path):
    from phonon.engine.cli import FIFO_WRITER_WAIT

    fifo = tmp_path / "prog.fifo"
    os.mkfifo(fifo)
    result = phonon("render", fifo, "-o", tmp_path / "out.wav")
    assert result.returncode == 1, result.stderr
    assert f"error: nothing is writing to the FIFO {fifo}" in result.stderr and "hint: " in result.stderr
    assert FIFO_WRITER_WAIT < HANG_GUARD
    assert_only(tmp_path, "prog.fifo")


@pytest.mark.parametrize("option", [["-d", "1e-9"], ["--cycles", "1e-9"]])
def test_less_than_one_sample_is_refused(tmp_path, option):
    prog = write(tmp_path, "out: sine 440 * 0.2\n")
    result = phonon("render", prog, "-o", tmp_path / "out.wav", *option)
    assert result.returncode == 1 and "is less than one sample at 44100 Hz" in result.stderr, result.stderr
    assert "hint: render at least one sample" in result.stderr
    assert_only(tmp_path, "prog.phonon")


@pytest.mark.parametrize("cycles", ["0", "-1", "1.5"])
def test_events_refuses_cycles_that_are_not_a_positive_whole_number(cycles):
    result = phonon("events", "bd sn", "--cycles", cycles)
    assert result.returncode == 2 and result.stdout == ""
    assert "argument -c/--cycles" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("program, col, digit", [
    ("out: sine ٤٤٠ * 0.1\n", 11, "ARABIC-INDIC DIGIT FOUR"),
    ("out: sine 4٤0 * 0.1\n", 12, "ARABIC-INDIC DIGIT FOUR"),
    ("out: sine ४४० * 0.1\n", 11, "DEVANAGARI DIGIT FOUR"),
    ("out: sine ４４０ * 0.1\n", 11, "FULLWIDTH DIGIT FOUR"),
    ("out: sine 1e٣ * 0.1\n", 13, "ARABIC-INDIC DIGIT THREE"),
])
def test_numbers_are_written_with_ascii_digits(program, col, digit):
    text = str(compile_error(program))
    assert text.startswith(f"prog.phonon:1:{col}: error: unexpected character"), text
    assert digit in text and "hint: write numbers with the ASCII digits 0-9" in text


def test_a_crashed_worker_stops_the_render_and_says_so(tmp_path):
    """DESIGN's supervision says a crashed worker is replaced; the render instead stops cleanly (a worker's
    part state dies with it), and the message says so."""
    prog = write(tmp_path, TWO_PARTS)
    proc = subprocess.Popen(
        [sys.executable, "-m", "phonon", "render", str(prog), "-o", str(tmp_path / "out.wav"), "-d", "36000",
         "--workers", "2"],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    wait_until_writing(proc, tmp_path, HANG_GUARD, written=2 * CHUNK_FRAMES * 2 * 2)
    os.kill(children(proc.pid)[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=HANG_GUARD)
    assert proc.returncode == 1 and "Traceback" not in err, err
    assert "a worker process died" in err and "the render was stopped cleanly and nothing was written" in err
    assert "is not replaced in the middle of a render" in err
    assert_only(tmp_path, "prog.phonon")


# --------------------------------------------------------------------- found by the fuzzer (test_fuzz.py)


def test_a_number_with_a_huge_exponent_is_prompt():
    # an exact Fraction of 9e(40 nines) would have 1e40 digits: compiling never ended
    text = str(compile_error("out: sine 9e" + "9" * 40 + " * 0.1\n"))
    assert text.startswith("prog.phonon:1:11: error: the number 9e9999999999... (42 characters) is out of range")
    tiny = compile_program("out: sine 440 * 0.1 + 1e-" + "9" * 40 + "\n")  # underflows to 0, like the float
    assert tiny is not None


def test_a_pattern_value_past_the_float_range_is_a_located_error():
    # pattern arithmetic turns the 400-digit word into a Python int, which no float can hold
    text = str(compile_error('out: sine ("100 ' + "9" * 400 + '" + "10 20") * 0.1\n'))  # located at the `+`
    assert text.startswith("prog.phonon:1:419: error: a value of this pattern is out of range"), text
    text = str(compile_error('out: s "a@1e99999 b"\n'))  # a weight of inf: located at the `@`
    assert text.startswith('prog.phonon:1:10: error: in pattern "a@1e99999 b": a weight must be a finite number'), text


@pytest.mark.parametrize("time", ["-1e308", "9223372036854775808", "1e300", "nan"])
def test_a_feedback_delay_of_any_constant_time_renders(time):
    from phonon.engine.render import render_array

    text = f"~echo: (~in * 0.4 + ~echo * 0.5) # delay {time} 0 1 # lpf 2500\n~in: impulse 2\nout: ~echo * 0.5\n"
    if time == "nan":
        assert "nan" in str(compile_error(text))
        return
    out = render_array(text, seconds=0.3, sr=11025)
    assert np.isfinite(out).all()
