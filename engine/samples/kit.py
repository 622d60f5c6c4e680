"""The built-in drum kit: synthesised with numpy on first use, cached as WAV files, no downloads.

Every sound is 44100 Hz mono float32, deterministic (fixed seeds, no global random state), peak-normalised
to 0.9, starts with its attack on sample 0 and ends in exact silence (a raised-cosine fade of at most 10 ms).

Names and variants (`NAME:i` picks variant i modulo the count):

| name | n | sound                                                                                         |
|------|---|-----------------------------------------------------------------------------------------------|
| bd   | 6 | kick: sine swept down (150->50, 180->55, 120->45, 200->60, 160->48, 140->42 Hz) + click        |
| sn   | 6 | snare: two drum modes (~180-240 Hz and 1.8x) + band-passed noise, various tunings and decays    |
| hh   | 6 | closed hi-hat: six detuned square oscillators (808 ratios) + noise, high-passed at 6-9 kHz      |
| oh   | 4 | open hi-hat: the same, 0.45-0.9 s decay                                                         |
| cp   | 4 | hand clap: 3 or 4 band-passed noise bursts 7-12 ms apart, then a noise tail                    |
| rim  | 4 | rim shot: two short tones (~450 and ~1700 Hz) + a noise click, 40-70 ms                         |
| lt   | 4 | low tom: swept sine settling at 90, 80, 100, 72 Hz                                              |
| mt   | 4 | mid tom: 130, 118, 145, 108 Hz                                                                  |
| ht   | 4 | high tom: 185, 165, 205, 150 Hz                                                                 |
| cb   | 4 | cowbell: two band-limited squares at 540 and 800 Hz (808), band-passed 400-3500 Hz             |
| cr   | 4 | crash cymbal: bright noise + square cluster high-passed at 3-5 kHz, 1.6-3 s decay               |
| arpy | 6 | plucked tone, every variant at C4 = 261.626 Hz (MIDI 60, A4 = 440 Hz); timbre and decay vary    |

`arpy` sits exactly at C4 in every variant so `s "arpy" # note "e4"` (notes relative to C4, see the
language reference section 5) plays the named pitch whichever variant is chosen.

Cache layout: `<cache root>/kit/<KIT_VERSION>/<name>/<NN>.wav` (NN = two-digit variant number, 32-bit float
WAV). The cache root is `$PHONON_CACHE_DIR`, else `$XDG_CACHE_HOME/phonon`, else `~/.cache/phonon` (the same
rule as `engine.fused.cache_dir`). Files are written to a temporary name in the same folder and moved into
place with `os.replace`, so concurrent processes never see a partial file; a missing file is re-rendered.
Bump `KIT_VERSION` whenever a sound changes, so stale caches are never read.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

KIT_VERSION = "v1"
KIT_SR = 44100
PEAK = 0.9
ARPY_HZ = 440.0 * 2.0 ** (-9 / 12)  # C4, MIDI 60: 261.6256 Hz
_FADE_S = 0.010
_SEED = 0x5EED_0F_D2  # every variant's generator is seeded from (this, name, variant)

SR = KIT_SR
TWO_PI = 2.0 * np.pi


def cache_root() -> Path:
    """`$PHONON_CACHE_DIR`, else `$XDG_CACHE_HOME/phonon`, else `~/.cache/phonon` (not created here)."""
    base = os.environ.get("PHONON_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "phonon"
    )
    return Path(base)


def kit_dir(root: Path | None = None) -> Path:
    """The folder holding the kit's `NAME/NN.wav` files: `<cache root>/kit/<KIT_VERSION>`."""
    return Path(root if root is not None else cache_root()) / "kit" / KIT_VERSION


# ---------------------------------------------------------------------------------------------------------
# Building blocks (all vectorised numpy; no per-sample Python loops)


def _t(n: int) -> np.ndarray:
    return np.arange(n, dtype=np.float64) / SR


def _decay(n: int, t60: float, curve: float = 1.0) -> np.ndarray:
    """Amplitude falling 60 dB at t60 seconds; curve > 1 holds longer then drops faster."""
    return 10.0 ** (-3.0 * (_t(n) / t60) ** curve)


def _ramp(n: int, samples: int = 8) -> np.ndarray:
    """A very short linear fade-in (samples long) that softens a digital click without moving the attack."""
    r = np.ones(n)
    k = min(samples, n)
    r[:k] = np.arange(1, k + 1) / (k + 1)
    return r


