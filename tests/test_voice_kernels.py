"""Voice kernels (`engine.kernels.voices`): sample playback and synth notes, called directly with hand-made
banks and trigger tables, rendered whole or split into arbitrary blocks.

`python -m tests.test_voice_kernels` runs the micro benchmark (ns per voice-sample with 256 active voices).
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from phonon.engine.kernels import voices as V
from phonon.engine.kernels.stereo import pan_gains
from phonon.engine.samples.bank import SampleBank
from phonon.engine.samples.library import Sample
from tests.audio import dominant_freq, tone_amplitude

SR = 44100
SQ2 = math.sqrt(2.0)
CENTRE = math.cos(math.pi / 4)  # a mono voice at the centre, each side


# ------------------------------------------------------------------------------------------------- helpers


def make_bank(*arrays: np.ndarray) -> SampleBank:
    """A SampleBank holding the given float32 [frames] (mono) or [frames, 2] (stereo) arrays as ids 0, 1, ..."""
    bank = SampleBank(sr=SR)
    for i, a in enumerate(arrays):
        a = np.asarray(a, dtype=np.float32)
        if a.ndim == 1:
            a = a[:, None]
        assert bank.add(Sample(f"t{i}", 0, None, np.ascontiguousarray(a), SR, SR)) == i
    return bank


def trig(offset, sample=0, gain=1.0, pan=0.5, rate=1.0, begin=0.0, end=1.0, cut=0, attack=0.0, release=0.0, hold=-1,
         **controls):
    """A sample trigger row: `gain` is the linear level (the row's amp, with gain 1: SuperDirt's curve is tested in
    tests/test_voice_controls.py), `rate` the speed, `hold` the gate in samples (-1: none; as an event of that
    length with legato 1); other voice controls by name."""
    row = V.new_triggers(1)[0]
    row[V.T_OFFSET] = offset
    row[V.T_SAMPLE] = sample
    row[V.T_AMP] = gain
    row[V.T_PAN] = pan
    row[V.T_SPEED] = rate
    row[V.T_BEGIN] = begin
    row[V.T_END] = end
    row[V.T_CUT] = cut
    row[V.T_ATTACK] = attack
    row[V.T_RELEASE] = release
    if hold >= 0:
        row[V.T_LENGTH] = hold
        row[V.T_LEGATO] = 1.0
    for name, value in controls.items():
        row[V.trigger_field(name)] = value
    return row


def strig(offset, freq, gain=1.0, pan=0.5, attack=0.0, decay=0.0, sustain=1.0, release=0.0, hold=-1, **controls):
    """A synth trigger row: the envelope as given (NaN: not given), `hold` the gate in samples (-1: never)."""
    row = V.new_triggers(1)[0]
    row[V.T_OFFSET] = offset
    row[V.T_FREQ] = freq
    row[V.T_AMP] = gain
    row[V.T_PAN] = pan
    row[V.T_ATTACK] = attack
    row[V.T_DECAY] = decay
    row[V.T_SUSTAIN] = sustain
    row[V.T_RELEASE] = release
    row[V.T_LENGTH] = hold
    for name, value in controls.items():
        row[V.trigger_field(name)] = value
    return row


HARD = dict(attack=-1.0, release=-1.0)  # no envelope ramps: raw sample frames


def _blocks(total: int, block: int) -> list[tuple[int, int]]:
    return [(a, min(a + block, total)) for a in range(0, total, block)]


def render_samples(bank, rows, total, block=None, voices=512, pool=None, stats=None):
    """Render sample triggers over [0, total) in blocks of `block` (None: one call), passing each call only the
    triggers whose offset lies in its range, as the host does. Returns (L, R, pool, stats)."""
    rows = sorted(rows, key=lambda r: r[V.T_OFFSET])  # stable: same-offset triggers keep their order
    table = np.array(rows, dtype=np.float64).reshape(-1, V.TRIGGER_WIDTH)
    pool = V.new_pool(voices) if pool is None else pool
    stats = V.new_stats() if stats is None else stats
    out_l = np.full(total, np.nan)  # the kernel must overwrite every column
    out_r = np.full(total, np.nan)
    data, offsets, lengths, channels = bank.data, bank.offsets, bank.lengths, bank.channels
    for a, b in _blocks(total, block or total):
        sel = table[(table[:, V.T_OFFSET] >= a) & (table[:, V.T_OFFSET] < b)] if len(table) else table
        buf = np.ascontiguousarray(sel) if len(sel) else V.new_triggers(1)
        V.play_samples(out_l, out_r, a, b, float(SR), pool, buf, len(sel), data, offsets, lengths, channels, stats)
    return out_l, out_r, pool, stats


def render_synth(rows, total, wave, block=None, voices=512):
    rows = sorted(rows, key=lambda r: r[V.T_OFFSET])
    table = np.array(rows, dtype=np.float64).reshape(-1, V.TRIGGER_WIDTH)
    pool = V.new_synth_pool(voices)
    stats = V.new_stats()
    out_l = np.full(total, np.nan)
    out_r = np.full(total, np.nan)
    for a, b in _blocks(total, block or total):
        sel = table[(table[:, V.T_OFFSET] >= a) & (table[:, V.T_OFFSET] < b)] if len(table) else table
        buf = np.ascontiguousarray(sel) if len(sel) else V.new_triggers(1)
        V.play_synth(out_l, out_r, a, b, float(SR), pool, buf, len(sel), wave, stats)
    return out_l, out_r, pool, stats


def pan_law(pan, stereo=False):
    """(gL, gR): cos/sin of pan pi/2 for a mono voice, balanced (min(1, sqrt(2) ...)) for a stereo sample."""
    theta = min(max(pan, 0.0), 1.0) * math.pi / 2
    gl, gr = math.cos(theta), math.sin(theta)
    return (min(1.0, SQ2 * gl), min(1.0, SQ2 * gr)) if stereo else (gl, gr)


def ref_voice(frames, rate=1.0, begin=0.0, end=1.0, gain=1.0, pan=0.5, attack=0.0, release=0.0, hold=-1,
              stereo=None):
    """Independent numpy model of one sample voice: (L, R) from its onset to its last sample (`stereo`: the pan
    law of a stereo sample; by default, whether the frames have two columns)."""
    frames = np.asarray(frames, dtype=np.float64)
    stereo = frames.ndim == 2 if stereo is None else stereo
    if frames.ndim == 1:
        frames = np.stack([frames, frames], axis=1)
    n = len(frames)
    padded = np.vstack([frames, np.zeros((1, 2))])
    lo, hi = math.floor(begin * n + 0.5), math.floor(end * n + 0.5)
    pos = []
    p = lo if rate > 0 else hi - 1
    k = 0
    while lo <= (p + rate * k) < hi:
        pos.append(p + rate * k)
        k += 1
    pos = np.array(pos)
    j = np.floor(pos).astype(int)
    f = (pos - j)[:, None]
    x = padded[j] + f * (padded[j + 1] - padded[j])
    a_len = 1 if attack < 0 else math.floor((attack or 0.001) * SR + 0.5)
    r_len = 1 if release < 0 else math.floor((release or 0.003) * SR + 0.5)
    rel_end = len(pos) + 1 if hold < 0 else min(len(pos) + 1, math.floor(hold + 0.5) + r_len)
    x = x[: rel_end - 1]
    tau = np.arange(1, len(x) + 1, dtype=np.float64)
    env = np.minimum(np.minimum(1.0, tau / a_len), (rel_end - tau) / r_len)
    gl, gr = pan_law(pan, stereo)
    g = min(max(gain, 0), V.MAX_LEVEL)
    return x[:, 0] * env * g * gl, x[:, 1] * env * g * gr


def placed(total, offset, sig):
    out = np.zeros(total)
    m = min(len(sig), total - offset)
    out[offset : offset + m] = sig[:m]
    return out


RNG = np.random.default_rng(1234)
NOISE = (RNG.standard_normal(300) * 0.3).astype(np.float32)  # a distinctive mono sample
RAMP = (0.1 + 0.002 * np.arange(400)).astype(np.float32)  # nonzero everywhere, strictly increasing
R64 = RAMP.astype(np.float64)  # what the kernel computes with


# ---------------------------------------------------------------------------------------------- sample voices


def test_first_frame_at_exact_offset_with_default_attack():
    bank = make_bank(RAMP)
    L, R, _, _ = render_samples(bank, [trig(10)], 64)
    assert np.all(L[:10] == 0.0) and np.all(R[:10] == 0.0)
    # the 1 ms default attack (44 samples at 44.1 kHz) is sampled at the end of each output sample
    assert L[10] == pytest.approx(R64[0] / 44 * CENTRE, abs=1e-12)
    assert L[11] == pytest.approx(R64[1] * 2 / 44 * CENTRE, abs=1e-12)
    assert L[10 + 43] == pytest.approx(R64[43] * CENTRE, abs=1e-12)  # full level on the 44th sample
    np.testing.assert_allclose(L, R, atol=0, rtol=0)
    # without ramps the very first output is frame 0 itself (at a hard pan: the frame exactly)
    L, _, _, _ = render_samples(bank, [trig(10, pan=0.0, **HARD)], 64)
    assert L[9] == 0.0 and L[10] == pytest.approx(R64[0], abs=1e-12)


def test_two_triggers_in_one_block():
    bank = make_bank(RAMP, NOISE)
    total = 512
    L, R, _, _ = render_samples(bank, [trig(7), trig(300, sample=1, gain=0.5)], total)
    e = placed(total, 7, ref_voice(RAMP)[0]) + placed(total, 300, ref_voice(NOISE, gain=0.5)[0])
    np.testing.assert_allclose(L, e, atol=1e-12)
    np.testing.assert_allclose(R, e, atol=1e-12)
    assert L[299] == pytest.approx(e[299], abs=1e-12) and L[300] != L[299]


def test_trigger_at_last_column_continues_in_next_call():
    bank = make_bank(NOISE)
    whole, _, _, _ = render_samples(bank, [trig(63)], 512)
    split, _, _, _ = render_samples(bank, [trig(63)], 512, block=64)
    np.testing.assert_array_equal(whole, split)
    np.testing.assert_allclose(split, placed(512, 63, ref_voice(NOISE)[0]), atol=1e-12)
    assert split[63] != 0.0 and np.all(split[:63] == 0.0) and np.any(split[64:128] != 0.0)


def test_reverse_playback():
    bank = make_bank(RAMP)
    L, _, _, _ = render_samples(bank, [trig(5, rate=-1.0, pan=0.0, **HARD)], 500)
    np.testing.assert_allclose(L[5:405], R64[::-1], atol=1e-12)
    assert np.all(L[405:] == 0.0) and np.all(L[:5] == 0.0)
    # with default ramps too, and fractional reverse rates interpolate
    L, _, _, _ = render_samples(bank, [trig(0, rate=-0.75)], 700)
    np.testing.assert_allclose(L, placed(700, 0, ref_voice(RAMP, rate=-0.75)[0]), atol=1e-12)


def test_rate_two_plays_every_other_frame_in_half_the_time():
    bank = make_bank(RAMP)
    L, _, pool, _ = render_samples(bank, [trig(0, rate=2.0, pan=0.0, **HARD)], 400)
    np.testing.assert_allclose(L[:200], R64[::2], atol=1e-12)
    assert np.all(L[200:] == 0.0)
    assert pool[:, V.V_ACTIVE].sum() == 0  # freed at its end
    # fractional rate: linear interpolation between neighbouring frames
    L, _, _, _ = render_samples(bank, [trig(0, rate=0.5, pan=0.0, **HARD)], 900)
    assert L[1] == pytest.approx((R64[0] + R64[1]) / 2, abs=1e-12)
    np.testing.assert_allclose(L, placed(900, 0, ref_voice(RAMP, rate=0.5, pan=0.0, **HARD)[0]), atol=1e-12)


def test_begin_end_slice():
    bank = make_bank(RAMP)
    L, _, _, _ = render_samples(bank, [trig(3, begin=0.25, end=0.5, pan=0.0, **HARD)], 400)
    np.testing.assert_allclose(L[3:103], R64[100:200], atol=1e-12)
    assert np.all(L[103:] == 0.0) and np.all(L[:3] == 0.0)
    L, _, _, _ = render_samples(bank, [trig(3, begin=0.25, end=0.5, rate=-1, pan=0.0, **HARD)], 400)
    np.testing.assert_allclose(L[3:103], R64[100:200][::-1], atol=1e-12)
    assert np.all(L[103:] == 0.0)
    # end < begin plays the slice backwards (SuperDirt)
    back, _, _, _ = render_samples(bank, [trig(3, begin=0.5, end=0.25, pan=0.0, **HARD)], 400)
    np.testing.assert_array_equal(back, L)
    # chop-style slices tile the sample: 3 slices of 400 frames start at frames 0, 133, 267
    parts = [render_samples(bank, [trig(0, begin=i / 3, end=(i + 1) / 3, pan=0.0, **HARD)], 400)[0] for i in range(3)]
    np.testing.assert_allclose(np.concatenate([p[p != 0] for p in parts]), R64, atol=1e-12)
    # begin == end is skipped
    L, _, _, stats = render_samples(bank, [trig(3, begin=0.5, end=0.5), trig(4, rate=0.0)], 100)
    assert np.all(L == 0.0) and stats[1] == 0


def test_gain_and_clamp():
    bank = make_bank(NOISE)
    one, _, _, _ = render_samples(bank, [trig(0)], 400)
    two, _, _, _ = render_samples(bank, [trig(0, gain=2.0)], 400)
    big, _, _, _ = render_samples(bank, [trig(0, gain=500.0)], 400)
    np.testing.assert_allclose(two, 2 * one, atol=1e-12)
    np.testing.assert_allclose(big, V.MAX_LEVEL * one, atol=1e-9)  # the level is clamped to 256


def test_pan_law():
    """pan 0..1: a hard pan is the frames themselves on one side, the centre CENTRE * frames on both (exactly
    equal), the power the same everywhere; NaN is the centre, beyond 0..1 is clamped."""
    bank = make_bank(NOISE)
    x = placed(400, 0, NOISE.astype(np.float64))
    L, R, _, _ = render_samples(bank, [trig(0, pan=0.0, **HARD)], 400)
    np.testing.assert_array_equal(L, x)
    np.testing.assert_allclose(R, 0.0, atol=1e-12)
    L, R, _, _ = render_samples(bank, [trig(0, pan=1.0, **HARD)], 400)
    np.testing.assert_allclose(L, 0.0, atol=1e-12)
    np.testing.assert_array_equal(R, x)
    L, R, _, _ = render_samples(bank, [trig(0, pan=0.5, **HARD)], 400)
    np.testing.assert_array_equal(L, R)
    np.testing.assert_allclose(L, CENTRE * x, atol=1e-15)
    for pan in (0.3, 0.8):  # equal power everywhere: L^2 + R^2 = x^2
        L, R, _, _ = render_samples(bank, [trig(0, pan=pan, **HARD)], 400)
        np.testing.assert_allclose(L**2 + R**2, x**2, atol=1e-12)
    for pan, same in ((float("nan"), 0.5), (-3.0, 0.0), (7.0, 1.0)):
        a = render_samples(bank, [trig(0, pan=pan, **HARD)], 400)
        b = render_samples(bank, [trig(0, pan=same, **HARD)], 400)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


def test_stereo_sample_keeps_channels():
    left = NOISE[:200]
    right = (np.arange(200) * 0.003 - 0.3).astype(np.float32)
    bank = make_bank(np.stack([left, right], axis=1))
    L, R, _, _ = render_samples(bank, [trig(2, **HARD)], 300)  # balanced: the centre leaves it as it is
    np.testing.assert_array_equal(L[2:202], left.astype(np.float64))
    np.testing.assert_array_equal(R[2:202], right.astype(np.float64))
    L, R, _, _ = render_samples(bank, [trig(2, pan=0.25, **HARD)], 300)
    theta = 0.25 * math.pi / 2
    np.testing.assert_allclose(L[2:202], left, atol=1e-7)  # min(1, sqrt(2) cos(theta)) = 1
    np.testing.assert_allclose(R[2:202], right * SQ2 * math.sin(theta), atol=1e-7)


def test_cut_group_fades_earlier_voice_in_10ms_others_continue():
    dc = np.ones(20000, dtype=np.float32)
    bank = make_bank(dc, dc * 0.5, dc * 0.25)
    total = 8000
    a = trig(0, sample=0, cut=1)
    b = trig(100, sample=1, cut=2)
    c = trig(1000, sample=2, cut=1)
    full, _, _, _ = render_samples(bank, [a, b, c], total)
    without_a, _, _, _ = render_samples(bank, [b, c], total)
    a_part = full - without_a
    assert a_part[999] == pytest.approx(CENTRE, abs=1e-12)  # untouched before the cut
    k = np.arange(441)
    np.testing.assert_allclose(a_part[1000:1441], CENTRE * (440 - k) / 441, atol=1e-12)  # linear over 441 samples
    assert np.all(a_part[1440:] == 0.0)  # gone within 10 ms of the new trigger
    b_alone, _, _, _ = render_samples(bank, [b], total)
    c_alone, _, _, _ = render_samples(bank, [c], total)
    np.testing.assert_allclose(full[1441:] - c_alone[1441:], b_alone[1441:], atol=1e-12)
    assert b_alone[5000] == pytest.approx(0.5 * CENTRE)  # the other group keeps playing


def test_default_attack_and_release_shapes():
    dc = np.ones(1000, dtype=np.float32)
    bank = make_bank(dc)
    L, _, _, _ = render_samples(bank, [trig(0, pan=0.0)], 1100)
    k = np.arange(44)
    np.testing.assert_allclose(L[:44], (k + 1) / 44, atol=1e-12)  # 1 ms attack: 44 samples
    assert np.all(L[44:868] == 1.0)
    j = np.arange(132)  # 3 ms release over the last 132 frames of the sample
    np.testing.assert_allclose(L[999 - j], (j + 1) / 132, atol=1e-12)
    assert np.all(L[1000:] == 0.0)


def test_hold_then_release():
    dc = np.ones(5000, dtype=np.float32)
    bank = make_bank(dc)
    L, _, pool, _ = render_samples(bank, [trig(10, hold=200, release=0.01, pan=0.0)], 1000)
    assert L[10 + 199] == 1.0
    k = np.arange(441)
    np.testing.assert_allclose(L[210 : 210 + 441], (440 - k) / 441, atol=1e-12)
    assert np.all(L[210 + 440 :] == 0.0)
    assert pool[:, V.V_ACTIVE].sum() == 0
    # a hold longer than the sample still fades out at its natural end
    short = make_bank(np.ones(300, dtype=np.float32))
    L, _, _, _ = render_samples(short, [trig(0, hold=10000, pan=0.0)], 400)
    assert L[299] == pytest.approx(1 / 132) and np.all(L[300:] == 0.0)


def test_stealing_oldest_with_2000_overlapping_triggers():
    bank = make_bank(np.ones(100000, dtype=np.float32) * 0.01, NOISE)
    rows = [trig(2 * i, sample=0, pan=(i % 7) / 7) for i in range(2000)]
    L, R, pool, stats = render_samples(bank, rows, 4096, voices=512)
    assert stats[0] == 2000 - 512
    assert stats[1] == 512
    assert np.all(np.isfinite(L)) and np.all(np.isfinite(R))
    # the survivors are the 512 newest voices: ages (4096 - offset) for the last 512 triggers
    ages = np.sort(pool[:, V.V_AGE])
    np.testing.assert_array_equal(ages, np.sort(4096 - 2.0 * np.arange(1488, 2000)))
    # ties on age go to the lowest index: 3 simultaneous triggers into a pool of 2
    _, _, pool, stats = render_samples(bank, [trig(0, sample=0), trig(0, sample=1), trig(0, sample=1)], 10, voices=2)
    assert stats[0] == 1 and list(pool[:, V.V_SAMPLE]) == [1.0, 1.0]


def test_int64_stats_as_the_host_keeps_them():
    bank = make_bank(np.ones(5000, dtype=np.float32))
    stats = np.zeros(2, dtype=np.int64)
    render_samples(bank, [trig(i) for i in range(5)], 100, voices=3, stats=stats)
    assert list(stats) == [2, 3]
    pool = V.new_synth_pool(2)
    tab = np.array([strig(i, 100.0) for i in range(4)])
    out = np.zeros(64)
    V.play_synth(out, out.copy(), 0, 64, float(SR), pool, tab, 4, V.SAW, stats)
    assert list(stats) == [4, 3]


def _busy_scenario():
    rng = np.random.default_rng(7)
    dc = np.ones(3000, dtype=np.float32)
    stereo = rng.standard_normal((700, 2)).astype(np.float32) * 0.2
    bank = make_bank(NOISE, RAMP, dc * 0.3, stereo, (rng.standard_normal(5000) * 0.1).astype(np.float32))
    rows = []
    for i in range(260):
        rows.append(
            trig(
                int(rng.integers(0, 4000)),
                sample=int(rng.integers(0, 5)),
                gain=float(rng.uniform(0.1, 2)),
                pan=float(rng.uniform(0, 1)),
                rate=float(rng.choice([1.0, -1.0, 2.0, 0.5, -0.37, 1.2345, 3.0])),
                begin=float(rng.choice([0.0, 0.25, 0.1])),
                end=float(rng.choice([1.0, 0.75, 0.9])),
                cut=int(rng.choice([0, 0, 1, 2])),
                attack=float(rng.choice([0.0, 0.002, -1.0])),
                release=float(rng.choice([0.0, 0.01, -1.0])),
                hold=float(rng.choice([-1, 50, 333, 1000])),
            )
        )
    rows += [trig(0, sample=4), trig(0, sample=4), trig(63, sample=0), trig(64, sample=0), trig(3999, sample=4)]
    return bank, rows


@pytest.mark.parametrize("voices", [512, 16])
def test_block_split_independence_samples(voices):
    bank, rows = _busy_scenario()
    L, R, pool, stats = render_samples(bank, rows, 4000, voices=voices)
    assert np.all(np.isfinite(L)) and np.any(L != 0.0)
    if voices == 16:
        assert stats[0] > 0  # stealing is part of the scenario
    for block in (64, 100, 1, 513):
        L2, R2, pool2, stats2 = render_samples(bank, rows, 4000, block=block, voices=voices)
        np.testing.assert_array_equal(L, L2)
        np.testing.assert_array_equal(R, R2)
        np.testing.assert_array_equal(pool, pool2)
        np.testing.assert_array_equal(stats, stats2)


def test_busy_scenario_matches_reference_model():
    """Without cuts and stealing the output is exactly the sum of independent voices (the reference model)."""
    bank, rows = _busy_scenario()
    rows = [r.copy() for r in rows]
    for r in rows:
        r[V.T_CUT] = 0
    L, R, _, stats = render_samples(bank, rows, 4000)
    assert stats[0] == 0
    eL = np.zeros(4000)
    eR = np.zeros(4000)
    for r in rows:
        sid = int(r[V.T_SAMPLE])
        hold = r[V.T_LENGTH] if r[V.T_LEGATO] == 1.0 else -1
        l, rr = ref_voice(bank.frames_of(sid), r[V.T_SPEED], r[V.T_BEGIN], r[V.T_END], r[V.T_AMP], r[V.T_PAN],
                          r[V.T_ATTACK], r[V.T_RELEASE], hold, stereo=bank.channels[sid] == 2)
        eL += placed(4000, int(r[V.T_OFFSET]), l)
        eR += placed(4000, int(r[V.T_OFFSET]), rr)
    np.testing.assert_allclose(L, eL, atol=1e-9)
    np.testing.assert_allclose(R, eR, atol=1e-9)


def exact_voice(frames, rate, begin=0.0, end=1.0, gain=1.0, pan=0.5):
    """One voice with the default ramps by the module doc's formula, sample by sample with the kernel's
    operations in the kernel's order (Python floats are IEEE doubles): (L, R) exactly, from the onset on."""
    frames = np.asarray(frames, dtype=np.float32)
    stereo = frames.ndim == 2
    if frames.ndim == 1:
        frames = np.stack([frames, frames], axis=1)
    padded = np.vstack([frames, np.zeros((1, 2), dtype=np.float32)])  # the guard frame
    n = len(frames)
    lo, hi = float(math.floor(begin * n + 0.5)), float(math.floor(end * n + 0.5))
    p0 = lo if rate > 0 else hi - 1.0
    count = 0
    while lo <= p0 + rate * count < hi:
        count += 1
    a_len, r_len = 44.0, 132.0  # 1 ms and 3 ms at 44.1 kHz
    rel_end = count + 1.0
    gl, gr = pan_gains(pan, stereo)
    gl, gr = gain * gl, gain * gr
    left, right = np.zeros(count), np.zeros(count)
    for k in range(count):
        ag = float(k)
        pos = p0 + rate * ag
        j = int(pos)
        f = pos - j
        l, r = float(padded[j, 0]), float(padded[j, 1])
        l += f * (float(padded[j + 1, 0]) - l)
        r += f * (float(padded[j + 1, 1]) - r)
        tau = ag + 1.0
        env = tau * (1.0 / a_len) if tau < a_len else 1.0
        if rel_end - tau < r_len:
            env = min(env, (rel_end - tau) * (1.0 / r_len))
        left[k] = l * (env * gl)
        right[k] = r * (env * gr)
    return left, right


