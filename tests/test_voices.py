"""Sample and synth voices end to end: what a listener notices, measured on rendered audio.

Programs are rendered in-process (`engine.render.render_array`, or `render_to_file` where the report is
needed) from a Dirt-Samples style folder of synthetic test sounds written here (`PHONON_SAMPLES`), so every
expected value can be computed exactly:

- `click` 0.5 for 64 frames then zeros (2000 frames in all), `tick` the same at 0.25 (each onset is a clean
  rise from silence, and the release at the file's end never touches the 64 loud frames);
- `ramp` a linear ramp 0..1 over 1000 frames (direction, slices and speed are visible sample by sample);
- `dc` a constant 0.5 for 1 s, `long` 2 s of a 440 Hz sine at 0.1, `tone` 1 s of a 220 Hz sine at 0.5;
- `st` a stereo file, left 0.5 and right 0.25.

Envelope facts used below (engine/kernels/voices.py): the default attack is 44 samples at 44.1 kHz, linear,
reaching 1.0 on the 44th sample (level tau/44 at age tau-1); the default release is 132 samples (the last
frame of a sample plays at 1/132); the pan law is the `pan` function's, cos/sin of pan * pi/2, so a mono voice
at the centre (pan 0.5, the default) is CENTRE = 0.7071 on each side and a hard pan 1.0 on one; gain is
SuperDirt's curve, level = gain^4; a cut fades earlier voices of the group over 441 samples (10 ms).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.render import RenderSettings, duration_frames, render_array, render_to_file
from phonon.engine.samples import SampleError, kit
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from tests.audio import dominant_freq, rms_envelope, tone_amplitude

ROOT = Path(__file__).resolve().parent.parent
SR = 44100
ATTACK = 44  # default attack in samples at 44.1 kHz
RELEASE = 132  # default release
CUT = 441  # cut fade
EPS = 1e-9  # "silent" threshold for onset detection (a hard pan leaks ~1e-17)
CENTRE = math.cos(math.pi / 4)  # the pan law at the centre: each side of a mono voice

RAMP = np.linspace(0.0, 1.0, 1000).astype(np.float32).astype(np.float64)
KIT_NAMES = "bd sn hh oh cp rim lt mt ht cb cr arpy".split()


def _write(folder: Path, name: str, data: np.ndarray) -> None:
    (folder / name).mkdir(parents=True, exist_ok=True)
    sf.write(str(folder / name / "00.wav"), np.asarray(data, dtype=np.float32), SR, subtype="FLOAT")


@pytest.fixture(scope="module", autouse=True)
def samples(tmp_path_factory) -> Path:
    """The test sounds in PHONON_SAMPLES; no ./samples, ~/dirt-samples etc. can leak in (the kit cache is
    kept where it is, so the built-in kit is not re-synthesised)."""
    root = tmp_path_factory.mktemp("voices")
    folder = root / "samples"
    t = np.arange(2 * SR) / SR
    click = np.zeros(2000)
    click[:64] = 0.5
    _write(folder, "click", click)
    _write(folder, "tick", click * 0.5)
    _write(folder, "ramp", RAMP)
    _write(folder, "dc", np.full(SR, 0.5))
    _write(folder, "long", 0.1 * np.sin(2 * np.pi * 440 * t))
    _write(folder, "tone", 0.5 * np.sin(2 * np.pi * 220 * t[:SR]))
    _write(folder, "st", np.tile([[0.5, 0.25]], (1000, 1)))
    for sub in ("home", "cwd"):
        (root / sub).mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHONON_CACHE_DIR", str(kit.cache_root()))
        mp.delenv("XDG_CACHE_HOME", raising=False)
        mp.setenv("HOME", str(root / "home"))
        mp.chdir(root / "cwd")
        mp.setenv("PHONON_SAMPLES", str(folder))
        yield folder


def render(body: str, cycles: float = 1, tempo: float | str = 1, **kw) -> np.ndarray:
    """Stereo float64 render of `tempo: T` + body."""
    return render_array(f"tempo: {tempo}\n{body}", cycles=cycles, **kw)


def starts(x: np.ndarray, eps: float = EPS) -> list[int]:
    """Samples where the signal rises from silence (|x| <= eps) to sound."""
    loud = np.abs(x) > eps
    return [int(i) for i in np.flatnonzero(loud & ~np.concatenate(([False], loud[:-1])))]


def per_cycle(onsets: list[int], spc: int, cycles: int) -> list[int]:
    return [sum(1 for o in onsets if c * spc <= o < (c + 1) * spc) for c in range(cycles)]


def sample_env(n_frames: int, a: int = ATTACK, r: int = RELEASE) -> np.ndarray:
    """The default envelope of a voice playing n_frames frames: min(attack ramp, release ramp) of tau."""
    tau = np.arange(1, n_frames + 1, dtype=np.float64)
    return np.minimum(np.minimum(tau / a, (n_frames + 1 - tau) / r), 1.0)


def hit(level: float, at: int = 10) -> float:
    """A click-type sample's level `at` samples into the attack, on each side at the centre."""
    return level * (at + 1) / ATTACK * CENTRE


