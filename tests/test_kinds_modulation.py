"""The modulation kinds (engine/kernels/modulation.py), heard: real programs rendered, then measured the way a
listener would notice them (notches that sweep at the LFO rate, sidebands where ring modulation and FM put
them, an envelope's period and depth, a held value that changes only on a trigger, smoothing times, ramps).
The contract tests in tests/test_kinds.py cover block-size independence and wild parameters kernel by kernel;
here each kind also renders the same samples through the renderer at every block size and worker count."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import signal, special

from phonon.graph.kinds import ARITHMETIC_FUNCTIONS, FUNCTIONS, KINDS, VOICE_PARAMS
from phonon.graph.patterns import TRANSFORMS
from phonon.graph.patterns.constructors import CONSTRUCTORS
from phonon.graph.patterns.signals import SIGNALS
from tests.audio import SR, render, tone_amplitude

NAMES = ("phaser", "flanger", "ring", "fm", "tremolo", "samplehold", "lag", "slew", "line", "phasor", "follow")


def test_the_new_names_are_functions_and_shadow_nothing():
    assert all(FUNCTIONS[name].kind == name and name in KINDS for name in NAMES)
    for taken in (SIGNALS, TRANSFORMS, CONSTRUCTORS, ARITHMETIC_FUNCTIONS, VOICE_PARAMS):
        assert not set(NAMES) & set(taken)


# ----------------------------------------------------------------------------------------- phaser, flanger


def _notch_track(effect: str, lo: float, hi: float, seconds: float, win: int) -> tuple[np.ndarray, np.ndarray]:
    """(window centres in s, frequency of the deepest notch in [lo, hi] Hz) of `noise # effect`: the response
    is the cross spectrum of wet and dry over 5 neighbouring windows divided by the dry power."""
    dry = render("out: noise * 0.5", seconds)
    wet = render(f"out: noise * 0.5 # {effect}", seconds, side=0)  # the left side: the mono effect
    hop = 512
    f, t, x = signal.stft(dry, SR, nperseg=win, noverlap=win - hop, boundary=None, padded=False)
    _, _, y = signal.stft(wet, SR, nperseg=win, noverlap=win - hop, boundary=None, padded=False)
    ones = np.ones((1, 5))
    cross = signal.convolve(y * np.conj(x), ones, mode="valid")
    response = np.abs(cross) / signal.convolve(np.abs(x) ** 2, ones, mode="valid")
    t = t[2 : 2 + response.shape[1]]
    band = np.flatnonzero((f >= lo) & (f <= hi))
    i = band[np.argmin(response[band], axis=0)]
    cols = np.arange(len(i))
    a, b, c = (np.log(response[i + k, cols]) for k in (-1, 0, 1))
    offset = np.clip(0.5 * (a - c) / (a - 2 * b + c), -0.5, 0.5)  # parabolic interpolation on the log
    return t, signal.medfilt(f[i] + offset * (f[1] - f[0]), 5)


def _period(t: np.ndarray, track: np.ndarray) -> float:
    """The period of a track: the highest autocorrelation peak after its first zero crossing."""
    v = np.log(track) - np.log(track).mean()
    ac = np.correlate(v, v, "full")[len(v) - 1 :]
    first_negative = int(np.argmax(ac < 0))
    return float((t[1] - t[0]) * (first_negative + np.argmax(ac[first_negative : 2 * len(v) // 3])))


@pytest.mark.parametrize("rate", [0.5, 0.8])
def test_the_phasers_notch_sweeps_at_the_lfo_rate_where_the_allpass_chain_puts_it(rate):
    # depth 0.4: the stages' break frequency fc sweeps 302..1323 Hz, so the lower notch of 4 stages
    # (fc tan(pi/8), bilinear-warped) stays in 125..548 Hz and the upper one above 730 Hz
    t, notch = _notch_track(f"phaser {rate} 0.4 0 4", 80, 650, 6.0, 4096)
    assert _period(t, notch) == pytest.approx(1 / rate, rel=0.1)
    fc = math.sqrt(400_000.0) * np.exp(0.4 * 0.5 * math.log(40.0) * np.sin(2 * np.pi * rate * t))
    expected = SR / np.pi * np.arctan(math.tan(np.pi / 8) * np.tan(np.pi * fc / SR))
    assert np.median(np.abs(np.log(notch / expected))) < 0.05


@pytest.mark.parametrize("rate, feedback", [(0.5, 0.0), (0.6, 0.5)])
def test_the_flangers_notch_sweeps_at_the_lfo_rate(rate, feedback):
    # depth 0.5: the delay sweeps 3.25..7.75 ms, so the first notch 1 / (2 d) stays in 65..154 Hz and the
    # second (3 / (2 d)) above 190 Hz
    t, notch = _notch_track(f"flanger {rate} 0.5 {feedback}", 45, 180, 6.0, 8192)
    assert _period(t, notch) == pytest.approx(1 / rate, rel=0.1)
    if feedback == 0.0:
        delay = 0.0055 + 0.5 * 0.0045 * np.sin(2 * np.pi * rate * t)
        assert np.median(np.abs(np.log(notch * 2 * delay))) < 0.05


@pytest.mark.parametrize("freq", [50.0, 400.0, 700.0, 3000.0])
def test_at_depth_0_the_phaser_and_flanger_are_their_still_allpass_and_comb_responses(freq):
    out = render(f"o1: sine {freq} * 0.5 # phaser 1 0 0 4", 1.0, side=0)[SR // 2 :]
    fc = math.sqrt(400_000.0)  # the sweep's centre
    stage = 2 * math.atan(math.tan(math.pi * freq / SR) / math.tan(math.pi * fc / SR))  # phase lag of one stage
    assert tone_amplitude(out, freq) == pytest.approx(0.5 * abs(math.cos(2 * stage)), abs=0.002)
    out = render(f"o1: sine {freq} * 0.5 # flanger 1 0 0", 1.0, side=0)[SR // 2 :]
    assert tone_amplitude(out, freq) == pytest.approx(0.5 * abs(math.cos(math.pi * freq * 0.0055)), abs=0.002)


# ------------------------------------------------------------------------------------ ring, fm, tremolo


def test_ring_modulation_gives_the_sum_and_difference_and_no_carrier():
    out = render("out: sine 440 * 0.5 # ring 100", 1.0)
    for f in (340.0, 540.0):
        assert tone_amplitude(out, f) == pytest.approx(0.25, rel=0.01)
    for f in (100.0, 440.0):
        assert tone_amplitude(out, f) < 1e-5
    # the carrier is the `sine` oscillator's: the same samples as multiplying by it
    assert np.array_equal(out, render("out: sine 440 * 0.5 * sine 100", 1.0))


def test_fm_with_index_0_is_a_pure_sine_and_with_an_index_has_bessel_sidebands():
    assert np.array_equal(render("out: fm 440 2 0 * 0.5", 0.5), render("out: sine 440 * 0.5", 0.5))
    carrier, modulator, index = 2000.0, 300.0, 2.0
    out = render(f"out: fm {carrier} {modulator / carrier} {index} * 0.5", 1.0)
    for k in range(-4, 5):
        amplitude = tone_amplitude(out, carrier + k * modulator)
        assert amplitude == pytest.approx(0.5 * abs(special.jv(k, index)), abs=0.002), k
    for f in (carrier + 150.0, carrier - 450.0, 1000.0):  # nothing between the sidebands
        assert tone_amplitude(out, f) < 1e-4


def _envelope(x: np.ndarray) -> np.ndarray:
    return np.abs(signal.hilbert(x))


def test_tremolo_swings_the_level_between_1_and_1_minus_depth_at_its_rate():
    rate, depth = 4.0, 0.6
    out = render(f"out: sine 1000 * 0.5 # tremolo {rate} {depth}", 2.0)
    env = _envelope(out)[SR // 10 : -SR // 10]  # away from the Hilbert transform's edge effects
    assert env.max() == pytest.approx(0.5, rel=0.01)
    assert env.min() == pytest.approx(0.5 * (1 - depth), rel=0.02)
    lows = signal.find_peaks(-env, distance=SR // 8)[0]
    assert np.diff(lows) / SR == pytest.approx(np.full(len(lows) - 1, 1 / rate), rel=0.01)
    assert render("out: sine 1000 * 0.5 # tremolo 4 0", 0.2) == pytest.approx(render("out: sine 1000 * 0.5", 0.2))


# ------------------------------------------------------------------ samplehold, lag, slew, line, phasor


def test_samplehold_changes_only_on_rising_edges_of_its_trigger():
    out = render("out: sine 3 * 0.8 # samplehold (impulse 10)", 1.0)
    source = render("out: sine 3 * 0.8", 1.0)
    edges = np.flatnonzero(render("out: impulse 10", 1.0) > 0)
    assert len(edges) == 10 and edges[0] == 0
    changes = np.flatnonzero(np.diff(out)) + 1
    assert set(changes) <= set(edges)  # sample 0 is an edge too: it takes the input's first value (0)
    held = np.repeat(source[edges], np.diff(np.append(edges, len(out))))
    np.testing.assert_array_equal(out, held)
    # a square trigger (a pattern, 2 cycles a second): it samples where it rises (at 0.25 s and 0.75 s),
    # not where it falls; before its first rise the output is 0
    out = render('tempo: 2\nout: sine 7 * 0.8 # samplehold "-1 1"', 1.0)
    source = render("out: sine 7 * 0.8", 1.0)
    rises = [SR // 4, 3 * SR // 4]
    np.testing.assert_array_equal(np.flatnonzero(np.diff(out)) + 1, rises)
    np.testing.assert_array_equal(out, np.select([np.arange(len(out)) >= r for r in rises[::-1]], source[rises[::-1]]))


def test_lag_is_within_60_db_of_a_step_after_its_time_and_starts_at_the_first_input():
    time = 0.2
    out = render(f'tempo: 1\nout: "0.25 0.75" # lag {time}', 1.0)  # a step of 0.5 at 0.5 s
    step = SR // 2
    np.testing.assert_array_equal(out[:step], 0.25)  # no ramp up from 0 at the start
    settled = step + int(np.argmax(out[step:] >= 0.75 - 0.5e-3))
    assert (settled - step + 1) / SR == pytest.approx(time, rel=0.01)
    assert np.all(np.diff(out[step:]) >= 0) and out[-1] == pytest.approx(0.75, abs=1e-7)


def _first_reaching(x: np.ndarray, level: float) -> int:
    return int(np.argmax(x >= level))


def test_slew_limits_the_rate_of_change_up_and_down():
    out = render('tempo: 0.5\nout: "0 1" # slew 4 2', 2.0)  # starts at 0, rises from 1 s
    np.testing.assert_allclose(np.diff(out[SR - 1 : SR + SR // 4]), 4.0 / SR, rtol=1e-6)
    assert _first_reaching(out, 1.0) - SR == pytest.approx(0.25 * SR, abs=1)
    out = render('tempo: 0.5\nout: "1 0" # slew 4 2', 2.0)  # starts at 1, falls from 1 s
    np.testing.assert_array_equal(out[:SR], 1.0)
    np.testing.assert_allclose(np.diff(out[SR - 1 : SR + SR // 2]), -2.0 / SR, rtol=1e-6)
    assert _first_reaching(-out, 0.0) - SR == pytest.approx(0.5 * SR, abs=1)


def test_line_ramps_from_its_start_to_its_end_in_its_time_then_holds():
    out = render("out: line 0.2 0.8 0.5", 1.0)
    end = int(0.5 * SR)
    assert out[0] == 0.2 and out[end] == 0.8
    np.testing.assert_allclose(out[:end], 0.2 + 0.6 * np.arange(end) / end, rtol=1e-12)
    np.testing.assert_array_equal(out[end:], 0.8)
    assert np.all(render("out: line 1 0 0", 0.1) == 0.0)  # time 0: the end at once


def test_phasor_is_a_0_to_1_ramp_with_the_period_of_its_frequency():
    out = render("out: phasor 100", 1.0)
    assert out[0] == 0.0 and out.min() >= 0.0 and out.max() < 1.0
    wraps = np.flatnonzero(np.diff(out) < 0) + 1
    assert len(wraps) == 99
    np.testing.assert_allclose(np.diff(wraps), SR / 100, atol=1)
    np.testing.assert_allclose(np.diff(out)[np.diff(out) > 0], 100 / SR, rtol=1e-6)


# -------------------------------------------------------------------------------------------------- follow


@pytest.mark.parametrize("mode, settings, level", [(0, "0.001 1", 0.5), (1, "0.1 0.1", 0.5 / math.sqrt(2))])
def test_follow_settles_at_the_peak_or_the_rms_of_a_sine(mode, settings, level):
    out = render(f"out: sine 440 * 0.5 # follow {settings} {mode}", 2.0)[-SR // 2 :]
    assert out.min() == pytest.approx(level, rel=0.02) and out.max() == pytest.approx(level, rel=0.02)


def test_follow_rises_with_its_attack_and_falls_with_its_release_time_constants():
    k = np.arange(SR // 4)
    out = render('tempo: 0.5\nout: "0 1" # follow 0.01 0.05', 2.0)  # a step up at 1 s
    np.testing.assert_allclose(out[SR + k], 1 - np.exp(-(k + 1) / (0.01 * SR)), rtol=1e-9)
    out = render('tempo: 0.5\nout: "1 0" # follow 0.01 0.05', 2.0)  # and down at 1 s
    np.testing.assert_allclose(out[SR + k], np.exp(-(k + 1) / (0.05 * SR)), rtol=1e-9)


# --------------------------------------------------------------------- block sizes and worker counts

PROGRAMS = {
    "phaser": 'out: saw 110 * 0.3 # phaser (sine 0.3 + 1.5) "0.3 0.9" "0 0.7" "4 6"',
    "flanger": 'out: saw 110 * 0.3 # flanger (sine 0.3 + 1.5) "0.3 0.9" "0 0.7 -0.5"',
    "ring": 'out: saw 110 * 0.3 # ring "100 230"',
    "fm": 'out: fm "220 330" "1 1.5" (sine 2 * 3 + 3) * 0.3',
    "tremolo": 'out: saw 110 * 0.3 # tremolo "3 7" (sine 0.5 * 0.5 + 0.5)',
    "samplehold": 'out: noise * 0.3 # samplehold (sine "5 13")',
    "lag": 'out: "0 0.5 0.2 0.8" # lag "0.01 0.05"',
    "slew": 'out: "0 0.5 0.2 0.8" # slew "3 9" (sine 1 * 4 + 5)',
    "line": 'out: line "0 0.2" 0.7 "0.3 0.4"',
    "phasor": 'out: phasor (sine 2 * 30 + 200) * 0.5',
    "follow": 'out: noise * (sine 2) # follow "0.001 0.01" 0.05 "0 1"',
}


@pytest.mark.parametrize("name", NAMES)
def test_each_kind_renders_the_same_samples_at_every_block_size_and_worker_count(name):
    text = "tempo: 1.7\n" + PROGRAMS[name]
    reference = render_stereo(text, block=512, workers=1)
    assert np.abs(reference).max() > 0.01 and np.isfinite(reference).all()
    for block, workers in ((64, 1), (2048, 1), (64, 2), (512, 2), (2048, 2)):
        out = render_stereo(text, block=block, workers=workers)
        np.testing.assert_array_equal(out, reference, err_msg=f"block {block}, workers {workers}")


def render_stereo(text: str, **kw) -> np.ndarray:
    from phonon.engine.render import render_array

    # a second output beside the kind's, so a worker count of 2 has two parts to place
    return render_array(text + "\no2: sine 60 * 0.1", seconds=0.7, **kw)


def test_the_kinds_close_feedback_loops_the_same_at_every_block_size_and_worker_count():
    # loops with no delay node: an implicit one-sample delay, run sample by sample in one fused kernel
    text = (
        "~x: saw 110 * 0.2 + (~x # flanger 0.5 0.7 0) * 0.5\n"
        "~y: saw 165 * 0.2 + (~y # phaser 0.5 0.7 0.3 4) * 0.5\n"
        "~z: sine 3 * 0.5 + (~z # lag 0.01) * 0.3 + (~z # follow) * 0.1 + (~z # slew 10 10) * 0.1\n"
        "out: ~x + ~y\no2: ~z # tremolo 5 0.5 # ring 30\n"
    )
    from phonon.engine.render import render_array

    reference = render_array(text, seconds=0.5)
    assert np.isfinite(reference).all() and np.abs(reference).max() > 0.1
    for block, workers in ((64, 1), (2048, 2)):
        np.testing.assert_array_equal(render_array(text, seconds=0.5, block=block, workers=workers), reference)
