"""What the per-voice controls cost (engine/kernels/voices.py): `python -m benchmarks.voice_controls`.

1. Each effect alone, ns per voice-sample: the sample kernel called directly with VOICES voices of a long mono
   noise sample at rate 1.37 sounding all the time (512-sample blocks, no triggers after the first block;
   best of REPEAT runs of CPU time, so another process on the machine matters less), next to the same voices
   without effects. A voice that uses no effect takes the plain voices' path, so its cost is the "plain" line.
   A send (`room`, `delay`: README, Orbits) is measured the same way, the voices writing their sends into the
   node's send rows as a render does.
2. The drum workload of benchmarks/drums.py with and without a per-event cutoff on every voice
   (`drum_program(cutoff=True)`), and with every voice sending to its orbit's reverb (`# room 0.3`: one orbit
   reverb fed by the 16 buses), one worker: real-time factor, interleaved runs, median.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

SR = 44100
BLOCK = 512
VOICES = 48  # about the most one bus of the drum workload holds at once
EFFECTS = {
    "plain (no effect)": {},
    "cutoff (lowpass)": {"cutoff": 1000.0},
    "cutoff + resonance 0.5": {"cutoff": 1000.0, "resonance": 0.5},
    "hcutoff (highpass)": {"hcutoff": 300.0},
    "bandf (bandpass)": {"bandf": 1000.0},
    "vowel": {"vowel": 1.0},
    "shape": {"shape": 0.5},
    "crush": {"crush": 4.0},
    "coarse": {"coarse": 3.0},
    "distort": {"distort": 2.0},
    "lpenv (filter envelope)": {"cutoff": 500.0, "lpenv": 3.0, "lpdecay": 5.0},
    "decay + sustain": {"decay": 5.0, "sustain": 0.5},
    "loop": {"loop": 4.0},
    "cutoff + hcutoff + shape + crush": {"cutoff": 3000.0, "hcutoff": 200.0, "shape": 0.3, "crush": 8.0},
    "room (a send)": {"room": 0.5},
    "room + delay (two sends)": {"room": 0.5, "delay": 0.5},
    "cutoff + room": {"cutoff": 1000.0, "room": 0.5},
}
SENDS = ("room", "delay")


def _bank():
    from phonon.engine.samples.bank import SampleBank
    from phonon.engine.samples.library import Sample

    bank = SampleBank(sr=SR)
    noise = (np.random.default_rng(0).standard_normal((SR * 30, 1)) * 0.1).astype(np.float32)
    bank.add(Sample("noise", 0, None, np.ascontiguousarray(noise), SR, SR))
    return bank


def effect_cost(bank, controls: dict, voices: int = VOICES, blocks: int = 200, repeat: int = 5) -> float:
    """ns per voice-sample of `voices` voices with these controls, all sounding for the whole run."""
    from phonon.engine.kernels import voices as vk

    table = vk.new_triggers(voices)
    for i, row in enumerate(table):
        row[vk.T_OFFSET] = i % BLOCK
        row[vk.T_SAMPLE] = 0
        row[vk.T_SPEED] = 1.37
        row[vk.T_PAN] = (i % 9) / 8
        for name, value in controls.items():
            row[vk.trigger_field(name)] = value
    pool, stats = vk.new_pool(512), vk.new_stats()
    out_l, out_r = np.zeros(BLOCK), np.zeros(BLOCK)
    args = (bank.data, bank.offsets, bank.lengths, bank.channels, stats)
    if any(name in SENDS for name in controls):  # orbit 0's reverb and delay send rows, as a render has them
        routes = np.full((vk.MAX_ORBITS, 2), -1, dtype=np.int64)
        routes[0] = (0, 2)
        args += (np.zeros((4, BLOCK)), routes)
    vk.play_samples(out_l, out_r, 0, BLOCK, float(SR), pool, table, voices, *args)
    empty = vk.new_triggers(1)
    best = float("inf")
    for _ in range(repeat):
        t = time.thread_time()
        for _ in range(blocks):
            vk.play_samples(out_l, out_r, 0, BLOCK, float(SR), pool, empty, 0, *args)
        best = min(best, (time.thread_time() - t) / (blocks * BLOCK * voices) * 1e9)
    assert np.count_nonzero(pool[:, vk.V_ACTIVE]) == voices
    return best


def drums(repeat: int, seconds: float) -> dict[str, list[float]]:
    """Real-time factors of the drum workload, plain and with a cutoff on every voice, runs interleaved."""
    from benchmarks.drums import drum_program
    from phonon.engine.bench import bench_program

    room = drum_program().replace(' # speed "', ' # room 0.3 # speed "')
    programs = {"drums": drum_program(), "drums, cutoff on every voice": drum_program(cutoff=True),
                "drums, room 0.3 on every voice": room}
    factors: dict[str, list[float]] = {name: [] for name in programs}
    for _ in range(repeat):
        for name, text in programs.items():
            result = bench_program(text, name, seconds=seconds, sr=SR, block=BLOCK, repeat=1, workers=1)
            factors[name].append(result["realtime"])
    return factors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs of the drum workloads")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--no-drums", action="store_true")
    args = ap.parse_args()
    bank = _bank()
    print(f"per-voice effects: {VOICES} mono voices at rate 1.37, {BLOCK}-sample blocks, best of 5 (CPU time)")
    effect_cost(bank, {}, blocks=50)  # warm up (the kernels' first calls, the CPU's clock)
    plain = None
    for name, controls in EFFECTS.items():
        ns = effect_cost(bank, controls)
        plain = ns if plain is None else plain
        extra = "" if not controls else f"  (+{ns - plain:.2f} over a plain voice)"
        print(f"  {name:34s} {ns:6.2f} ns per voice-sample{extra}")
    if args.no_drums:
        return
    print(f"drum workload, 16 buses, {args.seconds:g} s, 1 worker, {args.repeat} interleaved runs (median):")
    for name, values in drums(args.repeat, args.seconds).items():
        print(f"  {name:34s} {statistics.median(values):6.2f}x real time  (runs: "
              + " ".join(f"{v:.1f}" for v in values) + ")")


if __name__ == "__main__":
    main()