# ---------------------------------------------------------------------------------------------- onsets


def test_onsets_on_their_exact_sample_for_every_block_and_worker_count():
    ref = render('out: s "click*4"')
    for ch in (0, 1):
        assert starts(ref[:, ch]) == [0, 11025, 22050, 33075]
    assert ref[0, 0] == pytest.approx(0.5 / ATTACK * CENTRE, abs=1e-15)  # the onset sample itself is audible
    assert ref[ATTACK - 1, 0] == 0.5 * CENTRE  # full level on the 44th sample
    for block in (64, 512, 2048):
        for workers in (1, 2):
            out = render('out: s "click*4"', block=block, workers=workers)
            assert np.array_equal(out, ref), (block, workers)


def test_two_outputs_of_voices_are_identical_for_blocks_and_workers():
    body = 'o1: s "click*4" # pan 0.25\no2: s "tick(3,8)" # pan 0.75 # speed 0.75'
    ref = render(body, cycles=2, block=512, workers=1)
    assert starts(ref[:, 0]) == [0, 11025, 16538, 22050, 33075, 44100, 55125, 60638, 66150, 77175]
    for block in (64, 2048):
        for workers in (1, 2):
            assert np.array_equal(render(body, cycles=2, block=block, workers=workers), ref), (block, workers)


@pytest.mark.parametrize("tempo,pattern,steps", [("0.37", "click*4", 4), ("1", "click*8", 8), ("0.45", "click*3", 3)])
def test_onsets_between_samples_round_up(tempo, pattern, steps):
    spc = Fraction(SR) / Fraction(tempo)
    expected = [math.ceil(Fraction(k, steps) * spc) for k in range(3 * steps)]
    assert any(Fraction(k, steps) * spc != e for k, e in enumerate(expected))  # some really are fractional
    for block in (64, 512):
        out = render(f'out: s "{pattern}"', cycles=3, tempo=tempo, block=block)
        assert starts(out[:, 0]) == expected
        assert starts(out[:, 1]) == expected


# ------------------------------------------------------------------------------------------ mini-notation


def test_bank_index_equals_n_parameter_and_hits_differ():
    a = render('out: s "bd:0 bd:1 bd:2 bd:3"')
    b = render('out: s "bd*4" # n "0 1 2 3"')
    assert np.array_equal(a, b)
    singles = [render(f'out: s "bd:{i}"', cycles=0.25)[:4096, 0] for i in range(4)]
    for i in range(4):
        assert np.max(np.abs(singles[i])) > 0.1
        for j in range(i):
            assert np.max(np.abs(singles[i] - singles[j])) > 0.05, (i, j)
    assert np.max(np.abs(a[:4096, 0] - singles[0])) < 1e-12  # bd:0 is the first hit


def test_stack_gives_seven_onsets_per_cycle():
    out = render('out: s "[click*3, click*4]"', cycles=2)[:, 0]
    one = [0, 11025, 14700, 22050, 29400, 33075]
    assert starts(out) == one + [44100 + o for o in one]
    # two clicks start together on the downbeat (3 + 4 = 7 onsets, one of them shared)
    assert out[10] == pytest.approx(2 * hit(0.5), abs=1e-12)
    assert out[11025 + 10] == pytest.approx(hit(0.5), abs=1e-12)


def test_euclid_rhythm():
    out = render('out: s "click(3,8)"', cycles=2)[:, 0]
    assert starts(out) == [0, 16538, 33075, 44100, 60638, 77175]  # 3/8 of a cycle = 16537.5 -> 16538


