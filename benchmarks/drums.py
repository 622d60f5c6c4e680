"""The `drums` benchmark workload: 16 output buses of dense sample patterns on the built-in kit.

`python -m benchmarks.drums` times it with `engine.bench.bench_program` (10 s of audio, 44.1 kHz, 512-sample
blocks, median of 3, one worker), then renders it once more with timers around the pattern queries to say
how much of the render time goes to querying patterns (`engine.clock.EventClock.take`, which calls
`cycle_events` once per cycle, and `engine.controls.SteppedControl.fill`) rather than to the voice kernels,
and counts the voices sounding at once (per node, and summed over all 16 nodes, sampled after every block).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

TEMPO = 1.0  # cycles per second: 68 events per bus per second, about 1100 per second in all


CUTOFFS = "300 1200 4000 800 2500"  # the per-event cutoffs of `drum_program(cutoff=True)`: five steps, so a voice's
# cutoff differs from its neighbours' on every bus


def drum_program(buses: int = 16, cutoff: bool = False) -> str:
    """`buses` outputs o1..oN, each an `s` pattern of 68 events per cycle (bd, sn/cp, hh, and a longer
    sound per quarter cycle) with patterned gain, pan and speed; every fourth bus chokes its hats with
    `# cut`. At TEMPO = 1 a few hundred kit voices overlap. `cutoff`: every voice also has its own resonant
    lowpass (`# cutoff "300 1200 4000 800 2500" # resonance 0.2`), the per-voice effects' workload."""
    longer = ["oh", "cr", "lt", "arpy", "mt", "cb", "ht", "oh:2"]
    what = " with a per-event cutoff on every voice" if cutoff else ""
    lines = [f"-- {buses}-bus drum workload{what} (benchmarks/drums.py)", f"tempo: {TEMPO:g}"]
    for i in range(buses):
        pan = 0.05 + 0.9 * i / max(1, buses - 1)
        tail = " ".join(longer[(i + k) % len(longer)] for k in range(4))
        pattern = f"bd:{i % 6}*16 [sn:{i % 6} cp:{i % 4}]*8 hh:{i % 6}*32 <{tail}>*4"
        line = (
            f'o{i + 1}: s "{pattern}" # gain "0.49 0.45 0.42 0.47" # pan "{pan:.2f} {1 - pan:.2f}"'
            f' # speed "1 1.25 0.8 {1 + (i % 3) * 0.25:g}"'
        )
        if i % 4 == 0:
            line += ' # cut "0 0 1 0"'  # the hats (third quarter) choke each other
        if cutoff:
            line += f' # cutoff "{CUTOFFS}" # resonance 0.2'
        lines.append(line)
    return "\n".join(lines) + "\n"


def measure_pattern_share(text: str, *, seconds: float, sr: int, block: int) -> dict:
    """One serial render with timers around every pattern query. Returns seconds spent and voice counts."""
    from phonon.engine import clock, controls, voices
    from phonon.engine.kernels import voices as vk
    from phonon.engine.render import Renderer, RenderSettings
    from phonon.graph.compiler import compile_program

    spent = {"take": 0.0, "cycle_events": 0.0, "controls": 0.0}
    calls = {"take": 0, "cycle_events": 0, "controls": 0}
    originals = (clock.EventClock.take, clock.EventClock.cycle_events, controls.SteppedControl.fill)

    def timed(name, fn):
        def wrapper(*args, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*args, **kw)
            finally:
                spent[name] += time.perf_counter() - t0
                calls[name] += 1

        return wrapper

    clock.EventClock.take = timed("take", originals[0])
    clock.EventClock.cycle_events = timed("cycle_events", originals[1])
    controls.SteppedControl.fill = timed("controls", originals[2])
    try:
        graph = compile_program(text, "drums")
        frames = int(seconds * sr)
        t0 = time.perf_counter()
        renderer = Renderer(graph, RenderSettings(sr=sr, block=block), frames, 1)
        setup = time.perf_counter() - t0
        setup_queries = spent["cycle_events"]  # the probe of the first cycles, before any sample
        for key in spent:
            spent[key] = 0.0
            calls[key] = 0
        hosts = [h for h, _ in renderer.evaluator._hosts if isinstance(h, voices._Voices)]
        dest = np.zeros((block, 2))
        most_total = 0
        done = 0
        t0 = time.perf_counter()
        while done < frames:
            n = min(block, frames - done)
            renderer.render_into(dest, n)
            done += n
            most_total = max(most_total, sum(int(np.count_nonzero(h.pool[:, vk.V_ACTIVE])) for h in hosts))
        wall = time.perf_counter() - t0
        report = renderer.report(frames, 0.0)
        renderer.close()
    finally:
        clock.EventClock.take, clock.EventClock.cycle_events, controls.SteppedControl.fill = originals
    return {
        "render_s": wall,
        "setup_s": setup,
        "setup_query_s": setup_queries,
        "take_s": spent["take"],
        "cycle_events_s": spent["cycle_events"],
        "controls_s": spent["controls"],
        "take_calls": calls["take"],
        "cycle_events_calls": calls["cycle_events"],
        "query_share": (spent["take"] + spent["controls"]) / wall,
        "most_voices_per_node": report.most_voices,
        "most_voices_total": most_total,
        "voices_stolen": report.voices_stolen,
        "events": sum(len(h.clock.pattern.onsets(c, c + 1)) for h in hosts for c in range(int(seconds * TEMPO))),
    }


def main() -> None:
    from phonon.engine.bench import bench_program

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--buses", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--cutoff", action="store_true", help="a per-event cutoff on every voice (per-voice lowpass)")
    args = ap.parse_args()
    sr, block = 44100, 512
    text = drum_program(args.buses, cutoff=args.cutoff)
    bench = bench_program(text, "drums", seconds=args.seconds, sr=sr, block=block, repeat=args.repeat,
                          workers=args.workers)
    share = measure_pattern_share(text, seconds=args.seconds, sr=sr, block=block)
    if args.json:
        print(json.dumps({**bench, **share}))
        return
    what = "drums with cutoff" if args.cutoff else "drums"
    print(f"{what}: {args.buses} buses, {share['events']} events in {args.seconds:g} s, block {block} at {sr} Hz, "
          f"{args.workers} worker(s), median of {args.repeat}")
    print(f"  realtime factor       {bench['realtime']:.2f}x (runs from {bench['realtime_min']:.2f}x to "
          f"{bench['realtime_max']:.2f}x: on a shared machine the fastest says most about the code)")
    print(f"  ms per block          {bench['ms_per_block_median']:.3f} median, {bench['ms_per_block_p99']:.3f} p99 "
          f"(budget {bench['budget_ms']:.2f})")
    print(f"  most voices at once   {share['most_voices_total']} over all buses, "
          f"{share['most_voices_per_node']} in one bus; {share['voices_stolen']} stolen")
    print(f"  pattern-query share   {100 * share['query_share']:.1f}% of {share['render_s']:.2f} s render "
          f"(take {share['take_s'] * 1000:.0f} ms in {share['take_calls']} calls, of which cycle_events "
          f"{share['cycle_events_s'] * 1000:.0f} ms in {share['cycle_events_calls']} calls; controls "
          f"{share['controls_s'] * 1000:.0f} ms)")
    print(f"  renderer setup        {share['setup_s'] * 1000:.0f} ms, of which {share['setup_query_s'] * 1000:.0f} ms "
          f"probing patterns (engine/voices.py PROBE_CYCLES)")


if __name__ == "__main__":
    main()
