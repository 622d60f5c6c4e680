"""`grain name density size pos [pitch] [spray]`: a cloud of grains, each a sample voice.

Rendered from a folder holding one test sound, `ramp` (2 s, frame i holds i / frames as float32), so a grain's
samples say where in the sample it reads: at a grain's peak (its attack done, envelope 1) the output is the
ramp's frame there times the centre's pan gain.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.render import render_array
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from tests.audio import assert_same_for_every_split

SR = 44100
FRAMES = 2 * SR
RAMP = (np.arange(FRAMES) / FRAMES).astype(np.float32)
CENTRE = math.cos(math.pi / 4)


@pytest.fixture(scope="module", autouse=True)
def ramp(tmp_path_factory):
    folder = tmp_path_factory.mktemp("grain") / "samples"
    (folder / "ramp").mkdir(parents=True)
    sf.write(str(folder / "ramp" / "00.wav"), RAMP, SR, subtype="FLOAT")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHONON_SAMPLES", str(folder))
        yield folder


def render(body: str, cycles: float = 1, **kw) -> np.ndarray:
    """Stereo render at one cycle a second."""
    return render_array(f"tempo: 1\n{body}", cycles=cycles, **kw)


def runs(x: np.ndarray) -> list[tuple[int, int]]:
    """(first sample, length) of each run of sound between silences."""
    loud = np.concatenate(([False], np.abs(x) > 0.0, [False]))
    edges = np.flatnonzero(loud[1:] != loud[:-1])
    return [(int(a), int(b - a)) for a, b in zip(edges[::2], edges[1::2])]


def test_grains_start_at_the_density_asked_each_as_long_as_its_size():
    x = render('out: grain "ramp" 20 0.01 0.5')[:, 0]
    grains = runs(x)
    assert [start for start, _ in grains] == [k * SR // 20 for k in range(20)]  # 20 a second, on their samples
    assert {length for _, length in grains} == {441}  # 0.01 s: attack 220.5 -> 221 samples, release 221, less 1
    odd = runs(render('out: grain "ramp" 7 0.05 0.5')[:, 0])  # onsets between samples round up, as any event's
    assert [start for start, _ in odd] == [math.ceil(k * SR / 7) for k in range(7)]
    assert {length for _, length in odd} == {2205}


def test_each_grain_reads_the_sample_from_pos():
    x = render('out: grain "ramp" 4 0.05 "0.1 0.6"')[:, 0]  # grains at 0, 1/4, 1/2, 3/4 s
    attack = 1103  # 0.025 s
    for k, pos in enumerate((0.1, 0.1, 0.6, 0.6)):
        start = k * SR // 4
        first = math.floor(pos * FRAMES + 0.5)
        assert x[start] == pytest.approx(RAMP[first] / attack * CENTRE, rel=1e-6)
        assert x[start + attack - 1] == pytest.approx(RAMP[first + attack - 1] * CENTRE, rel=1e-6)  # the peak


def test_a_scanning_pos_moves_through_the_sample():
    x = render('out: grain "ramp" 10 0.02 saw', cycles=1)[:, 0]  # Tidal's saw: 0 .. 1 over the cycle
    peaks = [x[start + 440] for start, _ in runs(x)]  # each grain's peak: the ramp where it reads
    assert len(peaks) == 10 and all(b > a for a, b in zip(peaks, peaks[1:]))


def test_pitch_and_voice_controls_chain_on():
    plain = render('out: grain "ramp" 4 0.05 0.5')[:, 0]
    up = render('out: grain "ramp" 4 0.05 0.5 12')[:, 0]  # an octave up: it reads twice as fast
    assert runs(up) == runs(plain)  # the same grains, as long
    attack = 1103
    first = math.floor(0.5 * FRAMES + 0.5)
    assert up[attack - 1] == pytest.approx(RAMP[first + 2 * (attack - 1)] * CENTRE, rel=1e-6)
    left = render('out: grain "ramp" 4 0.05 0.5 # pan 0')
    assert np.all(left[:, 1] == 0.0) and np.abs(left[:, 0]).max() > 0.4


def test_spray_moves_each_grain_deterministically():
    a = render('out: grain "ramp" 10 0.02 0.5 :spray 0.4')[:, 0]
    peaks = [a[start + 440] for start, _ in runs(a)]
    assert len(set(peaks)) == 10 and all(0.29 * CENTRE < p < 0.71 * CENTRE for p in peaks)
    assert np.array_equal(render('out: grain "ramp" 10 0.02 0.5 :spray 0.4')[:, 0], a)


def test_identical_for_block_sizes_and_worker_counts():
    body = ('out: grain "ramp" 33 "0.03 0.08" (slow 2 saw) :spray 0.1 # pan rand\n'
            'o1: grain "ramp" 12.5 0.1 0.3 -7 # lpf 2000')
    assert np.abs(assert_same_for_every_split(f"tempo: 1\n{body}", cycles=2)).max() > 0.1


@pytest.mark.parametrize("body,message", [
    ('grain "ramp" 0 0.05 0.5', "density"),
    ('grain "ramp" "10 20" 0.05 0.5', "density"),
    ('grain 1 10 0.05 0.5', "name"),
    ('grain "ramp" 10', "needs its 'size'"),
    ('s "ramp" # grain "ramp" 10 0.1 0.5', "takes nothing"),
])
def test_mistakes_are_errors(body, message):
    with pytest.raises(PhononError) as e:
        compile_program(f"out: {body}\n")
    assert message in e.value.message