def test_degrade_marks_are_deterministic_and_drop_some():
    kit_a = render('out: s "bd? sn? hh? cp?"', cycles=4)
    kit_b = render('out: s "bd? sn? hh? cp?"', cycles=4)
    assert np.array_equal(kit_a, kit_b)
    clicks = render('out: s "click? tick? click? tick?"', cycles=8)[:, 0]
    again = render('out: s "click? tick? click? tick?"', cycles=8)[:, 0]
    assert np.array_equal(clicks, again)
    found = starts(clicks)
    assert 4 <= len(found) <= 28, len(found)
    assert all(o % 11025 == 0 for o in found)  # only on the grid


def test_feet_split_the_cycle():
    out = render('out: s "click . tick tick tick"')[:, 0]
    assert starts(out) == [0, 22050, 29400, 36750]
    assert out[10] == pytest.approx(hit(0.5)) and out[22050 + 10] == pytest.approx(hit(0.25))


def test_alternation_by_cycle():
    out = render('out: s "<bd sn>"', cycles=4)[:, 0]
    bd = render('out: s "bd"')[:, 0]
    sn = render('out: s "sn"')[:, 0]
    assert np.array_equal(out[:SR], bd)
    assert np.array_equal(out[SR : 2 * SR], sn)
    assert np.array_equal(out[2 * SR : 3 * SR], bd)
    assert np.array_equal(out[3 * SR :], sn)
    assert not np.allclose(bd, sn)


# ------------------------------------------------------------------------------------------- transforms


def test_fast_doubles_the_onsets_and_prefix_equals_postfix():
    post = render('out: s "click tick" $ fast 2', cycles=2)
    pre = render('out: fast 2 $ s "click tick"', cycles=2)
    inside = render('out: s ("click tick" $ fast 2)', cycles=2)
    assert np.array_equal(pre, post) and np.array_equal(inside, post)
    found = starts(post[:, 0])
    assert found == [k * 11025 for k in range(8)]
    assert [post[o + 10, 0] for o in found] == pytest.approx([hit(0.5), hit(0.25)] * 4)


def test_rev_reverses_the_cycle():
    out = render('out: s "click tick" $ rev')[:, 0]
    assert starts(out) == [0, 22050]
    assert out[10] == pytest.approx(hit(0.25)) and out[22050 + 10] == pytest.approx(hit(0.5))


def test_every_applies_on_cycles_zero_and_three():
    out = render('out: s "click click" $ every 3 (fast 2)', cycles=6)[:, 0]
    assert per_cycle(starts(out), SR, 6) == [4, 2, 2, 4, 2, 2]


def test_transform_on_a_bus_reference():
    out = render('~d: s "click click"\nout: ~d $ fast 2', cycles=2)
    assert starts(out[:, 0]) == [k * 11025 for k in range(8)]
    assert np.array_equal(out, render('out: s "click click" $ fast 2', cycles=2))


def test_jux_pans_original_left_and_transformed_copy_right():
    out = render('out: s "click" $ jux (fast 2)', cycles=2)
    left, right = out[:, 0], out[:, 1]
    assert per_cycle(starts(left), SR, 2) == [1, 1]
    assert per_cycle(starts(right), SR, 2) == [2, 2]
    assert starts(right) == [0, 22050, 44100, 66150]
    assert left[10] == pytest.approx(hit(0.5) / CENTRE, abs=1e-12)  # hard left: the click's own level
    assert np.max(np.abs(left[22050:44100])) < 1e-12


def test_degrade_by_is_deterministic_and_drops_hits():
    a = render('out: s "click*8" $ degradeBy 0.5', cycles=4)
    b = render('out: s "click*8" $ degradeBy 0.5', cycles=4)
    assert np.array_equal(a, b)
    n = len(starts(a[:, 0]))
    assert 4 <= n <= 28, n
    assert n < len(starts(render('out: s "click*8"', cycles=4)[:, 0]))


def test_transform_needs_a_pattern():
    with pytest.raises(PhononError) as info:
        render("out: sine 440 $ fast 2")
    assert "fast" in info.value.message and "pattern" in info.value.message
    assert (info.value.line, info.value.col) == (2, 17)
    out = render('out: sine "220 440" $ fast 2')[:, 0]
    q = SR // 4
    freqs = [dominant_freq(out[k * q + 200 : (k + 1) * q - 200]) for k in range(4)]
    assert freqs == pytest.approx([220, 440, 220, 440], abs=0.5)


