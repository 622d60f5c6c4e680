"""Freeverb-style mono reverb (Jezar's Freeverb, one channel, as in the reference's active path).

Per sample, with room, damping and mix clamped to 0..1:
    8 parallel lowpass-feedback combs (REVERB_COMBS samples at 44.1 kHz, scaled by sr / 44100):
        o = buf[k];  store = o * (1 - damp) + store * damp;  buf[k] = x + store * feedback
      feedback = 0.7 + 0.28 * room   (Freeverb's own law: 0.7 .. 0.98; the reference used 0.84 * room,
                                      which makes `room 0` no reverb at all and caps the tail shorter)
      damp     = 0.4 * damping       (Freeverb's scaling; the reference used damping directly, where
                                      damping 1 freezes the comb's lowpass and silences the tail)
    wet = sum of the 8 comb outputs / 8 (the reference's normalisation; Freeverb's 0.015 input gain and
          wet scale of 3 are not used), then 4 series Freeverb allpasses (REVERB_ALLPASSES, g = 0.5):
        o = buf[k];  y = o - in;  buf[k] = in + o * 0.5
    out = x + wet * mix              (the dry signal is never reduced: the reference's law, Ambiguity 18)

State row (no consts): [sr, comb buffers (8, in order), allpass buffers (4), comb indices (8),
comb filter stores (8), allpass indices (4), 12 spare]; graph.kinds reserves exactly this, plus the spare.
Everything written into a recursion (buffers, stores) is flushed to 0 below 1e-30 as it is written.
"""

from __future__ import annotations

import numba as nb

from engine.kernels import kernel
from graph.kinds import REVERB_ALLPASSES, REVERB_COMBS

_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7 = REVERB_COMBS
_A0, _A1, _A2, _A3 = REVERB_ALLPASSES
ALLPASS_GAIN = 0.5


@nb.njit(cache=True, inline="always")
def _scaled(n: int, sr: float) -> int:
    # The same arithmetic as graph.kinds._scaled: int(n * sr / 44100), at least 1.
    return max(1, int(n * sr / 44100.0))


@nb.njit(cache=True, inline="always")
def _flush(x: float) -> float:
    return x if abs(x) > 1e-30 else 0.0


@kernel("reverb")
@nb.njit(cache=True, nogil=True)
def reverb(arena, wiring, state, start, stop):
    for i in range(wiring.shape[0]):
        out = arena[wiring[i, 0]]
        x = arena[wiring[i, 1]]
        room = arena[wiring[i, 2]]
        damping = arena[wiring[i, 3]]
        mix = arena[wiring[i, 4]]
        st = state[i]
        sr = st[0]
        comb_len = (
            _scaled(_C0, sr), _scaled(_C1, sr), _scaled(_C2, sr), _scaled(_C3, sr),
            _scaled(_C4, sr), _scaled(_C5, sr), _scaled(_C6, sr), _scaled(_C7, sr),
        )  # fmt: skip
        ap_len = (_scaled(_A0, sr), _scaled(_A1, sr), _scaled(_A2, sr), _scaled(_A3, sr))
        total = 0
        for j in range(8):
            total += comb_len[j]
        for j in range(4):
            total += ap_len[j]
        tail = 1 + total  # comb indices at tail + j, stores at tail + 8 + j, allpass indices at tail + 16 + j
        for n in range(start, stop):
            xn = x[n]
            rm = min(max(room[n], 0.0), 1.0)
            fb = 0.7 + 0.28 * rm
            damp = 0.4 * min(max(damping[n], 0.0), 1.0)
            undamp = 1.0 - damp
            acc = 0.0
            base = 1
            for j in range(8):
                size = comb_len[j]
                k = int(st[tail + j])
                o = st[base + k]
                store = _flush(o * undamp + st[tail + 8 + j] * damp)
                st[tail + 8 + j] = store
                st[base + k] = _flush(xn + store * fb)
                k += 1
                if k == size:
                    k = 0
                st[tail + j] = k
                acc += o
                base += size
            y = acc * 0.125
            for j in range(4):
                size = ap_len[j]
                k = int(st[tail + 16 + j])
                o = st[base + k]
                st[base + k] = _flush(y + o * ALLPASS_GAIN)
                y = o - y
                k += 1
                if k == size:
                    k = 0
                st[tail + 16 + j] = k
                base += size
            out[n] = xn + y * min(max(mix[n], 0.0), 1.0)
