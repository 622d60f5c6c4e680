"""Per-voice controls with SuperDirt's names and ranges (graph/values.py VOICE_CONTROLS, engine/kernels/voices.py):
what a listener notices, measured on rendered audio.

Test sounds are written to a Dirt-Samples style folder (`PHONON_SAMPLES`), so expected values can be computed:
`noise` 1 s of uniform white noise in +-0.25 (seeded), `sinewave` 1 s of 220 Hz at 0.8, `saw` 1 s of a naive 110 Hz
saw at 0.5, `dc` 1 s of 0.05, `ramp` a 0..1 ramp over 1000 frames, `tone` 1 s of 440 Hz at 0.5. A voice panned
hard left (`# pan 0`) has gain 1.0 on the left: its left channel is the voice itself (level * envelope * effects).
At tempo 1 a cycle is 44100 samples; the default attack is 44 samples and the default release 132.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.kernels import voices as vk
from phonon.engine.render import render_array
from phonon.graph.compiler import compile_program
from phonon.graph.errors import PhononError
from phonon.graph.values import CONTROL_NAMES, SIGNAL_CONTROLS, VOICE_CONTROLS, voice_controls_table
from tests.audio import (
    assert_same_for_every_split, band_energy, dominant_freq, spectral_centroid, tone_amplitude, tpt_svf,
)

ROOT = Path(__file__).resolve().parent.parent
SR = 44100
ATTACK, RELEASE = 44, 132
CENTRE = math.cos(math.pi / 4)
_RNG = np.random.default_rng(7)
NOISE = _RNG.uniform(-0.25, 0.25, SR).astype(np.float32).astype(np.float64)
T = np.arange(SR) / SR
SINE = (0.8 * np.sin(2 * np.pi * 220 * T)).astype(np.float32).astype(np.float64)
SAW = (0.5 * (2 * ((110 * T) % 1.0) - 1)).astype(np.float32).astype(np.float64)
DC = float(np.float32(0.05))  # the `dc` sample's value as the kernel reads it


def _write(folder: Path, name: str, data: np.ndarray) -> None:
    (folder / name).mkdir(parents=True, exist_ok=True)
    sf.write(str(folder / name / "00.wav"), np.asarray(data, dtype=np.float32), SR, subtype="FLOAT")


@pytest.fixture(scope="module", autouse=True)
def samples(tmp_path_factory):
    folder = tmp_path_factory.mktemp("controls") / "samples"
    _write(folder, "noise", NOISE)
    _write(folder, "sinewave", SINE)  # not "sine": that name plays the synth voice
    _write(folder, "saw", SAW)
    _write(folder, "dc", np.full(SR, 0.05))
    _write(folder, "ramp", np.linspace(0.0, 1.0, 1000))
    _write(folder, "tone", 0.5 * np.sin(2 * np.pi * 440 * T))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PHONON_SAMPLES", str(folder))
        yield folder


def render(body: str, cycles: float = 1, **kw) -> np.ndarray:
    """Stereo render of `tempo: 1` + body."""
    return render_array(f"tempo: 1\n{body}\n", cycles=cycles, **kw)


def left(body: str, cycles: float = 1, **kw) -> np.ndarray:
    """The left channel of a render whose voices are all panned hard left (so it is the voices themselves)."""
    out = render(body + " # pan 0", cycles, **kw)
    assert np.max(np.abs(out[:, 1])) < 1e-12
    return out[:, 0]


MID = slice(ATTACK, SR // 2)  # a noise or tone voice's middle: after the attack, long before the release


# ------------------------------------------------------------------------------------------- the definition


def test_the_readme_table_is_the_definition():
    readme = (ROOT / "README.md").read_text()
    assert voice_controls_table() in readme, "README's voice controls table is stale: paste `python -m phonon.graph.values`"


def test_every_control_is_a_trigger_column_and_a_signal_may_give_it():
    fields = [c.name for c in VOICE_CONTROLS if c.field]
    assert list(vk.TRIGGER_FIELDS[5:]) == fields
    # orbit is no signal: the orbits are graph structure (graph/orbits.py)
    assert set(SIGNAL_CONTROLS) == set(fields) - {"orbit"} and "n" not in SIGNAL_CONTROLS
    for name, control in CONTROL_NAMES.items():  # every name and alias compiles on voices
        value = '"a"' if control == "vowel" else '"c"' if control == "unit" else "1"
        compile_program(f'out: s "noise" # {name} {value}\n')


def test_aliases_set_their_control():
    for alias, name in (("lpf", "cutoff"), ("hpf", "hcutoff"), ("bpf", "bandf"), ("bpq", "bandq"), ("clip", "legato")):
        (node,) = [n for n in compile_program(f'out: s "noise" # {alias} 3\n').nodes if n.kind == "sampler"]
        assert [p for p, _ in node.params] == [name]
    a = left('out: s "noise" # lpf 500 # hpf 100')
    b = left('out: s "noise" # cutoff 500 # hcutoff 100')
    assert np.array_equal(a, b)


def test_a_filter_function_with_more_arguments_filters_the_sum():
    per_voice = compile_program('out: s "noise" # lpf 500\n')
    summed = compile_program('out: s "noise" # lpf 500 1\n')
    assert "svf" not in [n.kind for n in per_voice.nodes]
    assert [n.kind for n in summed.nodes].count("svf") == 2  # one per channel of the voices' sum


# ------------------------------------------------------------------------------------------------ level


@pytest.mark.parametrize("controls, level", [
    ("", 1.0), ("# gain 0.5", 0.5**4), ("# gain 0.8", 0.8**4), ("# gain 1.5", 1.5**4), ("# gain 2", 16.0),
    ("# gain 3", 16.0),  # gain is clamped at 2 before the curve
    ("# gain 1.2 # overgain 0.1", 1.3**4), ("# gain 0.9 # amp 0.4", 0.4 * 0.9**4),
    ("# gain 1.1 # velocity 0.5 # amp 0.3", 0.3 * 0.5 * 1.1**4), ("# gain 0", 0.0), ("# gain -1", 0.0),
])
def test_gain_is_superdirts_curve(controls, level):
    """level = amp * velocity * (min(gain, 2) + overgain)^4 (SuperDirt's DirtEvent; Strudel's velocity)."""
    x = left(f'out: s "dc" {controls}')
    assert x[1000] == pytest.approx(DC * level, rel=1e-12, abs=1e-15)


def test_pan_is_constant_power_and_never_louder_than_the_input_at_the_sides():
    centre = render('out: s "noise"')
    hard_left = render('out: s "noise" # pan 0')
    hard_right = render('out: s "noise" # pan 1')
    power = np.sum(centre**2)
    assert np.sum(hard_left**2) == pytest.approx(power, rel=1e-12) == np.sum(hard_right**2)
    assert np.array_equal(centre[:, 0], centre[:, 1])  # the centre is the same on both sides
    np.testing.assert_allclose(centre[MID, 0], CENTRE * NOISE[MID], atol=1e-12)  # 0.707 each side (-3 dB)
    assert np.max(np.abs(hard_left[:, 0])) == pytest.approx(np.max(np.abs(NOISE)), abs=1e-12)  # no +3 dB
    assert np.max(np.abs(hard_right[:, 1])) == pytest.approx(np.max(np.abs(NOISE)), abs=1e-12)
    assert np.max(np.abs(hard_left[:, 1])) < 1e-12 and np.max(np.abs(hard_right[:, 0])) < 1e-12
    third = render('out: s "noise" # pan 0.3')
    np.testing.assert_allclose(third[MID, 1] / third[MID, 0], math.tan(0.3 * math.pi / 2), rtol=1e-9)


def test_jux_pans_hard_left_and_hard_right():
    out = render('out: s "noise" $ jux (# speed 2)')
    np.testing.assert_allclose(out[MID, 0], NOISE[MID], atol=1e-12)  # the original, hard left at full level
    assert np.max(np.abs(out[SR // 2 + 1000 :, 1])) < 1e-12  # the copy (twice as fast) is over on the right


# ---------------------------------------------------------------------------------------------- filters


def test_cutoff_is_per_event_where_a_filter_of_the_sum_is_not():
    """Two overlapping events of one pattern with different cutoffs: the first keeps its dark 300 Hz lowpass
    after the second (5 kHz) starts. A filter of the voices' sum (`# lpf pattern 1`) opens for both."""
    per_event = left('out: s "noise noise" # cutoff "300 5000"', cycles=1)
    second = left('out: s "~ noise" # cutoff 5000', cycles=1)
    first = left('out: s "noise ~" # cutoff 300', cycles=1)
    np.testing.assert_allclose(per_event, first + second, atol=1e-12)  # each voice its own filter
    tail = slice(SR // 2 + 2000, SR - 200)  # both sounding
    assert spectral_centroid(per_event[tail] - second[tail]) < 700  # the first voice stays dark
    assert spectral_centroid(second[tail]) > 2500
    summed = left('out: s "noise noise" # lpf "300 5000" 1', cycles=1)
    assert spectral_centroid(summed[tail] - second[tail]) > 1500  # the sum's filter opened the first voice too
    early = slice(2000, SR // 2 - 200)
    assert spectral_centroid(per_event[early]) < 700


def test_lowpass_is_the_tpt_svf_and_resonance_is_superdirts():
    x = left('out: s "noise" # cutoff 800 # attack -1')
    np.testing.assert_allclose(x[: SR // 2], tpt_svf(NOISE, 800.0, 1.0, "lpf")[: SR // 2], atol=1e-9)  # q 1
    q = 1000**0.2  # resonance 0.2: rq = 0.001^0.2
    y = left('out: s "noise" # cutoff 800 # resonance 0.2 # attack -1')
    np.testing.assert_allclose(y[: SR // 2], tpt_svf(NOISE, 800.0, q, "lpf")[: SR // 2], atol=1e-9)
    z = left('out: s "noise" # cutoff 800 # lpq 12 # resonance 0.9 # attack -1')  # Strudel's lpq wins
    np.testing.assert_allclose(z[: SR // 2], tpt_svf(NOISE, 800.0, 10 ** (12 / 20), "lpf")[: SR // 2], atol=1e-9)
    assert band_energy(y[MID], 700, 900) > 2 * band_energy(x[MID], 700, 900)  # a resonant peak at the cutoff


def test_highpass_and_bandpass_per_event():
    hp = left('out: s "noise noise" # hpf "200 4000" # legato 1')  # each voice ends with its event
    plain = left('out: s "noise"')
    low_plain = band_energy(plain[2000 : SR // 2 - 200], 0, 1000)
    assert band_energy(hp[SR // 2 + 2000 : SR - 200], 0, 1000) < 0.05 * low_plain
    first, second = hp[2000 : SR // 2 - 200], hp[SR // 2 + 2000 : SR - 200]
    assert band_energy(second, 200, 1000) < 0.05 * band_energy(first, 200, 1000)  # each event its own cutoff
    x = left('out: s "noise" # hcutoff 3000 # attack -1')
    np.testing.assert_allclose(x[: SR // 2], tpt_svf(NOISE, 3000.0, 1.0, "hpf")[: SR // 2], atol=1e-9)
    # bandpass: q = bandq (10 when not given), its output times q (SuperDirt's dirt_bpf)
    b = left('out: s "noise" # bandf 1000 # attack -1 # amp 0.1')  # (a level that stays below the master's clip)
    np.testing.assert_allclose(b[: SR // 2], 0.1 * 10 * tpt_svf(NOISE, 1000.0, 10.0, "bpf")[: SR // 2], atol=1e-9)
    assert abs(spectral_centroid(b[MID]) - 1000) < 300
    wide = left('out: s "noise" # bpf 1000 # bpq 2 # amp 0.1')
    def spread(x):  # energy an octave above the centre against the energy at it
        return band_energy(x[MID], 1800, 2200) / band_energy(x[MID], 900, 1100)

    assert spread(wide) > 5 * spread(b)  # a lower q: a wider band


def test_vowels_have_their_formants():
    a = left('out: s "saw" # vowel "a"')[MID]
    i = left('out: s "saw" # vowel "i"')[MID]
    # a: first formant 660 Hz (harmonic 6 of 110 Hz), i: 270 Hz (near harmonic 2-3); Csound countertenor table
    assert tone_amplitude(a, 660) > 3 * tone_amplitude(i, 660)
    assert tone_amplitude(i, 220) > 2 * tone_amplitude(a, 220)
    assert np.array_equal(left('out: s "saw" # vowel 0')[MID], a)  # numbers: 0..4 is a e i o u
    mixed = left('out: s "saw" # vowel 0.5')[MID]
    assert not np.array_equal(mixed, a) and not np.array_equal(mixed, left('out: s "saw" # vowel "e"')[MID])


def test_unknown_words_are_errors():
    with pytest.raises(PhononError) as info:
        render('out: s "noise" # vowel "x"')
    assert "vowel 'x'" in info.value.message and "a e i o u" in info.value.hint
    with pytest.raises(PhononError) as info:
        render('out: s "noise" # unit "q"')
    assert "unit 'q'" in info.value.message


def test_filter_envelope_sweeps_the_cutoff_up_then_down():
    x = left('out: s "noise" # cutoff 200 # lpenv 5 # lpattack 0.1 # lpdecay 0.2 # lpsustain 0')
    w = 2048

    def centroid(t: float) -> float:
        start = int(t * SR)
        return spectral_centroid(x[start : start + w])

    start, peak, late = centroid(0.005), centroid(0.095), centroid(0.4)
    assert peak > 2.5 * start and peak > 2.5 * late  # 200 Hz -> 6.4 kHz over 0.1 s, back over 0.2 s
    # negative lpenv sweeps down: from cutoff * 2^5 at the onset to the cutoff
    down = left('out: s "noise" # cutoff 200 # lpenv (-5) # lpattack 0.1 # lpdecay 0.2 # lpsustain 0')
    assert spectral_centroid(down[:w]) > 2.5 * spectral_centroid(down[int(0.095 * SR) :][:w])


# -------------------------------------------------------------------------------------------- distortion


def test_shape_crush_coarse_distort_follow_their_formulas():
    s = 0.5
    k = 2 * s / (1 - s)
    shaped = left('out: s "sinewave" # shape 0.5')[MID]
    np.testing.assert_allclose(shaped, (1 + k) * SINE[MID] / (1 + k * np.abs(SINE[MID])), atol=1e-12)
    assert tone_amplitude(shaped, 660) > 0.05  # odd harmonics appear
    crushed = left('out: s "sinewave" # crush 4')[MID]  # steps of 0.5^3
    np.testing.assert_allclose(crushed, np.floor(SINE[MID] / 0.125 + 0.5) * 0.125, atol=1e-12)
    assert len(np.unique(np.round(crushed, 9))) <= 17
    held = left('out: s "sinewave" # coarse 4')
    k0 = 48  # a multiple of 4 after the attack: each value taken at an age k = 0 mod 4 and held 4 samples
    np.testing.assert_allclose(held[k0 : k0 + 4000], np.repeat(SINE[k0 : k0 + 4000 : 4], 4), atol=1e-12)
    d = 2.0
    kd = math.exp(d) - 1
    distorted = left('out: s "sinewave" # distort 2')[MID]
    np.testing.assert_allclose(distorted, (1 + kd) * SINE[MID] / (1 + kd * np.abs(SINE[MID])), atol=1e-12)


def test_effects_run_in_superdirts_order():
    """shape before the lowpass (the lowpass smooths what shape made), crush before coarse."""
    both = left('out: s "sinewave" # shape 0.9 # cutoff 400 # attack -1 # gain 0.8')  # the level comes after
    k = 2 * 0.9 / (1 - 0.9)
    expect = 0.8**4 * tpt_svf((1 + k) * SINE / (1 + k * np.abs(SINE)), 400.0, 1.0, "lpf")
    np.testing.assert_allclose(both[: SR // 2], expect[: SR // 2], atol=1e-9)


def test_a_plain_voice_sounds_the_same_beside_effect_voices():
    """`shape 0` asks for no effect: that voice takes the plain path while its neighbour (shape 0.5) takes the
    effects path, and the node's output is the two voices rendered apart (to the last bits the master's sum
    rounds differently)."""
    both = left('out: s "noise sinewave" # shape "0 0.5" # amp 0.5')  # (below the master's clip)
    plain = left('out: s "noise ~" # amp 0.5')
    shaped = left('out: s "~ sinewave" # shape 0.5 # amp 0.5')
    np.testing.assert_allclose(both, plain + shaped, rtol=0, atol=1e-15)
    (node,) = [n for n in compile_program('out: s "noise"\n').nodes if n.kind == "sampler"]
    assert node.params == ()  # nothing asked: nothing to compute


@pytest.mark.parametrize("others", [7, 15, 16, 17, 40])
def test_a_filtered_voice_does_not_depend_on_the_voices_beside_it(others):
    """The filters run over every effect voice of a node at once, over lanes padded to a multiple of 16: a
    voice's samples are its own whatever the count. The tone is panned hard right and the noises hard left, so
    the right channel is the tone alone, to the bit, with 0 or `others` filtered noises sounding beside it."""
    alone = render('out: s "tone ~" # pan 1 # cutoff 800 # resonance 0.3')[:, 1]
    beside = render(f'out: s "tone noise*{others}" # pan "1 0" # cutoff "800 3000" # resonance 0.3')
    assert np.array_equal(beside[:, 1], alone)
    assert np.max(np.abs(beside[SR // 2 :, 0])) > 0.1  # the noises sound (on the left)


# ------------------------------------------------------------------------------------ envelope and playback


def test_decay_sustain_hold_and_release_on_samples():
    x = left('out: s "dc" # decay 0.1 # sustain 0.5')
    d = round(0.1 * SR)
    assert x[ATTACK - 1] == pytest.approx(DC)
    assert x[ATTACK + d // 2] == pytest.approx(DC * 0.75, rel=1e-3)
    np.testing.assert_allclose(x[ATTACK + d + 10 : SR - 1000], DC / 2, rtol=1e-12)
    only_decay = left('out: s "dc" # decay 0.1')  # no sustain given: 0 (Strudel's rule), the voice ends
    assert np.all(only_decay[ATTACK + d :] == 0.0) and only_decay[ATTACK + d // 2] > 0.02
    held = left('out: s "dc" # hold 0.2 # release 0.05')  # the release starts attack + hold after the onset
    gate = ATTACK + round(0.2 * SR)
    assert held[gate - 1] == pytest.approx(DC) and held[gate + round(0.05 * SR)] == 0.0
    assert held[gate + round(0.025 * SR)] == pytest.approx(DC / 2, rel=1e-3)
    released = left('out: s "dc ~ ~ ~" # release 0.01')  # a release given: the gate closes at the event's end
    assert released[11025 - 1] == pytest.approx(DC) and released[11025 + 220] == pytest.approx(DC * 220 / 441)
    assert np.all(released[11025 + 440 :] == 0.0)


def test_legato_and_clip_shorten_samples():
    a = left('out: s "dc*2" # legato 0.5')
    b = left('out: s "dc*2" # clip 0.5')
    assert np.array_equal(a, b)
    assert a[11025 - 1] == pytest.approx(DC) and np.all(a[11025 + RELEASE : 22050] == 0.0)


def test_loop_unit_and_accelerate():
    once = left('out: s "ramp"')
    twice = left('out: s "ramp" # loop 2')
    assert np.flatnonzero(once)[-1] == 999 and np.flatnonzero(twice)[-1] == 1999
    np.testing.assert_allclose(twice[1000 + ATTACK : 1800], once[ATTACK:800], atol=1e-12)  # the slice again
    cycle = left('out: s "ramp" # unit "c" # speed 1')  # unit c: the sample lasts 1/speed cycles
    assert abs(np.flatnonzero(cycle)[-1] - SR) <= 2
    half = left('out: s "ramp" # unit "c" # speed 2')
    assert abs(np.flatnonzero(half)[-1] - SR // 2) <= 2
    looped = left('out: s "ramp" $ loopAt 2', cycles=2)  # loopAt sets unit c: two cycles for the whole sample
    assert abs(np.flatnonzero(looped)[-1] - 2 * SR) <= 3
    rising = left('out: s "tone" # accelerate 1 # legato 1', cycles=1)
    n = np.flatnonzero(rising)[-1]
    assert dominant_freq(rising[n - 4096 : n - 100]) > 1.6 * dominant_freq(rising[100:4196])
    backwards = left('out: s "ramp" # begin 1 # end 0')  # end < begin plays the slice backwards
    assert backwards[ATTACK] > backwards[500] > backwards[900]


# ------------------------------------------------------------------------------------------------- synths


def test_synth_release_sets_the_decay_time_and_legato_lengthens_a_note():
    short = left('out: saw "c4 ~" # release 0.3')
    gate = SR // 2
    assert np.flatnonzero(short)[-1] == gate + round(0.3 * SR) - 2  # the last sample of a 0.3 s release
    peak_before = np.max(np.abs(short[gate - 2000 : gate]))
    assert np.max(np.abs(short[gate + round(0.15 * SR) :][:400])) == pytest.approx(peak_before / 2, rel=0.05)
    long = left('out: saw "c4 ~" # legato 1.5')
    assert np.flatnonzero(long)[-1] > gate * 1.5 > np.flatnonzero(left('out: saw "c4 ~"'))[-1]


def test_synth_envelope_controls_per_event():
    flat = left('out: saw "c4" # attack 0 # decay 0 # sustain 1 # release 0')
    slow = left('out: saw "c4" # attack 0.1 # decay 0 # sustain 1 # release 0')
    a = round(0.1 * SR)
    np.testing.assert_allclose(slow[:a], flat[:a] * np.arange(1, a + 1) / a, atol=1e-12)
    np.testing.assert_allclose(slow[a : SR - 10], flat[a : SR - 10], atol=1e-12)
    held = left('out: saw "c4" # hold 0.2 # attack 0 # decay 0 # sustain 1 # release 0')
    assert np.any(held[round(0.2 * SR) - 10 : round(0.2 * SR)]) and not np.any(held[round(0.2 * SR) :])


def test_synth_voices_take_the_effects_too():
    plain = left('out: saw "c3"')[MID]
    dark = left('out: saw "c3" # cutoff 300')[MID]
    assert spectral_centroid(dark) < 0.5 * spectral_centroid(plain)
    crushed = left('out: saw "c3" # crush 2')[SR // 10 : SR // 2]  # after the decay, at sustain 0.6
    assert len(np.unique(crushed)) <= 5  # steps of 0.5: -1 -0.5 0 0.5 1, times the sustain level


# -------------------------------------------------------------------------------------- signals and orbit


def test_a_signal_gives_a_control_at_each_onset():
    by_signal = left('~c: "300 5000"\nout: s "noise noise" # cutoff ~c')
    by_pattern = left('out: s "noise noise" # cutoff "300 5000"')
    np.testing.assert_allclose(by_signal, by_pattern, atol=0)


def test_orbit_is_recorded_with_each_voice():
    bank_data = np.zeros((10, 2), dtype=np.float32)
    bank_data[1:9] = 0.5
    pool = vk.new_pool(4)
    row = vk.new_triggers(1)
    row[0, vk.T_SAMPLE] = 0
    row[0, vk.T_ORBIT] = 3
    out = np.zeros(4)
    vk.play_samples(out, out.copy(), 0, 4, float(SR), pool, row, 1, bank_data, np.array([1]), np.array([8]),
                    np.array([1]), vk.new_stats())
    assert pool[0, vk.V_ACTIVE] == 1.0 and pool[0, vk.F_ORBIT] == 3.0  # recorded; no effect, so a plain voice


# --------------------------------------------------------------------------- block size and worker count


PROGRAM = """tempo: 1.3
~env: sine 0.7 * 2000 + 2500
o1: s "noise*4 saw*3" # cutoff "300 5000 800" # resonance "0 0.3" # pan "0.2 0.8"
o2: s "noise*2 ramp*5" # hpf "200 3000" # bandf "<1000 2500>" # bpq 4 # loop "1 2"
o3: s "sinewave*4" # vowel "a e i o" # shape 0.4 # crush "8 4" # coarse "1 3" # distort "0 1"
o4: s "noise*3" # cutoff 200 # lpenv "4 -3" # lpattack 0.05 # lpdecay 0.1 # lpsustain 0.2 # lprelease 0.05 # legato 0.7
o5: s "ramp*4 tone*2" # accelerate "0 0.5" # unit "r c" # begin "0 0.8" # end "1 0.2" # decay 0.05 # sustain 0.3
o6: saw "c3 e3 [g3 b3]" # attack 0.01 # decay 0.05 # sustain 0.5 # release 0.2 # hold "0.1 0.3" # cutoff 900 # hpq 6
o7: s "noise*8" # cutoff ~env # gain "1 0.8" # velocity 0.7 # amp 0.8 # orbit 2 # clip 0.5 # hcutoff 100 # hpq 3
"""


def test_every_control_renders_the_same_for_every_block_size_and_worker_count():
    assert_same_for_every_split(PROGRAM, cycles=2.5)
