"""Topology-preserving-transform state-variable filter (Zavalishin / Cytomic). Stable for every cutoff up to
Nyquist, unlike the Chamberlin SVF of the original Phonon. Cutoff and q are read per sample; the
coefficients are recomputed only when either changes, so a constant cutoff costs no `tan` per sample.

State: the mode (a const), the integrator states ic1 and ic2, the cutoff and q the coefficients a1, a2, a3
and k were computed for.

The filter's recurrence is a chain of dependent multiply-adds, so one filter alone waits on latency. The
kernel therefore runs four filters of a batch side by side in one sample loop (independent chains the CPU
overlaps): about 2.5x faster per filter than one at a time. Each filter's arithmetic is unchanged."""

from __future__ import annotations

import math

import numba as nb

from phonon.engine.kernels import flush, steady
from phonon.graph.kinds import INPUT, Function, Kind, Param, define, fields


@nb.njit(cache=True, inline="always")
def _held(cutoff, q, start: int, stop: int) -> bool:
    """Cutoff and q hold one value over [start, stop): the coefficients are then set once."""
    return steady(cutoff, start, stop) and steady(q, start, stop)


@nb.njit(cache=True, inline="always")
def _mode_mix(mode: float) -> tuple:
    """Each mode is a fixed mix of input, band and low outputs: out = m0*x + (m1 - mk*k)*bp + m2*lp."""
    m = int(mode)
    return (
        0.0 if m == 0 or m == 2 else 1.0,
        1.0 if m == 2 else 0.0,
        1.0 if m == 1 or m == 3 else 0.0,
        1.0 if m == 0 else (-1.0 if m == 1 else 0.0),
    )


@nb.njit(cache=True, inline="always")
def _load(st) -> tuple:
    return (st[IC1], st[IC2], st[LAST_CUTOFF], st[LAST_Q], st[A1], st[A2], st[A3], st[K])


@nb.njit(cache=True, inline="always")
def _store(st, s) -> None:
    ic1, ic2, last_fc, last_q, a1, a2, a3, k = s
    st[IC1], st[IC2] = flush(ic1), flush(ic2)
    st[LAST_CUTOFF], st[LAST_Q], st[A1], st[A2], st[A3], st[K] = last_fc, last_q, a1, a2, a3, k


@nb.njit(cache=True, inline="always")
def _coefficients(fc: float, q: float, s: tuple, sr: float) -> tuple:
    """The state with coefficients for (fc, q), recomputed only when they changed."""
    ic1, ic2, last_fc, last_q, a1, a2, a3, k = s
    if fc != last_fc or q != last_q or k == 0.0:  # k == 0 only before the first sample
        k = 1.0 / min(max(q, _Q_LO), _Q_HI)
        a1, a2, a3 = svf_coefficients(fc, k, sr)
    return (ic1, ic2, fc, q, a1, a2, a3, k)


@nb.njit(cache=True, inline="always")
def svf_coefficients(fc: float, k: float, sr: float) -> tuple:
    """(a1, a2, a3) of the TPT SVF at cutoff fc (clamped to 20 Hz .. 0.49 sr) with damping k = 1 / q. The one
    definition: the svf kind and the per-voice filters (engine/kernels/voices.py) use it."""
    g = math.tan(math.pi * min(max(fc, _CUTOFF_LO), 0.49 * sr) / sr)
    a1 = 1.0 / (1.0 + g * (g + k))
    a2 = g * a1
    return a1, a2, g * a2


@nb.njit(cache=True, inline="always")
def svf_step(v0: float, ic1: float, ic2: float, a1: float, a2: float, a3: float) -> tuple:
    """One sample of the TPT SVF: (band v1, low v2, new ic1, new ic2); high is v0 - k v1 - v2."""
    v3 = v0 - ic2
    v1 = a1 * ic1 + a2 * v3
    v2 = ic2 + a2 * ic1 + a3 * v3
    return v1, v2, 2.0 * v1 - ic1, 2.0 * v2 - ic2


@nb.njit(cache=True, inline="always")
def _tick(v0: float, s: tuple, m: tuple) -> tuple:
    """One sample of one filter: returns (output, new state)."""
    ic1, ic2, last_fc, last_q, a1, a2, a3, k = s
    v1, v2, ic1, ic2 = svf_step(v0, ic1, ic2, a1, a2, a3)
    out = m[0] * v0 + (m[1] - m[2] * k) * v1 + m[3] * v2
    return out, (ic1, ic2, last_fc, last_q, a1, a2, a3, k)


@nb.njit(cache=True, inline="always")
def _fixed(s: tuple, m: tuple) -> tuple:
    """For a steady block: (a1, a2, a3, input gain, band gain, low gain), all constant over the block."""
    k = s[7]
    return (s[4], s[5], s[6], m[0], m[1] - m[2] * k, m[3])


@nb.njit(cache=True, inline="always", fastmath={"contract"})
def _tick_fixed(v0: float, ic1: float, ic2: float, c: tuple) -> tuple:
    a1, a2, a3, gx, gb, gl = c
    v1, v2, ic1, ic2 = svf_step(v0, ic1, ic2, a1, a2, a3)
    return gx * v0 + gb * v1 + gl * v2, ic1, ic2


