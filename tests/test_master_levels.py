"""Levels at the master (engine/master.py): the soft limiter (`--limit`), 16-bit TPDF dither (`--no-dither`),
a ceiling above full scale for float files, and the clipping warning of `phonon play`.

What is checked is what a user hears or finds in the file: no peak over the ceiling with --limit, a quiet
program untouched by it, a loud tone that stays a tone; a sound below one 16-bit step that survives with
dither and vanishes without it, dither noise that is triangular and the same in every render; a clear error,
and no file, for a ceiling an integer file would clip at; play saying what render says when it clips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.render import render_array
from tests.audio import render_report
from tests.jack import JackServer, jack_available

ROOT = Path(__file__).resolve().parent.parent
STEP = 1.0 / 32768  # one 16-bit step, as soundfile reads 16-bit samples back

LOUD = "out: saw 110 * 10\n"  # +20 dB: peaks at 10
QUIET = "out: sine 440 * 0.3 + saw 55 * 0.2\n"  # peaks under 0.5, below the knee (3 dB under the ceiling)
# Two outputs (two parts for --workers 2), patterned levels: loud attacks, releases, quiet passages.
BUSY = 'tempo: 2\no1: saw "55 110 [82.5 165]" * "8 0.2 3"\no2: sine "440 880 660" * "<4 0.1>" # pan 0.3\n'
TINY = "out: sine 441 * 0.00001\n"  # -100 dBFS: a third of a 16-bit step


def phonon(
    *args: str | os.PathLike, env: dict[str, str] | None = None, capture: Path | None = None
) -> subprocess.CompletedProcess:
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PHONON_PLAY_CAPTURE", None)
    if capture is not None:
        env["PHONON_PLAY_CAPTURE"] = str(capture)  # what the device got (engine/play.py's test hook)
    return subprocess.run(
        [sys.executable, "-m", "phonon", *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=180,
    )


def render_file(tmp_path: Path, program: str, name: str, *args: str) -> tuple[Path, str]:
    prog = tmp_path / "prog.phonon"
    prog.write_text(program)
    out = tmp_path / name
    r = phonon("render", prog, "-o", out, "-q", *args)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    return out, r.stderr


# ------------------------------------------------------------------------------------------------ --limit


@pytest.mark.parametrize("ceiling", [1.0, 0.5])
def test_limit_keeps_a_plus_20_db_program_under_the_ceiling(ceiling):
    for program in (LOUD, BUSY):
        out, report = render_report(program, 2.0, ceiling=ceiling, limit=True)
        assert np.abs(out).max() <= ceiling
        assert np.abs(out).max() > 0.95 * ceiling  # it limits, it does not silence
        assert report.clipped == 0  # the hard ceiling behind it never had anything to do
        assert not [line for line in report.lines() if "clipped" in line]
    unlimited, report = render_report(LOUD, 2.0, ceiling=ceiling)
    assert report.clipped > 0.5 * unlimited.size  # without it, most of the saw is clipped flat


def test_a_quiet_program_passes_the_limiter_bit_for_bit():
    assert np.array_equal(render_array(QUIET, seconds=1.0, limit=True), render_array(QUIET, seconds=1.0))


def test_after_a_loud_passage_the_limiter_lets_go_completely():
    program = 'tempo: 0.5\nout: sine 440 * "10 0.3"\n'  # 1 s at +20 dB, then 1 s at 0.3
    limited = render_array(program, seconds=2.0, limit=True)
    plain = render_array(program, seconds=2.0)
    assert np.abs(limited[:44100]).max() <= 1.0
    # held 25 ms, released with a 0.1 s time constant from 10 to the knee (0.71): gone within 0.4 s
    assert np.array_equal(limited[44100 + 17640 :], plain[44100 + 17640 :])


def test_a_loud_tone_comes_out_the_same_tone_and_the_stereo_image_stays():
    """A held gain, not a waveshaper: after the first quarter cycle the output is the input times one
    constant (nothing added), and both sides get the same gain (pan stays where it was)."""
    program = "out: sine 110 * 10 # pan 0.2\n"
    y = render_array(program, seconds=1.0, limit=True)
    x = render_array(program, seconds=1.0, gain=0.01, ceiling=1.0)  # the same tone, unclipped: 10 * 0.01
    settle = 441  # 10 ms, past the first rise
    g = y[settle:] / np.where(x[settle:] == 0, 1, x[settle:])
    g = g[np.abs(x[settle:]) > 1e-3]
    # one gain, both channels, all along (it moves only with the sampled peaks: a few parts per million)
    assert g.max() - g.min() < 1e-4 * g.max()
    assert 0.95 < np.abs(y).max() <= 1.0


def test_the_limiter_is_the_same_at_every_block_size_and_worker_count():
    reference = render_array(BUSY, seconds=2.0, limit=True)
    assert np.abs(reference).max() <= 1.0 and np.abs(reference).max() > 0.95
    for block in (64, 2048):
        assert np.array_equal(render_array(BUSY, seconds=2.0, block=block, limit=True), reference), block
    assert np.array_equal(render_array(BUSY, seconds=2.0, workers=2, limit=True), reference)


def test_limit_through_the_command_line(tmp_path):
    limited = ("-d", "1", "--limit", "--ceiling", "0.7")
    out, stderr = render_file(tmp_path, LOUD, "loud.wav", *limited, "--subtype", "FLOAT")
    data, _ = sf.read(out)
    assert 0.66 < np.abs(data).max() <= 0.7
    assert "clipped" not in stderr
    out, stderr = render_file(tmp_path, LOUD, "loud16.wav", *limited)  # 16-bit, dithered
    data, _ = sf.read(out)
    assert 0.66 < np.abs(data).max() <= 0.7  # the dither never takes a sample past the ceiling either
    assert "clipped" not in stderr


# ------------------------------------------------------------------------------------------------- dither


def test_dither_keeps_a_sound_below_one_step_and_no_dither_loses_it(tmp_path):
    dithered, _ = render_file(tmp_path, TINY, "dithered.wav", "-d", "1")
    plain, _ = render_file(tmp_path, TINY, "plain.wav", "-d", "1", "--no-dither")
    reference, _ = render_file(tmp_path, TINY, "float.wav", "-d", "1", "--subtype", "FLOAT")
    q, _ = sf.read(dithered, dtype="int16")
    assert not np.any(sf.read(plain, dtype="int16")[0])  # rounded without dither: digital silence
    assert np.count_nonzero(q) > 0.2 * q.size  # with it: not silent
    x = sf.read(reference)[0] * 32768  # the master in 16-bit steps, before rounding
    assert np.array_equal(q[:, 0], q[:, 1])  # the same dither on both sides: a centred sound stays centred
    e = (q - x)[x != 0]  # what dither and rounding added (a sample that is exactly 0 stays 0)
    # TPDF: the error is at most 1 step of dither plus half a step of rounding, has no bias, and its power is
    # 1/4 step^2 whatever the signal (1/6 from the dither, 1/12 from the rounding)
    assert np.abs(e).max() < 1.5
    assert abs(e.mean()) < 0.01
    assert e.var() == pytest.approx(0.25, rel=0.05)
    # and the sine is still there, at its level: the least-squares fit of the file onto the master
    level = np.sum(q * x) / np.sum(x * x)
    assert level == pytest.approx(1.0, abs=0.05)


def test_dither_is_triangular_and_only_for_16_bit_files(tmp_path):
    nothing = "out: sine 440 * 1e-12\n"  # -240 dBFS: what comes out of the file is the dither alone
    out, _ = render_file(tmp_path, nothing, "s16.wav", "-d", "1")
    q = sf.read(out, dtype="int16")[0][:, 0]
    values, counts = np.unique(q, return_counts=True)
    share = dict(zip(values.tolist(), (counts / q.size).tolist()))
    # triangular dither on (-1, 1) rounds to -1, 0, 1 with 1/8, 3/4, 1/8 (rectangular +-1/2 would give only 0,
    # rectangular +-1 a quarter each side)
    assert set(share) == {-1, 0, 1}
    assert share[0] == pytest.approx(0.75, abs=0.01)
    assert share[1] == pytest.approx(0.125, abs=0.01) and share[-1] == pytest.approx(0.125, abs=0.01)
    # digital silence is left alone: no noise where the program is silent
    out, _ = render_file(tmp_path, "out: sine 440 * 0\n", "silence.wav", "-d", "1")
    assert not np.any(sf.read(out, dtype="int16")[0])
    # 24-bit files are not dithered: a -100 dBFS sine is within one 24-bit step of the master (dither of one
    # 16-bit step would be 256 of them)
    out24, _ = render_file(tmp_path, TINY, "tiny24.wav", "-d", "1", "--subtype", "PCM_24")
    reference, _ = render_file(tmp_path, TINY, "tiny.wav", "-d", "1", "--subtype", "FLOAT")
    assert np.abs(sf.read(out24)[0] - sf.read(reference)[0]).max() <= 2.0**-23


def test_dithered_renders_are_byte_identical(tmp_path):
    first, _ = render_file(tmp_path, BUSY, "a.wav", "-d", "1")
    again, _ = render_file(tmp_path, BUSY, "b.wav", "-d", "1")
    small, _ = render_file(tmp_path, BUSY, "c.wav", "-d", "1", "--block", "64", "--workers", "2")
    assert first.read_bytes() == again.read_bytes() == small.read_bytes()


# ------------------------------------------------------------------------------------------------ ceiling


def test_a_ceiling_above_1_lets_float_peaks_through(tmp_path):
    hot = "out: sine 440 * 1.5\n"
    out, stderr = render_file(tmp_path, hot, "hot.wav", "-d", "0.5", "--ceiling", "2", "--subtype", "FLOAT")
    assert np.abs(sf.read(out)[0]).max() == pytest.approx(1.5, abs=1e-6)
    assert "clipped" not in stderr
    limited = render_array("out: sine 440 * 20\n", seconds=0.5, ceiling=2.0, limit=True)
    assert 1.9 < np.abs(limited).max() <= 2.0


@pytest.mark.parametrize("args, held", [([], "PCM_16"), (["--subtype", "PCM_24"], "PCM_24"), (["--limit"], "PCM_16")])
def test_a_ceiling_above_1_for_integer_samples_is_an_error_and_writes_nothing(tmp_path, args, held):
    prog = tmp_path / "prog.phonon"
    prog.write_text("out: sine 440 * 1.5\n")
    r = phonon("render", prog, "-o", tmp_path / "out.wav", "-d", "0.5", "--ceiling", "2", *args)
    assert r.returncode == 1
    assert "error: --ceiling 2 is above full scale (1)" in r.stderr and held in r.stderr, r.stderr
    assert "--subtype FLOAT" in r.stderr  # the way out
    assert "Traceback" not in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prog.phonon"]


# --------------------------------------------------------------------------------------------------- play

_why = jack_available()
needs_jack = pytest.mark.skipif(_why is not None, reason=f"no real-time audio path here: {_why}")
SR = 48000


@pytest.fixture(scope="module")
def jack():
    with JackServer(rate=SR, period=256) as server:
        yield server


@needs_jack
def test_play_warns_when_it_clips_as_render_does(jack, tmp_path):
    program = "out: sine 440 * 2\n"
    prog = tmp_path / "hot.phonon"
    prog.write_text(program)
    # 0.5 s is 50 blocks of 480: play mixes whole blocks, so it clips exactly the samples render does
    r = phonon("play", prog, "--duration", "0.5", "--block", "480", env=jack.env())
    assert r.returncode == 0, r.stderr
    _, report = render_report(program, 0.5, sr=SR)  # the same line, the same count
    warning = [line for line in report.lines() if "clipped" in line]
    assert len(warning) == 1 and warning[0] in r.stderr.splitlines(), r.stderr


@needs_jack
def test_play_with_limit_stays_under_the_ceiling_without_a_warning(jack, tmp_path):
    prog = tmp_path / "hot.phonon"
    prog.write_text("out: sine 440 * 2\n")
    capture = tmp_path / "delivered.wav"
    r = phonon("play", prog, "--duration", "0.5", "--limit", "--ceiling", "0.8", env=jack.env(), capture=capture)
    assert r.returncode == 0, r.stderr
    assert "clipped" not in r.stderr
    delivered, _ = sf.read(capture)
    assert 0.75 < np.abs(delivered).max() <= 0.8
    r = phonon("play", prog, "--duration", "0.5", "--ceiling", "2", env=jack.env())
    assert r.returncode == 1 and "error: --ceiling 2 is above full scale (1)" in r.stderr, r.stderr