def _gain_curve(f: np.ndarray, lo: float | None, hi: float | None, order: int) -> np.ndarray:
    g = np.ones_like(f)
    if lo:
        g /= np.sqrt(1.0 + (lo / np.maximum(f, 1e-6)) ** (2 * order))
    if hi:
        g /= np.sqrt(1.0 + (f / hi) ** (2 * order))
    return g


def _fft_size(m: int) -> int:
    """The smallest 5-smooth number >= m (a fast FFT length)."""
    best = 1 << max(m - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < m:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def _filter(x: np.ndarray, lo: float | None = None, hi: float | None = None, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth-magnitude band-pass (lo: high-pass corner, hi: low-pass corner) in the
    frequency domain, zero-padded so nothing wraps around."""
    n = len(x)
    size = _fft_size(2 * n)
    spec = np.fft.rfft(x, size)
    spec *= _gain_curve(np.fft.rfftfreq(size, 1.0 / SR), lo, hi, order)
    return np.fft.irfft(spec, size)[:n]


def _noise(rng: np.random.Generator, n: int, lo: float | None = None, hi: float | None = None, order: int = 2):
    """Filtered white noise at unit RMS."""
    y = _filter(rng.standard_normal(n), lo, hi, order)
    return y / (np.sqrt(np.mean(y * y)) + 1e-12)


def _square(freq: float, n: int, phase: float = 0.0) -> np.ndarray:
    """Naive square (aliases; used only where it is high-passed into a noisy metallic cluster)."""
    return np.where(np.sin(TWO_PI * freq * _t(n) + phase) >= 0.0, 1.0, -1.0)


def _blsquare(freq: float, n: int) -> np.ndarray:
    """Band-limited square: odd harmonics up to 0.45 * SR."""
    t = _t(n)
    y = np.zeros(n)
    k = 1
    while k * freq < 0.45 * SR:
        y += np.sin(TWO_PI * k * freq * t) / k
        k += 2
    return y * (4.0 / np.pi)


def _sweep_phase(f: np.ndarray) -> np.ndarray:
    """Phase (radians) of an oscillator following the frequency curve f, 0 on sample 0."""
    ph = np.cumsum(f) * (TWO_PI / SR)
    return ph - ph[0]


# The six square-wave frequencies of the TR-808 cymbal/hi-hat circuit.
_METAL = (205.3, 304.4, 369.6, 522.7, 540.0, 800.0)


def _metal(n: int, scale: float) -> np.ndarray:
    return sum(_square(f * scale, n, phase=0.7 * i) for i, f in enumerate(_METAL)) / len(_METAL)


# ---------------------------------------------------------------------------------------------------------
# Instruments: each is fn(params, rng) -> float64 signal; _finish() trims, fades and normalises.


def _kick(p: dict, rng: np.random.Generator) -> np.ndarray:
    n = int(SR * p["t60"])
    f = p["f1"] + (p["f0"] - p["f1"]) * np.exp(-_t(n) / p["sweep"])
    body = np.sin(_sweep_phase(f) + 0.25) * _decay(n, p["t60"], 1.4)
    click = _noise(rng, n, 1500.0, 9000.0) * np.exp(-_t(n) / 0.0015) * p["click"]
    y = body + click
    if p["drive"] > 1.0:
        y = np.tanh(p["drive"] * y) / np.tanh(p["drive"])
    return y


def _snare(p: dict, rng: np.random.Generator) -> np.ndarray:
    n = int(SR * max(p["t60_tone"], p["t60_noise"]))
    f = p["tone"] * (1.0 + 0.35 * np.exp(-_t(n) / 0.008))
    tone = (np.sin(_sweep_phase(f) + 0.3) + 0.6 * np.sin(_sweep_phase(f * 1.83) + 0.3)) * _decay(n, p["t60_tone"])
    noise = _noise(rng, n, p["lo"], p["hi"]) * _decay(n, p["t60_noise"], 0.8) * _ramp(n)
    return p["tone_gain"] * tone + p["noise_gain"] * 0.5 * noise


def _hat(p: dict, rng: np.random.Generator) -> np.ndarray:
    n = int(SR * p["t60"])
    metal = _filter(_metal(n, p["scale"]), p["hp"], None, 4)
    noise = _noise(rng, n, p["hp"], 16000.0, 3)
    metal /= np.sqrt(np.mean(metal * metal)) + 1e-12
    y = p["metal"] * metal + (1.0 - p["metal"]) * noise
    return y * _decay(n, p["t60"], p["curve"]) * _ramp(n, 4)


def _clap(p: dict, rng: np.random.Generator) -> np.ndarray:
    n = int(SR * (p["spacing"] * (p["bursts"] - 1) + p["t60_tail"]))
    t = _t(n)
    noise = _noise(rng, n, p["lo"], p["hi"])
    env = np.zeros(n)
    for b in range(p["bursts"]):
        start = b * p["spacing"]
        tb = t - start
        on = tb >= 0.0
        if b < p["bursts"] - 1:
            on &= tb < p["spacing"]
            env[on] = np.maximum(env[on], np.exp(-tb[on] / 0.0025))
        else:  # the last burst turns into the tail
            env[on] = np.maximum(env[on], 0.8 * 10.0 ** (-3.0 * tb[on] / p["t60_tail"]) + 0.2 * np.exp(-tb[on] / 0.003))
    return noise * env * _ramp(n, 4)


def _rim(p: dict, rng: np.random.Generator) -> np.ndarray:
    n = int(SR * p["t60"])
    t = _t(n)
    tones = np.sin(TWO_PI * p["f_a"] * t + 0.4) + 0.7 * np.sin(TWO_PI * p["f_b"] * t + 0.4)
    click = _noise(rng, n, 2000.0, 12000.0) * np.exp(-t / 0.0008) * p["click"]
    y = _filter(tones * _decay(n, p["t60"]), 300.0, None, 2) + click
    return y


def _tom(p: dict, rng: np.random.Generator) -> np.ndarray:
    n = int(SR * p["t60"])
    t = _t(n)
    f = p["f"] * (1.0 + 0.45 * np.exp(-t / p["sweep"]))
    body = np.sin(_sweep_phase(f) + 0.3) * _decay(n, p["t60"], 1.2)
    overtone = 0.25 * np.sin(_sweep_phase(f * 1.5) + 0.3) * _decay(n, p["t60"] * 0.35)
    stick = 0.3 * _noise(rng, n, 800.0, 6000.0) * np.exp(-t / 0.004)
    return body + overtone + stick


def _cowbell(p: dict, rng: np.random.Generator) -> np.ndarray:
    n = int(SR * p["t60"])
    tones = _blsquare(540.0 * p["detune"], n) + 0.85 * _blsquare(800.0 * p["detune"], n)
    y = _filter(tones, 400.0, 3500.0, 2)
    env = 0.65 * _decay(n, p["t60_hit"]) + 0.35 * _decay(n, p["t60"])
    return y * env * _ramp(n, 4)


def _crash(p: dict, rng: np.random.Generator) -> np.ndarray:
    n = int(SR * p["t60"])
    metal = _filter(_metal(n, p["scale"]), p["hp"] * 1.2, None, 3)
    metal /= np.sqrt(np.mean(metal * metal)) + 1e-12
    noise = _noise(rng, n, p["hp"], 18000.0, 2)
    y = p["metal"] * metal + (1.0 - p["metal"]) * noise
    env = _decay(n, p["t60"], 0.8) * (1.0 + 1.5 * np.exp(-_t(n) / 0.02))
    return y * env * _ramp(n, 4)


def _pluck(p: dict, rng: np.random.Generator) -> np.ndarray:
    """Additive pluck: harmonic k has amplitude bright**(k-1)/k and decays (1 + damp*(k-1)) times faster
    than the fundamental. sin(k*w*t) and the decays come from recurrences, so each harmonic costs a few
    multiply-adds per sample (no sin/exp per harmonic)."""
    n = int(SR * p["t60"])
    t = _t(n)
    w = TWO_PI * ARPY_HZ * t
    cos1 = 2.0 * np.cos(w)
    s_prev, s_k = np.zeros(n), np.sin(w)  # sin(0*w), sin(1*w)
    rate = 3.0 * np.log(10.0) / p["t60"]  # -60 dB at t60
    d_k = np.exp(-rate * t)  # decay of harmonic 1
    r = np.exp(-rate * p["damp"] * t)  # each harmonic decays this much faster than the one below
    y = np.zeros(n)
    k = 1
    while k * ARPY_HZ < 0.45 * SR and k <= 40:
        if not (p["odd"] and k % 2 == 0):
            y += (p["bright"] ** (k - 1) / k) * s_k * d_k
        s_prev, s_k = s_k, cos1 * s_k - s_prev
        d_k = d_k * r
        k += 1
    pick = 0.15 * _noise(rng, n, 1000.0, 8000.0) * np.exp(-t / 0.002)
    return y + pick


def _v(**kw) -> dict:
    return kw


KIT: dict[str, tuple[Callable[[dict, np.random.Generator], np.ndarray], tuple[dict, ...]]] = {
    "bd": (_kick, (
        _v(f0=150.0, f1=50.0, sweep=0.030, t60=0.80, click=0.30, drive=1.0),  # classic
        _v(f0=180.0, f1=55.0, sweep=0.020, t60=0.50, click=0.50, drive=1.0),  # punchy
        _v(f0=120.0, f1=45.0, sweep=0.050, t60=1.40, click=0.15, drive=1.0),  # long 808 boom
        _v(f0=200.0, f1=60.0, sweep=0.015, t60=0.30, click=0.60, drive=2.5),  # tight, driven
        _v(f0=160.0, f1=48.0, sweep=0.040, t60=0.90, click=0.30, drive=3.0),  # distorted
        _v(f0=140.0, f1=42.0, sweep=0.025, t60=1.80, click=0.20, drive=1.0),  # sub
    )),
    "sn": (_snare, (
        _v(tone=185.0, t60_tone=0.15, lo=1200.0, hi=9000.0, t60_noise=0.30, tone_gain=0.8, noise_gain=1.0),
        _v(tone=220.0, t60_tone=0.10, lo=2000.0, hi=12000.0, t60_noise=0.22, tone_gain=0.6, noise_gain=1.2),
        _v(tone=165.0, t60_tone=0.22, lo=800.0, hi=6000.0, t60_noise=0.40, tone_gain=1.0, noise_gain=0.8),
        _v(tone=240.0, t60_tone=0.08, lo=3000.0, hi=14000.0, t60_noise=0.18, tone_gain=0.5, noise_gain=1.3),
        _v(tone=200.0, t60_tone=0.18, lo=1000.0, hi=10000.0, t60_noise=0.55, tone_gain=0.7, noise_gain=1.0),
        _v(tone=175.0, t60_tone=0.12, lo=1500.0, hi=7000.0, t60_noise=0.26, tone_gain=1.0, noise_gain=0.9),
    )),
    "hh": (_hat, (
        _v(t60=0.09, hp=7000.0, metal=0.5, scale=1.0, curve=1.0),
        _v(t60=0.05, hp=8000.0, metal=0.3, scale=1.1, curve=1.0),
        _v(t60=0.13, hp=6000.0, metal=0.6, scale=0.95, curve=1.2),
        _v(t60=0.07, hp=9000.0, metal=0.2, scale=1.2, curve=1.0),
        _v(t60=0.11, hp=7000.0, metal=0.7, scale=0.9, curve=1.0),
        _v(t60=0.06, hp=6500.0, metal=0.0, scale=1.0, curve=1.0),  # pure noise
    )),
    "oh": (_hat, (
        _v(t60=0.60, hp=7000.0, metal=0.5, scale=1.0, curve=1.0),
        _v(t60=0.45, hp=8000.0, metal=0.35, scale=1.1, curve=1.0),
        _v(t60=0.90, hp=6000.0, metal=0.6, scale=0.95, curve=1.1),
        _v(t60=0.70, hp=7500.0, metal=0.2, scale=1.05, curve=0.9),
    )),
    "cp": (_clap, (
        _v(bursts=4, spacing=0.010, t60_tail=0.30, lo=800.0, hi=4000.0),
        _v(bursts=3, spacing=0.012, t60_tail=0.25, lo=1000.0, hi=5000.0),
        _v(bursts=4, spacing=0.008, t60_tail=0.45, lo=600.0, hi=3000.0),
        _v(bursts=3, spacing=0.007, t60_tail=0.20, lo=1200.0, hi=6000.0),
    )),
    "rim": (_rim, (
        _v(f_a=455.0, f_b=1667.0, t60=0.05, click=0.6),
        _v(f_a=500.0, f_b=1800.0, t60=0.04, click=0.8),
        _v(f_a=420.0, f_b=1550.0, t60=0.07, click=0.5),
        _v(f_a=600.0, f_b=2100.0, t60=0.045, click=0.7),
    )),
    "lt": (_tom, (
        _v(f=90.0, sweep=0.06, t60=0.80), _v(f=80.0, sweep=0.08, t60=1.00),
        _v(f=100.0, sweep=0.05, t60=0.60), _v(f=72.0, sweep=0.07, t60=1.10),
    )),
    "mt": (_tom, (
        _v(f=130.0, sweep=0.05, t60=0.65), _v(f=118.0, sweep=0.06, t60=0.80),
        _v(f=145.0, sweep=0.04, t60=0.50), _v(f=108.0, sweep=0.06, t60=0.90),
    )),
    "ht": (_tom, (
        _v(f=185.0, sweep=0.04, t60=0.50), _v(f=165.0, sweep=0.05, t60=0.60),
        _v(f=205.0, sweep=0.03, t60=0.40), _v(f=150.0, sweep=0.05, t60=0.70),
    )),
    "cb": (_cowbell, (
        _v(detune=1.0, t60_hit=0.06, t60=0.40), _v(detune=1.0, t60_hit=0.04, t60=0.25),
        _v(detune=1.03, t60_hit=0.08, t60=0.60), _v(detune=0.97, t60_hit=0.05, t60=0.35),
    )),
    "cr": (_crash, (
        _v(t60=2.2, hp=4000.0, metal=0.4, scale=1.0), _v(t60=1.6, hp=5000.0, metal=0.3, scale=1.15),
        _v(t60=3.0, hp=3000.0, metal=0.5, scale=0.9), _v(t60=2.5, hp=4500.0, metal=0.2, scale=1.05),
    )),
    "arpy": (_pluck, (
        _v(t60=1.2, bright=0.75, damp=0.5, odd=False),  # bright pluck
        _v(t60=1.5, bright=0.45, damp=0.3, odd=False),  # mellow
        _v(t60=2.5, bright=0.65, damp=0.2, odd=False),  # long, ringing
        _v(t60=0.4, bright=0.80, damp=1.0, odd=False),  # short staccato
        _v(t60=1.2, bright=0.80, damp=0.4, odd=True),  # hollow (odd harmonics)
        _v(t60=0.8, bright=0.90, damp=1.5, odd=False),  # very bright, fast-damped highs
    )),
}


def names() -> list[str]:
    """The kit's names, in table order."""
    return list(KIT)


def variant_count(name: str) -> int:
    return len(KIT[name][1])


def _finish(x: np.ndarray) -> np.ndarray:
    """Attack on sample 0, raised-cosine fade to exact zero at the end, peak 0.9, float32."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64))
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak <= 0.0:
        raise ValueError("kit sound rendered silent")
    loud = np.nonzero(np.abs(x) > 1e-3 * peak)[0]
    x = x[loud[0] : loud[-1] + 1]  # no leading silence; drop a tail below -60 dB
    fade = min(int(_FADE_S * SR), len(x) // 4)
    if fade > 0:
        x = x.copy()
        x[-fade:] *= 0.5 * (1.0 + np.cos(np.pi * np.arange(1, fade + 1) / fade))
    x *= PEAK / np.max(np.abs(x))
    return x.astype(np.float32)


def render(name: str, variant: int) -> np.ndarray:
    """Synthesise `name:variant` (variant modulo the count): float32 mono at KIT_SR."""
    if name not in KIT:
        raise KeyError(f"no kit sound {name!r}")
    fn, params = KIT[name]
    i = variant % len(params)
    seed = [_SEED, i] + [ord(c) for c in name]
    return _finish(fn(params[i], np.random.default_rng(seed)))


def variant_path(name: str, variant: int, root: Path | None = None) -> Path:
    return kit_dir(root) / name / f"{variant:02d}.wav"


def write_variant(name: str, variant: int, root: Path | None = None) -> Path:
    """Render one variant and write it atomically (temporary file in the same folder + os.replace)."""
    import soundfile as sf

    path = variant_path(name, variant, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            sf.write(fh, render(name, variant), KIT_SR, format="WAV", subtype="FLOAT")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def ensure(name: str, root: Path | None = None) -> list[Path]:
    """The paths of every variant of `name`, rendering and writing the ones that are missing.
    Raises OSError when the cache folder cannot be written."""
    paths = []
    for i in range(variant_count(name)):
        path = variant_path(name, i, root)
        if not path.is_file():
            write_variant(name, i, root)
        paths.append(path)
    return paths


def ensure_all(root: Path | None = None) -> Path:
    """Render the whole kit into the cache (if missing) and return its folder."""
    for name in KIT:
        ensure(name, root)
    return kit_dir(root)