# --------------------------------------------------------------------------------------- voice parameters


def test_patterned_gain_follows_superdirts_curve_exactly():
    out = render('out: s "click*2" # gain "1 0.5"')[:, 0]
    assert np.array_equal(out[:64], 16.0 * out[22050 : 22050 + 64])  # 0.5^4: -24 dB
    assert starts(out) == [0, 22050]


def test_speed_minus_one_plays_the_file_reversed():
    out = render('out: s "ramp" # speed -1')
    expected = RAMP[::-1] * sample_env(1000) * CENTRE
    np.testing.assert_allclose(out[:1000, 0], expected, atol=1e-12)
    np.testing.assert_array_equal(out[:, 0], out[:, 1])
    assert not np.any(out[1000:])
    assert out[0, 0] == pytest.approx(1.0 / ATTACK * CENTRE)  # loudest end first


def test_speed_two_halves_the_length():
    out = render('out: s "ramp" # speed 2')[:, 0]
    np.testing.assert_allclose(out[:500], RAMP[::2] * sample_env(500) * CENTRE, atol=1e-12)
    assert not np.any(out[500:])
    plain = render('out: s "ramp"')[:, 0]
    np.testing.assert_allclose(plain[:1000], RAMP * sample_env(1000) * CENTRE, atol=1e-12)


def test_note_twelve_doubles_the_pitch_of_a_sample():
    plain = render('out: s "tone"', cycles=1)[:, 0]
    up = render('out: s "tone" # note 12', cycles=1)[:, 0]
    assert dominant_freq(plain[1000:40000]) == pytest.approx(220, abs=0.2)
    assert dominant_freq(up[1000:20000]) == pytest.approx(440, abs=0.2)
    assert np.flatnonzero(up)[-1] + 1 == 22050  # twice as fast: half as long
    fifth = render('out: s "tone" # note "g4"', cycles=1)[:, 0]  # note names count from c4
    assert dominant_freq(fifth[1000:20000]) == pytest.approx(220 * 2 ** (7 / 12), abs=0.2)


def test_note_chord_on_a_sample_plays_the_chord():
    out = render('out: s "tone" # note "c4\'maj" # gain 0.75', cycles=1)[:, 0]
    seg = out[500:20000]
    for f in (220.0, 220 * 2 ** (4 / 12), 220 * 2 ** (7 / 12)):
        assert tone_amplitude(seg, f) > 0.05, f


def test_begin_end_play_a_slice():
    out = render('out: s "ramp" # begin 0.5 # end 1')[:, 0]
    np.testing.assert_allclose(out[:500], RAMP[500:] * sample_env(500) * CENTRE, atol=1e-12)
    assert not np.any(out[500:])
    first = render('out: s "ramp" # begin 0 # end 0.25')[:, 0]
    np.testing.assert_allclose(first[:250], RAMP[:250] * sample_env(250) * CENTRE, atol=1e-12)


def test_pan_law():
    """0..1 with the centre at 0.5 (the default): constant power, and a hard pan is the mono input itself."""
    centre = render('out: s "click"')
    left = render('out: s "click" # pan 0')
    right = render('out: s "click" # pan 1')
    half = render('out: s "click" # pan 0.5')
    assert np.array_equal(centre[:, 0], centre[:, 1]) and np.array_equal(half, centre)
    assert centre[43, 0] == 0.5 * CENTRE  # the click (0.5) at full level
    assert np.max(np.abs(left[:, 1])) < 1e-12 and np.max(np.abs(right[:, 0])) < 1e-12
    assert np.max(np.abs(left[:, 0])) == 0.5 == np.max(np.abs(right[:, 1]))  # no louder than the input
    np.testing.assert_allclose(left[:, 0], centre[:, 0] / CENTRE, rtol=1e-12, atol=1e-15)
    for pan in (0, 0.3, 0.5, 0.9, 1):  # the same power everywhere
        out = render(f'out: s "click" # pan {pan}')
        np.testing.assert_allclose(out[:, 0] ** 2 + out[:, 1] ** 2, 2 * centre[:, 0] ** 2, rtol=1e-12, atol=1e-15)
    quarter = render('out: s "click" # pan 0.25')
    assert quarter[43, 0] == pytest.approx(0.5 * math.cos(math.pi / 8), abs=1e-12)
    assert quarter[43, 1] == pytest.approx(0.5 * math.sin(math.pi / 8), abs=1e-12)


