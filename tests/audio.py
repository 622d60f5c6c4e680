"""Audio analysis helpers for tests: render a program, then measure what a listener would notice.

Everything here works on plain numpy arrays (mono: 1-D, or the left channel of a (frames, 2) render), so the
same helpers serve in-process renders (`engine.render.render_array`) and files read back from the CLI.

- `render(program, seconds=...)`: mono float64 render (asserts the stereo channels are identical).
- `dominant_freq`: strongest spectral peak, Hann window + zero padding + parabolic interpolation on the log
  magnitude (Gaussian fit), accurate to a small fraction of a bin.
- `tone_amplitude`: amplitude of a sinusoid at a known frequency (windowed single-bin DTFT), independent of
  phase; `harmonic_amplitudes` for a whole series.
- `band_energy`, `spectral_centroid`, `psd`, `octave_slope_db`: spectral shape.
- `rms`, `peak`, `db`, `rms_envelope`, `onsets`, `instantaneous_freq`: level and time structure.
- `aliasing_db`: energy away from the harmonics of f0 (folded partials), relative to the total.
- `naive_saw`, `naive_square`, `polyblep_osc`, `tpt_svf`, `svf_response`: independent numpy references.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

SR = 44100


# ----------------------------------------------------------------------------------------------- render


def render(program: str, seconds: float | None = None, *, cycles: float | None = None, sr: int = SR,
           side: int | None = None, **kw) -> np.ndarray:
    """Render a program in-process and return the mono signal (the master's two channels must agree), or with
    `side` 0 or 1 one channel of a stereo program (the left side of a stereo effect is its mono effect)."""
    out = render_stereo(program, seconds, cycles=cycles, sr=sr, **kw)
    if side is not None:
        return out[:, side].copy()
    assert np.array_equal(out[:, 0], out[:, 1]), "mono program rendered with different left/right channels"
    return out[:, 0].copy()


def render_stereo(program: str, seconds: float | None = None, *, cycles: float | None = None, sr: int = SR,
                  **kw) -> np.ndarray:
    """Render a program in-process: [frames, 2]."""
    from phonon.engine.render import render_array

    if seconds is None and cycles is None:
        seconds = 1.0
    out = render_array(program, seconds=seconds, cycles=cycles, sr=sr, **kw)
    assert out.ndim == 2 and out.shape[1] == 2, out.shape
    return out


SPLITS = ((64, 1), (2048, 1), (512, 2), (64, 2))  # (block, workers) a render must not notice


def assert_same_for_every_split(program: str, cycles: float, splits=SPLITS) -> np.ndarray:
    """Render at block 512 on one worker, then for each (block, workers) of `splits`: the same bits every time
    (DESIGN.md invariants 2 and 4). Returns the reference render, which must not be silent or non-finite."""
    ref = render_stereo(program, cycles=cycles, block=512, workers=1)
    assert np.max(np.abs(ref)) > 0.01 and np.all(np.isfinite(ref))
    for block, workers in splits:
        out = render_stereo(program, cycles=cycles, block=block, workers=workers)
        assert np.array_equal(out, ref), (block, workers)
    return ref


def render_report(program: str, seconds: float, sr: int = SR, block: int = 512, workers: int = 1, **kw):
    """Render through `engine.render.Renderer`: returns (stereo float64 array, RenderReport)."""
    from phonon.engine.render import Renderer, RenderSettings, duration_frames
    from phonon.graph.compiler import compile_program

    graph = compile_program(program)
    frames = duration_frames(graph, sr, seconds, None)
    dest = np.zeros((frames, 2))
    with Renderer(graph, RenderSettings(sr=sr, block=block, **kw), frames, workers) as renderer:
        renderer.render_into(dest, frames)
        return dest, renderer.report(frames, float(np.abs(dest).max()))


# ------------------------------------------------------------------------------------------------ level


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def peak(x: np.ndarray) -> float:
    return float(np.max(np.abs(x)))


def db(ratio: float) -> float:
    """Amplitude ratio in dB (a floor keeps log10 finite)."""
    return 20.0 * math.log10(max(abs(ratio), 1e-300))


def power_db(ratio: float) -> float:
    return 10.0 * math.log10(max(abs(ratio), 1e-300))


def rms_envelope(x: np.ndarray, sr: int = SR, window: float = 0.005, hop: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(times of window starts in s, RMS per window)."""
    w = max(1, int(window * sr))
    h = max(1, int((hop or window) * sr))
    starts = np.arange(0, max(1, len(x) - w + 1), h)
    env = np.array([rms(x[s : s + w]) for s in starts])
    return starts / sr, env


def onsets(x: np.ndarray, sr: int = SR, window: float = 0.002, threshold_db: float = -30.0, gap: float = 0.03) -> list[float]:
    """Onset times (s): start of the first window whose RMS rises above `threshold_db` (relative to the
    loudest window) after at least `gap` seconds below it (or at the very start)."""
    t, env = rms_envelope(x, sr, window)
    if env.max() <= 0:
        return []
    level = env.max() * 10 ** (threshold_db / 20)
    found: list[float] = []
    active = False
    quiet_from = -np.inf  # when the signal last fell below the threshold
    for ti, e in zip(t, env):
        if e > level:
            if not active and ti - quiet_from >= gap:
                found.append(float(ti))
            active = True
        elif active:
            active = False
            quiet_from = ti
    return found


def first_above(x: np.ndarray, level: float) -> int:
    """Index of the first sample with |x| > level (-1 if none)."""
    idx = np.flatnonzero(np.abs(x) > level)
    return int(idx[0]) if idx.size else -1


# --------------------------------------------------------------------------------------------- spectrum


def spectrum(x: np.ndarray, sr: int = SR, window: str = "hann", pad: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """(frequencies, magnitudes) of a windowed, zero-padded real FFT, scaled so a sine of amplitude A
    peaks at A (for bin-centred frequencies)."""
    n = len(x)
    w = signal.get_window(window, n, fftbins=False) if window else np.ones(n)
    nfft = 1 << int(math.ceil(math.log2(n * pad)))
    mag = np.abs(np.fft.rfft(x * w, nfft)) * 2.0 / w.sum()
    return np.fft.rfftfreq(nfft, 1.0 / sr), mag


def dominant_freq(x: np.ndarray, sr: int = SR, fmin: float = 1.0, fmax: float | None = None) -> float:
    """Frequency of the strongest peak in [fmin, fmax], refined by parabolic interpolation of the log
    magnitude around the peak bin (a Gaussian fit, nearly exact for a Hann main lobe)."""
    x = np.asarray(x, dtype=np.float64) - np.mean(x)
    f, mag = spectrum(x, sr, "hann", pad=4)
    fmax = fmax if fmax is not None else sr / 2
    band = np.flatnonzero((f >= fmin) & (f <= fmax))
    k = band[np.argmax(mag[band])]
    if 0 < k < len(mag) - 1:
        a, b, c = np.log(mag[k - 1 : k + 2] + 1e-300)
        denom = a - 2 * b + c
        delta = 0.5 * (a - c) / denom if denom != 0 else 0.0
    else:
        delta = 0.0
    return float((k + delta) * (f[1] - f[0]))


def tone_amplitude(x: np.ndarray, freq: float, sr: int = SR, window: str = "blackmanharris") -> float:
    """Amplitude of the sinusoid at exactly `freq` (phase-independent): 2 |sum w x e^{-i w n}| / sum w.
    With a Blackman-Harris window, other tones more than ~4 / duration Hz away leak in below -90 dB."""
    x = np.asarray(x, dtype=np.float64)
    n = np.arange(len(x))
    w = signal.get_window(window, len(x), fftbins=False)
    z = np.sum(w * x * np.exp(-2j * np.pi * freq * n / sr))
    return float(2.0 * abs(z) / w.sum())


def harmonic_amplitudes(x: np.ndarray, f0: float, count: int, sr: int = SR) -> np.ndarray:
    """Amplitudes of harmonics 1..count of f0."""
    return np.array([tone_amplitude(x, f0 * k, sr) for k in range(1, count + 1)])


def psd(x: np.ndarray, sr: int = SR, nperseg: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density."""
    return signal.welch(x, sr, nperseg=nperseg)


def band_energy(x: np.ndarray, lo: float, hi: float, sr: int = SR) -> float:
    """Energy (sum of squared FFT magnitudes, Hann window) between lo and hi Hz."""
    f, mag = spectrum(x, sr, "hann", pad=1)
    sel = (f >= lo) & (f < hi)
    return float(np.sum(mag[sel] ** 2))


def spectral_centroid(x: np.ndarray, sr: int = SR) -> float:
    f, mag = spectrum(x, sr, "hann", pad=1)
    p = mag**2
    return float(np.sum(f * p) / np.sum(p))


def octave_band_levels(x: np.ndarray, centres: list[float], sr: int = SR) -> np.ndarray:
    """Mean power spectral density (dB) in one-octave bands around each centre frequency."""
    f, p = psd(x, sr)
    out = []
    for c in centres:
        sel = (f >= c / math.sqrt(2)) & (f < c * math.sqrt(2))
        out.append(10 * math.log10(np.mean(p[sel])))
    return np.array(out)


def octave_slope_db(x: np.ndarray, lo: float, hi: float, sr: int = SR) -> float:
    """Least-squares slope of the Welch PSD in dB per octave between lo and hi Hz (fit in log2 f)."""
    f, p = psd(x, sr)
    sel = (f >= lo) & (f <= hi)
    slope, _ = np.polyfit(np.log2(f[sel]), 10 * np.log10(p[sel]), 1)
    return float(slope)


def aliasing_db(x: np.ndarray, f0: float, sr: int = SR, guard: float = 8.0) -> float:
    """Energy that is not at a harmonic of f0 (nor DC), relative to the total, in dB. The signal's own
    partials above Nyquist fold back between the harmonics, so for a periodic oscillator this is its
    aliasing. Uses a Blackman-Harris window (sidelobes below -92 dB) and excludes +-guard Hz around each
    harmonic (and around DC)."""
    x = np.asarray(x, dtype=np.float64)
    w = signal.get_window("blackmanharris", len(x), fftbins=False)
    spec = np.abs(np.fft.rfft(x * w)) ** 2
    f = np.fft.rfftfreq(len(x), 1.0 / sr)
    nearest = np.round(f / f0) * f0
    harmonic = np.abs(f - nearest) <= guard
    return power_db(spec[~harmonic].sum() / spec.sum())


def instantaneous_freq(x: np.ndarray, sr: int = SR, window: float = 0.02, hop: float = 0.005,
                       fmin: float = 20.0, fmax: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(centre times, dominant frequency per short window): a short-time FFT peak tracker."""
    w, h = int(window * sr), int(hop * sr)
    times, freqs = [], []
    for s in range(0, len(x) - w + 1, h):
        times.append((s + w / 2) / sr)
        freqs.append(dominant_freq(x[s : s + w], sr, fmin, fmax))
    return np.array(times), np.array(freqs)


def zero_crossing_freq(x: np.ndarray, sr: int = SR) -> np.ndarray:
    """Per-period frequency from interpolated upward zero crossings: (times, frequencies)."""
    s = np.signbit(x)
    idx = np.flatnonzero(s[:-1] & ~s[1:])  # x[i] < 0 <= x[i+1]
    t = idx + x[idx] / (x[idx] - x[idx + 1])  # linear interpolation of the crossing
    return t[1:] / sr, sr / np.diff(t)


# ---------------------------------------------------------------------------------- reference signals


def phase_ramp(freq: float | np.ndarray, n: int, sr: int = SR) -> np.ndarray:
    """Oscillator phase in cycles, [0, 1), before each sample, accumulated exactly as a phase accumulator
    does it: phase[0] = 0, phase[k+1] = wrap(phase[k] + freq[k] / sr). A Python loop, so the rounding is the
    same as a sample-by-sample kernel's (a cumsum would drift by ~1e-8 over a second)."""
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,)).tolist()
    out = [0.0] * n
    phase = 0.0
    inv_sr = 1.0 / sr
    for k in range(n):
        out[k] = phase
        phase += f[k] * inv_sr
        if phase >= 1.0:
            phase -= 1.0
            if phase >= 1.0:
                phase -= math.floor(phase)
        elif phase < 0.0:
            phase -= math.floor(phase)
    return np.array(out)


def naive_saw(freq: float, n: int, sr: int = SR) -> np.ndarray:
    return 2.0 * phase_ramp(freq, n, sr) - 1.0


def naive_square(freq: float, n: int, sr: int = SR) -> np.ndarray:
    return np.where(phase_ramp(freq, n, sr) < 0.5, 1.0, -1.0)


def _blep(t: np.ndarray, dt: np.ndarray) -> np.ndarray:
    out = np.zeros_like(t)
    lo = t < dt
    x = t[lo] / dt[lo]
    out[lo] = 2 * x - x * x - 1.0
    hi = t > 1.0 - dt
    x = (t[hi] - 1.0) / dt[hi]
    out[hi] = x * x + 2 * x + 1.0
    return out


def polyblep_saw(freq: float | np.ndarray, n: int, sr: int = SR) -> np.ndarray:
    """Textbook PolyBLEP sawtooth (2-point polynomial residual at each wrap), per-sample frequency."""
    f = np.broadcast_to(np.asarray(freq, dtype=np.float64), (n,))
    ph = phase_ramp(f, n, sr)
    return 2 * ph - 1 - _blep(ph, np.abs(f) / sr)


def svf_response(kind: str, f: np.ndarray | float, fc: float, q: float, sr: int = SR) -> np.ndarray:
    """Magnitude response of the TPT (trapezoidal, prewarped) state-variable filter: the 2nd-order analog
    prototype H(s) with s = j tan(pi f / sr) / tan(pi fc / sr) (the bilinear transform maps the analog
    cutoff exactly onto fc). With k = 1/q and D(s) = s^2 + k s + 1 the outputs are
    low 1/D, band s/D (v1 of the Cytomic SVF: peak gain q at fc), high s^2/D, notch (s^2 + 1)/D."""
    g = math.tan(math.pi * min(max(fc, 20.0), 0.49 * sr) / sr)
    k = 1.0 / min(max(q, 0.5), 20.0)
    s = 1j * np.tan(np.pi * np.asarray(f, dtype=np.float64) / sr) / g
    d = s * s + k * s + 1.0
    num = {"lpf": 1.0, "hpf": s * s, "bpf": s, "notch": s * s + 1.0}[kind]
    return np.abs(num / d)


def tpt_svf(x: np.ndarray, cutoff: np.ndarray | float, q: float, mode: str, sr: int = SR) -> np.ndarray:
    """Sample-by-sample reference of the TPT SVF (Zavalishin/Cytomic) with a per-sample cutoff."""
    n = len(x)
    fc = np.broadcast_to(np.asarray(cutoff, dtype=np.float64), (n,))
    k = 1.0 / min(max(q, 0.5), 20.0)
    ic1 = ic2 = 0.0
    out = np.empty(n)
    for i in range(n):
        g = math.tan(math.pi * min(max(fc[i], 20.0), 0.49 * sr) / sr)
        a1 = 1.0 / (1.0 + g * (g + k))
        a2 = g * a1
        a3 = g * a2
        v3 = x[i] - ic2
        v1 = a1 * ic1 + a2 * v3
        v2 = ic2 + a2 * ic1 + a3 * v3
        ic1, ic2 = 2 * v1 - ic1, 2 * v2 - ic2
        out[i] = {"lpf": v2, "bpf": v1, "hpf": x[i] - k * v1 - v2, "notch": x[i] - k * v1}[mode]
    return out