@nb.njit(cache=True, inline="always")
def _rows(arena, w, start: int, stop: int) -> tuple:
    """A filter's output, input, cutoff and q rows over [start, stop), as views indexed from 0."""
    return arena[w[0], start:stop], arena[w[1], start:stop], arena[w[2], start:stop], arena[w[3], start:stop]


@nb.njit(cache=True, nogil=True, fastmath={"contract"})
def svf(arena, wiring, state, start, stop):
    if stop <= start:
        return
    span = stop - start
    batch = wiring.shape[0]
    i = 0
    while i + 4 <= batch:
        o0, x0, c0, q0 = _rows(arena, wiring[i], start, stop)
        o1, x1, c1, q1 = _rows(arena, wiring[i + 1], start, stop)
        o2, x2, c2, q2 = _rows(arena, wiring[i + 2], start, stop)
        o3, x3, c3, q3 = _rows(arena, wiring[i + 3], start, stop)
        m0, m1, m2, m3 = _mode_mix(state[i, MODE]), _mode_mix(state[i + 1, MODE]), _mode_mix(state[i + 2, MODE]), _mode_mix(state[i + 3, MODE])
        s0, s1, s2, s3 = _load(state[i]), _load(state[i + 1]), _load(state[i + 2]), _load(state[i + 3])
        sr = state[i, 0]
        if _held(c0, q0, 0, span) and _held(c1, q1, 0, span) and _held(c2, q2, 0, span) and _held(c3, q3, 0, span):
            s0 = _coefficients(c0[0], q0[0], s0, sr)
            s1 = _coefficients(c1[0], q1[0], s1, sr)
            s2 = _coefficients(c2[0], q2[0], s2, sr)
            s3 = _coefficients(c3[0], q3[0], s3, sr)
            f0, f1, f2, f3 = _fixed(s0, m0), _fixed(s1, m1), _fixed(s2, m2), _fixed(s3, m3)
            p0, r0, p1, r1, p2, r2, p3, r3 = s0[0], s0[1], s1[0], s1[1], s2[0], s2[1], s3[0], s3[1]
            for n in range(span):
                o0[n], p0, r0 = _tick_fixed(x0[n], p0, r0, f0)
                o1[n], p1, r1 = _tick_fixed(x1[n], p1, r1, f1)
                o2[n], p2, r2 = _tick_fixed(x2[n], p2, r2, f2)
                o3[n], p3, r3 = _tick_fixed(x3[n], p3, r3, f3)
            s0, s1, s2, s3 = (p0, r0) + s0[2:], (p1, r1) + s1[2:], (p2, r2) + s2[2:], (p3, r3) + s3[2:]
        else:
            for n in range(span):
                o0[n], s0 = _tick(x0[n], _coefficients(c0[n], q0[n], s0, sr), m0)
                o1[n], s1 = _tick(x1[n], _coefficients(c1[n], q1[n], s1, sr), m1)
                o2[n], s2 = _tick(x2[n], _coefficients(c2[n], q2[n], s2, sr), m2)
                o3[n], s3 = _tick(x3[n], _coefficients(c3[n], q3[n], s3, sr), m3)
        _store(state[i], s0)
        _store(state[i + 1], s1)
        _store(state[i + 2], s2)
        _store(state[i + 3], s3)
        i += 4
    while i < batch:
        out, x, cutoff, q = _rows(arena, wiring[i], start, stop)
        m = _mode_mix(state[i, MODE])
        s = _load(state[i])
        sr = state[i, 0]
        for n in range(span):
            out[n], s = _tick(x[n], _coefficients(cutoff[n], q[n], s, sr), m)
        _store(state[i], s)
        i += 1


_CUTOFF = Param("cutoff", None, 20.0, None, "Hz, clamped to 20 .. 0.49 sr")
_Q = Param("q", 1.0, 0.5, 20.0)
_CUTOFF_LO, _Q_LO, _Q_HI = _CUTOFF.lo, _Q.lo, _Q.hi
# Filter modes: each is a function of the svf kind.
SVF_LOW, SVF_HIGH, SVF_BAND, SVF_NOTCH = 0.0, 1.0, 2.0, 3.0
SVF = define(
    Kind(
        "svf", ("input", "cutoff", "q"), consts=("mode",),
        state=fields("ic1", "ic2", "last_cutoff", "last_q", "a1", "a2", "a3", "k"),
        cost_ns=4.4, lane_cost_ns=1.0, kernel=svf,
        functions=tuple(
            Function(name, "svf", (INPUT, _CUTOFF, _Q), fixed={"mode": mode}, doc=f"state-variable {what}")
            for name, mode, what in (
                ("lpf", SVF_LOW, "lowpass"), ("hpf", SVF_HIGH, "highpass"),
                ("bpf", SVF_BAND, "bandpass"), ("notch", SVF_NOTCH, "notch"),
            )
        ),
        doc="TPT state-variable filter, stable up to Nyquist (cutoff clamped 20 Hz .. 0.49 sr)",
    )
)  # fmt: skip
MODE, IC1, IC2, LAST_CUTOFF, LAST_Q, A1, A2, A3, K = SVF.columns(
    "mode", "ic1", "ic2", "last_cutoff", "last_q", "a1", "a2", "a3", "k"
)
