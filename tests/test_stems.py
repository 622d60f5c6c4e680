"""Stems, multichannel files and batches (issue 13 parts 1-3): `phonon render FILE --stems DIR`, `--channels
outputs`, `phonon render A B ... -o DIR/`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.cli import main
from phonon.engine.master import mix_stems
from phonon.engine.render import RenderSettings, render_stems, render_to_file
from phonon.graph.analysis import reachable
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError

PROGRAM = """tempo: 1
~shared: sine 2 * 0.5 + 0.5
o1: saw 110 * 0.3 * ~shared # pan 0.2 # reverb 0.5 0.5 0.3
d2: sine 330 * 0.2 * ~shared
out: s "bd*4 hh*8" # gain 0.8
"""


def read(path: Path) -> np.ndarray:
    return sf.read(path, always_2d=True)[0]


def render_cli(*args: str) -> int:
    return main(["render", *map(str, args), "-q"])


def test_stems_are_the_outputs_and_mix_back_into_the_master_bit_for_bit(tmp_path):
    prog = tmp_path / "song.phonon"
    prog.write_text(PROGRAM)
    stems = tmp_path / "stems"
    stems.mkdir()
    assert render_cli(prog, "--stems", stems, "-d", "2", "--subtype", "DOUBLE", "--workers", "2") == 0
    assert sorted(p.name for p in stems.iterdir()) == ["d2.wav", "master.wav", "o1.wav", "out.wav"]
    master = read(stems / "master.wav")
    parts = [read(stems / f"{name}.wav") for name in ("out", "o1", "d2")]  # the program's mix order
    assert all(np.abs(p).max() > 0.05 for p in parts)
    assert np.array_equal(mix_stems(parts, "none"), master)
    assert not np.array_equal(parts[1][:, 0], parts[1][:, 1]) and np.array_equal(parts[2][:, 0], parts[2][:, 1])
    assert render_cli(prog, "-o", tmp_path / "plain.wav", "-d", "2", "--subtype", "DOUBLE") == 0
    assert np.array_equal(read(tmp_path / "plain.wav"), master)  # the same master as a plain render


def test_a_stem_alone_evaluates_only_what_its_output_needs_and_is_the_same(tmp_path):
    graph = compile_program(PROGRAM, "song.phonon")
    alone = graph.only_output("d2")
    assert len(reachable(alone)) < len(reachable(graph)) and sorted(alone.outputs) == [2]
    settings = RenderSettings()
    _, paths = render_stems(graph, tmp_path, 44100, settings, subtype="DOUBLE")
    render_to_file(alone, tmp_path / "alone.wav", 44100, settings, subtype="DOUBLE")
    assert np.array_equal(read(tmp_path / "alone.wav"), read(tmp_path / "d2.wav"))
    with pytest.raises(KeyError, match="the outputs: out, o1, d2"):
        graph.only_output("o7")


def test_the_outmix_law_is_the_masters_not_the_stems(tmp_path):
    graph = compile_program("outmix: tanh\n" + PROGRAM, "song.phonon")
    _, paths = render_stems(graph, tmp_path, 22050, RenderSettings(gain=2.0), subtype="DOUBLE")
    stems = [read(p) for p in paths[1:]]
    assert np.array_equal(mix_stems(stems, "tanh", gain=2.0), read(paths[0]))


def test_a_multichannel_file_holds_each_output_stereo_ones_as_pairs(tmp_path):
    prog = tmp_path / "song.phonon"
    prog.write_text(PROGRAM)
    stems = tmp_path / "stems"
    stems.mkdir()
    assert render_cli(prog, "--stems", stems, "-d", "1", "--subtype", "FLOAT") == 0
    assert render_cli(prog, "-o", tmp_path / "all.wav", "--channels", "outputs", "-d", "1", "--subtype", "FLOAT") == 0
    data = read(tmp_path / "all.wav")
    assert data.shape[1] == 5  # out (voices: stereo), o1 (panned: stereo), d2 (mono)
    out, o1, d2 = (read(stems / f"{n}.wav") for n in ("out", "o1", "d2"))
    expected = np.column_stack([out, o1, d2[:, 0]])
    assert np.array_equal(data, expected)


def test_too_many_channels_for_the_format_is_a_clear_error_and_writes_nothing(tmp_path, capsys):
    prog = tmp_path / "wide.phonon"
    prog.write_text("".join(f"o{i}: saw {100 + i} * 0.05 # pan 0.{i}\n" for i in range(1, 6)))
    assert render_cli(prog, "-o", tmp_path / "wide.flac", "--channels", "outputs", "-d", "0.2") == 1
    err = capsys.readouterr().err
    assert "FLAC files cannot hold 10 channels" in err and ".wav" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["wide.phonon"]


def test_a_batch_renders_every_program_and_reports_the_ones_that_fail(tmp_path, capsys):
    names = {"a": "out: sine 440 * 0.1\n", "b": "out: sinee 440\n", "c": 'out: s "bd sn"\n'}
    for name, text in names.items():
        (tmp_path / f"{name}.phonon").write_text(text)
    out = tmp_path / "out"
    out.mkdir()
    files = [tmp_path / f"{n}.phonon" for n in names]
    assert main(["render", *map(str, files), "-o", str(out), "-d", "0.5", "--format", "flac"]) == 1
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["a.flac", "c.flac"]  # nothing half-written
    assert "[2/3] b: failed" in err and "rendered 2 of 3 programs" in err and "unknown function 'sinee'" in err
    single = tmp_path / "single.flac"
    assert main(["render", str(files[0]), "-o", str(single), "-d", "0.5", "-q"]) == 0
    assert np.array_equal(read(single), read(out / "a.flac"))  # a batch renders each as a single render does


def test_a_batch_needs_a_folder(tmp_path, capsys):
    files = []
    for n in ("a", "b"):
        (tmp_path / f"{n}.phonon").write_text("out: sine 440 * 0.1\n")
        files.append(str(tmp_path / f"{n}.phonon"))
    assert main(["render", *files, "-o", str(tmp_path / "x.wav")]) == 1
    assert "needs -o FOLDER" in capsys.readouterr().err


def test_float_files_are_the_same_bytes_every_time(tmp_path):
    """libsndfile's PEAK chunk holds the time of writing; it is left out, so a render is reproducible."""
    import time

    prog = tmp_path / "p.phonon"
    prog.write_text("out: saw 110 * 0.3\n")
    paths = [tmp_path / "a.wav", tmp_path / "b.wav"]
    for i, path in enumerate(paths):
        if i:
            time.sleep(1.1)  # a later second: with the chunk, the bytes would differ
        assert render_cli(prog, "-o", path, "-d", "0.2", "--subtype", "FLOAT") == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
