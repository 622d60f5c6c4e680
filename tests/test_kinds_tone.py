"""The tone kinds (engine/kernels/tone.py) as a listener hears them, through real programs: an EQ gives its
gain at its frequency, a shelf below or above its corner; the ladder passes the lows, falls 24 dB an octave
above its cutoff and sings at res 1; a comb's peaks sit at multiples of 1/time; an allpass keeps the level
and moves the phase; a vowel's spectral peaks are its formants. Frequency responses are measured from the
rendered impulse response (`impulse * a # kind ...`: the whole response of one deterministic render), levels
from sines (`tone_amplitude`). And each kind renders the same samples at every block size and worker count."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal

from phonon.engine.kernels.tone import LADDER_RES_GAIN, VOWEL_FREQS, VOWELS
from phonon.engine.render import render_array
from tests.audio import db, dominant_freq, rms, tone_amplitude

SR = 44100


def mono(text: str, seconds: float, **kw) -> np.ndarray:
    out = render_array(text, seconds=seconds, **kw)
    assert np.isfinite(out).all()
    return out[:, 0].copy()


def impulse_response(chain: str, amp: float = 0.1, seconds: float = 1.0) -> np.ndarray:
    """The response of `chain` to a unit impulse (rendered at `amp`, small enough for the ceiling and the
    ladder's saturation, then scaled back)."""
    return mono(f"out: impulse * {amp} # {chain}", seconds) / amp


def response_db(h: np.ndarray, freqs) -> np.ndarray:
    """|H(f)| in dB at the given frequencies, from an impulse response (an exact DTFT, no window: the
    responses here have decayed to nothing by the end)."""
    n = np.arange(len(h))
    f = np.asarray(freqs, dtype=np.float64)
    return 20 * np.log10(np.abs(np.exp(-2j * np.pi * np.outer(f, n) / SR) @ h))


def spectrum_db(h: np.ndarray, pad: int = 4) -> tuple[np.ndarray, np.ndarray]:
    nfft = pad * SR  # a 0.25 Hz grid
    return np.fft.rfftfreq(nfft, 1 / SR), 20 * np.log10(np.abs(np.fft.rfft(h, nfft)) + 1e-300)


def local_peaks(f: np.ndarray, mag_db: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Frequencies of the local maxima of a magnitude response within [lo, hi]."""
    k = np.flatnonzero((mag_db[1:-1] > mag_db[:-2]) & (mag_db[1:-1] >= mag_db[2:])) + 1
    return f[k[(f[k] >= lo) & (f[k] <= hi)]]


def sine_gain_db(chain: str, freq: float, amp: float = 0.25) -> float:
    """The gain (dB) a steady sine at freq gets from `chain`, measured after the filter settled."""
    out = mono(f"out: sine {freq} * {amp} # {chain}", 1.0)
    return db(tone_amplitude(out[SR // 2 :], freq) / amp)


# ----------------------------------------------------------------------------------------- eq, shelves


@pytest.mark.parametrize("gain, q", [(6.0, 1.0), (-12.0, 2.0), (12.0, 0.5)])
def test_eq_gives_its_gain_at_its_frequency_and_leaves_the_rest(gain, q):
    assert sine_gain_db(f"eq 1000 {gain} {q}", 1000.0) == pytest.approx(gain, abs=0.5)
    assert abs(sine_gain_db(f"eq 1000 {gain} {q}", 60.0)) < 0.5  # four octaves away: untouched
    assert abs(sine_gain_db(f"eq 1000 {gain} {q}", 16000.0)) < 0.5


@pytest.mark.parametrize("shelf, gain, corner, inside, outside", [
    ("lowshelf", 6.0, 200.0, 30.0, 5000.0),
    ("lowshelf", -12.0, 500.0, 40.0, 10000.0),
    ("highshelf", -9.0, 3000.0, 18000.0, 100.0),
    ("highshelf", 6.0, 1000.0, 12000.0, 60.0),
])  # fmt: skip
def test_a_shelf_gives_its_gain_beyond_its_corner_and_half_of_it_at_the_corner(shelf, gain, corner, inside, outside):
    assert sine_gain_db(f"{shelf} {corner} {gain}", inside) == pytest.approx(gain, abs=0.5)
    assert abs(sine_gain_db(f"{shelf} {corner} {gain}", outside)) < 0.5
    assert sine_gain_db(f"{shelf} {corner} {gain}", corner) == pytest.approx(gain / 2, abs=0.1)


def _cookbook(mode: str, f0: float, gain_db: float, q: float) -> tuple[list, list]:
    """Robert Bristow-Johnson's cookbook biquad (b, a), written out independently of the kernel."""
    A = 10 ** (gain_db / 40)  # the cookbook's names
    w0 = 2 * math.pi * f0 / SR
    c, alpha = math.cos(w0), math.sin(w0) / (2 * q)
    sq = 2 * math.sqrt(A) * alpha
    if mode == "eq":
        return [1 + alpha * A, -2 * c, 1 - alpha * A], [1 + alpha / A, -2 * c, 1 - alpha / A]
    if mode == "lowshelf":
        return (
            [A * ((A + 1) - (A - 1) * c + sq), 2 * A * ((A - 1) - (A + 1) * c), A * ((A + 1) - (A - 1) * c - sq)],
            [(A + 1) + (A - 1) * c + sq, -2 * ((A - 1) + (A + 1) * c), (A + 1) + (A - 1) * c - sq],
        )
    return (
        [A * ((A + 1) + (A - 1) * c + sq), -2 * A * ((A - 1) + (A + 1) * c), A * ((A + 1) + (A - 1) * c - sq)],
        [(A + 1) - (A - 1) * c + sq, 2 * ((A - 1) - (A + 1) * c), (A + 1) - (A - 1) * c - sq],
    )


@pytest.mark.parametrize("mode, f0, gain, q", [
    ("eq", 1000, 6, 1), ("eq", 15000, -20, 4), ("lowshelf", 100, -20, 3), ("highshelf", 3000, 9, 0.707),
])  # fmt: skip
def test_eq_and_shelves_have_the_cookbook_response_at_every_frequency(mode, f0, gain, q):
    freqs = np.geomspace(20, 20000, 31)
    b, a = _cookbook(mode, f0, gain, q)
    expected = 20 * np.log10(np.abs(signal.freqz(b, a, worN=freqs, fs=SR)[1]))
    np.testing.assert_allclose(response_db(impulse_response(f"{mode} {f0} {gain} {q}"), freqs), expected, atol=0.01)


# ----------------------------------------------------------------------------------------------- ladder


def _ladder_db(f: float, fc: float, res: float) -> float:
    """The linear ladder's response: 1 / ((1 + s)^4 + k), s on the prewarped axis (TPT stages)."""
    s = 1j * math.tan(math.pi * f / SR) / math.tan(math.pi * fc / SR)
    return db(abs(1 / ((1 + s) ** 4 + LADDER_RES_GAIN * res)))


def test_the_ladder_passes_below_its_cutoff_and_falls_24_db_an_octave_above():
    tones = (125.0, 250.0, 2000.0, 4000.0, 8000.0)
    mix = " + ".join(f"sine {f}" for f in tones)
    out = mono(f"out: ({mix}) * 0.02 # ladder 1000", 1.0)[SR // 2 :]
    level = {f: db(tone_amplitude(out, f) / 0.02) for f in tones}
    assert level[125.0] > -0.5 and level[250.0] > -1.2  # the passband: 4 poles 2 and 3 octaves away
    assert level[2000.0] == pytest.approx(-28.0, abs=0.5)  # an octave above: 4 poles at -7 dB each
    assert level[4000.0] - level[8000.0] == pytest.approx(24.0, abs=3.0)  # the 24 dB/octave skirt
    for f in tones:
        assert level[f] == pytest.approx(_ladder_db(f, 1000.0, 0.0), abs=0.05)


def test_the_ladder_resonates_at_its_cutoff():
    freqs = [100.0, 500.0, 1000.0, 2000.0, 4000.0]
    h = impulse_response("ladder 1000 0.8", amp=0.01)
    got = response_db(h, freqs)
    assert got[2] - got[0] > 10  # the resonant peak stands out of the (Moog-quieter) passband
    np.testing.assert_allclose(got, [_ladder_db(f, 1000.0, 0.8) for f in freqs], atol=0.05)


@pytest.mark.parametrize("cutoff", [220.0, 3000.0])
def test_the_ladder_sings_at_its_cutoff_at_full_resonance_and_stays_bounded(cutoff):
    ring = mono(f"out: impulse * 0.1 # ladder {cutoff} 1", 2.0)
    tail = ring[-SR // 2 :]
    assert 0.05 < np.abs(tail).max() < 0.2  # still oscillating after 2 s, at a settled level
    assert dominant_freq(tail) == pytest.approx(cutoff, rel=0.01)
    loud = mono(f"out: (saw 55 * 20 # ladder {cutoff} 1) * 0.5", 1.0)
    assert np.abs(loud).max() <= 0.5  # saturated, never above full scale (and far from the master's ceiling)


# ----------------------------------------------------------------------------------------- comb, allpass


def test_a_comb_echoes_every_time_seconds_with_feedback_times_the_last():
    h = impulse_response("comb 0.01 0.9", amp=0.5)
    echoes = np.flatnonzero(np.abs(h) > 1e-12)[:6]
    np.testing.assert_array_equal(echoes, [0, 441, 882, 1323, 1764, 2205])
    np.testing.assert_allclose(h[echoes], 0.9 ** np.arange(6), rtol=1e-12)


@pytest.mark.parametrize("time, feedback, first, step", [
    (0.01, 0.9, 100.0, 100.0),  # peaks at multiples of 1/time
    (1 / 330, 0.8, 330.0, 330.0),  # a fractional delay (133.6 samples) stays in tune
    (0.01, -0.9, 50.0, 100.0),  # negative feedback: odd multiples of 1/(2 time)
])  # fmt: skip
def test_a_combs_peaks_sit_at_multiples_of_one_over_time(time, feedback, first, step):
    f, mag = spectrum_db(impulse_response(f"comb {time} {feedback}", amp=0.1))
    peaks = local_peaks(f, mag, 20.0, 2990.0)
    expected = np.arange(first, 2990.0, step)
    assert len(peaks) == len(expected)
    np.testing.assert_allclose(peaks, expected, rtol=0.01)
    top = mag[np.searchsorted(f, expected[:5])]
    if time == 0.01:  # peaks 1 / (1 - |fb|) = +20 dB, troughs 1 / (1 + |fb|) between them
        np.testing.assert_allclose(top, 20.0, atol=0.05)
        assert mag[np.searchsorted(f, expected[0] + step / 2)] == pytest.approx(db(1 / 1.9), abs=0.05)


def test_an_allpass_keeps_the_level_and_changes_the_phase():
    dry = mono("out: noise * 0.3", 1.0)
    wet = mono("out: noise * 0.3 # allpass 0.01 0.7", 1.0)  # the same noise: same program position, same seed
    assert rms(wet[SR // 10 :]) == pytest.approx(rms(dry[SR // 10 :]), rel=0.03)
    assert abs(np.corrcoef(dry, wet)[0, 1]) < 0.8  # the waveform is not the input's: the phase moved
    h = impulse_response("allpass 0.01 0.7", amp=0.5)
    assert h[0] == pytest.approx(-0.7) and h[441] == pytest.approx(1 - 0.7**2)  # -g now, 1 - g^2 after d
    f, mag = spectrum_db(h)
    assert np.abs(mag[(f > 20) & (f < 20000)]).max() < 1e-6  # flat: exactly 0 dB at every frequency


# ------------------------------------------------------------------------------------------------ vowel


@pytest.mark.parametrize("index", range(5), ids=list(VOWELS))
def test_a_vowels_spectral_peaks_are_its_formants(index):
    f, mag = spectrum_db(impulse_response(f"vowel {index}"))
    peaks = local_peaks(f, mag, 150.0, 5000.0)
    for formant in VOWEL_FREQS[index][:2]:
        nearest = peaks[np.argmin(np.abs(peaks - formant))]
        assert nearest == pytest.approx(formant, rel=0.10), (VOWELS[index], formant, peaks)
    assert f[np.argmax(mag)] == pytest.approx(VOWEL_FREQS[index][0], rel=0.10)  # F1 is the loudest


@pytest.mark.parametrize("index", range(5), ids=list(VOWELS))
def test_a_vowel_on_a_sawtooth_makes_the_harmonic_at_its_first_formant_the_loudest(index):
    out = mono(f"out: saw 110 # vowel {index}", 1.0)[SR // 2 :]
    levels = [tone_amplitude(out, 110.0 * n) for n in range(1, 31)]
    first_formant = VOWEL_FREQS[index][0]
    assert abs(110.0 * (1 + int(np.argmax(levels))) - first_formant) <= 55.0  # the harmonic nearest F1


def test_a_fractional_vowel_blends_the_formants_of_its_neighbours():
    f, mag = spectrum_db(impulse_response("vowel 0.5"))
    halfway = (VOWEL_FREQS[0] + VOWEL_FREQS[1]) / 2  # between a and e
    peaks = local_peaks(f, mag, 150.0, 5000.0)
    for formant in halfway[:2]:
        assert np.abs(peaks - formant).min() < 0.10 * formant


# ----------------------------------------------------------------------------- block size, worker count

PROGRAMS = {
    "ladder": 'o1: saw "55 110" # ladder (sine 3 * 800 + 1200) "0.3 0.97" * 0.3',
    "comb": 'o1: noise * 0.2 # comb "0.01 0.0037" (sine 2 * 0.5 + 0.4)',
    "allpass": "o1: saw 220 * 0.2 # allpass (sine 0.5 * 0.004 + 0.006) 0.6",
    "eq": 'o1: saw 110 * 0.2 # eq "500 2000" "6 -12" 2 # lowshelf 100 (sine 1 * 6) # highshelf 5000 -6',
    "vowel": 'o1: saw 110 * 0.2 # vowel "0 1 2 3 4"\no2: saw 165 * 0.1 # vowel (sine 0.5 * 2 + 2)',
}


@pytest.mark.parametrize("kind", sorted(PROGRAMS))
def test_each_tone_kind_renders_the_same_samples_at_every_block_size_and_worker_count(kind):
    text = "tempo: 2\n" + PROGRAMS[kind] + "\n"  # patterns step and signals move inside blocks
    reference = mono(text, 0.5)
    assert rms(reference) > 1e-3
    for options in ({"block": 64}, {"block": 2048}, {"workers": 2}):
        assert np.array_equal(mono(text, 0.5, **options), reference), options
