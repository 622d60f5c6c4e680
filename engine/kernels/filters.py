"""Topology-preserving-transform state-variable filter (Zavalishin / Cytomic). Stable for every cutoff up to
Nyquist, unlike the Chamberlin SVF of the original Phonon. Cutoff and q are read per sample; the
coefficients are recomputed only when either changes, so a constant cutoff costs no `tan` per sample.

State row: [sr, mode, ic1, ic2, last_cutoff, last_q, a1, a2, a3, k]."""

from __future__ import annotations

import math

import numba as nb

from engine.kernels import kernel


@kernel("svf")
@nb.njit(cache=True)
def svf(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        cutoff = arena[wiring[i, 2]]
        q = arena[wiring[i, 3]]
        st = state[i]
        sr = st[0]
        mode = int(st[1])
        ic1, ic2 = st[2], st[3]
        last_fc, last_q = st[4], st[5]
        a1, a2, a3, k = st[6], st[7], st[8], st[9]
        nyquist_limit = 0.49 * sr
        # Each mode is a fixed mix of input, band and low outputs: out = m0*x + (m1 - mk*k)*bp + m2*lp.
        m0 = 0.0 if mode == 0 or mode == 2 else 1.0
        m1 = 1.0 if mode == 2 else 0.0
        mk = 1.0 if mode == 1 or mode == 3 else 0.0
        m2 = 1.0 if mode == 0 else (-1.0 if mode == 1 else 0.0)
        for n in range(start, stop):
            fc = cutoff[n]
            qn = q[n]
            if fc != last_fc or qn != last_q or k == 0.0:  # k == 0 only before the first sample
                last_fc, last_q = fc, qn
                g = math.tan(math.pi * min(max(fc, 20.0), nyquist_limit) / sr)
                k = 1.0 / min(max(qn, 0.5), 20.0)
                a1 = 1.0 / (1.0 + g * (g + k))
                a2 = g * a1
                a3 = g * a2
            v0 = x[n]
            v3 = v0 - ic2
            v1 = a1 * ic1 + a2 * v3
            v2 = ic2 + a2 * ic1 + a3 * v3
            ic1 = 2.0 * v1 - ic1
            ic2 = 2.0 * v2 - ic2
            out[n] = m0 * v0 + (m1 - mk * k) * v1 + m2 * v2
        # Flush denormals so a silent tail never slows the loop down.
        st[2] = ic1 if abs(ic1) > 1e-30 else 0.0
        st[3] = ic2 if abs(ic2) > 1e-30 else 0.0
        st[4], st[5], st[6], st[7], st[8], st[9] = last_fc, last_q, a1, a2, a3, k