EXACT_RATES = [1.0, -1.0, 2.0, -2.0, 0.5, 1.37, -0.63, 0.8, 3.0]


@pytest.mark.parametrize("rate", EXACT_RATES)
def test_every_loop_gives_the_exact_formula(rate):
    """Mono and stereo samples, unit, integer and fractional rates, forwards and backwards: the kernel's
    split into runs (attack, batched flat run, release; one column for mono) gives exactly the formula."""
    rng = np.random.default_rng(3)
    mono = (rng.standard_normal(1500) * 0.3).astype(np.float32)
    stereo = (rng.standard_normal((1500, 2)) * 0.3).astype(np.float32)
    bank = make_bank(mono, stereo)
    assert list(bank.channels) == [1, 2]
    for sample, frames in ((0, mono), (1, stereo)):
        for begin, end, pan in ((0.0, 1.0, 0.5), (0.1, 0.85, 0.65), (0.5, 0.55, 0.1)):
            el, er = exact_voice(frames, rate, begin, end, 0.7, pan)
            total = 13 + len(el) + 20
            for block in (None, 100, 7):
                L, R, _, _ = render_samples(bank, [trig(13, sample, 0.7, pan, rate, begin, end)], total, block)
                np.testing.assert_array_equal(L, placed(total, 13, el))
                np.testing.assert_array_equal(R, placed(total, 13, er))


