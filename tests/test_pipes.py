"""`phonon render ... -o -`: the sound file on standard output, as sox and ffmpeg write one, in any format this
machine's libsndfile writes (engine/formats.py). What a pipe's reader gets is checked byte for byte against
`-o FILE`; messages go to standard error only, and a render that fails writes nothing there."""

from __future__ import annotations

import io
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from phonon.engine.formats import format_names, output_suffixes
from tests.processes import wait_until_writing
from tests.test_cli import ROOT, TONE, _env, phonon, write


def render_bytes(*args: object, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess:
    """`python -m phonon render ARGS`, standard output kept as bytes."""
    return subprocess.run([sys.executable, "-m", "phonon", "render", *map(str, args)], cwd=ROOT, env=_env(),
                          stdout=stdout, stderr=subprocess.PIPE, timeout=180)


def test_a_wav_on_standard_output_is_the_file_o_writes(tmp_path):
    prog = write(tmp_path, TONE)
    piped = render_bytes(prog, "-o", "-", "--format", "wav", "-d", "0.5")
    assert piped.returncode == 0, piped.stderr
    data, sr = sf.read(io.BytesIO(piped.stdout), always_2d=True)
    assert (sr, data.shape) == (44100, (22050, 2))  # the header's length is right: it was not streamed blind
    assert b"wrote standard output" in piped.stderr  # the summary on standard error, never in the sound
    to_file = render_bytes(prog, "-o", tmp_path / "x.wav", "-d", "0.5")
    assert to_file.returncode == 0 and to_file.stdout == b"", to_file.stderr
    assert piped.stdout == (tmp_path / "x.wav").read_bytes()
    again = render_bytes(prog, "-o", "-", "-d", "0.5")  # wav by default
    assert again.returncode == 0, again.stderr
    assert again.stdout == piped.stdout  # the same bytes again


def test_a_flac_on_standard_output_holds_the_same_samples(tmp_path):
    prog = write(tmp_path, TONE)
    flac = render_bytes(prog, "-o", "-", "--format", "flac", "-d", "0.5")
    assert flac.returncode == 0, flac.stderr
    assert sf.info(io.BytesIO(flac.stdout)).format == "FLAC"
    wav = render_bytes(prog, "-o", "-", "-d", "0.5")
    assert np.array_equal(sf.read(io.BytesIO(flac.stdout))[0], sf.read(io.BytesIO(wav.stdout))[0])
    assert render_bytes(prog, "-o", "-", "--format", "flac", "-d", "0.5").stdout == flac.stdout


def test_every_output_of_channels_outputs_on_standard_output(tmp_path):
    prog = write(tmp_path, "o1: sine 440 * 0.1\no2: saw 110 * 0.1 # pan 0.2\n")
    r = render_bytes(prog, "-o", "-", "--channels", "outputs", "-d", "0.2")
    assert r.returncode == 0, r.stderr
    assert sf.info(io.BytesIO(r.stdout)).channels == 3  # o1 mono, o2 stereo


def test_stems_beside_a_master_on_standard_output(tmp_path):
    prog = write(tmp_path, "o1: sine 440 * 0.1\no2: saw 110 * 0.1\n")
    (tmp_path / "stems").mkdir()
    r = render_bytes(prog, "-o", "-", "--stems", tmp_path / "stems", "--format", "flac", "-d", "0.2")
    assert r.returncode == 0, r.stderr
    assert sf.info(io.BytesIO(r.stdout)).format == "FLAC"
    assert sorted(p.name for p in (tmp_path / "stems").iterdir()) == ["o1.flac", "o2.flac"]


def test_an_unknown_format_lists_the_formats_this_machine_writes(tmp_path):
    r = render_bytes(write(tmp_path, TONE), "-o", "-", "--format", "xyz", "-d", "0.5")
    assert r.returncode == 1 and r.stdout == b""
    message = r.stderr.decode()
    assert "unknown format 'xyz'" in message
    assert "this machine writes " + ", ".join(format_names()) in message
    assert {"wav", "flac", "ogg", "aiff", "w64", "rf64", "caf"} <= set(format_names())


def test_a_format_and_a_file_name_that_disagree_are_an_error(tmp_path):
    r = phonon("render", write(tmp_path, TONE), "-o", tmp_path / "x.wav", "--format", "flac", "-d", "0.5")
    assert r.returncode == 1 and "--format flac and the name 'x.wav' ask for different formats" in r.stderr
    assert not (tmp_path / "x.wav").exists()


def test_a_failed_render_writes_nothing_on_standard_output(tmp_path):
    r = render_bytes(write(tmp_path, "out: sinee 440\n"), "-o", "-", "-d", "0.5")
    assert r.returncode == 1 and r.stdout == b""
    assert b"unknown function 'sinee'" in r.stderr


def test_a_reader_that_stops_is_reported(tmp_path):
    """The reader is gone before anything is written (`| head -c 0`): a broken pipe, said plainly."""
    reader_gone = subprocess.Popen([sys.executable, "-m", "phonon", "render", write(tmp_path, TONE), "-o", "-",
                                    "-d", "0.5"], cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader_gone.stdout.close()
    stderr = reader_gone.stderr.read().decode()
    assert reader_gone.wait(timeout=180) == 1
    assert "standard output was closed after about 0 of the file's" in stderr and "Traceback" not in stderr


def test_standard_output_takes_one_program_rendered_here(tmp_path):
    a, b = write(tmp_path, TONE, "a.phonon"), write(tmp_path, TONE, "b.phonon")
    several = phonon("render", a, b, "-o", "-")
    assert several.returncode == 1 and "-o - writes one program's file to standard output" in several.stderr
    cluster = phonon("render", a, "-o", "-", "--cluster", "local:1")
    assert cluster.returncode == 1 and "--cluster writes files" in cluster.stderr


def test_the_help_lists_the_formats_and_names_this_machine_writes():
    r = phonon("render", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())  # argparse wraps lines
    assert ", ".join(format_names()) in text
    assert " ".join(output_suffixes()) in text


def _render_to_pipe(tmp_path: Path, seconds: float) -> subprocess.Popen:
    """A render to standard output, its temporary file in tmp_path/tmp (TMPDIR) where a test can watch it."""
    (tmp_path / "tmp").mkdir()
    return subprocess.Popen(
        [sys.executable, "-m", "phonon", "render", str(write(tmp_path, "out: saw 55 # lpf 800 0.7 * 0.2\n")), "-o",
         "-", "-d", str(seconds)], cwd=ROOT, env=_env() | {"TMPDIR": str(tmp_path / "tmp")}, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip


def test_a_render_stopped_before_copying_writes_nothing(tmp_path):
    proc = _render_to_pipe(tmp_path, 36000)
    wait_until_writing(proc, tmp_path / "tmp", written=1 << 20)  # well into rendering, into the temporary file
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert (proc.returncode, out) == (130, b"")
    assert b"interrupted; nothing was written" in err and b"Traceback" not in err


def test_a_render_stopped_while_copying_says_how_much_was_written(tmp_path):
    """A reader slower than the copy (`| aplay`): stopped then, standard output has the first part, and the
    message says how much of the file that is."""
    proc = _render_to_pipe(tmp_path, 30)
    first = proc.stdout.read(1)  # the copy has begun; the pipe fills up as nothing more is read
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    size = 30 * 44100 * 4 + 44
    assert proc.returncode == 130 and 0 < len(first + out) < size
    assert re.search(rf"interrupted: standard output has only the first part of the file, about \d+ of its {size} "
                     "bytes", err.decode())


def test_a_terminal_is_refused_as_standard_output(tmp_path):
    main, terminal = os.openpty()
    try:
        r = subprocess.run([sys.executable, "-m", "phonon", "render", str(write(tmp_path, TONE)), "-o", "-"], cwd=ROOT,
                           env=_env(), stdout=terminal, stderr=subprocess.PIPE, text=True, timeout=180)
    finally:
        os.close(terminal)
        os.close(main)
    assert r.returncode == 1 and "standard output is a terminal" in r.stderr and "| aplay" in r.stderr
