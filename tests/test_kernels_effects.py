"""Kernels for noise, delays, reverb, dynamics and envelopes, called directly on hand-built arenas.

Each test asserts what a listener would notice (an echo at the exact sample, a tail after the dry impulse,
odd harmonics, a level change in dB, a spectral slope), and every kernel is checked for block-size
independence: one call over [0, N) and the same samples in arbitrary pieces give bit-identical output and
final state.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from phonon.engine.kernels import KERNELS, load_all
from phonon.engine.kernels.delays import DELAY_MAX_SECONDS
from phonon.graph.kinds import KINDS

load_all()
chorus, delay, bitcrush, compressor, distortion, adsr, env, brown, noise, pink, reverb = (
    KERNELS[k]
    for k in ("chorus", "delay", "bitcrush", "compressor", "distortion", "adsr", "env", "brown", "noise", "pink", "reverb")
)

SR = 44100


# ----------------------------------------------------------------------------------------------- harness


def build(kind: str, nodes: list[tuple[list, tuple]], n: int, sr: float = SR):
    """Arena, wiring and state for a batch of `kind` nodes.

    `nodes` holds (inputs, consts) per node; an input is a scalar (a constant row) or an array of n samples.
    Row 0.. are outputs (one per node), then the input rows. State rows are [sr, *consts, zeros]: consts not
    given are 0 (a sided kind's `side` 0 is its left node, the mono effect).
    """
    k = KINDS[kind]
    rows: list[np.ndarray] = [np.zeros(n) for _ in nodes]
    wiring = np.full((len(nodes), 1 + len(k.inputs)), -1, dtype=np.int64)
    width = 1 + len(k.consts) + k.state_size(int(sr))
    state = np.zeros((len(nodes), width))
    for i, (inputs, consts) in enumerate(nodes):
        assert len(inputs) == len(k.inputs), (kind, inputs)
        assert len(consts) <= len(k.consts), (kind, consts)
        wiring[i, 0] = i
        for j, value in enumerate(inputs):
            wiring[i, 1 + j] = len(rows)
            rows.append(np.full(n, float(value)) if np.isscalar(value) else np.asarray(value, dtype=np.float64))
        state[i, 0] = sr
        state[i, 1 : 1 + len(consts)] = consts
    return np.array(rows), wiring, state


def render(fn, kind: str, inputs: list, consts: tuple = (), n: int = SR, sr: float = SR) -> np.ndarray:
    """Run one node over [0, n) in one call and return its output."""
    arena, wiring, state = build(kind, [(inputs, consts)], n, sr)
    fn(arena, wiring, state, 0, n)
    return arena[0].copy()


def run_pieces(fn, arena, wiring, state, cuts) -> None:
    for a, b in zip(cuts[:-1], cuts[1:]):
        fn(arena, wiring, state, a, b)


def assert_block_independent(fn, kind: str, nodes, n: int, sr: float = SR, seed: int = 0) -> None:
    """Whole block vs. random pieces vs. sample by sample (for a stretch): identical output and state."""
    rng = np.random.default_rng(seed)
    arena, wiring, state = build(kind, nodes, n, sr)
    a1, s1 = arena.copy(), state.copy()
    fn(a1, wiring, s1, 0, n)

    cuts = np.unique(np.concatenate([[0, n], rng.integers(1, n, size=12)]))
    a2, s2 = arena.copy(), state.copy()
    run_pieces(fn, a2, wiring, s2, list(cuts))

    # Sample by sample over a stretch in the middle, blocks of 64 elsewhere.
    mid = n // 2
    cuts3 = sorted(set(list(range(0, n, 64)) + list(range(mid, min(n, mid + 300))) + [n]))
    a3, s3 = arena.copy(), state.copy()
    run_pieces(fn, a3, wiring, s3, cuts3)

    outs = wiring[:, 0]
    assert np.array_equal(a1[outs], a2[outs]), f"{kind}: random pieces differ"
    assert np.array_equal(a1[outs], a3[outs]), f"{kind}: sample-by-sample differs"
    assert np.array_equal(s1, s2) and np.array_equal(s1, s3), f"{kind}: final state differs"
    assert np.isfinite(a1[outs]).all()


def impulse(n: int, at: int = 0, amp: float = 1.0) -> np.ndarray:
    x = np.zeros(n)
    x[at] = amp
    return x


def tone(freq: float, n: int, amp: float = 1.0, sr: float = SR) -> np.ndarray:
    return amp * np.sin(2 * np.pi * freq * np.arange(n) / sr)


def db(x: float) -> float:
    return 20 * np.log10(x)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x * x)))


def psd_slope(x: np.ndarray, sr: float, lo: float, hi: float) -> float:
    """dB per octave of the Welch PSD, least-squares over [lo, hi] Hz."""
    f, p = welch(x, fs=sr, nperseg=8192)
    m = (f >= lo) & (f <= hi)
    return float(np.polyfit(np.log2(f[m]), 10 * np.log10(p[m]), 1)[0])


def test_kernels_registered():
    registry = load_all()
    for kind in ("noise", "pink", "brown", "delay", "chorus", "reverb", "distortion", "compressor", "bitcrush",
                 "adsr", "env"):  # fmt: skip
        assert kind in registry and kind in KINDS
    assert KERNELS["delay"] is KINDS["delay"].kernel and KERNELS["reverb"] is KINDS["reverb"].kernel


# -------------------------------------------------------------------------------------------------- noise

NOISE_N = 2**18


def test_white_noise_uniform_zero_mean():
    x = render(noise, "noise", [], (1.0,), NOISE_N)
    assert x.min() >= -1.0 and x.max() < 1.0
    assert abs(x.mean()) < 0.01
    assert abs(x.std() - 1 / np.sqrt(3)) < 0.005
    counts, _ = np.histogram(x, bins=20, range=(-1.0, 1.0))
    assert np.all(np.abs(counts / (NOISE_N / 20) - 1) < 0.05)
    # Successive samples are uncorrelated.
    assert abs(np.corrcoef(x[:-1], x[1:])[0, 1]) < 0.01


def test_noise_seeds():
    a = render(noise, "noise", [], (7.0,), 4096)
    b = render(noise, "noise", [], (7.0,), 4096)
    c = render(noise, "noise", [], (8.0,), 4096)
    d = render(noise, "noise", [], (-7.0,), 4096)
    assert np.array_equal(a, b)
    assert abs(np.corrcoef(a, c)[0, 1]) < 0.05 and abs(np.corrcoef(a, d)[0, 1]) < 0.05
    # A batch of two nodes equals each node on its own (and the two differ).
    arena, wiring, state = build("noise", [([], (7.0,)), ([], (8.0,))], 4096)
    noise(arena, wiring, state, 0, 4096)
    assert np.array_equal(arena[0], a) and np.array_equal(arena[1], c)
    for fn, kind in ((pink, "pink"), (brown, "brown")):
        p1 = render(fn, kind, [], (7.0,), 4096)
        assert np.array_equal(p1, render(fn, kind, [], (7.0,), 4096))
        assert abs(np.corrcoef(p1, render(fn, kind, [], (8.0,), 4096))[0, 1]) < 0.3


@pytest.mark.parametrize("sr", [44100, 96000])
def test_noise_spectral_slopes(sr):
    white = render(noise, "noise", [], (3.0,), NOISE_N, sr)
    pinkx = render(pink, "pink", [], (3.0,), NOISE_N, sr)
    brownx = render(brown, "brown", [], (3.0,), NOISE_N, sr)
    assert abs(psd_slope(white, sr, 100, 10000)) < 0.5
    assert abs(psd_slope(pinkx, sr, 100, 10000) + 3.0) < 1.0
    assert abs(psd_slope(brownx, sr, 100, 4000) + 6.0) < 1.0


def test_pink_and_brown_levels():
    white = render(noise, "noise", [], (5.0,), NOISE_N)
    pinkx = render(pink, "pink", [], (5.0,), NOISE_N)
    brownx = render(brown, "brown", [], (5.0,), NOISE_N)
    # Pink is normalised to about white's peak; brown stays inside [-1, 1] by construction.
    assert 0.6 < np.abs(pinkx).max() < 1.2 * np.abs(white).max()
    assert abs(pinkx.mean()) < 0.05
    assert np.abs(brownx).max() <= 1.0
    assert 0.1 < rms(brownx) < 0.5
    for seed in range(8):  # bounded for other streams too, over 10 s
        assert np.abs(render(brown, "brown", [], (float(seed),), 10 * SR)).max() <= 1.0


# ------------------------------------------------------------------------------------------------- delay


def test_delay_single_echo_exact():
    n = SR
    out = render(delay, "delay", [impulse(n), 0.1, 0.0, 1.0], n=n)
    expected = impulse(n, 4410)
    assert np.array_equal(out, expected)


def test_delay_feedback_echoes_decay_by_feedback():
    n = 30000
    out = render(delay, "delay", [impulse(n), 0.1, 0.5, 1.0], n=n)
    expected = np.zeros(n)
    for k in range(1, 7):
        expected[k * 4410] = 0.5 ** (k - 1)
    assert np.array_equal(out, expected)
    # With mix 0.5 the dry impulse is halved and the echoes too.
    out = render(delay, "delay", [impulse(n), 0.1, 0.6, 0.5], n=n)
    assert out[0] == 0.5
    for k in range(1, 6):
        assert out[k * 4410] == pytest.approx(0.5 * 0.6 ** (k - 1), rel=1e-12)
    assert np.count_nonzero(out) == 7


def test_delay_integer_delay_reproduces_input_exactly():
    rng = np.random.default_rng(1)
    x = rng.uniform(-1, 1, 5000)
    out = render(delay, "delay", [x, 37 / SR, 0.0, 1.0], n=5000)
    assert np.array_equal(out[37:], x[:-37]) and np.all(out[:37] == 0.0)
    # A time whose product with sr is not exactly an integer in float64 is still an exact integer delay.
    ms = next(ms for ms in range(10, 2000, 10) if (ms / 1000) * SR != ms * SR // 1000)
    t, d = ms / 1000, ms * SR // 1000
    assert t * SR != d
    out = render(delay, "delay", [impulse(d + 100), t, 0.0, 1.0], n=d + 100)
    assert np.array_equal(out, impulse(d + 100, d))


def test_delay_fractional():
    n = 400
    out = render(delay, "delay", [impulse(n), 100.5 / SR, 0.0, 1.0], n=n)
    assert out[100] == pytest.approx(0.5, abs=1e-9) and out[101] == pytest.approx(0.5, abs=1e-9)
    assert out.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(out[:100] == 0) and np.all(out[102:] == 0)
    out = render(delay, "delay", [impulse(n), 100.25 / SR, 0.0, 1.0], n=n)
    assert out[100] == pytest.approx(0.75, abs=1e-9) and out[101] == pytest.approx(0.25, abs=1e-9)


def test_delay_time_clamped_to_buffer():
    size = int(DELAY_MAX_SECONDS * SR)
    n = size + 10
    out = render(delay, "delay", [impulse(n), 5.0, 0.0, 1.0], n=n)  # asks for 5 s: gets the full 2 s
    assert np.array_equal(out, impulse(n, size))
    out = render(delay, "delay", [impulse(50), 0.0, 0.0, 1.0], n=50)  # 0 s: one sample
    assert np.array_equal(out, impulse(50, 1))
    out = render(delay, "delay", [impulse(50), -3.0, 0.0, 1.0], n=50)
    assert np.array_equal(out, impulse(50, 1))


def test_delay_feedback_above_one_grows_and_is_clamped_at_two():
    n = SR // 10
    out = render(delay, "delay", [impulse(n), 0.01, 1.5, 1.0], n=n)
    echoes = out[441::441]
    assert echoes[1] == pytest.approx(1.5 * echoes[0]) and echoes[2] == pytest.approx(1.5 * echoes[1])
    out = render(delay, "delay", [impulse(n), 0.01, 5.0, 1.0], n=n)  # feedback clamps to 2
    echoes = out[441::441]
    assert np.isfinite(out).all() and echoes[1] == pytest.approx(2.0 * echoes[0])


# ------------------------------------------------------------------------------------------------ chorus


def test_chorus_dry_and_static_delay():
    n = 4000
    x = tone(200, n, 0.8)
    assert np.array_equal(render(chorus, "chorus", [x, 1.0, 0.5, 0.0], n=n), x)
    # depth 0: a plain 15 ms delay (661.5 samples), interpolated.
    out = render(chorus, "chorus", [x, 1.0, 0.0, 1.0], n=n)
    expected = 0.8 * np.sin(2 * np.pi * 200 * (np.arange(n) - 0.015 * SR) / SR)
    assert np.max(np.abs(out[700:] - expected[700:])) < 1e-4
    assert np.all(out[:661] == 0.0)


def test_chorus_delay_sweeps_5_to_25_ms():
    n = SR
    rate = 2.0
    step = 2205
    x = np.zeros(n)
    x[::step] = 1.0
    out = render(chorus, "chorus", [x, rate, 1.0, 1.0], n=n)
    delays = []
    for start in range(0, n - step, step):
        seg = out[start : start + step]
        centre = float(np.sum(np.arange(step) * np.abs(seg)) / np.sum(np.abs(seg)))
        delays.append(centre)
    delays = np.array(delays) / SR
    assert delays.min() > 0.0049 and delays.max() < 0.0251
    assert delays.min() < 0.0065 and delays.max() > 0.0235  # it reaches both ends of the sweep


# ------------------------------------------------------------------------------------------------ reverb


def test_reverb_tail_and_dry_unchanged():
    n = 2 * SR
    x = impulse(n)
    out = render(reverb, "reverb", [x, 0.8, 0.5, 0.4], n=n)
    assert out[0] == 1.0  # the dry impulse, untouched; the wet path has not produced anything yet
    assert np.all(out[1:1116] == 0.0)  # nothing comes back before the shortest comb (1116 samples)
    assert out[1116] != 0.0
    tail = out[1:]
    assert rms(tail[int(0.2 * SR) : int(0.7 * SR)]) > 1e-3  # audible long after the impulse
    assert rms(tail[int(1.2 * SR) : int(1.7 * SR)]) < rms(tail[int(0.2 * SR) : int(0.7 * SR)])  # and decays
    assert np.isfinite(out).all() and np.abs(tail).max() < 1.0
    # mix 0 is the dry signal exactly; the wet part scales linearly with mix (dry never reduced).
    assert np.array_equal(render(reverb, "reverb", [x, 0.8, 0.5, 0.0], n=n), x)
    out2 = render(reverb, "reverb", [x, 0.8, 0.5, 0.8], n=n)
    np.testing.assert_allclose(out2 - x, 2 * (out - x), atol=1e-12)


def test_reverb_room_and_damping():
    n = 2 * SR
    x = impulse(n)

    def late_energy(room, damping):
        out = render(reverb, "reverb", [x, room, damping, 1.0], n=n)
        return rms(out[SR : 2 * SR]), out

    small, _ = late_energy(0.2, 0.5)
    large, _ = late_energy(1.0, 0.5)
    assert large > 4 * small
    _, bright = late_energy(0.9, 0.0)
    _, dark = late_energy(0.9, 1.0)

    def centroid(y):
        f, p = welch(y[int(0.3 * SR) :], fs=SR, nperseg=4096)
        return float(np.sum(f * p) / np.sum(p))

    assert centroid(dark) < 0.7 * centroid(bright)


def test_reverb_stable_on_loud_noise_at_48k():
    sr = 48000
    n = 2 * sr
    x = np.random.default_rng(2).uniform(-1, 1, n)
    out = render(reverb, "reverb", [x, 1.0, 0.0, 1.0], n=n, sr=sr)
    assert np.isfinite(out).all() and np.abs(out).max() < 50


def test_reverb_batch_rows_do_not_overlap():
    n = 6000
    rng = np.random.default_rng(3)
    xa, xb = rng.uniform(-1, 1, n), impulse(n)
    arena, wiring, state = build("reverb", [([xa, 0.9, 0.3, 0.5], ()), ([xb, 0.5, 0.7, 0.5], ())], n)
    reverb(arena, wiring, state, 0, n)
    assert np.array_equal(arena[0], render(reverb, "reverb", [xa, 0.9, 0.3, 0.5], n=n))
    assert np.array_equal(arena[1], render(reverb, "reverb", [xb, 0.5, 0.7, 0.5], n=n))


# -------------------------------------------------------------------------------------------- distortion


def harmonic_db(y: np.ndarray, f0: int, k: int) -> float:
    """Level of harmonic k relative to the fundamental, for y an integer number of seconds at SR (1 Hz bins)."""
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    secs = len(y) // SR
    return db(spec[k * f0 * secs] / spec[f0 * secs])


def test_distortion_odd_harmonics():
    x = tone(100, SR, 0.8)
    out = render(distortion, "distortion", [x, 5.0, 1.0])
    assert harmonic_db(out, 100, 3) > -40
    assert harmonic_db(out, 100, 5) > -40
    assert harmonic_db(out, 100, 2) < -100  # tanh is odd: no even harmonics
    assert np.abs(out).max() <= 1.0
    np.testing.assert_allclose(out, np.tanh(5 * x), atol=1e-15)


def test_distortion_mix_and_clamps():
    x = tone(100, 1000, 0.8)
    assert np.array_equal(render(distortion, "distortion", [x, 50.0, 0.0], n=1000), x)
    # drive below 1 clamps to 1; mix 0.5 is a linear crossfade.
    np.testing.assert_allclose(render(distortion, "distortion", [x, 0.2, 1.0], n=1000), np.tanh(x), atol=1e-15)
    np.testing.assert_allclose(
        render(distortion, "distortion", [x, 1000.0, 0.5], n=1000), 0.5 * x + 0.5 * np.tanh(100 * x), atol=1e-15
    )


# -------------------------------------------------------------------------------------------- compressor


@pytest.mark.parametrize(("amp", "thr", "ratio", "makeup", "expected_db"), [
    (1.0, -20.0, 4.0, 0.0, -15.0),    # 20 dB over, 4:1 -> 15 dB of reduction
    (1.0, -20.0, 4.0, 6.0, -9.0),     # plus 6 dB makeup
    (0.5, -30.0, 10.0, 0.0, -21.56),  # -6.02 dB peak, 23.98 dB over, 10:1 -> 21.58 dB
    (0.01, -20.0, 4.0, 0.0, 0.0),     # -40 dB: below threshold, untouched
])  # fmt: skip
def test_compressor_steady_state(amp, thr, ratio, makeup, expected_db):
    n = SR
    x = tone(1000, n, amp)
    out = render(compressor, "compressor", [x, thr, ratio, 0.001, 0.1, makeup], n=n)
    change = db(rms(out[n // 2 :]) / rms(x[n // 2 :]))
    assert abs(change - expected_db) < 1.0
    assert np.isfinite(out).all()


def test_compressor_quiet_signal_exactly_unchanged():
    x = tone(440, 20000, 0.01)
    out = render(compressor, "compressor", [x, -20.0, 8.0, 0.005, 0.2, 0.0], n=20000)
    assert np.array_equal(out, x)


def test_compressor_attack_and_release_timing():
    # A loud burst: reduction builds within a few attack times and recovers over the release.
    n = SR
    x = tone(1000, n, 1.0) * (np.arange(n) < SR // 2)
    x += tone(1000, n, 0.05) * (np.arange(n) >= SR // 2)
    out = render(compressor, "compressor", [x, -20.0, 4.0, 0.01, 0.2, 0.0], n=n)
    first_ms = np.abs(out[:44]).max()  # the first ms is barely reduced (attack 10 ms)
    settled = np.abs(out[int(0.3 * SR) : int(0.4 * SR)]).max()
    assert first_ms > 2 * settled
    just_after = rms(out[SR // 2 : SR // 2 + 441]) / 0.05 * np.sqrt(2)  # gain right after the drop: still reduced
    late = rms(out[int(0.95 * SR) :]) / 0.05 * np.sqrt(2)
    assert just_after < 0.5 and late > 0.9


# ---------------------------------------------------------------------------------------------- bitcrush


def test_bitcrush_levels():
    x = np.linspace(-1, 1, 10001)
    out = render(bitcrush, "bitcrush", [x, 3.0, 1.0], n=len(x))
    levels = np.unique(out)
    assert len(levels) == 2**3 + 1
    np.testing.assert_array_equal(levels, np.arange(-4, 5) / 4)
    assert np.abs(out - x).max() <= 0.125 + 1e-12
    out = render(bitcrush, "bitcrush", [x, 1.0, 1.0], n=len(x))
    assert set(np.unique(out)) == {-1.0, 0.0, 1.0}
    assert np.array_equal(-out[::-1], out)  # symmetric grid
    out16 = render(bitcrush, "bitcrush", [tone(440, 5000), 16.0, 1.0], n=5000)
    assert np.abs(out16 - tone(440, 5000)).max() <= 2.0**-16
    # bits clamp: 0 -> 1 and 40 -> 16
    assert np.array_equal(render(bitcrush, "bitcrush", [x, 0.0, 1.0], n=len(x)), out)
    assert len(np.unique(render(bitcrush, "bitcrush", [x, 40.0, 1.0], n=len(x)))) > 10000 - 1


def test_bitcrush_hold():
    rng = np.random.default_rng(4)
    x = rng.uniform(-1, 1, 1000)
    out = render(bitcrush, "bitcrush", [x, 16.0, 4.0], n=1000)
    q = np.round(x[::4] * 2**15) / 2**15
    np.testing.assert_array_equal(out, np.repeat(q, 4))
    # A fractional rate takes samples 1.5 apart on average.
    out = render(bitcrush, "bitcrush", [x, 16.0, 1.5], n=1000)
    changes = np.count_nonzero(np.diff(out)) + 1
    assert abs(changes - 1000 / 1.5) <= 2
    # rate < 1 clamps to 1 (no hold)
    out = render(bitcrush, "bitcrush", [x, 16.0, 0.1], n=1000)
    np.testing.assert_array_equal(out, np.round(x * 2**15) / 2**15)


# --------------------------------------------------------------------------------------------- envelopes


def test_adsr_shape_at_exact_samples():
    cps = 10.0  # 4410-sample cycles
    n = 3 * 4410
    out = render(adsr, "adsr", [0.01, 0.02, 0.5, 0.01], (cps,), n=n)
    cyc = 4410
    for c in range(3):
        s = c * cyc
        assert out[s] == 0.0  # retriggered at the cycle start
        assert out[s + 220] == pytest.approx(220 / 441)
        assert out[s + 441] == 1.0  # peak exactly at the end of the attack
        assert out[s + 441 + 441] == pytest.approx(0.75)  # half way through the decay
        assert out[s + 441 + 882] == pytest.approx(0.5)
        assert np.allclose(out[s + 1323 : s + cyc - 441], 0.5)  # sustain
        assert out[s + cyc - 441 + 220] == pytest.approx(0.5 * 221 / 441)  # linear release
        assert out[s + cyc - 1] == pytest.approx(0.5 / 441)  # reaches zero at the cycle end
        assert np.all(np.diff(out[s + cyc - 441 : s + cyc]) < 0)
    assert np.all((out >= 0) & (out <= 1))


def test_adsr_cycle_starts_on_exact_samples():
    sr = 1000.0
    cps = 3.0  # cycles of 333.33 samples: starts at 0, 334, 667, 1000
    out = render(adsr, "adsr", [0.05, 0.0, 0.8, 0.05], (cps,), n=1400, sr=sr)
    starts = [0, 334, 667, 1000, 1334]
    for s in starts:
        assert out[s] == 0.0
        assert out[s + 50] == 0.8  # attack 50 samples, decay 0 -> sustain
    for s in starts[1:]:
        assert 0 < out[s - 1] < 0.02  # the release ends just before the retrigger
    zeros = np.flatnonzero(out == 0.0)
    assert list(zeros) == starts


def test_adsr_release_longer_than_cycle_and_zero_params():
    out = render(adsr, "adsr", [0.0, 0.0, 1.0, 0.0], (1.0,), n=2 * SR)  # all zero: a constant gate of 1
    assert np.all(out == 1.0)
    out = render(adsr, "adsr", [0.1, 0.1, 0.7, 5.0], (2.0,), n=SR)  # release > cycle: a swell, not silence
    assert out.max() > 0.05 and np.isfinite(out).all() and out[0] == 0.0 and out[SR // 2] == 0.0


def test_env_free_running():
    n = 3 * SR
    out = render(env, "env", [0.01, 0.1, 0.3, 0.5], n=n)
    assert out[0] == 0.0
    assert out[441] == 1.0
    assert out[441 + 2205] == pytest.approx(0.65)
    assert np.all(out[441 + 4410 :] == pytest.approx(0.3))  # sustain forever: no retrigger, no release
    assert np.all(out[441 + 4410 :] == out[-1])


# ----------------------------------------------------------------------------- block-size independence


def _modulated(n: int, lo: float, hi: float, freq: float = 3.0) -> np.ndarray:
    return lo + (hi - lo) * 0.5 * (1 + np.sin(2 * np.pi * freq * np.arange(n) / SR))


def _stepped(n: int, values: list[float]) -> np.ndarray:
    return np.repeat(values, -(-n // len(values)))[:n].astype(np.float64)


def _cases():
    n = 12000
    rng = np.random.default_rng(5)
    x = rng.uniform(-1, 1, n) * (np.arange(n) < n // 3)  # a burst, then silence (tails and releases)
    x[n // 2] = 1.0
    s = tone(330, n, 0.9)
    return [
        ("noise", noise, [([], (1.0,)), ([], (2.0,))]),
        ("pink", pink, [([], (1.0,)), ([], (-4.0,))]),
        ("brown", brown, [([], (1.0,)), ([], (9.0,))]),
        ("delay", delay, [
            ([x, 0.05, 0.7, 0.5], ()),
            ([s, _modulated(n, 0.001, 0.01), _stepped(n, [0.2, 0.9]), _stepped(n, [1.0, 0.3, 0.6])], ()),
        ]),
        ("chorus", chorus, [([s, 1.3, 0.8, 0.5], ()), ([x, _modulated(n, 0.1, 10.0), _stepped(n, [0, 1]), 1.0], ())]),
        ("reverb", reverb, [([x, 0.8, 0.4, 0.4], ()), ([s, _stepped(n, [0.1, 1.0]), _modulated(n, 0, 1), 0.7], ())]),
        ("distortion", distortion, [([s, _modulated(n, 1, 50), _stepped(n, [0.2, 1.0])], ())]),
        ("compressor", compressor, [
            ([x, -20.0, 4.0, 0.005, 0.05, 3.0], ()),
            ([s * _stepped(n, [1.0, 0.1, 0.7]), _stepped(n, [-30, -10]), _modulated(n, 1, 20), 0.002,
              _stepped(n, [0.02, 0.5]), _stepped(n, [0.0, 12.0])], ()),
        ]),  # fmt: skip
        ("bitcrush", bitcrush, [([s, 4.0, 3.0], ()), ([x, _modulated(n, 1, 16), _stepped(n, [1.0, 2.5, 7.0])], ())]),
        ("adsr", adsr, [
            ([0.01, 0.02, 0.6, 0.03], (20.0,)),
            ([_stepped(n, [0.001, 0.03]), 0.01, _modulated(n, 0, 1), 0.2], (13.7,)),
        ]),
        ("env", env, [([0.05, 0.1, 0.4, 0.3], ()), ([_stepped(n, [0.2, 0.01]), 0.05, 0.5, 0.1], ())]),
    ]


@pytest.mark.parametrize(("kind", "fn", "nodes"), _cases(), ids=[c[0] for c in _cases()])
def test_block_size_independence(kind, fn, nodes):
    assert_block_independent(fn, kind, nodes, 12000)


@pytest.mark.parametrize(("kind", "fn", "nodes"), _cases(), ids=[c[0] for c in _cases()])
def test_finite_on_extreme_parameters(kind, fn, nodes):
    """Wild (finite) parameter values per sample never make NaN or inf: every parameter is clamped."""
    n = 4000
    rng = np.random.default_rng(6)
    k = KINDS[kind]
    inputs = []
    for name in k.inputs:
        if name == "input":
            inputs.append(rng.uniform(-10, 10, n))
        else:
            inputs.append(rng.choice([-1e9, -1.0, 0.0, 1e-12, 0.5, 1.0, 3.0, 1e9], n))
    consts = tuple(float(c) for c in nodes[0][1])
    out = render(fn, kind, inputs, consts, n=n)
    assert np.isfinite(out).all()