@pytest.mark.parametrize("rate", EXACT_RATES)
def test_mono_voices_equal_stereo_voices_of_equal_columns(rate):
    """A mono sample (one column read) and the same frames as a stereo sample (both read): the same output where
    the two pan laws agree, the hard pans (gain 1 on the near side)."""
    frames = (np.random.default_rng(4).standard_normal(2000) * 0.3).astype(np.float32)
    bank = make_bank(frames, np.stack([frames, frames], axis=1))
    assert list(bank.channels) == [1, 2]
    for pan, side in ((0.0, 0), (1.0, 1)):
        rows = [trig(5 + 37 * i, sample=0, pan=pan, gain=0.5 + 0.1 * i, rate=rate * (1 + 0.125 * i),
                     hold=[-1, 300][i % 2]) for i in range(9)]
        mono = render_samples(bank, rows, 5000, block=256)
        for r in rows:
            r[V.T_SAMPLE] = 1
        stereo = render_samples(bank, rows, 5000, block=256)
        assert np.any(mono[side] != 0.0)
        np.testing.assert_array_equal(mono[side], stereo[side])
    pool1, pool2 = mono[2], stereo[2]
    used = pool1[:, V.V_AGE] > 0.0  # slots that held a voice (freed slots keep their row)
    assert np.any(used) and np.all(pool1[used, V.V_MONO] == 1.0) and np.all(pool2[:, V.V_MONO] == 0.0)