def test_stereo_sample_keeps_its_channels():
    out = render('out: s "st"')
    assert tuple(out[100]) == (0.5, 0.25)
    hard = render('out: s "st" # pan 0')  # a stereo sample is balanced, as the `pan` function does
    assert hard[100, 0] == 0.5 and abs(hard[100, 1]) < 1e-12


def test_cut_fades_the_earlier_voice_within_ten_ms():
    with_cut = render('out: s "long long" # cut 1')[:, 0]
    without = render('out: s "long long"')[:, 0]
    second = render('out: s "~ long"')[:, 0]
    assert np.array_equal(with_cut[:22050], without[:22050])
    # from 10 ms after the second onset only the second voice sounds
    np.testing.assert_allclose(with_cut[22050 + CUT - 1 :], second[22050 + CUT - 1 :], atol=1e-12)
    first_alone = with_cut[22050:] - second[22050:]
    assert np.max(np.abs(first_alone[: CUT // 2])) > 0.02  # it fades, not a hard stop
    # without cut both overlap to the end
    assert np.max(np.abs(without[22050 + CUT :] - second[22050 + CUT :])) > 0.09 * CENTRE


def test_legato_shortens_each_hit_to_a_quarter_of_its_event():
    out = render('out: s "dc*4" # legato 0.25')[:, 0]
    hold = math.floor(0.25 * 11025 + 0.5)
    for k in range(4):
        seg = out[k * 11025 : (k + 1) * 11025]
        assert np.flatnonzero(seg)[-1] == hold + RELEASE - 2  # last audible sample of the release
        assert seg[hold - 1] == 0.5 * CENTRE  # full level until the gate closes
    assert starts(out) == [0, 11025, 22050, 33075]


def test_patterned_parameters_step_on_their_events():
    speeds = render('out: s "ramp*4" # speed "1 2"')[:, 0]
    lengths = [len(np.flatnonzero(speeds[k * 11025 : (k + 1) * 11025])) for k in range(4)]
    assert lengths == [999, 999, 499, 499]  # 1000 and 500 samples; ramp[0] == 0, so the first is silent
    pans = render('out: s "click*4" # pan "0 1"')
    assert starts(pans[:, 0]) == [0, 11025]
    assert starts(pans[:, 1]) == [22050, 33075]
    gains = render('out: s "click*4" # gain "<1 0.5>"', cycles=2)[:, 0]
    assert gains[44100 + 10] == pytest.approx(0.5**4 * gains[10])


# --------------------------------------------------------------------------------------- voice stealing


def test_voice_stealing_counts_exactly_and_stays_finite(tmp_path, samples):
    graph = compile_program('tempo: 0.5\nout: s "long*2000"')
    frames = duration_frames(graph, SR, None, 1)  # one cycle: 2 s
    path = tmp_path / "steal.wav"
    report = render_to_file(graph, path, frames, RenderSettings(samples=(str(samples),)), subtype="FLOAT")
    # every voice lasts 2 s (88200 samples), so none ends before the render does: all 2000 overlap
    onsets = [math.ceil(Fraction(k, 2000) * 2 * SR) for k in range(2000)]
    assert all(o + 88200 >= frames for o in onsets)
    assert report.voices_stolen == 2000 - 512
    assert report.most_voices == 512
    assert any("1488 voices were stolen" in line for line in report.lines())
    data, sr = sf.read(str(path))
    assert sr == SR and data.shape == (frames, 2)
    assert np.all(np.isfinite(data)) and report.nonfinite == 0
    assert 0 < np.max(np.abs(data)) <= 1.0
    # the oldest voices were stolen: the last sample is the sum of the newest 512, all past their attack
    last = frames - 1
    tone = (0.1 * np.sin(2 * np.pi * 440 * np.arange(2 * SR) / SR)).astype(np.float32).astype(np.float64)
    newest = sum(tone[last - o] for o in onsets[-512:]) * CENTRE
    assert all(last - o >= ATTACK - 1 for o in onsets[-512:])
    assert data[last, 0] == pytest.approx(newest, abs=1e-5)
    oldest = sum(tone[last - o] for o in onsets[:512]) * CENTRE
    assert abs(newest - oldest) > 1e-3  # the check can tell them apart


# ------------------------------------------------------------------------------------------ synth notes


def test_synth_note_a4_is_440():
    out = render('out: sine "a4" * 0.5', cycles=1, tempo="0.5")[:, 0]
    assert dominant_freq(out) == pytest.approx(440, abs=1)
    assert 0.45 * CENTRE < np.max(np.abs(out)) <= 0.5 * CENTRE


def test_synth_note_sequence_has_the_right_pitches():
    out = render('out: saw "c3 e3 g3" # legato 0.5')[:, 0]  # half of each event, then silence
    seg = 14700
    freqs = [dominant_freq(out[k * seg : (k + 1) * seg], fmax=400) for k in range(3)]
    assert freqs == pytest.approx([130.81, 164.81, 196.00], abs=0.5)
    assert starts(out, 1e-6)[:3] == pytest.approx([0, 14700, 29400], abs=2)


def test_synth_chord_has_three_peaks():
    out = render('out: sine "c4\'maj" 0 0 1 0 * 0.2')[:, 0]
    seg = out[100:40000]
    for f in (261.63, 329.63, 392.00):
        assert tone_amplitude(seg, f) == pytest.approx(0.2 * CENTRE, abs=0.002), f
    for f in (293.66, 349.23, 440.0):  # d4, f4, a4: not in the chord
        assert tone_amplitude(seg, f) < 0.002, f
    # with no envelope given, Strudel's: attack 1 ms, decay 50 ms to sustain 0.6 for the event, release 10 ms
    default = render('out: sine "c4\'maj" * 0.2')[:, 0]
    flat = render('out: sine "c4\'maj" 0 0 1 0 * 0.2')[:, 0]
    np.testing.assert_allclose(default[3000:40000], 0.6 * flat[3000:40000], atol=1e-12)


def test_synth_adsr_shapes_the_envelope():
    """`saw "c4 ~" 0.01 0.2 0.5 0.3`: attack 441, decay 8820 to 0.5, gate 22050, release 13230, against the
    same note with a flat envelope (same phase: both start at phase 0)."""
    shaped = render('out: saw "c4 ~" 0.01 0.2 0.5 0.3 # gain 0.8')[:, 0]
    flat = render('out: saw "c4" 0 0 1 0')[:, 0]
    tau = np.arange(1, SR + 1, dtype=np.float64)
    a, d, s, g, r = 441, 8820, 0.5, 22050, 13230
    env = np.where(tau <= a, tau / a, np.where(tau <= a + d, 1 - (1 - s) * (tau - a) / d, s))
    env = np.where(tau > g, np.maximum(s - s * (tau - g) / r, 0.0), env)
    np.testing.assert_allclose(shaped, 0.8**4 * env * flat, atol=1e-9)
    assert not np.any(shaped[g + r :])
    # what a listener hears: after attack + decay the level is 0.5 * gain
    sustain = shaped[12000:22000]
    assert np.max(np.abs(sustain)) == pytest.approx(0.5 * 0.8**4 * np.max(np.abs(flat[12000:22000])), rel=1e-9)


def test_synth_note_parameter_transposes():
    out = render('out: sine "c4" 0 0 1 0 # note 12')[:, 0]
    assert dominant_freq(out) == pytest.approx(523.25, abs=0.5)
    assert dominant_freq(render('out: sine "c4" 0 0 1 0')[:, 0]) == pytest.approx(261.63, abs=0.5)


def test_plain_numbers_make_a_stepped_oscillator_not_a_synth():
    stepped = render('out: sine "220 440"')[:, 0]
    _, env = rms_envelope(stepped, window=0.005)
    assert env.min() > 0.6  # continuous: no envelope gaps
    assert dominant_freq(stepped[:22050]) == pytest.approx(220, abs=0.5)
    assert dominant_freq(stepped[22050:]) == pytest.approx(440, abs=0.5)
    notes = render('out: sine "a3 ~ a4 ~"')[:, 0]
    _, env = rms_envelope(notes, window=0.005)
    assert env.min() == 0.0  # the synth's notes end (released) in the rests


# --------------------------------------------------------------------------------------------- errors


def test_unknown_sample_names_it_with_a_hint_and_position():
    with pytest.raises(PhononError) as info:
        render_array('tempo: 1\nout: s "bdd"', cycles=1)
    e = info.value
    assert "'bdd'" in str(e) and "did you mean 'bd'" in str(e)
    assert (e.line, e.col) == (2, 6)


def test_unbalanced_bracket_points_inside_the_string():
    text = 'out: s "bd [sn"'
    with pytest.raises(PhononError) as info:
        render_array(text, seconds=0.1)
    first, last = text.index('"') + 1, text.rindex('"') + 1  # 1-based columns of the quotes
    assert info.value.line == 1 and first < info.value.col <= last


def test_pan_given_nothing_to_place_is_an_error():
    # `sine 440 # pan 0.5` places a signal (tests/test_stereo.py); alone, pan has nothing to act on
    with pytest.raises(PhononError) as info:
        render_array("out: pan 0.5", seconds=0.1)
    msg = info.value.message
    assert "pan" in msg and "parameter" in msg and "voices" in msg
    assert (info.value.line, info.value.col) == (1, 6)


def test_missing_samples_folder_is_a_clear_error_via_the_api(tmp_path):
    graph = compile_program('out: s "bd"')
    missing = tmp_path / "nowhere"
    with pytest.raises((PhononError, SampleError)) as info:
        render_to_file(graph, tmp_path / "o.wav", 100, RenderSettings(samples=(str(missing),)))
    assert str(missing) in str(info.value) and "does not exist" in str(info.value)
    assert not (tmp_path / "o.wav").exists() and not list(tmp_path.glob("*.partial"))


def _cli(*args) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "phonon", *map(str, args)], env=env, capture_output=True, text=True, timeout=120
    )


def test_cli_unknown_sample_exits_1_and_writes_nothing(tmp_path, samples):
    prog = tmp_path / "bad.phonon"
    prog.write_text('tempo: 1\nout: s "click bdd"\n')
    out = tmp_path / "out.wav"
    result = _cli("render", prog, "-o", out, "--samples", samples, "-d", "0.5", "--workers", "1")
    assert result.returncode == 1, result.stderr
    assert "unknown sample 'bdd'" in result.stderr and "did you mean 'bd'" in result.stderr
    assert ":2:6:" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_cli_unknown_sample_error_names_the_file_and_shows_the_line(tmp_path, samples):
    prog = tmp_path / "bad.phonon"
    prog.write_text('tempo: 1\nout: s "click bdd"\n')
    result = _cli("render", prog, "-o", tmp_path / "out.wav", "--samples", samples, "-d", "0.5", "--workers", "1")
    assert f"{prog}:2:6:" in result.stderr
    assert 'out: s "click bdd"' in result.stderr


def test_cli_missing_samples_folder_is_a_clear_error(tmp_path):
    prog = tmp_path / "p.phonon"
    prog.write_text('out: s "bd"\n')
    missing = tmp_path / "nowhere"
    out = tmp_path / "out.wav"
    result = _cli("render", prog, "-o", out, "--samples", missing, "-d", "0.2", "--workers", "1")
    assert result.returncode == 1
    assert not out.exists()
    assert "Traceback" not in result.stderr
    assert str(missing) in result.stderr and "does not exist" in result.stderr


# ------------------------------------------------------------------------------------------ built-in kit


def test_builtin_kit_plays_twelve_distinct_hits_with_no_setup(monkeypatch):
    monkeypatch.delenv("PHONON_SAMPLES")  # nothing but the kit (the module fixture isolates HOME and cwd)
    step = SR // 12
    out = render(f'out: s "{" ".join(KIT_NAMES)}" # gain 0.75')
    assert out.shape == (SR, 2) and np.array_equal(out[:, 0], out[:, 1])
    singles = [render(f'out: s "{name}" # gain 0.75', cycles=1)[:, 0] for name in KIT_NAMES]
    expected = np.zeros(SR)
    for k, single in enumerate(singles):
        assert np.max(np.abs(single[:step])) > 0.1, KIT_NAMES[k]  # non-silent
        assert np.max(np.abs(single[:32])) > 0, KIT_NAMES[k]  # starts on its onset
        expected[k * step :] += single[: SR - k * step]
    np.testing.assert_allclose(out[:, 0], expected, atol=1e-9)  # 12 hits, each on its own step
    heads = [s[:2048] for s in singles]
    for i in range(12):
        for j in range(i):
            assert np.max(np.abs(heads[i] - heads[j])) > 0.02, (KIT_NAMES[i], KIT_NAMES[j])
