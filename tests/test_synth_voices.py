"""Synth voices named under `s` (`s "sawtooth"`, `n "0 4 7" # s "superpiano"`): what a listener notices.

Pitch: `note` and `n` count semitones from c4 (n is the note for a synth, as SuperDirt reads it), `freq` is Hz,
and a voice given none of them plays superdough's c2 (65.41 Hz). Each name sounds at the asked pitch, with every
per-voice control, beside samples in the same pattern, and the same for any block size and worker count.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from phonon.engine.kernels import voices as vk
from phonon.engine.render import render_array
from phonon.graph.errors import PhononError
from phonon.graph.kinds import SYNTH_SOUNDS
from tests.audio import assert_same_for_every_split, dominant_freq, rms, tone_amplitude

SR = 44100
A4 = 440.0
C2 = 440.0 * 2 ** ((36 - 69) / 12)


def render(body: str, cycles: float = 1, tempo: float = 1, **kw) -> np.ndarray:
    """Stereo float64 render of `tempo: T` + body (one cycle a second by default)."""
    return render_array(f"tempo: {tempo}\n{body}", cycles=cycles, **kw)


def left(body: str, **kw) -> np.ndarray:
    return render(body, **kw)[:, 0]


@pytest.mark.parametrize("name", list(SYNTH_SOUNDS))
def test_each_name_sounds_at_the_asked_note(name):
    x = left(f'out: note "a" # s "{name}" # unison 1')  # a4; one saw of the supersaw (its spread: below)
    assert dominant_freq(x[2000:], fmax=2000) == pytest.approx(A4, rel=2e-3), name
    assert rms(x) > 0.05, name


def test_supersaw_with_its_detuned_saws_centres_on_the_note():
    x = left('out: note "a" # s "supersaw"', cycles=2, tempo=0.5)  # Strudel's 5 saws over 0.18 semitones
    outer = A4 * 2 ** (0.09 / 12)  # the highest saw; the lowest is as far below
    assert A4 * A4 / outer <= dominant_freq(x[2000:], fmin=400, fmax=480) <= outer


@pytest.mark.parametrize("name", ["sine", "superpiano", "pluck"])
def test_n_note_and_freq_give_the_same_pitch(name):
    g4 = 440.0 * 2 ** (-2 / 12)
    for body in (f'n "7" # s "{name}"', f'note "7" # s "{name}"', f'note "g" # s "{name}"', f's "{name}:7"',
                 f's "{name}" # freq {g4}', f'n "5" # s "{name}" # note 2'):  # n and note add
        assert dominant_freq(left(f"out: {body}")[2000:], fmax=2000) == pytest.approx(g4, rel=2e-3), body


def test_no_note_plays_strudels_c2():
    for name in ("sine", "sawtooth", "triangle"):
        assert dominant_freq(left(f'out: s "{name}"', cycles=2, tempo=0.5)[2000:], fmax=500) == pytest.approx(
            C2, rel=2e-3), name
    # n 0 is a note given: c4, as note 0 is
    assert dominant_freq(left('out: n "0" # s "sine"')[2000:]) == pytest.approx(261.6256, rel=1e-3)


def test_a_synth_takes_the_per_voice_controls():
    plain = render('out: note "a" # s "sawtooth"')
    assert np.array_equal(plain[:, 0], plain[:, 1])  # a mono voice in the centre
    panned = render('out: note "a" # s "sawtooth" # pan 0')
    assert np.all(np.abs(panned[:, 1]) < 1e-12) and rms(panned[:, 0]) > rms(plain[:, 0])
    quiet = render('out: note "a" # s "sawtooth" # gain 0.5')
    assert np.allclose(quiet, plain * 0.5**4, atol=1e-12)  # SuperDirt's gain curve
    dark = left('out: note "a" # s "sawtooth" # lpf 600')
    bright = plain[:, 0]
    assert tone_amplitude(dark, 8 * A4) < 0.05 * tone_amplitude(bright, 8 * A4)
    assert tone_amplitude(dark, A4) > 0.8 * tone_amplitude(bright, A4)
    short = left('out: note "a" # s "sawtooth" # legato 0.25')  # the note ends at a quarter of its event
    assert rms(short[int(0.3 * SR):]) == 0.0 and rms(short[: int(0.2 * SR)]) > 0.1


def test_pluck_decays_and_a_lower_note_decays_slower():
    def decay(note: str) -> float:
        x = left(f'out: note "{note}" # s "pluck"', cycles=1, tempo=0.5)  # a 2 s note
        return rms(x[int(1.5 * SR): int(1.9 * SR)]) / rms(x[int(0.05 * SR): int(0.25 * SR)])

    low, high = decay("c3"), decay("c5")
    assert high < 0.3  # it dies away by itself, well before its event's end
    assert low < 1.0 and low > 2 * high


def test_supersaw_is_several_detuned_saws_and_stereo_when_spread():
    body = 'out: note "a" # s "supersaw" # unison 3 # detune 1'  # saws at -0.5, 0 and +0.5 semitones
    x = render(body, cycles=2, tempo=0.5)
    saws = [A4 * 2 ** (d / 12) for d in (-0.5, 0.0, 0.5)]
    between = [(saws[0] + saws[1]) / 2, (saws[1] + saws[2]) / 2]
    mid = x[2000:, 0] + x[2000:, 1]
    peaks = [tone_amplitude(mid, f) for f in saws]
    assert min(peaks) > 10 * max(tone_amplitude(mid, f) for f in between)
    assert not np.allclose(x[:, 0], x[:, 1])  # Strudel's spread 0.6: the saws alternate left and right
    centred = render(body + " # spread 0", cycles=2, tempo=0.5)
    assert np.allclose(centred[:, 0], centred[:, 1], atol=1e-12)
    one = render('out: note "a" # s "supersaw" # unison 1', cycles=2, tempo=0.5)
    assert tone_amplitude(one[2000:, 0], saws[0]) < 0.01 * tone_amplitude(one[2000:, 0], A4)


def test_superpiano_partials_decay_the_higher_the_faster():
    x = left('out: note "c3" # s "superpiano"', cycles=1, tempo=0.5)  # a 2 s note
    f0 = 440.0 * 2 ** ((48 - 69) / 12)
    partials = [k * f0 * np.sqrt(1 + vk.PIANO_STRETCH * k * k) for k in (1, 2, 4)]
    early, late = x[: int(0.4 * SR)], x[int(1.4 * SR): int(1.8 * SR)]
    kept = [tone_amplitude(late, f) / tone_amplitude(early, f) for f in partials]
    assert all(k < 0.8 for k in kept)  # every partial decays
    assert kept[0] > kept[1] > kept[2]  # the higher, the faster
    assert tone_amplitude(early, partials[2]) > 0.02 * tone_amplitude(early, partials[0])  # partials, not a sine


def test_samples_and_synths_in_one_pattern_each_at_their_onsets():
    both = render('out: s "bd sawtooth hh"', cycles=2)
    samples = render('out: s "bd ~ hh"', cycles=2)
    synth = render('out: s "~ sawtooth ~"', cycles=2)
    assert rms(samples[: SR // 3]) > 0.01 and rms(synth[SR // 3: 2 * SR // 3]) > 0.1
    assert np.allclose(both, samples + synth, atol=1e-12)
    third = SR // 3 + 1  # the synth's onset: one third of a second, rounded up to a sample
    assert np.all(synth[:third - 1] == 0.0) and synth[third, 0] != 0.0


def test_unknown_names_are_still_unknown_samples_with_candidates():
    with pytest.raises(PhononError) as e:
        render('out: s "sawtoth"')
    assert "unknown sample 'sawtoth'" in e.value.message and "sawtooth" in e.value.hint
    with pytest.raises(PhononError) as e:
        render('out: s "bd nosuchsound"')
    assert "unknown sample 'nosuchsound'" in e.value.message


def test_synth_names_win_over_a_sample_folder_of_the_same_name(tmp_path, monkeypatch):
    folder = tmp_path / "samples" / "sine"
    folder.mkdir(parents=True)
    sf.write(str(folder / "00.wav"), np.full(SR, 0.5, dtype=np.float32), SR, subtype="FLOAT")
    monkeypatch.setenv("PHONON_SAMPLES", str(tmp_path / "samples"))
    x = left('out: note "a" # s "sine"')
    assert dominant_freq(x[2000:]) == pytest.approx(A4, rel=1e-3) and abs(np.mean(x)) < 0.01


def _kernel_render(splits: list[int], total: int) -> np.ndarray:
    """The synth kernel alone over `total` samples in calls of the given sizes (cycled): every new waveform, one
    with a filter, one stereo with a vowel, overlapping and stolen (a pool of 4)."""
    triggers = vk.new_triggers(8)
    for k, (wave, extra) in enumerate([(vk.SUPERSAW, {"vowel": 1.0}), (vk.PIANO, {}), (vk.PLUCK, {"cutoff": 900.0}),
                                       (vk.PLUCK, {}), (vk.SUPERSAW, {"unison": 7.0, "spread": 1.0}),
                                       (vk.PIANO, {"cutoff": 3000.0})]):
        row = triggers[k]
        row[vk.T_OFFSET], row[vk.T_WAVE], row[vk.T_FREQ], row[vk.T_LENGTH] = 700 * k + 3, wave, 110.0 * (k + 1), 2500
        for name, value in extra.items():
            row[vk.trigger_field(name)] = value
    pool, lines, stats = vk.new_synth_pool(4), vk.new_lines(4, SR), np.zeros(2)
    out = np.zeros((2, total))
    start, k = 0, 0
    while start < total:
        stop = min(total, start + splits[k % len(splits)])
        due = [i for i in range(6) if start <= triggers[i, vk.T_OFFSET] < stop]
        table = triggers[due].copy()
        table[:, vk.T_OFFSET] -= start
        vk.play_notes(out[0, start:stop], out[1, start:stop], 0, stop - start, float(SR), pool, table, len(due), -1,
                      stats, lines)
        start, k = stop, k + 1
    return out


def test_the_kernel_gives_the_same_samples_however_the_calls_split_the_time():
    ref = _kernel_render([8000], 8000)
    assert np.abs(ref).max() > 0.1 and not np.array_equal(ref[0], ref[1])
    for splits in ([1], [97, 3, 600], [64], [2047, 1]):
        assert np.array_equal(_kernel_render(splits, 8000), ref), splits


def test_identical_for_block_sizes_and_worker_counts():
    body = ('out: s "[sine sawtooth square triangle, supersaw superpiano pluck bd]" # note "<0 7> 3" '
            '# lpf "2000 800" # pan "0.2 0.8" # legato 1.5\n'
            'o1: n "0 4 7" # s "superpiano pluck" # vowel "a"')
    assert rms(assert_same_for_every_split(f"tempo: 1\n{body}", cycles=2)) > 0.05