def test_a_channel_count_of_one_plays_the_left_column_on_both_sides():
    """The kernel takes the bank's channel counts at their word: 1 promises equal columns, and every loop but
    the rate-1 one then reads only the left column (so the mono loops are really the ones the tests above
    exercise)."""
    stereo = np.stack([np.full(500, 0.5), np.full(500, -0.25)], axis=1).astype(np.float32)
    bank = make_bank(stereo)
    out = [np.zeros(600), np.zeros(600)]
    # a stereo sample is balanced (1 on each side at the centre), a mono one panned (CENTRE on each side)
    for channels, expect in ((np.array([2]), (0.5, -0.25)), (np.array([1]), (0.5 * CENTRE, 0.5 * CENTRE))):
        for rate in (1.5, -1.0, 2.0):
            V.play_samples(out[0], out[1], 0, 600, float(SR), V.new_pool(4), np.array([trig(0, rate=rate, **HARD)]),
                           1, bank.data, bank.offsets, bank.lengths, channels, V.new_stats())
            assert (out[0][10], out[1][10]) == expect


def test_bad_triggers_are_skipped_and_output_overwritten():
    bank = make_bank(NOISE)
    rows = [trig(0, sample=5), trig(1, sample=-1), trig(2, gain=0.0), trig(3, rate=float("nan")),
            trig(4, gain=float("nan")), trig(5, rate=float("inf")), trig(6, rate=1e-12), trig(7, begin=float("nan")),
            trig(8, hold=0, release=-1), trig(float("inf"))]
    L, R, pool, stats = render_samples(bank, rows, 64)
    assert np.all(L == 0.0) and np.all(R == 0.0) and stats[1] == 0 and pool[:, V.V_ACTIVE].sum() == 0
    # a skipped trigger does not cut its group
    dc = make_bank(np.ones(1000, dtype=np.float32))
    L, _, _, _ = render_samples(dc, [trig(0, cut=1, pan=0.0, **HARD), trig(10, cut=1, rate=0.0)], 64)
    assert np.all(L == 1.0)
    # NaN pan is the centre, a NaN attack is one not given (the default 1 ms); the voice plays
    L, R, _, _ = render_samples(dc, [trig(0, pan=float("nan"), attack=float("nan"), release=-1)], 64)
    np.testing.assert_array_equal(L, R)
    assert L[43] == CENTRE and L[42] == pytest.approx(43 / 44 * CENTRE)


