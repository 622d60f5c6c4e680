"""Freeverb-style stereo reverb (Jezar's Freeverb, as in the reference's active path, per side).

It is a sided function (graph/kinds.py): one node per side, the right one's combs and allpasses each
REVERB_SPREAD samples longer (Freeverb's stereospread, scaled by sr / 44100), so a mono input comes out as a
decorrelated stereo tail and a stereo input keeps its sides. The left side is the mono reverb it always was.

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

State: the combs' indices and filter stores, the allpasses' indices, then their delay lines (the 8 combs',
then the 4 allpasses', in order). Everything written into a recursion (buffers, stores) is flushed to 0 below
1e-30 as it is written.
"""

from __future__ import annotations

import numba as nb

from phonon.engine.kernels import flush
from phonon.graph.kinds import INPUT, Kind, Param, define, fields, function

REVERB_COMBS = (1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617)  # samples at 44.1 kHz
REVERB_ALLPASSES = (556, 441, 341, 225)
REVERB_SPREAD = 23  # samples at 44.1 kHz added to every right-side line (Freeverb's stereospread)

_C0, _C1, _C2, _C3, _C4, _C5, _C6, _C7 = REVERB_COMBS
_A0, _A1, _A2, _A3 = REVERB_ALLPASSES
ALLPASS_GAIN = 0.5


@nb.njit(cache=True, inline="always")
def _scaled(n: int, sr: float) -> int:
    # The same arithmetic as _lines_size: int(n * sr / 44100), at least 1.
    return max(1, int(n * sr / 44100.0))


def _lines_size(sr: int) -> int:
    """Room for the longer (right) side's lines."""
    return sum(max(1, int((n + REVERB_SPREAD) * sr / 44100)) for n in REVERB_COMBS + REVERB_ALLPASSES)


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
        s = REVERB_SPREAD if st[SIDE] > 0.5 else 0
        comb_len = (
            _scaled(_C0 + s, sr), _scaled(_C1 + s, sr), _scaled(_C2 + s, sr), _scaled(_C3 + s, sr),
            _scaled(_C4 + s, sr), _scaled(_C5 + s, sr), _scaled(_C6 + s, sr), _scaled(_C7 + s, sr),
        )  # fmt: skip
        ap_len = (_scaled(_A0 + s, sr), _scaled(_A1 + s, sr), _scaled(_A2 + s, sr), _scaled(_A3 + s, sr))
        for n in range(start, stop):
            xn = x[n]
            rm = min(max(room[n], 0.0), 1.0)
            fb = 0.7 + 0.28 * rm
            damp = 0.4 * min(max(damping[n], 0.0), 1.0)
            undamp = 1.0 - damp
            acc = 0.0
            base = LINES
            for j in range(8):
                size = comb_len[j]
                k = int(st[COMB_INDEX + j])
                o = st[base + k]
                store = flush(o * undamp + st[COMB_STORE + j] * damp)
                st[COMB_STORE + j] = store
                st[base + k] = flush(xn + store * fb)
                k += 1
                if k == size:
                    k = 0
                st[COMB_INDEX + j] = k
                acc += o
                base += size
            y = acc * 0.125
            for j in range(4):
                size = ap_len[j]
                k = int(st[ALLPASS_INDEX + j])
                o = st[base + k]
                st[base + k] = flush(y + o * ALLPASS_GAIN)
                y = o - y
                k += 1
                if k == size:
                    k = 0
                st[ALLPASS_INDEX + j] = k
                base += size
            out[n] = xn + y * min(max(mix[n], 0.0), 1.0)


REVERB = define(
    Kind(
        "reverb", ("input", "room", "damping", "mix"), consts=("side",),
        state=fields(comb_index=8, comb_store=8, allpass_index=4, lines=_lines_size), cost_ns=25.0, kernel=reverb,
        functions=(
            function("reverb", "reverb", INPUT, Param("room", None, 0.0, 1.0), Param("damping", None, 0.0, 1.0),
                     Param("mix", 0.3, 0.0, 1.0), sided=True,
                     doc="Freeverb-style stereo reverb (a mono input spreads); out = dry + wet * mix"),
        ),
        doc="Freeverb-style, stereo (a mono input spreads); out = dry + wet mix",
    )
)  # fmt: skip
SIDE, COMB_INDEX, COMB_STORE, ALLPASS_INDEX, LINES = REVERB.columns(
    "side", "comb_index", "comb_store", "allpass_index", "lines")
