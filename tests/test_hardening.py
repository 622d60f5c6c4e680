"""Hardening (issue 10): whatever the input, a render ends, and a bad program or pattern gets an error that
points at it (file:line:col, what is wrong, a hint), never a traceback, a hang or a file.

Programs run through the real `phonon` command in a subprocess, as a user runs them; the subprocess timeout
is only a guard against a hang (a render that never ends fails the test instead of stalling the suite), never
a speed assertion. Checks that need no render (what the compiler says about a program) run in process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from graph.compiler import compile_program
from graph.errors import PhononError
from graph.limits import MAX_CPS, MAX_EVENTS_PER_CYCLE, MAX_NESTING
from graph.patterns import MiniNotationError, PatternLimitError, events_record, parse_mini

ROOT = Path(__file__).resolve().parent.parent
HANG_GUARD = 120  # seconds: only ever reached by a render that does not end


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def phonon(*args: str | os.PathLike, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run `phonon ARGS` (as `python -m engine.cli`); stdout and stderr come back as text."""
    result = subprocess.run(
        [sys.executable, "-m", "engine.cli", *map(str, args)],
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


def compile_error(program: str) -> PhononError:
    with pytest.raises(PhononError) as caught:
        compile_program(program, "prog.phonon")
    return caught.value


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
        f'"{sys.executable}" -m engine.cli render "{prog}" -o "{disk}/out.wav" -d 2\n'
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
    from engine import cli

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
    from engine.render import render_array

    x = render_array("o1: saw 1e300 * 0.1\no2: square 1e300 * 0.1\no3: saw (sine 1 * 1e300) * 0.1\n", seconds=0.5)
    assert np.isfinite(x).all() and np.abs(x).max() <= 0.3 + 1e-12