def test_bad_synth_triggers():
    rows = [strig(0, 0.0), strig(1, float("nan")), strig(2, -5.0), strig(3, 440.0, gain=0.0),
            strig(4, 440.0, attack=0.0, decay=0.0, sustain=0.0), strig(5, 440.0, hold=0, attack=0.01)]
    L, R, pool, stats = render_synth(rows, 64, V.SAW)
    assert np.all(L == 0.0) and np.all(R == 0.0) and stats[1] == 0 and pool[:, V.Y_ACTIVE].sum() == 0
    # NaN envelope values are not given: Strudel's defaults for them (attack 1 ms, sustain 1 without a decay);
    # frequencies above the sample rate stay finite and bounded
    L, _, _, _ = render_synth([strig(0, 440.0, attack=float("nan"), sustain=float("nan"), decay=float("nan"))], 64,
                              V.SINE)
    same, _, _, _ = render_synth([strig(0, 440.0, attack=0.001, sustain=1.0, decay=0.0)], 64, V.SINE)
    np.testing.assert_array_equal(L, same)
    assert np.any(L != 0.0)
    for wave in (V.SINE, V.SAW, V.SQUARE, V.TRI):
        L, _, _, _ = render_synth([strig(0, 3 * SR + 1234.5, hold=-1)], 4000, wave)
        assert np.all(np.isfinite(L)) and np.max(np.abs(L)) < 2.0


# ----------------------------------------------------------------------------------------------- synth voices


@pytest.mark.parametrize("wave", [V.SINE, V.SAW, V.SQUARE, V.TRI])
def test_synth_pitch(wave):
    L, R, _, _ = render_synth([strig(0, 261.63, attack=0.005, hold=-1)], SR, wave)
    assert abs(dominant_freq(L) - 261.63) < 0.5
    np.testing.assert_array_equal(L, R)  # centre pan: exactly equal channels
    assert np.max(np.abs(L)) <= 1.2


def test_synth_sine_starts_at_zero_and_is_a_sine():
    L, _, _, _ = render_synth([strig(5, 1000.0, hold=-1, pan=0.0)], 2000, V.SINE)
    assert L[5] == 0.0 and np.all(L[:5] == 0.0)
    n = np.arange(1995)
    np.testing.assert_allclose(L[5:], np.sin(2 * np.pi * 1000.0 / SR * n), atol=1e-8)


def test_synth_adsr_levels_at_exact_samples():
    # a 1 Hz square is exactly +1 from its second sample for half a second: the output is the envelope
    a, d, s, r, g = 441, 882, 0.5, 441, 2000
    L, _, pool, _ = render_synth(
        [strig(7, 1.0, attack=a / SR, decay=d / SR, sustain=s, release=r / SR, hold=g, pan=0.0)], 4000, V.SQUARE
    )
    env = L[7:]
    k = np.arange(1, a)
    np.testing.assert_allclose(env[k], (k + 1) / a, atol=1e-12)  # attack 0 -> 1
    assert env[a - 1] == pytest.approx(1.0, abs=1e-12)  # full level on the attack's last sample
    assert env[a + d - 1] == pytest.approx(s, abs=1e-12)  # sustain level when the decay ends
    np.testing.assert_allclose(env[a + d - 1 : g], s, atol=1e-12)  # sustain while the gate is open
    j = np.arange(r)
    np.testing.assert_allclose(env[g + j], s * (r - 1 - j) / r, atol=1e-12)  # release to 0 over r samples
    assert np.all(env[g + r - 1 :] == 0.0)
    assert pool[:, V.Y_ACTIVE].sum() == 0  # freed
    # a gate closing during the attack releases from the level reached
    gate_early = strig(0, 1.0, attack=a / SR, decay=0.1, sustain=0.5, release=r / SR, hold=100, pan=0.0)
    L, _, _, _ = render_synth([gate_early], 800, V.SQUARE)
    assert L[99] == pytest.approx(100 / a, abs=1e-12)
    assert L[100] == pytest.approx(100 / a * (r - 1) / r, abs=1e-12)
    assert np.all(L[100 + r - 1 :] == 0.0)


def test_synth_zero_sustain_voice_is_freed_after_decay():
    L, _, pool, _ = render_synth([strig(0, 1.0, attack=0.0, decay=100 / SR, sustain=0.0, hold=-1, pan=0.0)], 400,
                                 V.SQUARE)
    assert L[50] == pytest.approx(1 - 51 / 100, abs=1e-12)
    assert np.all(L[99:] == 0.0) and pool[:, V.Y_ACTIVE].sum() == 0


def test_synth_chord_sums():
    notes = [130.81, 164.81, 196.0]  # c3 e3 g3
    rows = [strig(0, f, gain=0.3, attack=0.01, hold=-1) for f in notes]
    L, R, _, stats = render_synth(rows, SR, V.SAW)
    assert stats[1] == 3
    alone = sum(render_synth([row], SR, V.SAW)[0] for row in rows)
    np.testing.assert_allclose(L, alone, atol=1e-12)
    for f in notes:
        assert tone_amplitude(L, f) == pytest.approx(0.3 * 2 / math.pi * CENTRE, rel=0.05)  # saw fundamental 2/pi


def test_synth_stealing_and_pan():
    rows = [strig(i, 100.0 + i, gain=0.01, pan=0.0, hold=-1) for i in range(600)]
    L, R, pool, stats = render_synth(rows, 1000, V.SINE, voices=256)
    assert stats[0] == 600 - 256 and stats[1] == 256
    np.testing.assert_allclose(R, 0.0, atol=1e-12)
    assert np.all(np.isfinite(L))
    np.testing.assert_array_equal(np.sort(pool[:, V.Y_AGE]), np.sort(1000 - np.arange(344, 600.0)))


@pytest.mark.parametrize("wave", [V.SINE, V.SAW, V.SQUARE, V.TRI])
def test_block_split_independence_synth(wave):
    rng = np.random.default_rng(11)
    rows = [
        strig(int(rng.integers(0, 4000)), float(rng.uniform(50, 5000)), gain=float(rng.uniform(0.1, 1)),
              pan=float(rng.uniform(0, 1)), attack=float(rng.choice([0.0, 0.001, 0.02])),
              decay=float(rng.choice([0.0, 0.01, 0.05])), sustain=float(rng.choice([0.0, 0.4, 1.0])),
              release=float(rng.choice([0.0, 0.005, 0.03])), hold=float(rng.choice([-1, 0, 100, 900, 2500])))
        for _ in range(120)
    ] + [strig(0, 440.0), strig(3999, 880.0)]
    L, R, pool, stats = render_synth(rows, 4000, wave, voices=32)
    assert stats[0] > 0 and np.all(np.isfinite(L)) and np.any(L != 0)
    for block in (64, 100, 1):
        L2, R2, pool2, stats2 = render_synth(rows, 4000, wave, block=block, voices=32)
        np.testing.assert_array_equal(L, L2)
        np.testing.assert_array_equal(R, R2)
        np.testing.assert_array_equal(pool, pool2)
        np.testing.assert_array_equal(stats, stats2)


# ------------------------------------------------------------------------------------------ micro benchmark


def bench(voices: int = 256, block: int = 512, blocks: int = 400) -> dict[str, float]:
    """ns per voice-sample with `voices` voices sounding all the time (not a test; run this file)."""
    rng = np.random.default_rng(0)
    bank = make_bank((rng.standard_normal(SR * 30) * 0.1).astype(np.float32),
                     (rng.standard_normal((SR * 30, 2)) * 0.1).astype(np.float32))  # ids 0 mono, 1 stereo
    result = {}
    for name, sample, rate in (("samples rate 1", 0, 1.0), ("samples rate 1.37", 0, 1.37),
                               ("samples rate -1", 0, -1.0), ("stereo samples rate 1", 1, 1.0),
                               ("stereo samples rate 1.37", 1, 1.37)):
        pool = V.new_pool(512)
        stats = V.new_stats()
        out_l = np.zeros(block)
        out_r = np.zeros(block)
        trig_tab = np.array([trig(i % block, sample, rate=rate, pan=(i % 9) / 8) for i in range(voices)])
        V.play_samples(out_l, out_r, 0, block, float(SR), pool, trig_tab, voices, bank.data, bank.offsets,
                       bank.lengths, bank.channels, stats)
        empty = V.new_triggers(1)
        t = time.perf_counter()
        for _ in range(blocks):
            V.play_samples(out_l, out_r, 0, block, float(SR), pool, empty, 0, bank.data, bank.offsets,
                           bank.lengths, bank.channels, stats)
        dt = time.perf_counter() - t
        assert pool[:, V.V_ACTIVE].sum() == voices
        result[name] = dt / (blocks * block * voices) * 1e9
    for wname, wave in (("sine", V.SINE), ("saw", V.SAW), ("square", V.SQUARE), ("tri", V.TRI)):
        pool = V.new_synth_pool(512)
        stats = V.new_stats()
        out_l = np.zeros(block)
        out_r = np.zeros(block)
        tab = np.array([strig(i % block, 55.0 * (1 + i % 24 / 12)) for i in range(voices)])
        V.play_synth(out_l, out_r, 0, block, float(SR), pool, tab, voices, wave, stats)
        empty = V.new_triggers(1)
        t = time.perf_counter()
        for _ in range(blocks):
            V.play_synth(out_l, out_r, 0, block, float(SR), pool, empty, 0, wave, stats)
        dt = time.perf_counter() - t
        result[f"synth {wname}"] = dt / (blocks * block * voices) * 1e9
    # a full pool of 512 voices with 16 new triggers per 512-sample block (17 segments, 16 steals per block)
    pool = V.new_pool(512)
    stats = V.new_stats()
    out_l = np.zeros(block)
    out_r = np.zeros(block)
    tab = np.array([trig(i % block, rate=1.0) for i in range(512)])
    V.play_samples(out_l, out_r, 0, block, float(SR), pool, tab, 512, bank.data, bank.offsets, bank.lengths,
                   bank.channels, stats)
    tab16 = np.array([trig(i * 32, rate=1.0) for i in range(16)])
    t = time.perf_counter()
    for _ in range(blocks):
        V.play_samples(out_l, out_r, 0, block, float(SR), pool, tab16, 16, bank.data, bank.offsets, bank.lengths,
                       bank.channels, stats)
    dt = time.perf_counter() - t
    assert pool[:, V.V_ACTIVE].sum() == 512
    result["samples, 512 voices, 16 triggers/block"] = dt / (blocks * block * 512) * 1e9
    # dispatch floor: an idle node (empty 512-slot pool, no triggers), per call
    pool = V.new_pool(512)
    t = time.perf_counter()
    for _ in range(blocks):
        V.play_samples(out_l, out_r, 0, block, float(SR), pool, tab16, 0, bank.data, bank.offsets, bank.lengths,
                       bank.channels, stats)
    result["idle call, us"] = (time.perf_counter() - t) / blocks * 1e9 / 1000
    return result


if __name__ == "__main__":
    for k, v in bench().items():
        print(f"{k:40s} {v:6.2f}" + ("" if "us" in k else " ns per voice-sample"))
